namespace Microsoft.Extensions.DependencyInjection;

/// <summary><c>builder.Services.AddHealthChecks().AddLoopDoctor()</c>.</summary>
public static class LoopDoctorHealthChecksBuilderExtensions
{
    public static IHealthChecksBuilder AddLoopDoctor(this IHealthChecksBuilder builder, string name = "loopdoctor")
    {
        ArgumentNullException.ThrowIfNull(builder);
        // STUB: filled in by the integration step.
        _ = name;
        return builder;
    }
}
