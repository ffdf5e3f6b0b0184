using BlockingApp.Cli;
using BlockingApp.Customers;
using BlockingApp.Scenarios;
using BlockingApp.Stock;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;

namespace BlockingApp.Hosting;

/// <summary>Builds the web app: the scenario endpoints, and the LoopDoctor agent embedded the way a user would.</summary>
internal static class BlockingServer
{
    /// <summary>How long a stop waits for in-flight requests (a blocked one may hold its thread for seconds).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    public static WebApplication Build(AppArguments arguments)
    {
        // --urls is the only address. Address variables in the environment would be overridden by Listen() anyway, with a
        // warning on every start; they are dropped from this process before the builder reads its environment.
        foreach (var prefix in new[] { "ASPNETCORE_", "DOTNET_" })
        {
            foreach (var name in new[] { "URLS", "HTTP_PORTS", "HTTPS_PORTS" })
            {
                Environment.SetEnvironmentVariable(prefix + name, null);
            }
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [], // our command line is not configuration
            ApplicationName = typeof(BlockingServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // stdout carries only the machine-readable lines (ready, summary, stopped); logs go to stderr, warnings and up.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // A failed start (port in use) is reported by Main as one line; the host would also log it with a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(arguments.Listen));
        builder.WebHost.UseShutdownTimeout(ShutdownTimeout);

        builder.Services.AddSingleton<InventoryFile>();
        builder.Services.AddSingleton<InventoryService>();
        builder.Services.AddSingleton<CpuWorkQueue>();
        builder.Services.AddSingleton<UnobservedTaskExceptionCounter>();
        builder.Services.AddSingleton<BackgroundTaskTracker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BackgroundTaskTracker>());
        builder.Services.AddScoped<CustomerRepository>();
        builder.Services.AddSingleton<StockClient>();
        builder.Services.AddControllers();

        var health = builder.Services.AddHealthChecks();
        if (!arguments.NoAgent)
        {
            builder.Services.AddLoopDoctor(options =>
            {
                // The defaults, spelled out: lag above 100 ms (asyncio's slow_callback_duration) is Degraded, above 1 s Unhealthy.
                options.LagThreshold = TimeSpan.FromMilliseconds(100);
                options.UnhealthyLagThreshold = TimeSpan.FromSeconds(1);
                options.MetricsUrl = arguments.MetricsUrl;
            });
            health.AddLoopDoctor();
            // /metrics: the official OpenTelemetry exporter, which AddLoopDoctor's meters join (--metrics-url adds the
            // agent's own endpoint, which answers while the pool is starved).
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddPrometheusExporter());
        }

        var app = builder.Build();

        // Created now, not on first use: the file and the inventory service exist, and the unobserved-exception handler
        // is subscribed, before traffic.
        _ = app.Services.GetRequiredService<InventoryService>();
        _ = app.Services.GetRequiredService<UnobservedTaskExceptionCounter>();

        if (arguments.LoadShedding)
        {
            app.UseLoopDoctorLoadShedding(shedding =>
            {
                // Besides /metrics and /health (exempt by default): the harness endpoints.
                shedding.ExemptPaths.Add("/gc");
                shedding.ExemptPaths.Add("/scenarios");
            });
        }

        app.MapGet("/healthy", HealthyScenario.HandleAsync);
        app.MapGet("/sync-over-async", SyncOverAsyncScenario.HandleAsync);
        app.MapGet("/wait", WaitScenario.HandleAsync);
        app.MapGet("/sleep", SleepScenario.HandleAsync);
        app.MapGet("/cpu", CpuScenario.HandleAsync);
        app.MapGet("/lock", LockScenario.HandleAsync);
        app.MapGet("/sync-io", SyncIoScenario.HandleAsync);
        app.MapGet("/fire-and-forget", FireAndForgetScenario.Handle);
        app.MapGet("/too-many-tasks", TooManyTasksScenario.HandleAsync);
        app.MapGet("/timeout", TimeoutScenario.HandleAsync);
        app.MapControllers();
        app.MapStockEndpoints();
        app.MapGet("/deadlock", DeadlockScenario.Handle);
        app.MapGet("/gc-pressure", GcPressureScenario.Handle);

        app.MapGet("/scenarios", () => ScenarioCatalog.All);
        app.MapGet("/gc", AdminEndpoints.CollectGarbageAsync);
        app.MapHealthChecks("/health");
        if (!arguments.NoAgent)
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }

        return app;
    }

    /// <summary>The address Kestrel really bound (port 0 resolved), e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public static Uri BoundAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel reported no bound address.");
        return new Uri(first);
    }

    public static string ReadyLine(Uri boundAddress) =>
        $"ready url={boundAddress.GetLeftPart(UriPartial.Authority)} pid={Environment.ProcessId}";
}
