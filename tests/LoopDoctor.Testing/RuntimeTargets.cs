using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace LoopDoctor.Testing;

/// <summary>
/// tests/TestTargets/SurvivalTarget, a small HTTP service that knows nothing of LoopDoctor, published for each .NET
/// runtime LoopDoctor must not harm: <c>net8.0</c> and <c>net9.0</c> self-contained (their runtime packs come from NuGet;
/// no .NET 8 or 9 is installed), <c>net10.0</c> framework-dependent on the installed runtime.
/// <para>
/// Published once per test run and reused across runs while the inputs are unchanged (a stamp file per framework holds a
/// hash of the project, its source and the repository's Directory.* files). Several test classes, or several test
/// processes (test projects run in parallel), may ask at once: one static <see cref="Lazy{T}"/> task per process, and a
/// named system mutex around the publishes across processes.
/// </para>
/// </summary>
public static class RuntimeTargets
{
    /// <summary>The target frameworks SurvivalTarget runs on: one process per runtime .NET users run.</summary>
    public static IReadOnlyList<string> Frameworks { get; } = ["net8.0", "net9.0", "net10.0"];

    /// <summary>
    /// SurvivalTarget trimmed (PublishTrimmed, self-contained) with startup hooks enabled: the one kind of .NET 10 app in which
    /// the runtime cannot even load a startup hook, and dies trying (docs/startup-hook.md).
    /// </summary>
    public const string TrimmedFramework = "net10.0-trimmed";

    /// <summary>Everything published: <see cref="Frameworks"/> and <see cref="TrimmedFramework"/>.</summary>
    public static IReadOnlyList<string> Published { get; } = [.. Frameworks, TrimmedFramework];

    /// <summary>The frameworks published self-contained (no shared runtime of that version on the machine).</summary>
    public static IReadOnlyList<string> SelfContainedFrameworks { get; } = ["net8.0", "net9.0", TrimmedFramework];

    public const string ProjectDirectory = "tests/TestTargets/SurvivalTarget";

    /// <summary>One publish can download a runtime pack on a cold NuGet cache; a slow mirror still fits.</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Waiting for another process's publishes (all frameworks) to finish.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(25);

