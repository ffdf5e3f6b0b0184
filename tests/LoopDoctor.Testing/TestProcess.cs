using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace LoopDoctor.Testing;

/// <summary>Which output stream of a <see cref="TestProcess"/>.</summary>
public enum OutputStream
{
    Stdout,
    Stderr,
}

/// <summary>Settings for <see cref="TestProcess.Start"/>.</summary>
public sealed class TestProcessOptions
{
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set (a null value removes the variable) in the child's environment.</summary>
    public IDictionary<string, string?> Environment { get; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>Lines kept per stream (the oldest are dropped): a chatty child cannot fill the test's memory.</summary>
    public int MaxCapturedLines { get; init; } = 2000;
}

/// <summary>A <see cref="TestProcess"/> did not do what the test waited for; the message includes its captured output.</summary>
public sealed class TestProcessException(string message) : Exception(message);

/// <summary>
/// A real child process for integration tests. Captures stdout and stderr line by line into bounded buffers, lets a test
/// wait for a line matching a regex (a signal, with a timeout, never a sleep), and on <see cref="Dispose"/> kills the
/// process it started together with its descendants, and nothing else. Every failure message carries the captured output.
/// Processes still alive when the test host exits are killed too.
/// </summary>
public sealed class TestProcess : IDisposable, IAsyncDisposable
{
    private static readonly ConcurrentDictionary<TestProcess, byte> Live = new();

    private readonly Process _process;
    private readonly int _maxLines;
    private readonly Lock _gate = new();
    private readonly Queue<string> _stdout = new();
    private readonly Queue<string> _stderr = new();
    private readonly List<Waiter> _waiters = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _stdoutTotal;
    private long _stderrTotal;
    private int _disposed;

