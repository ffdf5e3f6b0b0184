using System.Diagnostics.Tracing;
using LoopDoctor.Cli.Sources;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.EventPipe;

namespace LoopDoctor.Cli.Tests.Sessions;

/// <summary>Fails loudly when a TraceEvent update may have changed the internals the CLI reads (TraceEventInternals.cs).</summary>
public sealed class TraceEventInternalsTests
{
    [Fact]
    public void The_loaded_TraceEvent_is_the_one_the_internals_were_written_against()
    {
        Assert.True(TraceEventInternals.LoadedVersion == TraceEventInternals.WrittenFor,
            $"TraceEvent {TraceEventInternals.LoadedVersion} is loaded, but src/LoopDoctor.Cli/Sessions/TraceEventInternals.cs was written " +
            $"against {TraceEventInternals.WrittenFor}: re-check each internal it lists (this test's others exercise them), then bump WrittenFor.");
        Assert.Empty(TraceEventInternals.MissingMembers);
        Assert.True(TraceEventInternals.CanReadStackAddresses);
    }

    [Fact]
    public async Task Stack_addresses_are_read_from_a_recorded_events_record()
    {
        var path = Path.Combine(Path.GetTempPath(), $"loopdoctor-internals-{Guid.NewGuid():N}.nettrace");
        try
        {
            var client = new DiagnosticsClient(Environment.ProcessId);
            using (var session = client.StartEventPipeSession(new EventPipeProvider(SessionProviders.SampleProfilerProvider, EventLevel.Informational), requestRundown: false))
            {
                await using var file = File.Create(path);
                var copy = session.EventStream.CopyToAsync(file);
                await Task.Delay(TimeSpan.FromMilliseconds(500));
                await session.StopAsync(CancellationToken.None);
                await copy.WaitAsync(TimeSpan.FromSeconds(30));
            }

            int samples = 0, withStacks = 0, plausible = 0;
            using (var source = new EventPipeEventSource(path))
            {
                new SampleProfilerTraceEventParser(source).ThreadSample += e =>
                {
                    samples++;
                    var addresses = TraceEventInternals.StackAddressesOf(e);
                    if (addresses.Length > 0)
                    {
                        withStacks++;
                        plausible += addresses.Length < 1000 && !addresses.Contains(0UL) ? 1 : 0;
                    }
                };
                source.Process();
            }

            Assert.True(samples > 0, "the sample profiler sampled this process");
            Assert.True(withStacks > samples / 2, $"{withStacks} of {samples} samples had a stack read from their event record");
            Assert.Equal(withStacks, plausible);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Events_lost_are_read_from_a_live_TraceLogs_raw_source_or_reported_as_none() =>
        Assert.Equal(0, TraceEventInternals.EventsLostByRawSource(null));
}
