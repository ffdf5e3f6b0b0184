using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoopDoctor.EndToEnd.Tests.Infrastructure;
using LoopDoctor.Testing;
using Xunit.Abstractions;

namespace LoopDoctor.EndToEnd.Tests.Packaging;

/// <summary>
/// The <c>loopdoctor</c> tool as a user gets it: <c>dotnet pack</c> (into a temporary folder), <c>dotnet tool install
/// --tool-path</c> from that folder only (a generated nuget.config clears every other source: no network), then the
/// installed command run against a real BlockingApp. The tool path is a fresh temporary folder, so nothing installed or
/// cached earlier is reused; <see cref="IAsyncLifetime.DisposeAsync"/> deletes it.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class ToolPackageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PackageId = "LoopDoctor.Cli";
    private static readonly TimeSpan DotnetCommandTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ToolRunTimeout = TimeSpan.FromSeconds(60);

    private readonly string _root = Directory.CreateTempSubdirectory("loopdoctor-tool-").FullName;

    private string Packages => Path.Combine(_root, "packages");
    private string ToolPath => Path.Combine(_root, "tool");
    private string Loopdoctor => Path.Combine(ToolPath, "loopdoctor");

    [Fact]
    public async Task PackedToolInstallsFromTheLocalFolderCompletesAndDiagnosesBlockingApp()
    {
        // Pack the build the test run already has (the test project references the CLI, so it is built and restored first).
        var pack = await RunAsync(TestProcess.DotnetHost,
            ["pack", RepoPaths.Combine("src/LoopDoctor.Cli/LoopDoctor.Cli.csproj"), "-c", RepoPaths.Configuration, "--no-build", "--no-restore", "-o", Packages]);
        Assert.True(pack.ExitCode == 0, $"dotnet pack failed:{Environment.NewLine}{pack.Output}");
        var nupkg = Directory.GetFiles(Packages, PackageId + ".*.nupkg").Single(p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
        var version = Path.GetFileNameWithoutExtension(nupkg)[(PackageId.Length + 1)..];

        // The agent sits beside loopdoctor.dll: `run` and injection load it from there. It has no dependencies (no
        // OpenTelemetry, whose DiagnosticSource 10.0 a .NET 8 or 9 target could not load).
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            foreach (var file in new[] { "loopdoctor.dll", "LoopDoctor.Agent.dll", "LoopDoctor.StartupHook.dll", "DotnetToolSettings.xml" })
            {
                Assert.Contains($"tools/net10.0/any/{file}", entries);
            }

            Assert.DoesNotContain("tools/net10.0/any/OpenTelemetry.dll", entries);

            Assert.Contains("README.md", entries);
            Assert.Contains("LICENSE", entries);
        }

        // Only the local folder as a source: the install must not need anything else.
        var config = Path.Combine(_root, "nuget.config");
        await File.WriteAllTextAsync(config,
            """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
              </packageSources>
            </configuration>
            """);
        var install = await RunAsync(TestProcess.DotnetHost,
            ["tool", "install", "--tool-path", ToolPath, "--configfile", config, "--add-source", Packages, PackageId, "--version", version]);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed:{Environment.NewLine}{install.Output}");
        var installed = Path.Combine(ToolPath, ".store", PackageId.ToLowerInvariant(), version, PackageId.ToLowerInvariant(), version, "tools", "net10.0", "any");
        Assert.True(File.Exists(Path.Combine(installed, "LoopDoctor.Agent.dll")), $"no LoopDoctor.Agent.dll in {installed}");

        var versionRun = await RunAsync(Loopdoctor, ["--version"]);
        Assert.Equal(0, versionRun.ExitCode);
        Assert.StartsWith(version, versionRun.Stdout.Trim(), StringComparison.Ordinal);

        // Shell completion (docs/cli.md): System.CommandLine's [suggest:<cursor>] "<command line>" directive.
        var suggest = await RunAsync(Loopdoctor, ["[suggest:13]", "loopdoctor di"]);
        Assert.True(suggest.ExitCode == 0, suggest.Output);
        Assert.Equal("diagnose", suggest.Stdout.Trim());

        await using var target = await BlockingAppTarget.StartAsync("--scenario", "sync-over-async", "--rps", "60", "--duration", "2m", "--drain", "1s", "--no-agent");
        var pid = target.Pid.ToString(CultureInfo.InvariantCulture);

        var ps = await RunAsync(Loopdoctor, ["ps"]);
        Assert.True(ps.ExitCode == 0, ps.Output);
        Assert.Matches(PsLine(pid), ps.Stdout);

        var diagnose = await RunAsync(Loopdoctor, ["diagnose", "-p", pid, "--duration", "3s", "--format", "json"]);
        output.WriteLine(diagnose.Stderr);
        // 1 = findings present: sync-over-async at 60 rps starves the pool.
        Assert.True(diagnose.ExitCode == 1, $"diagnose exited {diagnose.ExitCode}, expected 1 (findings):{Environment.NewLine}{diagnose.Output}");
        using var report = JsonDocument.Parse(diagnose.Stdout);
        var root = report.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(target.Pid, root.GetProperty("target").GetProperty("processId").GetInt32());
        Assert.Equal("BlockingApp", root.GetProperty("target").GetProperty("processName").GetString());
        // --no-agent: diagnose injects (BlockingApp ships LoopDoctor.Agent.dll itself, so the runtime reuses its copy).
        Assert.Equal("injected", root.GetProperty("agent").GetString());

        // A process that ships nothing of LoopDoctor: the agent injected into it can only be the package's, and its
        // dependencies resolve from the tool's folder.
        using var bare = TestProcess.StartDotnet(RepoPaths.BuiltAssembly("tests/TestTargets/HookTarget", "HookTarget"), []);
        await bare.WaitForLineAsync("^ready pid=", BlockingAppTarget.StartTimeout);
        var bareDiagnose = await RunAsync(Loopdoctor, ["diagnose", "-p", bare.Pid.ToString(CultureInfo.InvariantCulture), "--duration", "1s", "--format", "json"]);
        Assert.True(bareDiagnose.ExitCode is 0 or 1, $"diagnose of HookTarget exited {bareDiagnose.ExitCode}:{Environment.NewLine}{bareDiagnose.Output}");
        using (var bareReport = JsonDocument.Parse(bareDiagnose.Stdout))
        {
            Assert.Equal("injected", bareReport.RootElement.GetProperty("agent").GetString());
        }

        var mapped = File.ReadLines($"/proc/{bare.Pid}/maps").Select(l => l.IndexOf('/') is var i and >= 0 ? l[i..] : "").Distinct().ToList();
        Assert.Contains(Path.Combine(installed, "LoopDoctor.Agent.dll"), mapped);
        output.WriteLine(string.Join(Environment.NewLine, mapped.Where(m => m.StartsWith(installed, StringComparison.Ordinal))));
        var kinds = root.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("kind").GetString()).ToList();
        Assert.True(kinds.Contains("thread-pool-starvation") || kinds.Contains("blocking-wait"),
            $"findings: {string.Join(", ", kinds)}{Environment.NewLine}{diagnose.Stdout}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }

        return Task.CompletedTask;
    }

    /// <summary><c>  1234  BlockingApp  yes    dotnet ...</c>: the pid and the app's name.</summary>
    private static Regex PsLine(string pid) => new($@"(?m)^\s*{pid}\s+BlockingApp\s", RegexOptions.CultureInvariant);

    private sealed record Run(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => $"--- stdout ---{Environment.NewLine}{Stdout}{Environment.NewLine}--- stderr ---{Environment.NewLine}{Stderr}";
    }

    private async Task<Run> RunAsync(string fileName, string[] arguments)
    {
        var options = new TestProcessOptions { WorkingDirectory = _root };
        // No first-run banner, telemetry or logo noise in the tool's own output.
        options.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        options.Environment["DOTNET_NOLOGO"] = "1";
        options.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        using var process = TestProcess.Start(fileName, arguments, options);
        var exitCode = await process.WaitForExitAsync(fileName == TestProcess.DotnetHost ? DotnetCommandTimeout : ToolRunTimeout);
        return new Run(exitCode, string.Join('\n', process.StdoutLines), string.Join('\n', process.StderrLines));
    }
}
