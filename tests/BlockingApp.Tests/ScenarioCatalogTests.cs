using System.Reflection;
using System.Runtime.CompilerServices;
using BlockingApp.Scenarios;

namespace BlockingApp.Tests;

/// <summary>The catalog is what the CLI's tests check call sites against: every name in it must be a real method, written as people write it.</summary>
public class ScenarioCatalogTests
{
    public static TheoryData<string> Scenarios() => [.. ScenarioCatalog.Names];

    [Fact]
    public void HasEveryEndpointOfTheIssueOnce()
    {
        Assert.Equal(
            ["healthy", "sync-over-async", "wait", "sleep", "cpu", "lock", "sync-io", "fire-and-forget", "too-many-tasks", "timeout",
             "taskwait", "tasksleepwait", "sync-wrapper", "deadlock", "gc-pressure"],
            ScenarioCatalog.Names);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void CulpritAndFixAreNamedMethods(string name)
    {
        var scenario = ScenarioCatalog.Find(name)!;
        foreach (var method in new[] { scenario.Culprit, scenario.FixedMethod }.OfType<string>())
        {
            var resolved = Resolve(method);
            Assert.DoesNotContain('<', resolved.Name); // not a lambda or local function
        }
    }

    [Fact]
    public void CulpritsAreDistinct()
    {
        var culprits = ScenarioCatalog.All.Select(s => s.Culprit).OfType<string>().ToList();
        Assert.Equal(14, culprits.Count);
        Assert.Equal(culprits.Count, culprits.Distinct().Count());
        Assert.All(culprits, c => Assert.StartsWith("BlockingApp.", c));
    }

    [Fact]
    public void FindingKindsAreTheProductsVocabulary()
    {
        string[] known = ["thread-pool-starvation", "blocking-wait", "lock-contention", "long-callback", "unobserved-task-exception", "high-lag", "gc-pause", "deadlock", "hung-wait"];
        Assert.All(ScenarioCatalog.All.SelectMany(s => s.ExpectedFindings), kind => Assert.Contains(kind, known));
    }

    private static MethodInfo Resolve(string fullName)
    {
        var dot = fullName.LastIndexOf('.');
        var type = typeof(ScenarioCatalog).Assembly.GetType(fullName[..dot], throwOnError: true)!;
        var methods = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance)
            .Where(m => m.Name == fullName[(dot + 1)..]).ToList();
        return Assert.Single(methods);
    }
}
