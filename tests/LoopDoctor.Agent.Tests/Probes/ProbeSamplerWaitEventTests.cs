using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Runtime.InteropServices;
using LoopDoctor.Agent.Probes;
using LoopDoctor.Agent.RuntimeSignals;

namespace LoopDoctor.Agent.Tests.Probes;

/// <summary>
/// The sampler ticks 100 times a second by default. Waiting between ticks on a handle made the runtime report each pause
/// as a WaitHandleWaitStart/Stop pair: 200 events a second of the agent's own making, read by its own listener and by
/// any attached tool. Linux only: the sampler's OS thread is found by its name in /proc.
/// </summary>
public sealed class ProbeSamplerWaitEventTests
{
    [Fact]
    public void The_sampler_pauses_between_ticks_without_a_wait_the_runtime_reports()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var listener = new WaitStartListener();
        using var sampler = new ProbeSampler(TimeSpan.FromMilliseconds(5));
        var probe = sampler.AddSynchronizationContextProbe(new InlineSynchronizationContext(), "inline");
        sampler.Start();
        Assert.True(Poll.Until(() => probe.GetCumulativeSnapshot().Count >= 3, TimeSpan.FromSeconds(10)), "sampler did not tick");
        var samplerThreads = ThreadIdsNamed(ProbeSampler.ThreadName[..15]);  // the kernel keeps 15 characters of a name
        Assert.NotEmpty(samplerThreads);

        // The control: a handle wait on this thread is reported, so the listener hears what it should.
        using (var handle = new ManualResetEvent(false))
        {
            handle.WaitOne(1);
        }

        var self = (ulong)gettid();
        Assert.True(Poll.Until(() => listener.Threads.ContainsKey(self), TimeSpan.FromSeconds(10)), "the listener heard no WaitHandleWaitStart at all");

        long ticksBefore = sampler.TickCount;
        Assert.True(Poll.Until(() => sampler.TickCount >= ticksBefore + 40, TimeSpan.FromSeconds(10)), "sampler stopped ticking");
        var reported = samplerThreads.Where(listener.Threads.ContainsKey).ToList();
        Assert.True(reported.Count == 0, $"sampler thread(s) {string.Join(", ", reported)} reported {reported.Sum(t => listener.Threads[t])} wait(s) over {sampler.TickCount - ticksBefore} ticks");
    }

    private static List<ulong> ThreadIdsNamed(string name) =>
        Directory.GetDirectories("/proc/self/task")
            .Where(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == name)
            .Select(task => ulong.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    [DllImport("libc", SetLastError = false)]
    private static extern int gettid();

    private sealed class WaitStartListener : EventListener
    {
        public ConcurrentDictionary<ulong, int> Threads { get; } = new();

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == RuntimeKeywords.ProviderName)
            {
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)RuntimeKeywords.WaitHandle);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventId == RuntimeKeywords.WaitHandleWaitStartId)
            {
                Threads.AddOrUpdate((ulong)eventData.OSThreadId, 1, (_, n) => n + 1);
            }
        }
    }
}
