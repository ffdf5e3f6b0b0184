using LoopDoctor.Cli.Detectors;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LoopDoctor.Cli.Sessions;

/// <summary>
/// A .nettrace file (ours or <c>dotnet-trace collect</c>'s) replayed through the same adapter and pipeline as a live
/// session. TraceLog converts it to a temporary .etlx, which resolves stacks from the trace's rundown.
/// </summary>
internal static class TraceFileSource
{
    public sealed record Result(double DurationSeconds, int ProcessId, string ProcessName);

    public static Result Replay(string path, DiagnosisPipeline pipeline)
    {
        if (!File.Exists(path))
        {
            throw new LoopDoctorException(ExitCode.InvalidTraceFile, $"Trace file '{path}' does not exist.");
        }

        var etlx = Path.Combine(Path.GetTempPath(), $"loopdoctor-{Environment.ProcessId}-{Guid.NewGuid():N}.etlx");
        try
        {
            try
            {
                TraceLog.CreateFromEventPipeDataFile(path, etlx);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new LoopDoctorException(ExitCode.InvalidTraceFile, $"'{path}' is not a readable .nettrace file: {ex.Message}", ex);
            }

            using var log = new TraceLog(etlx);
            using var source = log.Events.GetSource();
            _ = new TraceEventSignalAdapter(source, pipeline.Observe);
            source.Process();
            var process = log.Processes.FirstOrDefault(p => p.ProcessID > 0);
            return new Result(log.SessionDuration.TotalSeconds, process?.ProcessID ?? 0, process?.Name ?? Path.GetFileNameWithoutExtension(path));
        }
        finally
        {
            TryDelete(etlx);
        }
    }

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