    /// <summary>Start to "ready" line: a self-contained .NET 8 app on a busy 2-core machine takes well under a second.</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<Task<IReadOnlyDictionary<string, PublishResult>>> Publishes =
        new(() => Task.Factory.StartNew(PublishAll, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default),
            LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly ConcurrentDictionary<string, string> Log = new(StringComparer.Ordinal);

    /// <summary>Where the published frameworks go: <c>{project}/bin/survival/{framework}</c> (under bin/, ignored by git).</summary>
    public static string PublishRoot => Path.Combine(RepoPaths.Combine(ProjectDirectory), "bin", "survival");

    /// <summary>What the publish of <paramref name="framework"/> did in this process (published in N s, or up to date), for test output.</summary>
    public static string PublishLog(string framework) => Log.TryGetValue(framework, out var line) ? line : $"SurvivalTarget {framework}: not published yet";

    /// <summary>The published executable (apphost) for <paramref name="framework"/>; publishes first when needed.</summary>
    public static async Task<string> ExecutableAsync(string framework)
    {
        if (!Published.Contains(framework))
        {
            throw new ArgumentException($"SurvivalTarget is not published for {framework}; use one of {string.Join(", ", Published)}.", nameof(framework));
        }

        var results = await Publishes.Value.ConfigureAwait(false);
        var result = results[framework];
        return result.Executable ?? throw new InvalidOperationException($"Publishing SurvivalTarget for {framework} failed:{Environment.NewLine}{result.Error}");
    }

    /// <summary>
    /// Starts SurvivalTarget for <paramref name="framework"/> and waits (a signal, with <see cref="ReadyTimeout"/>) for its
    /// <c>ready pid=N runtime=V port=P</c> line. It exits by itself when its stdin closes or after
    /// <paramref name="lifetime"/> (default 5 min); disposing the result kills it. <paramref name="workload"/>: one of SurvivalTarget's Workloads.
    /// <paramref name="environment"/>: variables set in its environment (e.g. <c>LOOPDOCTOR_METRICS_URL</c> for an injected agent).
    /// </summary>
    public static async Task<RuntimeTarget> StartAsync(string framework, TimeSpan? lifetime = null, string? workload = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var executable = await ExecutableAsync(framework).ConfigureAwait(false);
        var options = new TestProcessOptions();
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            options.Environment[name] = value;
        }

        var process = TestProcess.Start(executable, [.. Arguments(lifetime), .. workload is null ? Array.Empty<string>() : ["--workload", workload]], options);
        try
        {
            var ready = await process.WaitForLineAsync(RuntimeTarget.ReadyLine, ReadyTimeout).ConfigureAwait(false);
            return new RuntimeTarget(process, framework, ready);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>The program's arguments: <c>--lifetime SECONDS</c>.</summary>
    public static string[] Arguments(TimeSpan? lifetime = null) =>
        ["--lifetime", (lifetime ?? TimeSpan.FromMinutes(5)).TotalSeconds.ToString("0", CultureInfo.InvariantCulture)];

    /// <summary>The major version of .NET a framework moniker names: <c>net9.0</c> → 9.</summary>
    public static int MajorVersion(string framework) =>
        int.Parse(framework["net".Length..framework.IndexOf('.', StringComparison.Ordinal)], CultureInfo.InvariantCulture);

    private sealed record PublishResult(string? Executable, string? Error);

    private static IReadOnlyDictionary<string, PublishResult> PublishAll()
    {
        var root = PublishRoot;
        Directory.CreateDirectory(root);
        // One lock per publish root (each clone or worktree has its own); held across every framework's publish, since
        // they share the project's obj/ directory.
        using var mutex = new Mutex(false, "LoopDoctor.SurvivalTarget." + Hash(root)[..16]);
        try
        {
            if (!mutex.WaitOne(LockTimeout))
            {
                var error = $"Another process held the SurvivalTarget publish lock for more than {LockTimeout.TotalMinutes} min.";
                return Published.ToDictionary(f => f, _ => new PublishResult(null, error));
            }
        }
        catch (AbandonedMutexException)
        {
            // Its holder died (a killed test run); we own it now, and the stamps tell what is complete.
        }

        try
        {
            var inputs = InputsHash();
            return Published.ToDictionary(f => f, f => PublishIfStale(f, inputs));
        }
        finally
        {
            mutex.ReleaseMutex();
        }
    }

    private static PublishResult PublishIfStale(string framework, string inputs)
    {
        var output = Path.Combine(PublishRoot, framework);
        var stamp = Path.Combine(PublishRoot, framework + ".stamp");
        var executable = Path.Combine(output, OperatingSystem.IsWindows() ? "SurvivalTarget.exe" : "SurvivalTarget");
        if (File.Exists(stamp) && File.ReadAllText(stamp) == inputs && File.Exists(executable))
        {
            Log[framework] = $"SurvivalTarget {framework}: up to date ({output})";
            return new PublishResult(executable, null);
        }

        File.Delete(stamp);
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        var tfm = framework.Split('-')[0];
        List<string> arguments =
        [
            // TargetFrameworks narrowed to the one published: restore then fetches that framework's packs only.
            "publish", RepoPaths.Combine(ProjectDirectory + "/SurvivalTarget.csproj"), "-f", tfm, $"-p:TargetFrameworks={tfm}",
            "-c", "Release", "-o", output, "-nologo", "-nodeReuse:false",
        ];
        arguments.AddRange(SelfContainedFrameworks.Contains(framework)
            ? ["-r", RuntimeIdentifier, "--self-contained"]
            : ["--no-self-contained"]);
        if (framework == TrimmedFramework)
        {
            arguments.AddRange(["-p:PublishTrimmed=true", "-p:StartupHookSupport=true", "-p:SuppressTrimAnalysisWarnings=true"]);
        }

        var stopwatch = Stopwatch.StartNew();
        var (exitCode, text) = RunDotnet(arguments, PublishTimeout);
        stopwatch.Stop();
        var commandLine = "dotnet " + string.Join(' ', arguments);
        if (exitCode != 0 || !File.Exists(executable))
        {
            Log[framework] = $"SurvivalTarget {framework}: publish FAILED after {stopwatch.Elapsed.TotalSeconds:0.0} s";
            return new PublishResult(null, $"{commandLine} exited with {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "a timeout"}:{Environment.NewLine}{text}");
        }

        File.WriteAllText(stamp, inputs);
        Log[framework] = $"SurvivalTarget {framework}: published in {stopwatch.Elapsed.TotalSeconds:0.0} s ({commandLine})";
        return new PublishResult(executable, null);
    }

    /// <summary>linux-x64, linux-arm64, osx-arm64, win-x64: the machine's portable runtime identifier.</summary>
    public static string RuntimeIdentifier
    {
        get
        {
            var os = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "osx" : "win";
            return $"{os}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
        }
    }

    /// <summary>Runs the dotnet CLI to completion; returns its exit code (null on timeout, when it is killed) and its output.</summary>
    private static (int? ExitCode, string Output) RunDotnet(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(TestProcess.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test host runs under `dotnet test`, whose MSBuild settings must not steer this separate build.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        using var process = new Process { StartInfo = info };
        var text = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (null, text.ToString());
        }

        process.WaitForExit(); // the output, to its end
        return (process.ExitCode, text.ToString());

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (text)
                {
                    text.AppendLine(line);
                }
            }
        }
    }

