using System.Text.Json;

namespace LoopDoctor.Bench.Accuracy;

/// <summary>When the CLI attached: as the target started, or after it had served load with its code at tier 1.</summary>
internal enum AttachMoment
{
    AtStart,
    AfterWarmUp,
}

/// <summary>How the CLI read the target: <c>diagnose</c> (agent injected), an offline recording + <c>analyze</c>, or <c>diagnose --no-inject</c>.</summary>
internal enum ReadMode
{
    Live,
    Offline,
    NoInject,
}

/// <summary>What a report named, compared with the right answer.</summary>
internal enum Naming
{
    /// <summary>The culprit is the top frame of the finding's first call site.</summary>
    CulpritFrame,

    /// <summary>The culprit is named, but lower in the stack or in a later call site.</summary>
    CulpritLower,

    /// <summary>No culprit frame, but the endpoint (route or MVC action) is named.</summary>
    Endpoint,

    /// <summary>The right kind, and neither the culprit nor the endpoint.</summary>
    NothingNamed,

    /// <summary>No finding of the right kind.</summary>
    KindMissing,

    /// <summary>The cell could not run (the tool failed or is missing).</summary>
    NotRun,
}

/// <summary>
/// One cell of the matrix: what the report of one scenario, runtime, attach moment and read mode named.
/// <paramref name="RuntimeVersion"/>: the report's <c>target.runtimeVersion</c> (null when it did not say);
/// <paramref name="Estimated"/>: the finding's counts were estimated from stack samples (no WaitHandle events).
/// </summary>
internal sealed record CellResult(RightAnswer Answer, TargetRuntime Runtime, AttachMoment Moment, ReadMode Mode, Naming Naming, string Named,
    IReadOnlyList<string> KindsFound, string? RuntimeVersion = null, bool Estimated = false)
{
    public bool Right => Naming is Naming.CulpritFrame or Naming.CulpritLower or Naming.Endpoint;

    public static CellResult NotRun(RightAnswer answer, TargetRuntime runtime, AttachMoment moment, ReadMode mode, string why) =>
        new(answer, runtime, moment, mode, Naming.NotRun, why, []);

    /// <summary>Reads a JSON report (<c>--format json</c>) against the right answer.</summary>
    public static CellResult Judge(RightAnswer answer, TargetRuntime runtime, AttachMoment moment, ReadMode mode, JsonElement report)
    {
        var version = report.TryGetProperty("target", out var target) && target.TryGetProperty("runtimeVersion", out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;
        var findings = report.TryGetProperty("findings", out var f) ? f.EnumerateArray().ToList() : [];
        var kinds = findings.Select(x => x.GetProperty("kind").GetString() ?? "").Distinct().ToList();
        var finding = findings.FirstOrDefault(x => x.GetProperty("kind").GetString() == answer.Kind);
        if (finding.ValueKind != JsonValueKind.Object)
        {
            return new(answer, runtime, moment, mode, Naming.KindMissing, "", kinds, version);
        }

        var estimated = finding.TryGetProperty("estimated", out var e) && e.ValueKind == JsonValueKind.True;
        CellResult Cell(Naming naming, string named) => new(answer, runtime, moment, mode, naming, named, kinds, version, estimated);

        var sites = finding.TryGetProperty("callSites", out var s) ? s.EnumerateArray().ToList() : [];
        var frames = sites.Select(site => site.TryGetProperty("frames", out var fr) ? fr.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : []).ToList();
        var top = frames.FirstOrDefault()?.FirstOrDefault();
        var apiSuffix = sites.Count > 0 && sites[0].TryGetProperty("blockingApi", out var api) && api.ValueKind == JsonValueKind.String ? $" (in {api.GetString()})" : "";
        if (top == answer.Culprit)
        {
            return Cell(Naming.CulpritFrame, top + apiSuffix);
        }

        if (frames.Any(stack => stack.Contains(answer.Culprit)))
        {
            return Cell(Naming.CulpritLower, $"{answer.Culprit}, below {top}");
        }

        var text = finding.GetRawText();
        if (text.Contains(answer.Endpoint, StringComparison.Ordinal) || text.Contains(answer.Endpoint.TrimStart('/'), StringComparison.Ordinal)
            || (answer.Culprit.Contains("Controller", StringComparison.Ordinal) && text.Contains(answer.ShortCulprit, StringComparison.Ordinal)))
        {
            return Cell(Naming.Endpoint, answer.Endpoint);
        }

        var said = top ?? (finding.TryGetProperty("title", out var title) ? "title: " + title.GetString() : "no call site");
        return Cell(Naming.NothingNamed, said);
    }
}
