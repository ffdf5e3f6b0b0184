using BlockingApp.Scenarios;

namespace BlockingApp.Cli;

internal static class ExitCodes
{
    /// <summary>Ran and stopped normally (Ctrl+C, SIGTERM or --duration elapsed); the summary was printed.</summary>
    public const int Ok = 0;
    /// <summary>Could not run: e.g. the port is in use. One line on stderr.</summary>
    public const int RuntimeError = 1;
    /// <summary>Bad command line. One line on stderr.</summary>
    public const int Usage = 2;
    /// <summary>The load ran but not one request succeeded (target down, wrong URL, everything shed).</summary>
    public const int NoRequestSucceeded = 3;
}

internal static class Usage
{
    public static string Text => $"""
        BlockingApp: an ASP.NET Core service that reproduces async anti-patterns on demand, for LoopDoctor to diagnose.

        Usage:
          BlockingApp [--urls http://127.0.0.1:0] [--no-agent] [--load-shedding] [--metrics-url URL] [--duration D]
              Serve until Ctrl+C / SIGTERM (or for D). Prints 'ready url=<bound address> pid=<pid>' when listening.
          BlockingApp --scenario NAME [--fixed] [--rps N] [--duration D] [--drain D] [server options]
              Serve, and drive this server's own /NAME endpoint at N requests/s (open loop) until D or Ctrl+C.
          BlockingApp load --url BASE --scenario NAME [--fixed] [--rps N] [--duration D] [--drain D]
              Drive another instance at BASE (e.g. http://127.0.0.1:5000).

        Options:
          --urls URL        listen address, loopback only; port 0 = any free port (default http://127.0.0.1:0)
          --no-agent        run without the embedded LoopDoctor agent (no /metrics; for testing injection)
          --load-shedding   enable LoopDoctor load shedding (503 + Retry-After while the thread pool lags)
          --metrics-url URL also serve the agent's metrics from its own thread at URL, e.g. http://127.0.0.1:0/metrics:
                            it answers while the pool is starved (Kestrel's /metrics cannot). Prints 'metrics url=...'
          --scenario NAME   one of: {string.Join(", ", ScenarioCatalog.Names)}
          --fixed           drive the ?fixed=true twin that does the right thing
          --rps N           requests per second, sent on schedule whether or not earlier ones completed (default {AppArguments.DefaultRps})
          --duration D      500ms, 1.5s, 10s, 2m, 1h or 00:00:10, at most 7 days (default: until Ctrl+C / SIGTERM)
          --drain D         after the last send, how long responses may still arrive before the rest count as
                            unfinished (default 10s; at most 3s after Ctrl+C / SIGTERM)

        A load run ends with one line: summary scenario=... sent=N completed=N failed=N unfinished=N p50_ms=X p99_ms=X ...
        Exit codes: {ExitCodes.Ok} ok, {ExitCodes.RuntimeError} runtime error (e.g. port in use), {ExitCodes.Usage} bad arguments, {ExitCodes.NoRequestSucceeded} load ran but no request succeeded.

        """;
}