    /// <summary>What the published output depends on: the project, its source, the repository's MSBuild and package settings, the SDK host.</summary>
    private static string InputsHash()
    {
        var project = RepoPaths.Combine(ProjectDirectory);
        var files = Directory.EnumerateFiles(project, "*", SearchOption.TopDirectoryOnly)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal))
            .Concat(new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "NuGet.config" }
                .Select(RepoPaths.Combine).Where(File.Exists))
            .Order(StringComparer.Ordinal);
        var text = new StringBuilder().AppendLine(RuntimeInformation.FrameworkDescription).AppendLine(RuntimeIdentifier);
        foreach (var file in files)
        {
            text.AppendLine(Path.GetRelativePath(RepoPaths.Root, file)).AppendLine(Hash(File.ReadAllText(file)));
        }

        return Hash(text.ToString());
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>A running SurvivalTarget (<see cref="RuntimeTargets.StartAsync"/>): its process, runtime and HTTP port.</summary>
public sealed class RuntimeTarget : IDisposable
{
    internal static readonly Regex ReadyLine = new(@"^ready pid=(\d+) runtime=(\S+) port=(\d+)$", RegexOptions.CultureInvariant);

    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    internal RuntimeTarget(TestProcess process, string framework, Match ready)
    {
        Process = process;
        Framework = framework;
        (Pid, RuntimeVersion, Port) = Parse(ready);
    }

    public TestProcess Process { get; }

    public string Framework { get; }

    public int Pid { get; }

    /// <summary>The runtime it runs on (<c>Environment.Version</c>, e.g. 9.0.20).</summary>
    public Version RuntimeVersion { get; }

    public int Port { get; }

    /// <summary>Parses a <c>ready pid=N runtime=V port=P</c> line (also printed when a launcher such as loopdoctor run started it).</summary>
    public static (int Pid, Version Runtime, int Port) Parse(Match ready) =>
        (int.Parse(ready.Groups[1].Value, CultureInfo.InvariantCulture), Version.Parse(ready.Groups[2].Value),
         int.Parse(ready.Groups[3].Value, CultureInfo.InvariantCulture));

    /// <summary>The ready line's pattern: groups pid, runtime, port.</summary>
    public static Regex ReadyPattern => ReadyLine;

    /// <summary>GET <paramref name="path"/> on a SurvivalTarget's port: the status and body, or throws on no answer within <paramref name="timeout"/>.</summary>
    public static async Task<(int Status, string Body)> GetAsync(int port, string path, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"), cancel.Token).ConfigureAwait(false);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancel.Token).ConfigureAwait(false));
    }

    public Task<(int Status, string Body)> GetAsync(string path, TimeSpan timeout) => GetAsync(Port, path, timeout);

    /// <summary>Closes its stdin: it stops and exits 0.</summary>
    public void Stop() => Process.StandardInput.Close();

    public void Dispose() => Process.Dispose();

    public override string ToString() => $"SurvivalTarget {Framework} (runtime {RuntimeVersion}, pid {Pid}, port {Port})";
}
