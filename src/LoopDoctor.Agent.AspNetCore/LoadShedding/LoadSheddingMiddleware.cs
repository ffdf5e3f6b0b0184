using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace LoopDoctor.Agent.AspNetCore;

/// <summary>Sheds requests early, before they add to a queue that is already late; cheap on the happy path.</summary>
internal sealed class LoadSheddingMiddleware(RequestDelegate next, LoopDoctorAgentLease lease, LoadSheddingOptions options)
{
    private readonly string _retryAfter = ((int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    public Task InvokeAsync(HttpContext context)
    {
        var probability = lease.Agent.GetShedProbability();
        if (probability > 0 && !IsExempt(context.Request.Path) && Random.Shared.NextDouble() < probability)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers[HeaderNames.RetryAfter] = _retryAfter;
            return Task.CompletedTask;
        }

        return next(context);
    }

    private bool IsExempt(PathString path)
    {
        foreach (var exempt in options.ExemptPaths)
        {
            if (path.StartsWithSegments(exempt, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
