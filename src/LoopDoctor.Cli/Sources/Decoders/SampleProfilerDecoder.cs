using LoopDoctor.Cli.Signals;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.EventPipe;

namespace LoopDoctor.Cli.Sources.Decoders;

/// <summary>
/// <c>Microsoft-DotNETCore-SampleProfiler</c>: each thread's sample (managed code, or outside it: a syscall or a wait)
/// goes to the sink, which keeps runs of identical ones; the profiler's other sample types say nothing about the pool.
/// </summary>
internal static class SampleProfilerDecoder
{
    public static void Attach(TraceEventDispatcher source, ISignalSink sink)
    {
        var profiler = new SampleProfilerTraceEventParser(source);
        profiler.ThreadSample += e =>
        {
            if (e.Type is ClrThreadSampleType.Managed or ClrThreadSampleType.External)
            {
                sink.AddSample(e, e.Type == ClrThreadSampleType.Managed ? SampleKind.Managed : SampleKind.External);
            }
        };
    }
}
