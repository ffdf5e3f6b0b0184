using System.Runtime.InteropServices;
using BlockingApp.Cli;
using BlockingApp.Hosting;
using BlockingApp.Load;
using LoopDoctor.Agent;

namespace BlockingApp;

/// <summary>
/// Entry point. Main is synchronous on purpose: its thread is the process's main thread, not a thread-pool thread, so it
/// may wait (for start, for the load run, for stop) while the scenarios starve the pool. An async Main would resume on
/// that starved pool after its first await and could not even print the summary on time.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        AppArguments arguments;
        try
        {
            arguments = AppArgumentsParser.Parse(args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"BlockingApp: error: {e.Message} (see BlockingApp --help)");
            return ExitCodes.Usage;
        }

        if (arguments.ShowHelp)
        {
            Console.Out.Write(Usage.Text);
            return ExitCodes.Ok;
        }

        try
        {
            return arguments.Mode == AppMode.Drive ? RunLoad(arguments) : RunServer(arguments);
        }
        catch (Exception e)
        {
            // One line, no stack trace: e.g. "Failed to bind to address http://127.0.0.1:5000: address already in use."
            Console.Error.WriteLine($"BlockingApp: error: {OneLine(e)}");
            return ExitCodes.RuntimeError;
        }
    }

    private static int RunServer(AppArguments arguments)
    {
        using var app = BlockingServer.Build(arguments);
        app.StartAsync().GetAwaiter().GetResult();

        var bound = BlockingServer.BoundAddress(app);
        if (arguments.MetricsUrl is not null)
        {
            // Before the ready line, so a harness that saw "ready" has this too. The agent started with the host.
            var metrics = LoopDoctorAgent.Current?.MetricsEndpoint
                ?? throw new InvalidOperationException($"the agent's metrics endpoint {arguments.MetricsUrl} did not start (port in use?)");
            Console.Out.WriteLine($"metrics url={metrics.AbsoluteUri}");
        }

        Console.Out.WriteLine(BlockingServer.ReadyLine(bound));

        // Ctrl+C and SIGTERM trigger ApplicationStopping (the host's console lifetime handles the signals on a dedicated
        // thread, so they work even while the pool is starved); the server keeps serving until StopAsync below.
        var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var exitCode = ExitCodes.Ok;
        if (arguments.Scenario is { } scenario)
        {
            using var driver = new OpenLoopLoadDriver(bound, scenario, arguments.Fixed, arguments.RequestsPerSecond, arguments.Duration, arguments.Drain);
            var summary = driver.Run(stopping);
            Console.Out.WriteLine(summary.Format());
            exitCode = summary.Sent > 0 && summary.Completed == 0 ? ExitCodes.NoRequestSucceeded : ExitCodes.Ok;
        }
        else
        {
            stopping.WaitHandle.WaitOne(arguments.Duration ?? Timeout.InfiniteTimeSpan);
        }

        // Graceful: in-flight requests get BlockingServer.ShutdownTimeout, hosted services (background tasks) too.
        app.StopAsync().GetAwaiter().GetResult();
        Console.Out.WriteLine($"stopped pid={Environment.ProcessId}");
        return exitCode;
    }

    private static int RunLoad(AppArguments arguments)
    {
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        using var driver = new OpenLoopLoadDriver(arguments.TargetUrl!, arguments.Scenario!, arguments.Fixed,
            arguments.RequestsPerSecond, arguments.Duration, arguments.Drain);
        var summary = driver.Run(stop.Token);
        Console.Out.WriteLine(summary.Format());
        return summary.Sent > 0 && summary.Completed == 0 ? ExitCodes.NoRequestSucceeded : ExitCodes.Ok;

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // stop sending, drain briefly, print the summary, exit normally
            stop.Cancel();
        }
    }

    private static string OneLine(Exception e)
    {
        var message = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0].Message : e.Message;
        return message.ReplaceLineEndings(" ");
    }
}
