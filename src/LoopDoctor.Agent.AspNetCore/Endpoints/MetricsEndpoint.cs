using LoopDoctor.Agent.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Microsoft.AspNetCore.Builder;

internal static class MetricsEndpoint
{
    public static async Task HandleAsync(HttpContext context)
    {
        var agent = context.RequestServices.GetRequiredService<LoopDoctorAgentLease>().Agent;
        var scrape = await agent.ScrapeMetricsAsync(context.Request.Headers.Accept.ToString(), context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = scrape.StatusCode;
        context.Response.ContentType = scrape.ContentType;
        context.Response.Headers[HeaderNames.CacheControl] = "no-store";
        context.Response.ContentLength = scrape.Body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(scrape.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
