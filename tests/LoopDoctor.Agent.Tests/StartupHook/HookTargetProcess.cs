using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Reflection;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace LoopDoctor.Agent.Tests.StartupHook;

/// <summary>
/// A real tests/TestTargets/HookTarget process (a console app that knows nothing of LoopDoctor), its stdout/stderr as
/// lines, and helpers to talk to it. Dispose kills it by PID if it still runs.
/// </summary>
internal sealed class HookTargetProcess : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly AutoResetEvent _line = new(false);

    /// <summary>The agent dll in the agent project's own output folder (its dependencies beside it), baked in at build time.</summary>
    public static string AgentPath => Metadata("LoopDoctorAgentPath");

    /// <summary>The startup hook beside the agent (what DOTNET_STARTUP_HOOKS and ApplyStartupHook name).</summary>
    public static string HookPath => Path.Combine(Path.GetDirectoryName(AgentPath)!, "LoopDoctor.StartupHook.dll");

    private static string HookTargetPath => Metadata("HookTargetPath");

    private HookTargetProcess(bool withStartupHook, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HookTargetPath);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("LOOPDOCTOR_", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_STARTUP_HOOKS").ToList())
        {
            start.Environment.Remove(key); // hermetic: only what this test sets
        }

        if (withStartupHook)
        {
            start.Environment["DOTNET_STARTUP_HOOKS"] = HookPath;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Add(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Add(_stderr, e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public IReadOnlyList<string> Stderr => [.. _stderr];

    /// <summary>Starts the target and waits for its "ready pid=N" line.</summary>
    public static HookTargetProcess Start(bool withStartupHook, IReadOnlyDictionary<string, string>? environment = null)
    {
        Assert.True(File.Exists(AgentPath), $"agent dll not built at {AgentPath}");
        Assert.True(File.Exists(HookPath), $"startup hook dll not beside the agent at {HookPath}");
        var target = new HookTargetProcess(withStartupHook, environment ?? new Dictionary<string, string>());
        try
        {
            var ready = target.WaitForStdout(l => l.StartsWith("ready pid=", StringComparison.Ordinal), "ready");
            Assert.Equal($"ready pid={target.Pid}", ready);
            return target;
        }
        catch
        {
            target.Dispose();
            throw;
        }
    }

    /// <summary>Asks the target which LoopDoctor agent it sees: "status assemblies=N agent=Mode|none".</summary>
    public string Status()
    {
        var before = _stdout.Count(l => l.StartsWith("status ", StringComparison.Ordinal));
        _process.StandardInput.WriteLine("status");
        _process.StandardInput.Flush();
        return WaitFor(_stdout, s => s.Count(l => l.StartsWith("status ", StringComparison.Ordinal)) > before, "status")
            .Last(l => l.StartsWith("status ", StringComparison.Ordinal));
    }

    /// <summary>Asks the target to load an assembly it does not ship: "loaded X from DIR" or "load-failed X".</summary>
    public string Load(string assemblyName)
    {
        _process.StandardInput.WriteLine("load " + assemblyName);
        _process.StandardInput.Flush();
        return WaitForStdout(l => l.EndsWith(" " + assemblyName, StringComparison.Ordinal) || l.StartsWith($"loaded {assemblyName} ", StringComparison.Ordinal), "load " + assemblyName);
    }

    /// <summary>Tells the target to exit and returns its exit code.</summary>
    public int Exit()
    {
        _process.StandardInput.WriteLine("exit");
        _process.StandardInput.Flush();
        Assert.True(_process.WaitForExit(Timeout), "the target did not exit");
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public string WaitForStdout(Func<string, bool> match, string what)
        => WaitFor(_stdout, lines => lines.Any(match), what).First(match);

    public string WaitForStderr(Func<string, bool> match, string what)
        => WaitFor(_stderr, lines => lines.Any(match), what).First(match);

    /// <summary>
    /// Attaches an EventPipe session enabling <c>LoopDoctor-Agent</c> (Lifecycle) and returns the payload of the first
    /// <c>AgentStarted</c>: the source writes it whenever a listener enables it, so a late attacher sees it.
    /// </summary>
    public (string Version, string Mode, int ProcessId) WaitForAgentStarted()
    {
        var client = new DiagnosticsClient(Pid);
        var provider = new EventPipeProvider("LoopDoctor-Agent", EventLevel.Informational, keywords: 0x1);
        using var session = client.StartEventPipeSession(provider, requestRundown: false);
        var started = new TaskCompletionSource<(string, string, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = new EventPipeEventSource(session.EventStream);
        source.Dynamic.All += e =>
        {
            if (e.ProviderName == "LoopDoctor-Agent" && e.EventName == "AgentStarted")
            {
                started.TrySetResult(((string)e.PayloadByName("version"), (string)e.PayloadByName("mode"), (int)e.PayloadByName("processId")));
            }
        };
        var processing = Task.Factory.StartNew(() =>
        {
            try
            {
                source.Process();
            }
            catch (Exception error)
            {
                started.TrySetException(error);
            }
        }, TaskCreationOptions.LongRunning);

        try
        {
            Assert.True(started.Task.Wait(Timeout), "no AgentStarted event from the LoopDoctor-Agent provider");
            return started.Task.Result;
        }
        finally
        {
            try
            {
                session.Stop();
            }
            catch (Exception)
            {
                // the target may be gone; the session is disposed anyway
            }

            processing.Wait(Timeout);
            source.Dispose();
        }
    }

    private IReadOnlyList<string> WaitFor(ConcurrentQueue<string> lines, Func<IReadOnlyList<string>, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            IReadOnlyList<string> snapshot = [.. lines];
            if (condition(snapshot))
            {
                return snapshot;
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero || (_process.HasExited && !_line.WaitOne(500)))
            {
                Assert.Fail($"Timed out waiting for '{what}' from HookTarget (exited={_process.HasExited}). " +
                    $"stdout: [{string.Join(" | ", _stdout)}] stderr: [{string.Join(" | ", _stderr)}]");
            }

            _line.WaitOne(remaining);
        }
    }

    private void Add(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
            _line.Set();
        }
    }

    private static string Metadata(string key)
        => typeof(HookTargetProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(Timeout);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
        _line.Dispose();
    }
}
