using System.Globalization;
using System.Text.Json;
using LoopDoctor.Bench.Infrastructure;
using LoopDoctor.Testing;

namespace LoopDoctor.Bench.Accuracy;

/// <summary>
/// Runs every scenario of <see cref="RightAnswer.All"/> × runtime × {attach at start, after warm-up} × {live, offline,
/// --no-inject} (at start on the installed runtime only: <see cref="TargetRuntime.Runs"/>) against a real BlockingApp
/// under load and judges each report. Attach at start: a fresh target per cell. After warm-up: one target per scenario,
/// warmed up while its JIT is watched, then read without the agent first (--no-inject, then the offline recording) and
/// with the injected agent last, since an injected agent stays in the process.
/// </summary>
internal sealed class AccuracyMatrix(BenchContext context, TimeSpan sessionLength, TimeSpan warmUp)
{
    public async Task<(IReadOnlyList<CellResult> Cells, IReadOnlyDictionary<(int Runtime, string Scenario), TieringReport> Tiering)> RunAsync(
        IReadOnlyList<RightAnswer> answers, IReadOnlyList<TargetRuntime> runtimes, CancellationToken cancellationToken)
    {
        var cells = new List<CellResult>();
        var tiering = new Dictionary<(int, string), TieringReport>();
        // Every publish first: a publish restores the project's obj/ for its framework, which no cell should overlap.
        var apps = new Dictionary<TargetRuntime, string>();
        foreach (var runtime in runtimes)
        {
            apps[runtime] = await BlockingAppBuilds.PrepareAsync(context, runtime, cancellationToken).ConfigureAwait(false);
        }

        foreach (var runtime in runtimes)
        {
            var app = apps[runtime];
            foreach (var answer in answers)
            {
                if (runtime.Runs(AttachMoment.AtStart))
                {
                    foreach (var mode in Enum.GetValues<ReadMode>())
                    {
                        await using var fresh = await PatientUnderLoad.StartAsync(answer.Scenario, answer.RequestsPerSecond, app: app).ConfigureAwait(false);
                        cells.Add(await ReadAsync(answer, runtime, AttachMoment.AtStart, mode, fresh.Pid, cancellationToken).ConfigureAwait(false));
                    }
                }

                await using var warm = await PatientUnderLoad.StartAsync(answer.Scenario, answer.RequestsPerSecond, app: app).ConfigureAwait(false);
                context.Log($"{runtime.Name} {answer.Scenario}: warming up for {warmUp.TotalSeconds:0} s, watching the JIT ...");
                var report = await warm.WarmUpAsync(warmUp, cancellationToken).ConfigureAwait(false);
                tiering[(runtime.Major, answer.Scenario)] = report;
                context.Log($"{runtime.Name} {answer.Scenario}: {answer.ShortCulprit} {report.Describe(answer.Culprit)}");
                foreach (var mode in new[] { ReadMode.NoInject, ReadMode.Offline, ReadMode.Live })
                {
                    cells.Add(await ReadAsync(answer, runtime, AttachMoment.AfterWarmUp, mode, warm.Pid, cancellationToken).ConfigureAwait(false));
                }
            }
        }

        return (cells, tiering);
    }

    private async Task<CellResult> ReadAsync(RightAnswer answer, TargetRuntime runtime, AttachMoment moment, ReadMode mode, int pid, CancellationToken cancellationToken)
    {
        var seconds = ((int)sessionLength.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var p = pid.ToString(CultureInfo.InvariantCulture);
        string json;
        if (mode == ReadMode.Offline)
        {
            if (!File.Exists(context.DotnetTrace))
            {
                return CellResult.NotRun(answer, runtime, moment, mode, $"dotnet-trace missing ({context.Relative(context.DotnetTrace)})");
            }

            var trace = Path.Combine(context.WorkDirectory, $"accuracy-{runtime.Framework}-{answer.Scenario}-{moment}.nettrace");
            File.Delete(trace);
            var recorder = await RunToEndAsync(context.DotnetTrace,
                ["collect", "-p", p, "--clrevents", "waithandle+threading+contention", "--clreventlevel", "verbose",
                 "--duration", $"00:00:00:{seconds}", "-o", trace], cancellationToken).ConfigureAwait(false);
            if (!File.Exists(trace))
            {
                return CellResult.NotRun(answer, runtime, moment, mode, $"dotnet-trace recorded nothing (exit {recorder.ExitCode}): {recorder.Tail}");
            }

            json = (await RunToEndAsync("dotnet", [context.CliDll, "analyze", trace, "--format", "json"], cancellationToken).ConfigureAwait(false)).StandardOutput;
        }
        else
        {
            string[] args = [context.CliDll, "diagnose", "-p", p, "--duration", seconds + "s", "--format", "json", .. mode == ReadMode.NoInject ? new[] { "--no-inject" } : []];
            json = (await RunToEndAsync("dotnet", args, cancellationToken).ConfigureAwait(false)).StandardOutput;
        }

        CellResult cell;
        try
        {
            using var document = JsonDocument.Parse(json);
            cell = CellResult.Judge(answer, runtime, moment, mode, document.RootElement);
        }
        catch (JsonException)
        {
            cell = CellResult.NotRun(answer, runtime, moment, mode, "no JSON report: " + json.Split('\n')[0]);
        }

        context.Log($"{runtime.Name} {answer.Scenario} {moment} {mode}: {cell.Naming} {cell.Named}{(cell.Estimated ? " (estimated)" : "")}");
        return cell;
    }

    private sealed record Finished(int ExitCode, string StandardOutput, string Tail);

    private static async Task<Finished> RunToEndAsync(string fileName, string[] args, CancellationToken cancellationToken)
    {
        using var process = ChildProcess.Start(fileName, args);
        using var registration = cancellationToken.Register(process.Dispose);
        if (!await process.WaitForExitAsync(TimeSpan.FromMinutes(3)).ConfigureAwait(false))
        {
            throw new BenchException($"{process.Display} did not finish within 3 minutes:\n{process.Tail(10)}");
        }

        return new Finished(process.ExitCode, process.StandardOutput, process.Tail(3));
    }
}
