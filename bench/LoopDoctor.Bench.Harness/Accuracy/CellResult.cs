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

/// <summary>One cell of the matrix: what the report of one scenario, attach moment and read mode named.</summary>
internal sealed record CellResult(RightAnswer Answer, AttachMoment Moment, ReadMode Mode, Naming Naming, string Named, IReadOnlyList<string> KindsFound)
{
    public bool Right => Naming is Naming.CulpritFrame or Naming.CulpritLower or Naming.Endpoint;

    public static CellResult NotRun(RightAnswer answer, AttachMoment moment, ReadMode mode, string why) =>
        new(answer, moment, mode, Naming.NotRun, why, []);

    /// <summary>Reads a JSON report (<c>--format json</c>) against the right answer.</summary>
    public static CellResult Judge(RightAnswer answer, AttachMoment moment, ReadMode mode, JsonElement report)
    {
        var findings = report.TryGetProperty("findings", out var f) ? f.EnumerateArray().ToList() : [];
        var kinds = findings.Select(x => x.GetProperty("kind").GetString() ?? "").Distinct().ToList();
        var finding = findings.FirstOrDefault(x => x.GetProperty("kind").GetString() == answer.Kind);
        if (finding.ValueKind != JsonValueKind.Object)
        {
            return new(answer, moment, mode, Naming.KindMissing, "", kinds);
        }

        var sites = finding.TryGetProperty("callSites", out var s) ? s.EnumerateArray().ToList() : [];
        var frames = sites.Select(site => site.TryGetProperty("frames", out var fr) ? fr.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : []).ToList();
        var top = frames.FirstOrDefault()?.FirstOrDefault();
        var apiSuffix = sites.Count > 0 && sites[0].TryGetProperty("blockingApi", out var api) && api.ValueKind == JsonValueKind.String ? $" (in {api.GetString()})" : "";
        if (top == answer.Culprit)
        {
            return new(answer, moment, mode, Naming.CulpritFrame, top + apiSuffix, kinds);
        }

        if (frames.Any(stack => stack.Contains(answer.Culprit)))
        {
            return new(answer, moment, mode, Naming.CulpritLower, $"{answer.Culprit}, below {top}", kinds);
        }

        var text = finding.GetRawText();
        if (text.Contains(answer.Endpoint, StringComparison.Ordinal) || text.Contains(answer.Endpoint.TrimStart('/'), StringComparison.Ordinal)
            || (answer.Culprit.Contains("Controller", StringComparison.Ordinal) && text.Contains(answer.ShortCulprit, StringComparison.Ordinal)))
        {
            return new(answer, moment, mode, Naming.Endpoint, answer.Endpoint, kinds);
        }

        var said = top ?? (finding.TryGetProperty("title", out var title) ? "title: " + title.GetString() : "no call site");
        return new(answer, moment, mode, Naming.NothingNamed, said, kinds);
    }
}
