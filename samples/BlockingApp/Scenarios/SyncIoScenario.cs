using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Scenarios;

/// <summary>
/// <c>/sync-io</c>: blocking I/O in async code, the seeds' <c>requests.get()</c> inside <c>async def</c>. The request
/// fetches 64 KiB from the inventory service (<see cref="InventoryService"/>, 100 ms away) with the synchronous
/// <c>HttpClient.Send</c> and <c>Stream.CopyTo</c>: real blocking socket reads that hold a pool thread for the whole
/// call. The twin uses <c>SendAsync</c> and <c>CopyToAsync</c>.
/// </summary>
public static class SyncIoScenario
{
    public static async Task<IResult> HandleAsync(InventoryService inventory, CancellationToken requestAborted,
        [FromQuery(Name = "fixed")] bool isFixed = false)
    {
        var started = Stopwatch.GetTimestamp();
        var bytes = isFixed ? await ReadInventoryAsync(inventory, requestAborted) : ReadInventoryBlocking(inventory);
        return ScenarioResponse.Ok("sync-io", isFixed, started, $"bytes={bytes}");
    }

    /// <summary>The culprit: synchronous network I/O on a pool thread.</summary>
    public static long ReadInventoryBlocking(InventoryService inventory)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, inventory.InventoryUri);
        using var response = inventory.Http.Send(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var body = response.Content.ReadAsStream();
        var counter = new CountingStream();
        body.CopyTo(counter);
        return counter.Length;
    }

    public static async Task<long> ReadInventoryAsync(InventoryService inventory, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, inventory.InventoryUri);
        using var response = await inventory.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var counter = new CountingStream();
        await body.CopyToAsync(counter, cancellationToken);
        return counter.Length;
    }

    /// <summary>A sink that only counts bytes (the scenario is about how they are read, not where they go).</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
