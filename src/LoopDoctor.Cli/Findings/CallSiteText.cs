using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Findings;

/// <summary>
/// A call site in words. The innermost application frame when there is one; otherwise what is known instead — the MVC
/// action or endpoint served, that the JIT inlined the user's code into the framework's compiled delegate, the work
/// item's outermost frame — and, when the name cannot be known, that it cannot and why. Never a guess.
/// </summary>
internal static class CallSiteText
{
    public static string Describe(CallSite site)
    {
        var endpoint = site.Endpoint;
        if (site.Frames.Count > 0)
        {
            return endpoint is null ? site.Frames[0] : $"{site.Frames[0]} (serving {endpoint.Describe()})";
        }

        switch (site.Entry)
        {
            case CodeEntry.MvcAction when site.InlinedInto is not null:
                return endpoint?.Action is not null
                    ? $"the MVC action {endpoint.Describe()} (its code was inlined into ASP.NET Core's compiled invoker)"
                    : endpoint is not null
                        ? $"an MVC action serving {endpoint.Describe()} (its code was inlined into ASP.NET Core's compiled invoker)"
                        : $"an MVC controller action whose code was inlined into ASP.NET Core's compiled invoker ({NotNamed})";
            case CodeEntry.MinimalApiHandler when site.InlinedInto is not null:
                return endpoint is not null
                    ? $"the handler of {endpoint.Describe()} (its code was inlined into the endpoint's compiled delegate)"
                    : $"an endpoint handler whose code was inlined into the endpoint's compiled delegate ({NotNamed})";
            case CodeEntry.CompiledDelegate when site.InlinedInto is not null:
                return $"code inlined into the compiled delegate {site.InlinedInto}" + (endpoint is null ? "" : $" (serving {endpoint.Describe()})");
        }

        if (endpoint is not null)
        {
            return $"framework code serving {endpoint.Describe()} (no application frame on the stack)";
        }

        return site.WorkItem is { } workItem
            ? $"framework code in {Short(workItem)} (no application frame on the stack)"
            : "(no resolvable frame)";
    }

    /// <summary>"waiting for FindByNameAsync, which awaits Task.Delay": what a task wait blocks on, from the TPL's events.</summary>
    public static string? Awaiting(CallSite site) =>
        site.Awaits is { Count: > 0 } awaits ? "waiting for " + string.Join(", which awaits ", awaits) : null;

    // Said once, where a name is missing: the reasons LoopDoctor may not have it.
    internal const string NotNamed = "which one is not known: LoopDoctor saw no ASP.NET Core request event for it; the request started before the session, or the recording has no such events";

    // "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol.<ProcessRequests>d__237`1.MoveNext" → "HttpProtocol.<ProcessRequests>d__237`1.MoveNext".
    private static string Short(string frame) => LockTaker.ShortName(CallStack.NormalizeMethodName(frame));
}
