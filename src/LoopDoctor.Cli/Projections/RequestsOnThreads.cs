using LoopDoctor.Cli.Signals;

namespace LoopDoctor.Cli.Projections;

/// <summary>
/// ASP.NET Core's request markers per thread (<see cref="RequestMarker"/>), so a wait or a long work item whose stack
/// proves it runs inside a request (<see cref="RequestScope"/>) is named by the endpoint: the latest marker of the proven
/// kind on the same thread, no later than the stack. A few markers per thread are kept: events of one session can arrive
/// slightly out of order across its buffers, and a stack can be older than the thread's newest marker.
/// </summary>
internal sealed class RequestsOnThreads : IProjection, IRequestLookup
{
    private const int MarkersPerThread = 8;

    // Two markers of one kind closer than this on one thread describe the same request.
    private const double SameDecisionMs = 1;

    private readonly Dictionary<int, List<RequestMarker>> _byThread = [];

    // The endpoint last handed out per marker, so every sample of one request shares it (one per request, not per sample).
    private readonly Dictionary<int, (RequestMarker Marker, RequestEndpoint Endpoint)> _lastEndpoint = [];

    /// <summary>Whether any request marker arrived: without one, an endpoint can only be named from stacks.</summary>
    public bool MarkersSeen { get; private set; }

    public void Observe(Signal signal)
    {
        if (signal is not RequestMarker marker)
        {
            return;
        }

        MarkersSeen = true;
        if (!_byThread.TryGetValue(marker.ThreadId, out var markers))
        {
            _byThread[marker.ThreadId] = markers = new List<RequestMarker>(MarkersPerThread);
        }

        if (markers.Count == MarkersPerThread)
        {
            markers.RemoveAt(0);
        }

        // The agent's marker (route pattern, display name) and the bridge's (method, path) for one routing decision arrive
        // within microseconds of each other on the same thread: one marker with both.
        // (Only one with a path and one without: two requests in a row on one thread never merge.)
        if (markers.Count > 0 && markers[^1] is var last && last.Kind == marker.Kind && (last.Path is null) != (marker.Path is null)
            && Math.Abs(last.TimestampMs - marker.TimestampMs) < SameDecisionMs)
        {
            markers[^1] = last with
            {
                TimestampMs = Math.Min(last.TimestampMs, marker.TimestampMs),
                Method = last.Method ?? marker.Method,
                Path = last.Path ?? marker.Path,
                Action = last.Action ?? marker.Action,
                Route = last.Route ?? marker.Route,
            };
            return;
        }

        // Kept in time order: insert behind the newest that is not later.
        var at = markers.Count;
        while (at > 0 && markers[at - 1].TimestampMs > marker.TimestampMs)
        {
            at--;
        }

        markers.Insert(at, marker);
    }

    public RequestEndpoint? EndpointAt(int threadId, double timestampMs, RequestScope scope)
    {
        if (scope == RequestScope.None || !_byThread.TryGetValue(threadId, out var markers))
        {
            return null;
        }

        var wanted = scope == RequestScope.MvcAction ? RequestMarkerKind.BeforeAction : RequestMarkerKind.EndpointMatched;
        for (var i = markers.Count - 1; i >= 0; i--)
        {
            var m = markers[i];
            if (m.Kind == wanted && m.TimestampMs <= timestampMs)
            {
                // MVC's marker carries the action; routing's, written just before on the same thread, has the same path.
                if (_lastEndpoint.TryGetValue(threadId, out var last) && ReferenceEquals(last.Marker, m))
                {
                    return last.Endpoint;
                }

                var endpoint = new RequestEndpoint(m.Method, m.Path, m.Action, m.Route) { StartedMs = m.TimestampMs };
                _lastEndpoint[threadId] = (m, endpoint);
                return endpoint;
            }
        }

        return null;
    }
}
