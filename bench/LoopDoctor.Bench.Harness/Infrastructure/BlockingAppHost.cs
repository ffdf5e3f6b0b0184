namespace LoopDoctor.Bench.Infrastructure;

/// <summary>samples/BlockingApp serving on an ephemeral loopback port (its <c>ready url=… pid=…</c> line).</summary>
internal sealed class BlockingAppHost : IDisposable
{
    private BlockingAppHost(ChildProcess process, string url)
    {
        Process = process;
        Url = url.TrimEnd('/');
    }

    public ChildProcess Process { get; }

    public string Url { get; }

    public int Pid => Process.Id;

    public static async Task<BlockingAppHost> StartAsync(BenchContext context, bool agent, CancellationToken cancellationToken)
    {
        string[] args = agent ? ["--urls", "http://127.0.0.1:0"] : ["--urls", "http://127.0.0.1:0", "--no-agent"];
        var process = ChildProcess.StartDotnet(context.BlockingAppDll, args);
        try
        {
            var url = await process.WaitForReadyUrlAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            return new BlockingAppHost(process, url);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    public void Dispose() => Process.Dispose();
}
