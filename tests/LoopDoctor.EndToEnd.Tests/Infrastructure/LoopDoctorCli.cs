using System.Text.RegularExpressions;
using LoopDoctor.Testing;

namespace LoopDoctor.EndToEnd.Tests.Infrastructure;

/// <summary>The built <c>loopdoctor</c> CLI (src/LoopDoctor.Cli/bin/...), run as <c>dotnet loopdoctor.dll ...</c>.</summary>
public static partial class LoopDoctorCli
{
    public static string Dll => RepoPaths.BuiltAssembly("src/LoopDoctor.Cli", "loopdoctor");

    public static TestProcess Start(params string[] arguments) => TestProcess.StartDotnet(Dll, arguments);

    /// <summary>Starts it keeping up to <paramref name="maxCapturedLines"/> lines per stream (a fleet's JSON reports run long).</summary>
    public static TestProcess Start(int maxCapturedLines, params string[] arguments) =>
        TestProcess.StartDotnet(Dll, arguments, new TestProcessOptions { MaxCapturedLines = maxCapturedLines });

    /// <summary><c>loopdoctor: serving Prometheus metrics for pid 1234 at http://127.0.0.1:40299/metrics</c> (stderr).</summary>
    [GeneratedRegex(@"serving Prometheus metrics for pid (?<pid>[0-9]+) at (?<url>http://127\.0\.0\.1:[1-9][0-9]{0,4}/\S*)$")]
    public static partial Regex SidecarLine();

    /// <summary><c>loopdoctor: listening on PATH for .NET processes ...; serving Prometheus metrics at URL; Ctrl+C ...</c> (stderr).</summary>
    [GeneratedRegex(@"listening on (?<path>\S+) for \.NET processes .*serving Prometheus metrics at (?<url>http://127\.0\.0\.1:[1-9][0-9]{0,4}/metrics)")]
    public static partial Regex FleetLine();
}
