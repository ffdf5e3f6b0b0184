using System.Diagnostics.Tracing;
using LoopDoctor.Agent.Diagnostics;
using LoopDoctor.Agent.RuntimeSignals;
using LoopDoctor.Agent.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LoopDoctor.Agent.Tests.RuntimeSignals;

/// <summary>
/// The agent's EndpointMatched event against a real Kestrel app: the route pattern and display name ASP.NET Core gives
/// its endpoints, bound by name. Fails loudly when ASP.NET Core renames GetEndpoint, DisplayName or RoutePattern.RawText.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class AspNetCoreEndpointMarkerTests
{
    [Fact]
    public void The_endpoint_api_is_found_by_name_in_this_aspnetcore()
    {
        Assert.NotNull(AspNetCoreEndpointMarker.Bind(typeof(DefaultHttpContext)));
    }

    [Fact]
    public async Task A_matched_minimal_api_endpoint_is_written_with_its_route_pattern_and_display_name()
    {
        using var marker = AspNetCoreEndpointMarker.Start();
        using var listener = new EndpointListener();
        await using var app = await LocalWebApp.StartAsync(_ => { }, web =>
            web.MapGet("/orders/{id}", (int id) => $"order {id}"));

        Assert.Equal("order 7", await app.Client.GetStringAsync("/orders/7"));

        var written = await listener.Received.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("/orders/{id}", written.Route);
        Assert.Equal("HTTP: GET /orders/{id}", written.Name);
    }

    [Fact]
    public async Task Nothing_is_written_while_no_attacher_listens()
    {
        using var marker = AspNetCoreEndpointMarker.Start();
        using var lifecycleOnly = new EndpointListener(LoopDoctorEventSource.Keywords.Lifecycle);
        await using var app = await LocalWebApp.StartAsync(_ => { }, web => web.MapGet("/ping", () => "pong"));

        Assert.Equal("pong", await app.Client.GetStringAsync("/ping"));
        Assert.False(lifecycleOnly.Received.Task.IsCompleted);
    }

    private sealed class EndpointListener(EventKeywords keywords = LoopDoctorEventSource.Keywords.Requests) : EventListener
    {
        public TaskCompletionSource<(string Route, string Name)> Received { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == LoopDoctorEventSource.SourceName)
            {
                EnableEvents(eventSource, EventLevel.Informational, keywords);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventId == (int)AgentEventId.EndpointMatched && e.Payload is [string route, string name])
            {
                Received.TrySetResult((route, name));
            }
        }
    }
}
