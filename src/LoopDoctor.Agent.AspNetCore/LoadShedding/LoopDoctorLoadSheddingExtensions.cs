using LoopDoctor.Agent.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary><c>app.UseLoopDoctorLoadShedding()</c>: 503 + Retry-After while the thread pool lags.</summary>
public static class LoopDoctorLoadSheddingExtensions
{
    /// <summary>
    /// Rejects requests with 503 and <c>Retry-After</c> with a probability rising from 0 when the queue delay is at
    /// 1× <c>LagThreshold</c> to 1 at 2× (what toobusy-js and under-pressure do for Node). Paths in
    /// <see cref="LoadSheddingOptions.ExemptPaths"/> (metrics, health by default) are never shed. Requires <c>AddLoopDoctor()</c>.
    /// </summary>
    public static IApplicationBuilder UseLoopDoctorLoadShedding(this IApplicationBuilder app, Action<LoadSheddingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = new LoadSheddingOptions();
        configure?.Invoke(options);
        options.Validate();
        return app.UseMiddleware<LoadSheddingMiddleware>(options);
    }
}
