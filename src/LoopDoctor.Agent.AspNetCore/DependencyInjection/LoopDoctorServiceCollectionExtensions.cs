using LoopDoctor.Agent;
using LoopDoctor.Agent.AspNetCore;
using LoopDoctor.Agent.Metrics;
using LoopDoctor.Agent.Prometheus;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary><c>builder.Services.AddLoopDoctor(o => ...)</c>: runs the agent for the app's lifetime.</summary>
public static class LoopDoctorServiceCollectionExtensions
{
    /// <summary>
    /// Registers the LoopDoctor agent: options validated at start-up (a bad option stops the host with a message naming it),
    /// and a hosted service that starts the agent before the app serves requests and stops it on shutdown.
    /// If an agent already runs in the process (loaded by a startup hook), it is adopted, not duplicated.
    /// The <c>LoopDoctor</c> meter (and <c>System.Runtime</c> when <see cref="LoopDoctorOptions.IncludeRuntimeMetrics"/>)
    /// join the app's OpenTelemetry <c>MeterProvider</c> (<c>AddOpenTelemetry()</c> adopts the app's own): an app that
    /// calls <c>AddPrometheusExporter()</c> and <c>MapPrometheusScrapingEndpoint()</c> serves them at its endpoint.
    /// </summary>
    public static IServiceCollection AddLoopDoctor(this IServiceCollection services, Action<LoopDoctorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var optionsBuilder = services.AddOptions<LoopDoctorOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LoopDoctorOptions>, LoopDoctorOptionsValidation>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LoopDoctorAgentLease>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LoopDoctorHostedService>());
        services.AddOpenTelemetry().WithMetrics(metrics => ((IDeferredMeterProviderBuilder)metrics).Configure((provider, builder) =>
        {
            // Options are read when the provider is built, after every Configure the app registered.
            var options = provider.GetRequiredService<IOptions<LoopDoctorOptions>>().Value;
            builder.AddLoopDoctorMeter();
            if (options.IncludeRuntimeMetrics)
            {
                builder.AddMeter(PrometheusExposition.RuntimeMeterName);
            }
        }));
        return services;
    }
}
