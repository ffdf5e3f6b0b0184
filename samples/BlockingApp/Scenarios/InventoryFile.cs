namespace BlockingApp.Scenarios;

/// <summary>
/// A real 64 KiB file the I/O scenarios read (<c>/healthy</c> directly, <c>/sync-io</c> through the inventory
/// service endpoint), created at startup in the temp directory and deleted on shutdown.
/// </summary>
public sealed class InventoryFile : IDisposable
{
    public const int Size = 64 * 1024;
    public const int ChunkSize = 8 * 1024;

    public InventoryFile()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"blockingapp-{Environment.ProcessId}-{Guid.NewGuid():N}.inventory");
        var content = new byte[Size];
        for (var i = 0; i < content.Length; i++)
        {
            content[i] = (byte)(i * 31 % 251);
        }

        File.WriteAllBytes(Path, content);
    }

    public string Path { get; }

    public FileStream OpenRead() =>
        new(Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous);

    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Best effort: a temp file left behind is harmless.
        }
    }
}
