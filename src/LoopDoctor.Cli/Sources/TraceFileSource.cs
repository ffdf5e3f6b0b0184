using System.Globalization;
using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;
using Microsoft.Diagnostics.Tracing.Session;

namespace LoopDoctor.Cli.Sources;

/// <summary>
/// A .nettrace file (ours or <c>dotnet-trace collect</c>'s) replayed through the same adapter and pipeline as a live
/// session, in one pass over the file: events become signals as they are read, stacks are kept as raw addresses
/// (interned), and the methods that name them are collected along the way (MethodLoad while recording, the rundown at
/// the end). Then each distinct stack is named once and the signals are replayed in order. Converting the trace to
/// TraceLog's .etlx first, which names every stack of every event, cost 5–9× a bare read of the file (P6 in
/// docs/benchmarks.md); that remains the fallback should this TraceEvent's event records not be readable.
/// </summary>
internal static class TraceFileSource
{
    private static readonly Guid EventPipeProviderGuid = TraceEventProviders.GetEventSourceGuidFromName("Microsoft-DotNETCore-EventPipe");

    /// <param name="Truncated">Why the file ended early (a trace cut off mid-block), or null: the report covers what was read.</param>
    public sealed record Result(double DurationSeconds, int ProcessId, string ProcessName, string? Truncated = null, string? RuntimeVersion = null)
    {
        /// <summary>Where the time went (LOOPDOCTOR_DEBUG=1 prints it).</summary>
        public string? Timings { get; init; }
    }

    public static Result Replay(string path, Action<Signal> sink)
    {
        if (!File.Exists(path))
        {
            throw new LoopDoctorException(ExitCode.InvalidTraceFile, $"Trace file '{path}' does not exist.");
        }

        return TraceEventInternals.CanReadStackAddresses && Environment.GetEnvironmentVariable("LOOPDOCTOR_ANALYZE_TRACELOG") != "1"
            ? ReplayInOnePass(path, sink)
            : ReplayThroughTraceLog(path, sink);
    }

    internal static Result ReplayInOnePass(string path, Action<Signal> sink)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var log = new SignalLog();
        var stacks = new StackInterner();
        var methods = new MethodAddressMap();
        var processId = 0;
        string? processName = null;
        string? runtimeVersion = null;
        EventPipeEventSource source;
        try
        {
            source = new EventPipeEventSource(path);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new LoopDoctorException(ExitCode.InvalidTraceFile, $"'{path}' is not a readable .nettrace file: {OneLine(ex.Message)}", ex);
        }

        string? truncated = null;
        double sessionSeconds = 0;
        using (source)
        {
            _ = TraceEventSignalAdapter.ForRecordedTrace(source, log, stacks);
            source.Clr.MethodLoadVerbose += methods.Add;
            var rundown = new ClrRundownTraceEventParser(source);
            rundown.MethodDCStartVerbose += methods.Add;
            rundown.MethodDCStopVerbose += methods.Add;
            // The rundown's RuntimeInformation names the runtime that wrote the trace (a recording without rundown does not).
            rundown.RuntimeStart += e => runtimeVersion ??= RuntimeVersionFrom(e.BclMajorVersion, e.BclMinorVersion, e.BclBuildNumber);
            source.AllEvents += e =>
            {
                if (processId == 0 && e.ProcessID > 0)
                {
                    processId = e.ProcessID;
                }

                // EventPipe's own ProcessInfo event (id 1; payload: command line, OS, architecture) names the target.
                if (processName is null && (int)e.ID == 1 && e.ProviderGuid == EventPipeProviderGuid)
                {
                    processName = ProcessNameFrom(new PayloadReader(e.EventData()).ReadString());
                }
            };

            try
            {
                source.Process();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A trace cut off mid-block (the recorder was killed, the disk filled) still holds everything before the cut:
                // report that, and say so. A file with nothing readable is not a trace.
                if (log.Count == 0 && methods.Count == 0)
                {
                    throw new LoopDoctorException(ExitCode.InvalidTraceFile, $"'{path}' is not a readable .nettrace file: {OneLine(ex.Message)}", ex);
                }

                var lastMs = log.LastTimestampMs;
                truncated = $"the trace file ends early after {(lastMs / 1000).ToString("0.0", CultureInfo.InvariantCulture)} s ({OneLine(ex.Message)}), " +
                            "so methods compiled before the recording began may be unnamed (their names are in the rundown at the end)";
            }

            sessionSeconds = source.SessionDuration.TotalSeconds;
        }

