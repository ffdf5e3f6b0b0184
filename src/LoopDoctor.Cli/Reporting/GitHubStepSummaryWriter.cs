using System.Text;
using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Reporting;

/// <summary>Appends check's Markdown verdict to <c>$GITHUB_STEP_SUMMARY</c> when set, so the job's summary page shows it.</summary>
internal static class GitHubStepSummaryWriter
{
    public const string Variable = "GITHUB_STEP_SUMMARY";

    public static void Append(CheckResult result, TextWriter log)
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path)
        {
            Append(result, path, log);
        }
    }

    // Appended, never overwritten: earlier steps of the job write their own summaries to the same file.
    public static void Append(CheckResult result, string path, TextWriter log)
    {
        try
        {
            using var file = new StreamWriter(path, append: true, new UTF8Encoding(false));
            CheckMarkdownWriter.Write(result, file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            log.WriteLine($"loopdoctor: cannot append to ${Variable} ({path}): {ex.Message}");
        }
    }
}
