using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LoopDoctor.Testing;

/// <summary>A method inlined by the JIT into another (both <c>Namespace.Type.Method</c>), at the tier the inliner was compiled.</summary>
public sealed record Inlining(string Inlinee, string Inliner);

/// <summary>What the JIT did to an application's methods while it was watched.</summary>
/// <param name="Watched">How long the watch lasted.</param>
/// <param name="Tier1">Application methods compiled at tier 1 (or fully optimized) during the watch.</param>
/// <param name="Inlinings">Application methods inlined into an optimized caller during the watch.</param>
public sealed record TieringReport(TimeSpan Watched, IReadOnlyList<string> Tier1, IReadOnlyList<Inlining> Inlinings)
{
    /// <summary>Whether <paramref name="method"/>'s code now runs optimized: compiled at tier 1 itself, or inlined into an optimized caller.</summary>
    public bool ReachedTier1(string method) => Tier1.Contains(method) || Inlinings.Any(i => i.Inlinee == method);

    /// <summary>One line for a report: how <paramref name="method"/> ended up, e.g. "inlined into dynamicClass.lambda_method12".</summary>
    public string Describe(string method)
    {
        var into = Inlinings.Where(i => i.Inlinee == method).Select(i => i.Inliner).Distinct().ToList();
        if (into.Count > 0)
        {
            return "inlined into " + string.Join(", ", into);
        }

        if (Tier1.Contains(method))
        {
            return "recompiled at tier 1 (not inlined)";
        }

        // Its type's other methods (the handler, its async state machine) show whether the code around it was recompiled.
        var type = method[..method.LastIndexOf('.')];
        var neighbours = Tier1.Where(m => m.StartsWith(type + ".", StringComparison.Ordinal) || m.StartsWith(type + "+", StringComparison.Ordinal))
            .Select(m => m[(type.Length + 1)..]).ToList();
        return "not recompiled while watched" + (neighbours.Count > 0 ? $"; at tier 1 in its type: {string.Join(", ", neighbours)}" : "");
    }
}

/// <summary>
/// Watches a running process's JIT over EventPipe (the runtime's JIT and JIT-tracing events, verbose): which methods of
/// the application were recompiled at tier 1 and which were inlined where. It is how a harness knows that a warmed-up
/// target runs the code users run, rather than assuming ten seconds were enough.
/// </summary>
public static class TieringWatch
{
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";

    /// <summary>Watches <paramref name="processId"/> for <paramref name="length"/> and reports methods of types in <paramref name="namespacePrefix"/>.</summary>
    public static async Task<TieringReport> WatchAsync(int processId, TimeSpan length, string namespacePrefix, CancellationToken cancellationToken = default)
    {
        var keywords = (long)(ClrTraceEventParser.Keywords.Jit | ClrTraceEventParser.Keywords.JitTracing);
        var client = new DiagnosticsClient(processId);
        using var session = client.StartEventPipeSession(new EventPipeProvider(RuntimeProvider, EventLevel.Verbose, keywords), requestRundown: false);
        var tier1 = new HashSet<string>(StringComparer.Ordinal);
        var inlinings = new HashSet<Inlining>();
        var reading = Task.Run(() =>
        {
            using var source = new EventPipeEventSource(session.EventStream);
            source.Clr.MethodLoadVerbose += e =>
            {
                if (e.MethodNamespace.StartsWith(namespacePrefix, StringComparison.Ordinal)
                    && e.OptimizationTier is OptimizationTier.OptimizedTier1 or OptimizationTier.Optimized or OptimizationTier.OptimizedTier1OSR)
                {
                    lock (tier1)
                    {
                        tier1.Add(e.MethodNamespace + "." + e.MethodName);
                    }
                }
            };
            source.Clr.MethodInliningSucceeded += e =>
            {
                if (e.InlineeNamespace.StartsWith(namespacePrefix, StringComparison.Ordinal))
                {
                    lock (inlinings)
                    {
                        inlinings.Add(new Inlining(e.InlineeNamespace + "." + e.InlineeName, e.InlinerNamespace + "." + e.InlinerName));
                    }
                }
            };
            source.Process();
        }, CancellationToken.None);

        try
        {
            await Task.Delay(length, cancellationToken).ConfigureAwait(false); // the watch's length, not a synchronisation
        }
        finally
        {
            await session.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await reading.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false);
        }

        lock (tier1)
        {
            lock (inlinings)
            {
                return new TieringReport(length, [.. tier1.Order(StringComparer.Ordinal)], [.. inlinings.OrderBy(i => i.Inlinee, StringComparer.Ordinal)]);
            }
        }
    }
}
