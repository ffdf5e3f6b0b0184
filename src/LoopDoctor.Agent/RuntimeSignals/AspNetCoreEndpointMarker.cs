using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Linq.Expressions;
using System.Reflection;
using LoopDoctor.Agent.Diagnostics;

namespace LoopDoctor.Agent.RuntimeSignals;

/// <summary>
/// Writes <c>LoopDoctor-Agent/EndpointMatched</c> on a request's thread when ASP.NET Core's routing picks its endpoint,
/// with the endpoint's route pattern and display name: the attacher names a wait in an inlined minimal API handler by
/// them (the runtime's DiagnosticSource bridge cannot: routing's event carries only the HttpContext). Only while an
/// attacher enables <see cref="LoopDoctorEventSource.Keywords.Requests"/>; otherwise ASP.NET Core's per-request check of
/// this subscription is one keyword test. The agent references no ASP.NET Core assembly, so the public
/// <c>HttpContext.GetEndpoint()</c>, <c>Endpoint.DisplayName</c> and <c>RouteEndpoint.RoutePattern.RawText</c> are
/// bound by name, once, into one compiled delegate (this file is the only place that does):
/// <c>AspNetCoreEndpointMarkerTests</c> fails if ASP.NET Core renames them.
/// </summary>
internal sealed class AspNetCoreEndpointMarker : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    internal const string ListenerName = "Microsoft.AspNetCore";
    internal const string EndpointMatchedEvent = "Microsoft.AspNetCore.Routing.EndpointMatched";

    private readonly IDisposable _allListeners;
    private readonly Lock _lock = new();
    private readonly List<IDisposable> _subscriptions = [];
    private Func<object, (string? Route, string? Name)>? _read;
    private bool _unreadable;
    private bool _disposed;

    private AspNetCoreEndpointMarker() => _allListeners = DiagnosticListener.AllListeners.Subscribe(this);

    public static AspNetCoreEndpointMarker Start() => new();

    private static bool Listening => LoopDoctorEventSource.Log.IsEnabled(EventLevel.Informational, LoopDoctorEventSource.Keywords.Requests);

    public void OnNext(DiagnosticListener listener)
    {
        if (listener.Name != ListenerName)
        {
            return;
        }

        lock (_lock)
        {
            if (!_disposed)
            {
                _subscriptions.Add(listener.Subscribe(this, name => name == EndpointMatchedEvent && Listening));
            }
        }
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        // Runs on the request's thread: never throws into it.
        try
        {
            if (value.Key != EndpointMatchedEvent || value.Value is not { } httpContext || _unreadable || !Listening)
            {
                return;
            }

            var read = _read ??= Bind(httpContext.GetType());
            if (read is null)
            {
                _unreadable = true;
                AgentLog.Write("ASP.NET Core's endpoint API was not found by name: endpoints are named from the request path only.");
                return;
            }

            var (route, name) = read(httpContext);
            LoopDoctorEventSource.Log.EndpointMatched(route ?? "", name ?? "");
        }
        catch (Exception)
        {
            _unreadable = true;
        }
    }

    /// <summary>Binds <c>ctx => (ctx.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText, ctx.GetEndpoint()?.DisplayName</c>; null when a name is missing.</summary>
    internal static Func<object, (string? Route, string? Name)>? Bind(Type httpContextType)
    {
        var httpContext = BaseNamed(httpContextType, "Microsoft.AspNetCore.Http.HttpContext");
        var getEndpoint = httpContext?.Assembly.GetType("Microsoft.AspNetCore.Http.EndpointHttpContextExtensions")
            ?.GetMethod("GetEndpoint", BindingFlags.Public | BindingFlags.Static, [httpContext]);
        var endpointType = getEndpoint?.ReturnType;
        var displayName = endpointType?.GetProperty("DisplayName");
        var routeEndpoint = Type.GetType("Microsoft.AspNetCore.Routing.RouteEndpoint, Microsoft.AspNetCore.Routing");
        var rawText = routeEndpoint?.GetProperty("RoutePattern")?.PropertyType.GetProperty("RawText");
        if (httpContext is null || getEndpoint is null || endpointType is null || displayName is null || routeEndpoint is null || rawText is null)
        {
            return null;
        }

        var context = Expression.Parameter(typeof(object), "context");
        var endpoint = Expression.Variable(endpointType, "endpoint");
        var asRoute = Expression.Variable(routeEndpoint, "route");
        var noString = Expression.Constant(null, typeof(string));
        var body = Expression.Block(
            [endpoint, asRoute],
            Expression.Assign(endpoint, Expression.Call(getEndpoint, Expression.Convert(context, httpContext))),
            Expression.Assign(asRoute, Expression.TypeAs(endpoint, routeEndpoint)),
            Expression.New(
                typeof((string?, string?)).GetConstructor([typeof(string), typeof(string)])!,
                Expression.Condition(Expression.Equal(asRoute, Expression.Constant(null, routeEndpoint)), noString,
                    Expression.Property(Expression.Property(asRoute, "RoutePattern"), rawText)),
                Expression.Condition(Expression.Equal(endpoint, Expression.Constant(null, endpointType)), noString,
                    Expression.Property(endpoint, displayName))));
        return Expression.Lambda<Func<object, (string?, string?)>>(body, context).Compile();
    }

    private static Type? BaseNamed(Type? type, string fullName)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.FullName == fullName)
            {
                return type;
            }
        }

        return null;
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _allListeners.Dispose();
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }

            _subscriptions.Clear();
        }
    }
}
