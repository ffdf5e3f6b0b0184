using System.Diagnostics;

namespace BlockingApp.Scenarios;

/// <summary>What every scenario endpoint answers: which twin ran and how long it took on the server.</summary>
public sealed record ScenarioResponse(string Scenario, bool Fixed, double ElapsedMs, string Detail)
{
    public static IResult Ok(string scenario, bool isFixed, long startedTimestamp, string detail) =>
        Results.Ok(Create(scenario, isFixed, startedTimestamp, detail));

    public static ScenarioResponse Create(string scenario, bool isFixed, long startedTimestamp, string detail) =>
        new(scenario, isFixed, Math.Round(Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, 3), detail);
}
