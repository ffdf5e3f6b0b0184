using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Runs;

namespace LoopDoctor.Cli.Sidecar;

/// <summary>monitor --prometheus-port: serves the run's snapshot at /metrics while the run lasts.</summary>
internal sealed class PrometheusSidecarObserver(string address, int port, CliConsole console) : IRunObserver
{
    public async Task WatchAsync(RunView run, CancellationToken cancellationToken)
    {
        using var sidecar = PrometheusSidecar.Start(run.Target, address, port, run.Snapshot, message => console.Error.WriteLine($"loopdoctor: metrics endpoint: {message}"));
        await console.Error.WriteLineAsync($"loopdoctor: serving Prometheus metrics for pid {run.Target.ProcessId} at {sidecar.Url}").ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The run ended: the endpoint goes with it.
        }
    }
}
