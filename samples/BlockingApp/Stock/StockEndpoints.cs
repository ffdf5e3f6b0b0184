using System.Diagnostics;
using BlockingApp.Scenarios;

namespace BlockingApp.Stock;

/// <summary>
/// Minimal-API handlers for stock levels: <c>/api/stock/{sku}</c> calls <see cref="StockClient"/>'s synchronous wrapper
/// from a synchronous lambda (sync over async, one call away from the <c>.Result</c>); <c>/api/v2/stock/{sku}</c> is the
/// same handler made async, which awaits the client.
/// </summary>
public static class StockEndpoints
{
    public static IEndpointRouteBuilder MapStockEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/stock/{sku}", (string sku, StockClient stock) =>
        {
            var started = Stopwatch.GetTimestamp();
            var level = stock.GetStockLevel(sku);
            return ScenarioResponse.Ok("sync-wrapper", false, started, $"sku={sku} stock={level}");
        });

        app.MapGet("/api/v2/stock/{sku}", async (string sku, StockClient stock, CancellationToken cancellationToken) =>
        {
            var started = Stopwatch.GetTimestamp();
            var level = await stock.GetStockLevelAsync(sku, cancellationToken);
            return ScenarioResponse.Ok("sync-wrapper", true, started, $"sku={sku} stock={level}");
        });

        return app;
    }
}
