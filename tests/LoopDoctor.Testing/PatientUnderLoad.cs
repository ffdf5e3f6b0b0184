using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;

namespace LoopDoctor.Testing;

/// <summary>
/// samples/BlockingApp serving one scenario under its own open-loop load (<c>--scenario NAME --rps N</c>, until
/// disposed), on an ephemeral loopback port. Attach to it at once (attach at start), or after
/// <see cref="WarmUpAsync"/>: the target has served load for a while and its code was recompiled at tier 1, as in a
/// service that has been running, which is where the JIT inlines small methods away.
/// </summary>
public sealed partial class PatientUnderLoad : IAsyncDisposable
{
    /// <summary>The shortest warm-up that counts as "after warm-up" (issue 12: at least ten seconds of load).</summary>
    public static readonly TimeSpan MinimumWarmUp = TimeSpan.FromSeconds(10);

    private PatientUnderLoad(TestProcess process, bool builtOptimized)
    {
        Process = process;
        BuiltOptimized = builtOptimized;
    }

    public TestProcess Process { get; }

    /// <summary>
    /// Whether the BlockingApp build lets the JIT optimize (Release). A Debug build disables optimization: its methods
    /// never reach tier 1 and are never inlined, so a warm-up means something only on a Release build (what ./test.sh runs).
    /// </summary>
    public bool BuiltOptimized { get; }

    public int Pid => Process.Pid;

    /// <summary>What the JIT did during <see cref="WarmUpAsync"/>; null before it (or when attached at start).</summary>
    public TieringReport? Tiering { get; private set; }

    /// <param name="embeddedAgent">Keep BlockingApp's own agent; by default it runs with <c>--no-agent</c>, as a service LoopDoctor attaches to without a code change.</param>
    /// <param name="app">
    /// Another build of BlockingApp; default the one built beside the running tests. A <c>.dll</c> runs with
    /// <c>dotnet</c>; anything else is a published executable (e.g. self-contained for .NET 8), started as is.
    /// </param>
    public static async Task<PatientUnderLoad> StartAsync(string scenario, int requestsPerSecond, bool embeddedAgent = false, string? app = null)
    {
        string[] args = ["--scenario", scenario, "--rps", requestsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture), .. embeddedAgent ? Array.Empty<string>() : ["--no-agent"]];
        app ??= RepoPaths.BlockingAppDll;
        var isDll = app.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var process = isDll ? TestProcess.StartDotnet(app, args) : TestProcess.Start(app, args);
        try
        {
            await process.WaitForLineAsync(ReadyLine(), TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return new PatientUnderLoad(process, IsBuiltOptimized(isDll ? app : Path.ChangeExtension(app, ".dll")));
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Lets the load run for <paramref name="length"/> (at least <see cref="MinimumWarmUp"/>) while watching the JIT recompile BlockingApp's methods.</summary>
    public async Task<TieringReport> WarmUpAsync(TimeSpan? length = null, CancellationToken cancellationToken = default)
    {
        var watch = length is { } l && l > MinimumWarmUp ? l : MinimumWarmUp;
        Tiering = await TieringWatch.WatchAsync(Pid, watch, "BlockingApp.", cancellationToken).ConfigureAwait(false);
        if (Process.HasExited)
        {
            throw new TestProcessException($"BlockingApp exited during its warm-up: {Process.DescribeOutput()}");
        }

        return Tiering;
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>Reads the assembly's <c>[Debuggable]</c> attribute: optimized unless it says <c>DisableOptimizations</c>.</summary>
    public static bool IsBuiltOptimized(string dll)
    {
        const int DisableOptimizations = 0x100; // DebuggableAttribute.DebuggingModes.DisableOptimizations
        using var pe = new PEReader(File.OpenRead(dll));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = metadata.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference)
            {
                continue;
            }

            var constructor = metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            if (constructor.Parent.Kind == HandleKind.TypeReference
                && metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)constructor.Parent).Name) == "DebuggableAttribute")
            {
                var value = metadata.GetBlobReader(attribute.Value);
                value.ReadUInt16(); // prolog
                return value.Length - value.Offset >= 4 && (value.ReadInt32() & DisableOptimizations) == 0;
            }
        }

        return true;
    }

    [GeneratedRegex(@"^ready url=\S+ pid=\d+")]
    private static partial Regex ReadyLine();
}
