namespace LoopDoctor.Cli.CommandLine;

/// <summary>Where commands write: stdout for the report, stderr for everything else; replaceable in tests.</summary>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, bool IsInteractive)
{
    public static CliConsole System { get; } = new(Console.Out, Console.Error, !Console.IsOutputRedirected && !Console.IsErrorRedirected);
}
