namespace LoopDoctor.Cli.Signals;

/// <summary>
/// The request an ASP.NET Core thread was serving: HTTP method and path from routing, and for an MVC action its
/// display name (<c>Namespace.Controller.Action (Assembly)</c>) and attribute route template.
/// </summary>
internal sealed record RequestEndpoint(string? Method, string? Path, string? Action, string? Route)
{
    /// <summary>When the request's marker was written (ms into the trace): two requests in a row on one thread differ by it.</summary>
    public double StartedMs { get; init; }

    /// <summary>"GET api/orders/{id} → Shop.OrdersController.Get (Shop)", or "GET /orders/7" when only the path is known.</summary>
    public string Describe()
    {
        var target = Route ?? Path;
        var request = string.IsNullOrEmpty(target) ? "" : string.IsNullOrEmpty(Method) ? target : $"{Method} {target}";
        return Action is null ? request : request.Length == 0 ? Action : $"{request} → {Action}";
    }

    /// <summary>What names the endpoint across requests and runs (a raw path does not: it carries ids).</summary>
    public string? StableName => Action ?? (Route is null ? null : $"{Method} {Route}".Trim());
}

/// <summary>
/// Who to blame for a wait, a lock or a long work item, as far as the stack and the request markers tell: the
/// application frames (innermost first), the framework entry that called them, the compiled delegate the user's code
/// was inlined into when no application frame is left, the endpoint served, and the work item's outermost frame.
/// </summary>
internal sealed record Attribution(IReadOnlyList<string> Frames, CodeEntry Entry = CodeEntry.None, string? InlinedInto = null, RequestEndpoint? Endpoint = null, string? WorkItem = null)
{
    public static readonly Attribution None = new([]);

    /// <summary>For a synchronous wait on a task: the operation it blocks on, then what that one awaits (TPL events).</summary>
    public IReadOnlyList<string>? Awaits { get; init; }

    /// <summary>Reads the attribution of <paramref name="stack"/>, on <paramref name="threadId"/> at <paramref name="timestampMs"/>.</summary>
    /// <remarks>Outside a request this is the stack's shared attribution (no allocation per sample).</remarks>
    public static Attribution Of(CallStack stack, int depth, IRequestLookup? requests, int threadId, double timestampMs)
    {
        var bare = stack.BareAttribution(depth);
        var endpoint = requests?.EndpointAt(threadId, timestampMs, stack.RequestScope);
        return endpoint is null ? bare : bare with { Endpoint = endpoint };
    }

    /// <summary>
    /// Groups observations of one call site within a session: the frames, or without them the compiled delegate (one per
    /// action or handler: its requests are one site whether their marker was seen or not); framework code alone is
    /// split by the stable endpoint name it served.
    /// </summary>
    public string Key => string.Join('|', Frames) + "@" + (Frames.Count > 0 ? "" : InlinedInto is not null ? $"{Entry}:{InlinedInto}" : $"{WorkItem}@{Endpoint?.StableName}");

    /// <summary>How many of the fields are known: the more telling of two attributions of one site is kept.</summary>
    public int Specificity => Frames.Count + (Entry == CodeEntry.None ? 0 : 1) + (Awaits?.Count ?? 0)
                              + (Endpoint is null ? 0 : 1 + (Endpoint.Route is null ? 0 : 1) + (Endpoint.Action is null ? 0 : 2));
}

/// <summary>Which request a thread was serving when its stack was taken.</summary>
internal interface IRequestLookup
{
    RequestEndpoint? EndpointAt(int threadId, double timestampMs, RequestScope scope);
}