        var read = clock.Elapsed.TotalSeconds;
        stacks.ResolveAll(methods);
        var resolved = clock.Elapsed.TotalSeconds;
        log.Replay(sink, stacks);
        var replayed = clock.Elapsed.TotalSeconds;
        var duration = sessionSeconds > 0 && truncated is null ? sessionSeconds : log.LastTimestampMs / 1000;
        return new Result(duration, processId, processName ?? Path.GetFileNameWithoutExtension(path), truncated, runtimeVersion)
        {
            Timings = string.Create(CultureInfo.InvariantCulture,
                $"read {read:0.000} s ({log.SampleCount} samples in {log.Count} entries, {stacks.Count} distinct stacks, {methods.Count} methods), " +
                $"name stacks {resolved - read:0.000} s, replay {replayed - resolved:0.000} s"),
        };
    }

    /// <summary>"dotnet /app/BlockingApp.dll --urls ..." → "BlockingApp"; "/app/Orders.Api --port 80" → "Orders.Api".</summary>
    /// <summary>"10.0.12" from RuntimeInformation's BCL version (its VM fields are libcoreclr's file version, 10.0.1226); null when absent.</summary>
    internal static string? RuntimeVersionFrom(int major, int minor, int build)
        => major > 0 ? string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}.{build}") : null;

    internal static string? ProcessNameFrom(string? commandLine)
    {
        var tokens = Tokens(commandLine ?? "").Take(2).ToList();
        if (tokens.Count == 0)
        {
            return null;
        }

        var program = FileName(tokens[0]) is "dotnet" or "dotnet.exe" && tokens.Count > 1 ? FileName(tokens[1]) : FileName(tokens[0]);
        foreach (var extension in (string[])[".dll", ".exe"])
        {
            if (program.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                program = program[..^extension.Length];
            }
        }

        return program.Length == 0 ? null : program;

        // The command line may come from Windows: both separators, and quoted paths with spaces.
        static string FileName(string path) => path[(path.LastIndexOfAny(['/', '\\']) + 1)..];

        static IEnumerable<string> Tokens(string text)
        {
            for (var i = 0; i < text.Length;)
            {
                if (text[i] == ' ')
                {
                    i++;
                    continue;
                }

                var quoted = text[i] == '"';
                var start = quoted ? i + 1 : i;
                var end = text.IndexOf(quoted ? '"' : ' ', start);
                end = end < 0 ? text.Length : end;
                yield return text[start..end];
                i = end + 1;
            }
        }
    }

    internal static Result ReplayThroughTraceLog(string path, Action<Signal> sink)
    {
        var etlx = Path.Combine(Path.GetTempPath(), $"loopdoctor-{Environment.ProcessId}-{Guid.NewGuid():N}.etlx");
        try
        {
            try
            {
                TraceLog.CreateFromEventPipeDataFile(path, etlx);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new LoopDoctorException(ExitCode.InvalidTraceFile, $"'{path}' is not a readable .nettrace file: {OneLine(ex.Message)}", ex);
            }

            using var log = new TraceLog(etlx);
            using var source = log.Events.GetSource();
            var adapter = new TraceEventSignalAdapter(source, sink);
            source.Process();
            adapter.FlushSamples();
            var process = log.Processes.FirstOrDefault(p => p.ProcessID > 0);
            return new Result(log.SessionDuration.TotalSeconds, process?.ProcessID ?? 0, process?.Name ?? Path.GetFileNameWithoutExtension(path));
        }
        finally
        {
            TryDelete(etlx);
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
