using System.Diagnostics;
using System.Text.RegularExpressions;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// A real target process (tests/TestTargets/LoopDoctor.TestTarget) running one scenario under its own load.
/// Started, waited for its "ready" line with a timeout, killed on dispose.
/// </summary>
internal sealed class TargetApp : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TargetApp(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && Regex.IsMatch(e.Data, @"^ready .*pid=\d+"))
            {
                _ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException("The target exited before it was ready."));
        process.EnableRaisingEvents = true;
    }

    public int ProcessId => _process.Id;

    public static string TargetDll
    {
        get
        {
            // tests/LoopDoctor.Cli.Tests/bin/<Configuration>/net10.0 → tests/TestTargets/LoopDoctor.TestTarget/bin/<Configuration>/net10.0
            var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var tfm = dir.Name;
            var configuration = dir.Parent!.Name;
            var tests = dir.Parent.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(tests, "TestTargets", "LoopDoctor.TestTarget", "bin", configuration, tfm, "LoopDoctor.TestTarget.dll");
        }
    }

    public static Task<TargetApp> StartAsync(string scenario) => StartAsync(TargetDll, scenario);

    /// <summary>Runs <c>dotnet DLL ARGS</c> and waits for its "ready ... pid=N" line.</summary>
    public static async Task<TargetApp> StartAsync(string dll, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", [dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = info };
        var app = new TargetApp(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await app._ready.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch
        {
            app.Dispose();
            throw;
        }

        return app;
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
