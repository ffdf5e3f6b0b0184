using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>
/// A process the harness starts (BlockingApp, loopdoctor, dotnet-trace, wrk): every output line is kept with the
/// Stopwatch timestamp it arrived at, and waiters are signalled as lines arrive (no sleeps). Dispose kills it.
/// </summary>
internal sealed partial class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<(long At, string Line, bool Error)> _lines = [];
    private readonly Lock _gate = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<(long, string)> Done)> _waiters = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _streamsOpen = 2;

    private ChildProcess(Process process, string display)
    {
        _process = process;
        Display = display;
    }

    public string Display { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public Task Exited => _exited.Task;

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                info.Environment[k] = v;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, $"{Path.GetFileName(fileName)} {string.Join(' ', info.ArgumentList)}");
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, error: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary><c>dotnet X.dll args</c>.</summary>
    public static ChildProcess StartDotnet(string dll, IEnumerable<string> arguments, IDictionary<string, string>? environment = null) =>
        Start("dotnet", [dll, .. arguments], environment);

    /// <summary>The first line (stdout or stderr, already received or still to come) that matches, with its timestamp.</summary>
    public async Task<(long At, string Line)> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default, long since = 0)
    {
        var done = new TaskCompletionSource<(long, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (var (at, line, _) in _lines)
            {
                if (at >= since && match(line))
                {
                    return (at, line);
                }
            }

            _waiters.Add((match, done));
        }

        var finished = await Task.WhenAny(done.Task, Task.Delay(timeout, cancellationToken), _exited.Task).ConfigureAwait(false);
        if (finished == done.Task)
        {
            return await done.Task.ConfigureAwait(false);
        }

        lock (_gate)
        {
            _waiters.RemoveAll(w => w.Done == done);
        }

        var why = _exited.Task.IsCompleted ? $"exited with code {SafeExitCode()}" : $"no matching line within {timeout.TotalSeconds:0.#} s";
        throw new BenchException($"{Display}: {why}. Last output:\n{Tail(15)}");
    }

    /// <summary>Waits for BlockingApp's <c>ready url=… pid=…</c> line and returns the URL.</summary>
    public async Task<string> WaitForReadyUrlAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var (_, line) = await WaitForLineAsync(l => ReadyLine().IsMatch(l), timeout, cancellationToken).ConfigureAwait(false);
        return ReadyLine().Match(line).Groups["url"].Value;
    }

    public IReadOnlyList<(long At, string Line, bool Error)> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines.Where(l => !l.Error).Select(l => l.Line));
            }
        }
    }

    public string Tail(int count)
    {
        lock (_gate)
        {
            return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)).Select(l => "  " + l.Line));
        }
    }

    /// <summary>Writes one line to the process's standard input (a command for a target that reads them, e.g. T1's).</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Sends SIGINT (Ctrl+C) so the process can finish gracefully.</summary>
    public void Interrupt()
    {
        if (!_process.HasExited)
        {
            _ = kill(_process.Id, 2);
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_exited.Task, Task.Delay(timeout)).ConfigureAwait(false);
        return finished == _exited.Task;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void OnLine(string? line, bool error)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _streamsOpen) == 0)
            {
                _ = _process.WaitForExitAsync().ContinueWith(_ => _exited.TrySetResult(), TaskScheduler.Default);
            }

            return;
        }

        long at = Stopwatch.GetTimestamp();
        List<TaskCompletionSource<(long, string)>>? matched = null;
        lock (_gate)
        {
            _lines.Add((at, line, error));
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(line))
                {
                    (matched ??= []).Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        matched?.ForEach(d => d.TrySetResult((at, line)));
    }

    private string SafeExitCode()
    {
        try
        {
            return _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    [GeneratedRegex(@"^ready url=(?<url>\S+) pid=\d+")]
    private static partial Regex ReadyLine();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}

/// <summary>The harness could not run a row (a process would not start, a file is missing): one clear line.</summary>
internal sealed class BenchException(string message) : Exception(message);
