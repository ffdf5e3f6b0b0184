namespace Microsoft.AspNetCore.Builder;

/// <summary><c>app.UseLoopDoctorLoadShedding()</c>: 503 + Retry-After while the thread pool lags.</summary>
public static class LoopDoctorLoadSheddingExtensions
{
    public static IApplicationBuilder UseLoopDoctorLoadShedding(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // STUB: filled in by the integration step.
        return app;
    }
}
