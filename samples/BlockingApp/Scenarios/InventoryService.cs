namespace BlockingApp.Scenarios;

/// <summary>
/// The slow dependency of <c>/sync-io</c>: an "inventory service" served by this same app at
/// <see cref="Path"/>. It is written correctly (async): 100 ms of awaited latency, then the 64 KiB file streamed
/// asynchronously. Its client lives in <see cref="InventoryServiceClient"/>.
/// </summary>
public static class InventoryService
{
    public const string Path = "/dependency/inventory";
    internal static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(100);

    public static async Task ServeInventoryAsync(HttpContext context, InventoryFile inventory)
    {
        await Task.Delay(Latency, context.RequestAborted);
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = InventoryFile.Size;
        await using var file = inventory.OpenRead();
        await file.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}

/// <summary>HTTP client of the inventory service; knows this app's own bound address once the server has started.</summary>
public sealed class InventoryServiceClient : IDisposable
{
    private Uri? _inventoryUri;

    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    public Uri InventoryUri => _inventoryUri
        ?? throw new InvalidOperationException("The inventory service address is set when the server has started.");

    /// <summary>Called once by the host with the real bound address (port 0 is resolved only at start).</summary>
    public void SetServerAddress(Uri baseAddress) => _inventoryUri = new Uri(baseAddress, InventoryService.Path);

    public void Dispose() => Http.Dispose();
}
