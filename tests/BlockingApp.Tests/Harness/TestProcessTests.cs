using System.Diagnostics;
using LoopDoctor.Testing;

namespace BlockingApp.Tests.Harness;

/// <summary>The harness itself, against real processes (/bin/sh): signals, timeouts with output, tree kill.</summary>
public class TestProcessTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task WaitsForLinesAlreadyPrintedAndYetToCome()
    {
        using var process = TestProcess.Start("/bin/sh", ["-c", "echo first; echo err >&2; read line; echo \"second $line\""]);
        var first = await process.WaitForLineAsync("^first$", Generous);
        Assert.Equal("first", first.Value);
        await process.WaitForLineAsync("^err$", Generous, OutputStream.Stderr);
        Assert.True(TestProcess.IsRunning(process.Pid)); // blocked in `read`: stdin is redirected and still open
        process.Kill();
        Assert.NotEqual(0, await process.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task TimeoutFailureCarriesTheCapturedOutput()
    {
        using var process = TestProcess.Start("/bin/sh", ["-c", "echo hello-from-child; echo oops >&2; exec sleep 30"]);
        await process.WaitForLineAsync("hello", Generous);
        await process.WaitForLineAsync("oops", Generous, OutputStream.Stderr);
        var error = await Assert.ThrowsAsync<TestProcessException>(() => process.WaitForLineAsync("never", TimeSpan.FromMilliseconds(200)));
        Assert.Contains("/never/", error.Message);
        Assert.Contains("hello-from-child", error.Message);
        Assert.Contains("oops", error.Message);
        var exitError = await Assert.ThrowsAsync<TestProcessException>(() => process.WaitForExitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Contains("did not exit", exitError.Message);
    }

    [Fact]
    public async Task FailsFastWhenTheStreamClosesBeforeAMatch()
    {
        using var process = TestProcess.Start("/bin/sh", ["-c", "echo only-line; exit 3"]);
        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TestProcessException>(() => process.WaitForLineAsync("never", TimeSpan.FromSeconds(60)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), "waited for the timeout although the stream had closed");
        Assert.Contains("only-line", error.Message);
        Assert.Equal(3, await process.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task DisposeKillsTheWholeTreeItStarted()
    {
        var process = TestProcess.Start("/bin/sh", ["-c", "sleep 60 & echo child=$!; wait"]);
        int childPid;
        try
        {
            var child = await process.WaitForLineAsync(@"^child=(\d+)$", Generous);
            childPid = int.Parse(child.Groups[1].Value);
            Assert.True(TestProcess.IsRunning(childPid));
        }
        finally
        {
            process.Dispose();
        }

        Assert.False(TestProcess.IsRunning(process.Pid));
        // The grandchild is reparented when killed; give the kernel a bounded moment to reap it.
        var deadline = Stopwatch.StartNew();
        while (TestProcess.IsRunning(childPid) && deadline.Elapsed < Generous)
        {
            await Task.Delay(20);
        }

        Assert.False(TestProcess.IsRunning(childPid), $"child {childPid} of the killed tree is still running");
    }

    [Fact]
    public async Task BoundedBufferKeepsTheLatestLines()
    {
        using var process = TestProcess.Start("/bin/sh", ["-c", "i=0; while [ $i -lt 50 ]; do echo line$i; i=$((i+1)); done"],
            new TestProcessOptions { MaxCapturedLines = 10 });
        Assert.Equal(0, await process.WaitForExitAsync(Generous));
        Assert.Equal(Enumerable.Range(40, 10).Select(i => $"line{i}"), process.StdoutLines);
        Assert.Contains("first 40 dropped", process.DescribeOutput());
    }

    [Fact]
    public void RepoPathsFindTheSolutionAndTheBuiltSample()
    {
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, RepoPaths.SolutionFileName)));
        Assert.Equal("net10.0", RepoPaths.TargetFramework);
        Assert.EndsWith(Path.Combine("samples", "BlockingApp", "bin", RepoPaths.Configuration, "net10.0", "BlockingApp.dll"), RepoPaths.BlockingAppDll);
        var missing = Assert.Throws<FileNotFoundException>(() => RepoPaths.BuiltAssembly("samples/Nope", "Nope"));
        Assert.Contains("dotnet build samples/Nope -c " + RepoPaths.Configuration, missing.Message);
    }
}
