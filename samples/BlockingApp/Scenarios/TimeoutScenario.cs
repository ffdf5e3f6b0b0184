using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/timeout</c>: "no timeout on I/O". The quote dependency hangs for 2 s and the culprit awaits it with no timeout
/// (and without the request's cancellation token), so every request takes 2 s. Nothing blocks a thread: the pool stays
/// healthy and LoopDoctor's thread-pool signals stay quiet; the load summary's p99 is what shows it. The twin bounds the
/// call at 250 ms with <c>CancellationTokenSource.CancelAfter</c> (linked to the request) and answers a fallback quote.
/// </summary>
public static class TimeoutScenario
{
    internal static readonly TimeSpan DependencyHang = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan QuoteTimeout = TimeSpan.FromMilliseconds(250);

    public static async Task<IResult> HandleAsync(CancellationToken requestAborted, [FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var quote = isFixed ? await GetQuoteWithTimeoutAsync(requestAborted) : await GetQuoteWithoutTimeoutAsync();
        return ScenarioResponse.Ok("timeout", isFixed, started, $"quote={quote.Price} source={quote.Source}");
    }

    /// <summary>The culprit: awaits a slow dependency with no timeout and no cancellation.</summary>
    public static async Task<Quote> GetQuoteWithoutTimeoutAsync() => await QuoteDependency.GetQuoteAsync(CancellationToken.None);

    /// <summary>The fix: a deadline, and a fallback when it passes.</summary>
    public static async Task<Quote> GetQuoteWithTimeoutAsync(CancellationToken requestAborted)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        deadline.CancelAfter(QuoteTimeout);
        try
        {
            return await QuoteDependency.GetQuoteAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!requestAborted.IsCancellationRequested)
        {
            return Quote.Fallback;
        }
    }
}

public sealed record Quote(decimal Price, string Source)
{
    public static Quote Fallback { get; } = new(41.50m, "fallback");
}

/// <summary>The hanging dependency: answers after <see cref="TimeoutScenario.DependencyHang"/>, or honours cancellation.</summary>
public static class QuoteDependency
{
    public static async Task<Quote> GetQuoteAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(TimeoutScenario.DependencyHang, cancellationToken);
        return new Quote(42.00m, "live");
    }
}
