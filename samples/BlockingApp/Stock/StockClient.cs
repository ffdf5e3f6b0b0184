using BlockingApp.Scenarios;

namespace BlockingApp.Stock;

/// <summary>
/// A typed HTTP client for the stock levels held by the inventory service (<see cref="InventoryService"/>, another
/// process in spirit, 100 ms away), written the way many codebases grow one: an async method, and beside it a
/// synchronous convenience wrapper for callers that "are not async". The wrapper is sync over async.
/// </summary>
public sealed class StockClient(InventoryService inventory)
{
    public async Task<int> GetStockLevelAsync(string sku, CancellationToken cancellationToken = default)
    {
        var snapshot = await inventory.Http.GetByteArrayAsync(inventory.InventoryUri, cancellationToken);
        return snapshot[sku.Sum(c => c) % snapshot.Length]; // one byte of the snapshot stands for the SKU's stock
    }

    public int GetStockLevel(string sku) => GetStockLevelAsync(sku).Result;
}
