using LoopDoctor.Cli.Sources;
using Microsoft.Diagnostics.NETCore.Client;

namespace LoopDoctor.Cli.Tests.Integration;

/// <summary>
/// Records a .nettrace of a running process as dotnet-trace does with docs/cli.md's recipe: loopdoctor's providers, with the
/// DiagnosticSource bridge added for endpoint names (a live session reads it in bursts), rundown at the end names the methods.
/// </summary>
internal static class TraceRecorder
{
    public static async Task RecordAsync(int processId, string path, TimeSpan length, bool sampleStacks = true)
    {
        var client = new DiagnosticsClient(processId);
        using var session = client.StartEventPipeSession([.. SessionProviders.Create(TimeSpan.FromSeconds(1), sampleStacks), SessionProviders.RequestMarkers()], requestRundown: true);
        await using var file = File.Create(path);
        var copy = session.EventStream.CopyToAsync(file);
        await Task.Delay(length); // the recording's length, not a synchronisation
        await session.StopAsync(CancellationToken.None);
        await copy.WaitAsync(TimeSpan.FromSeconds(60));
    }
}
