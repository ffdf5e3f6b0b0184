using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Launch;
using System.CommandLine;
using System.CommandLine.Parsing;
using LoopDoctor.Agent;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Snapshots;

namespace LoopDoctor.Cli.CommandLine;

/// <summary>Options several commands share, built fresh per command (System.CommandLine symbols have one parent).</summary>
internal static class CommonOptions
{
    public static Option<int?> ProcessId() => new("--process-id", "-p")
    {
        Description = "The id of the .NET process to attach to (see 'loopdoctor ps').",
    };

    public static Option<string?> ProcessName() => new("--name", "-n")
    {
        Description = "The name of the .NET process to attach to (its executable, or app.dll's name for 'dotnet app.dll').",
    };

    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description + " Accepts 500ms, 10s, 2m or 00:00:10.",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => ParseDuration(r) ?? TimeSpan.Zero,
    };

    public static Option<ReportFormat> Format() => new("--format", "-f")
    {
        Description = "Report format: text, json (one object on stdout), markdown, or html (one self-contained page with timeline charts: use with --output).",
        DefaultValueFactory = _ => ReportFormat.Text,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "text";
            if (Enum.TryParse<ReportFormat>(text, ignoreCase: true, out var format) && !int.TryParse(text, out _))
            {
                return format;
            }

            result.AddError($"Unknown format '{text}': use text, json, markdown or html.");
            return ReportFormat.Text;
        },
    };

    public static Option<string?> Output() => new("--output", "-o")
    {
        Description = "Write the report to this file instead of stdout.",
    };

    public static Option<bool> NoInject() => new("--no-inject")
    {
        Description = "Do not load the LoopDoctor agent into a target that runs without it (no queue delay, no unobserved task exceptions then).",
    };

    public static Option<bool> CollectGarbage() => new("--collect-garbage")
    {
        Description = "One second before the end, induce one full blocking garbage collection in the target so that unobserved task " +
                      "exceptions of faulted, dropped tasks surface within the session (needs the agent). Pauses the target: see README, 'What LoopDoctor does to a process'.",
    };

    /// <summary>run and check: how long a launched program may take to connect.</summary>
    public static Option<TimeSpan> ConnectTimeoutOption() =>
        Duration("--connect-timeout", "How long the program may take to connect to loopdoctor's diagnostics port (its runtime does so before Main) before it is judged not .NET " +
                                                    "and stopped. Not applied to 'dotnet run', which builds first.", LaunchedChild.DefaultConnectTimeout);

    /// <summary>
    /// The snapshot options (diagnose, check -p, monitor -p), added to <paramref name="command"/> with their validator;
    /// <paramref name="when"/> says when the command takes a snapshot by itself.
    /// </summary>
    public static SnapshotOptions Snapshot(Command command, string when)
    {
        var options = new SnapshotOptions(
            new Option<bool>("--snapshot")
            {
                Description = "Take a snapshot of the target (a heap dump read with ClrMD, deleted afterwards) at the end, to name deadlocks, their locks and " +
                              "the threads behind them, even when they formed before the session. " + when + " " +
                              "Pauses the target while the dump is written; the dump holds the process's memory (secrets too).",
            },
            new Option<bool>("--no-snapshot") { Description = "Never take a snapshot, even when threads are stuck." },
            new Option<bool>("--keep-dump") { Description = "Keep the snapshot's dump (in a private temp folder, mode 0700) and print its path." },
            Duration("--hung-after", "A thread in the same wait this long, with no deadlock to explain it, is a hung wait.", TimeSpan.FromSeconds(10)));
        command.Options.Add(options.Take);
        command.Options.Add(options.Never);
        command.Options.Add(options.KeepDump);
        command.Options.Add(options.HungAfter);
        command.Validators.Add(result =>
        {
            if (result.GetValue(options.Take) && result.GetValue(options.Never))
            {
                result.AddError("Use at most one of --snapshot and --no-snapshot.");
            }
        });
        return options;
    }

    /// <summary>Everything after <c>--</c>: the program and its arguments.</summary>
    public static Argument<string[]> CommandArgument() => new("command")
    {
        Description = "The program to run and its arguments, after '--'.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static Option<TimeSpan?> OptionalDuration(string name, string description) => new(name)
    {
        Description = description + " Accepts 500ms, 10s, 2m or 00:00:10.",
        CustomParser = r => ParseDuration(r),
    };

    public static readonly string[] GateableKinds =
    [
        FindingKinds.BlockingWait, FindingKinds.ThreadPoolStarvation, FindingKinds.LongCallback, FindingKinds.LockContention,
        FindingKinds.UnobservedTaskException, FindingKinds.HighLag, FindingKinds.GcPause, FindingKinds.Deadlock, FindingKinds.HungWait,
    ];

    public static Option<string[]> FailOnOption(string description) => new("--fail-on")
    {
        Description = description + ": comma-separated, of " + string.Join(", ", GateableKinds) + ".",
        CustomParser = r =>
        {
            var kinds = r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToArray();
            foreach (var kind in kinds.Where(k => !GateableKinds.Contains(k)))
            {
                r.AddError($"Unknown finding kind '{kind}' in --fail-on: use {string.Join(", ", GateableKinds)}.");
            }

            return kinds;
        },
    };

    /// <summary>Exactly one of --process-id and --name.</summary>
    public static void RequireOneTarget(Command command, Option<int?> processId, Option<string?> name)
    {
        command.Validators.Add(result =>
        {
            var hasPid = result.GetResult(processId) is not null;
            var hasName = result.GetResult(name) is not null;
            if (hasPid == hasName)
            {
                result.AddError("Specify the target with exactly one of --process-id (-p) or --name (-n).");
            }
        });
    }

    /// <summary>The longest duration any option takes.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>
    /// An option's duration: LoopDoctor's one grammar (<see cref="DurationParser"/>: <c>500ms</c>, <c>10s</c>, <c>2m</c>,
    /// <c>00:00:10</c>, never a bare number), then the CLI's range: more than zero (or zero, when
    /// <paramref name="allowZero"/>) and at most <see cref="MaxDuration"/>. Otherwise null, with one error line on
    /// <paramref name="result"/>; <paramref name="hint"/> ends it.
    /// </summary>
    public static TimeSpan? ParseDuration(ArgumentResult result, bool allowZero = false, string hint = "")
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!DurationParser.TryParse(text, out var duration))
        {
            result.AddError($"Invalid duration '{text}': use e.g. {DurationParser.Examples}{hint}.");
            return null;
        }

        if ((duration == TimeSpan.Zero && !allowZero) || duration > MaxDuration)
        {
            result.AddError($"Invalid duration '{text}': must be {(allowZero ? "at least 0" : "more than 0")} and at most 1 day{hint}.");
            return null;
        }

        return duration;
    }
}

/// <summary>--snapshot, --no-snapshot, --keep-dump and --hung-after as a command binds them (<see cref="CommonOptions.Snapshot"/>).</summary>
internal sealed record SnapshotOptions(Option<bool> Take, Option<bool> Never, Option<bool> KeepDump, Option<TimeSpan> HungAfter)
{
    public SnapshotMode Mode(ParseResult result) =>
        result.GetValue(Take) ? SnapshotMode.Always : result.GetValue(Never) ? SnapshotMode.Never : SnapshotMode.Auto;

    /// <summary>Whether the command line gave any of the snapshot options themselves (--hung-after aside).</summary>
    public bool Given(CommandResult result) =>
        result.GetResult(Take) is not null || result.GetResult(Never) is not null || result.GetResult(KeepDump) is not null;
}