    static TestProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Live.Keys)
            {
                process.Kill();
            }
        };
    }

    private TestProcess(Process process, string commandLine, int maxLines)
    {
        _process = process;
        _maxLines = maxLines;
        CommandLine = commandLine;
    }

    /// <summary>The child's process id.</summary>
    public int Pid { get; private set; }

    /// <summary>What was started, for messages.</summary>
    public string CommandLine { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has exited, else null.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>The captured stdout lines (at most <see cref="TestProcessOptions.MaxCapturedLines"/>, the latest).</summary>
    public IReadOnlyList<string> StdoutLines => Snapshot(OutputStream.Stdout);

    /// <summary>The child's stdin (redirected, so it never reads the test runner's): write to it, close it for EOF.</summary>
    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>The captured stderr lines (at most <see cref="TestProcessOptions.MaxCapturedLines"/>, the latest).</summary>
    public IReadOnlyList<string> StderrLines => Snapshot(OutputStream.Stderr);

    /// <summary>Starts <c>dotnet {dll} {arguments}</c> with the dotnet host running the tests.</summary>
    public static TestProcess StartDotnet(string dllPath, IEnumerable<string> arguments, TestProcessOptions? options = null) =>
        Start(DotnetHost, [dllPath, .. arguments], options);

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> (no shell, each argument passed as is).</summary>
    public static TestProcess Start(string fileName, IEnumerable<string> arguments, TestProcessOptions? options = null)
    {
        options ??= new TestProcessOptions();
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // the child must not read the test runner's stdin
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = options.WorkingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in options.Environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var commandLine = string.Join(' ', startInfo.ArgumentList.Prepend(fileName).Select(Quote));
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var testProcess = new TestProcess(process, commandLine, Math.Max(1, options.MaxCapturedLines));
        process.OutputDataReceived += (_, e) => testProcess.OnLine(OutputStream.Stdout, e.Data);
        process.ErrorDataReceived += (_, e) => testProcess.OnLine(OutputStream.Stderr, e.Data);
        if (!process.Start())
        {
            throw new TestProcessException($"Could not start {commandLine}.");
        }

        testProcess.Pid = process.Id;
        Live.TryAdd(testProcess, 0);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return testProcess;
    }

    /// <summary>
    /// Waits until a line of <paramref name="stream"/> (already captured or still to come) matches <paramref name="pattern"/>.
    /// Throws <see cref="TestProcessException"/> with the captured output when the timeout passes or the stream closes first.
    /// </summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout, OutputStream stream = OutputStream.Stdout)
    {
        Waiter waiter;
        lock (_gate)
        {
            foreach (var line in Buffer(stream))
            {
                if (pattern.Match(line) is { Success: true } existing)
                {
                    return existing;
                }
            }

            if (Closed(stream).Task.IsCompleted)
            {
                throw new TestProcessException(
                    $"{stream} of {CommandLine} closed{ExitDescription()} before a line matched /{pattern}/.{Environment.NewLine}{DescribeOutput()}");
            }

            waiter = new Waiter(pattern, stream);
            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Matched.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TestProcessException(
                $"No line matching /{pattern}/ on {stream} of {CommandLine} within {timeout.TotalSeconds:0.#} s{ExitDescription()}.{Environment.NewLine}{DescribeOutput()}");
        }
        finally
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <inheritdoc cref="WaitForLineAsync(Regex, TimeSpan, OutputStream)"/>
    public Task<Match> WaitForLineAsync(string pattern, TimeSpan timeout, OutputStream stream = OutputStream.Stdout) =>
        WaitForLineAsync(new Regex(pattern, RegexOptions.CultureInvariant), timeout, stream);

    /// <summary>
    /// Waits for the process to exit and its output to be read to the end; returns the exit code. On timeout throws
    /// <see cref="TestProcessException"/> with the captured output (the process is left running; Dispose kills it).
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TestProcessException(
                $"{CommandLine} (pid {Pid}) did not exit within {timeout.TotalSeconds:0.#} s.{Environment.NewLine}{DescribeOutput()}");
        }

        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM (a graceful stop request) to this process only. Unix only.</summary>
    public void Terminate() => Signal(Sigterm);

    /// <summary>Sends SIGINT (Ctrl+C) to this process only. Unix only.</summary>
    public void Interrupt() => Signal(Sigint);

    /// <summary>Kills this process and its descendants now (SIGKILL); no-op when it has exited.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exiting: the kernel refused because it is already going.
        }
    }

    /// <summary>Stdout and stderr as captured, labelled, for failure messages.</summary>
    public string DescribeOutput()
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            Describe(text, "stdout", _stdout, _stdoutTotal);
            Describe(text, "stderr", _stderr, _stderrTotal);
            return text.ToString();
        }
    }

    /// <summary>True while a process with this id exists and is not a zombie (Linux: /proc; elsewhere: Process API).</summary>
    public static bool IsRunning(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                // "pid (comm) S ...": the state follows the last ')' (comm may itself contain parentheses).
                var state = stat[(stat.LastIndexOf(')') + 2)..].TrimStart();
                return state.Length > 0 && state[0] is not ('Z' or 'X');
            }
            catch (IOException)
            {
                return false;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Kills the process tree if it still runs, waits for it to be gone, and releases it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Kill();
        _process.WaitForExit(10_000);
        Live.TryRemove(this, out _);
        _process.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public override string ToString() => $"{CommandLine} (pid {Pid})";

    private void OnLine(OutputStream stream, string? line)
    {
        List<Waiter>? matched = null;
        List<Waiter>? orphaned = null;
        lock (_gate)
        {
            if (line is null)
            {
                Closed(stream).TrySetResult();
                orphaned = _waiters.Where(w => w.Stream == stream).ToList();
            }
            else
            {
                var buffer = Buffer(stream);
                buffer.Enqueue(line);
                if (buffer.Count > _maxLines)
                {
                    buffer.Dequeue();
                }

                if (stream == OutputStream.Stdout)
                {
                    _stdoutTotal++;
                }
                else
                {
                    _stderrTotal++;
                }

                foreach (var waiter in _waiters)
                {
                    if (waiter.Result is null && waiter.Stream == stream && waiter.Pattern.Match(line) is { Success: true } match)
                    {
                        (matched ??= []).Add(waiter);
                        waiter.Result = match;
                    }
                }
            }
        }

        // Completed outside the lock; continuations run asynchronously anyway.
        foreach (var waiter in matched ?? [])
        {
            waiter.Matched.TrySetResult(waiter.Result!);
        }

        foreach (var waiter in orphaned ?? [])
        {
            waiter.Matched.TrySetException(new TestProcessException(
                $"{stream} of {CommandLine} closed{ExitDescription()} before a line matched /{waiter.Pattern}/.{Environment.NewLine}{DescribeOutput()}"));
        }
    }

    private Queue<string> Buffer(OutputStream stream) => stream == OutputStream.Stdout ? _stdout : _stderr;

    private TaskCompletionSource Closed(OutputStream stream) => stream == OutputStream.Stdout ? _stdoutClosed : _stderrClosed;

    private List<string> Snapshot(OutputStream stream)
    {
        lock (_gate)
        {
            return [.. Buffer(stream)];
        }
    }

    private string ExitDescription()
    {
        try
        {
            return _process.HasExited ? $" (exited with code {_process.ExitCode})" : "";
        }
        catch (InvalidOperationException)
        {
            return "";
        }
    }

    private static void Describe(StringBuilder text, string name, Queue<string> lines, long total)
    {
        var dropped = total - lines.Count;
        text.Append("--- ").Append(name).Append(" (").Append(total).Append(" lines")
            .Append(dropped > 0 ? $", first {dropped} dropped" : "").AppendLine(") ---");
        foreach (var line in lines)
        {
            text.AppendLine(line);
        }
    }

    private void Signal(int signal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException("Sending POSIX signals needs Linux or macOS.");
        }

        if (!_process.HasExited && SysKill(Pid, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (!_process.HasExited)
            {
                throw new TestProcessException($"kill({Pid}, {signal}) failed with errno {errno}.");
            }
        }
    }

    private const int Sigint = 2;
    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>The dotnet host running the tests (the one <see cref="StartDotnet"/> uses).</summary>
    public static string DotnetHost { get; } = FindDotnetHost();

    private static string FindDotnetHost()
    {
        // Set by `dotnet test` / MSBuild to the host that runs them; the tests then start children with the same SDK.
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c == '"') ? argument : $"\"{argument.Replace("\"", "\\\"")}\"";

    private sealed class Waiter(Regex pattern, OutputStream stream)
    {
        public Regex Pattern { get; } = pattern;
        public OutputStream Stream { get; } = stream;
        public Match? Result { get; set; }
        public TaskCompletionSource<Match> Matched { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
