namespace LoopDoctor.Cli.Reporting;

/// <summary>
/// The baseline file (docs/ci.md "The baseline file"), written and read through <see cref="ReportJsonContext"/>.
/// Every field is optional when reading, so hand-written and older files load; keys are ordinal-sorted by the writer.
/// </summary>
internal sealed record BaselineDocument(
    IReadOnlyDictionary<string, IReadOnlyList<string?>?>? CallSites = null,
    int FormatVersion = 0,
    QueueDelayDocument? QueueDelayMilliseconds = null);
