using LoopDoctor.Agent;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary><c>builder.Services.AddLoopDoctor(o => ...)</c>: runs the agent as a hosted service for the app's lifetime.</summary>
public static class LoopDoctorServiceCollectionExtensions
{
    public static IServiceCollection AddLoopDoctor(this IServiceCollection services, Action<LoopDoctorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        // STUB: filled in by the integration step (validated options, hosted service).
        _ = configure;
        return services;
    }
}
