using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using BlockingApp.Scenarios;
using LoopDoctor.Agent;

namespace BlockingApp.Cli;

internal enum AppMode
{
    /// <summary>Serve the endpoints until Ctrl+C / SIGTERM (or <c>--duration</c>).</summary>
    Serve,
    /// <summary><c>--scenario X</c>: serve and drive this server's own endpoint.</summary>
    ServeAndDrive,
    /// <summary><c>load --url U --scenario X</c>: drive another instance.</summary>
    Drive,
}

/// <summary>The parsed command line. <see cref="AppArgumentsParser"/> documents the syntax.</summary>
internal sealed record AppArguments
{
    public const double DefaultRps = 50;
    public const double MaxRps = 5000;

    public AppMode Mode { get; init; }
    public bool ShowHelp { get; init; }

    /// <summary>Where the server listens (Serve, ServeAndDrive): always a loopback IP address; port 0 = ephemeral.</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>Base address of the instance to drive (Drive).</summary>
    public Uri? TargetUrl { get; init; }

    public ScenarioInfo? Scenario { get; init; }
    public bool Fixed { get; init; }
    public double RequestsPerSecond { get; init; } = DefaultRps;

    /// <summary>How long to run; null = until Ctrl+C / SIGTERM.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>How long outstanding requests may still complete after the last send before they count as unfinished.</summary>
    public TimeSpan Drain { get; init; } = DefaultDrain;

    public static readonly TimeSpan DefaultDrain = TimeSpan.FromSeconds(10);

    /// <summary>The longest --duration or --drain: more than any demo needs, and keeps the schedule's arithmetic safe.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    public bool NoAgent { get; init; }
    public bool LoadShedding { get; init; }

    /// <summary>The agent's standalone metrics endpoint (its own thread, answers while the pool is starved), or null.</summary>
    public string? MetricsUrl { get; init; }
}

/// <summary>A bad command line: the message is shown as one line and the process exits with <see cref="ExitCodes.Usage"/>.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The command line, on System.CommandLine (like the <c>loopdoctor</c> CLI): <c>--name value</c>, <c>--name=value</c> and
/// <c>--name:value</c>, the <c>load</c> command, <c>--help</c>/<c>-h</c>/<c>-?</c>. Every error is one precise line
/// (<c>--rps must be a number greater than 0 and at most 5000 (got 'abc')</c>): the first of them becomes a
/// <see cref="UsageException"/>. Help prints <see cref="Usage.Text"/> (the modes and exit codes), not a generated page.
/// </summary>
internal static class AppArgumentsParser
{
    // No response files (@file), no bundling of short options: the syntax stays what Usage.Text says.
    private static readonly ParserConfiguration Configuration = new() { EnablePosixBundling = false, ResponseFileTokenReplacer = null };

    public static AppArguments Parse(IReadOnlyList<string> args)
    {
        var cli = new AppCommandLine();
        var result = cli.Root.Parse(args, Configuration);
        if (result.GetResult(cli.Help) is not null)
        {
            return new AppArguments { ShowHelp = true };
        }

        if ((TokenError(args, result, cli) ?? result.Errors.FirstOrDefault()?.Message) is { } error)
        {
            throw new UsageException(error);
        }

        return cli.Bind(result);
    }

    /// <summary>What System.CommandLine leaves to us (unmatched tokens are not its errors here): a word it could not place.</summary>
    private static string? TokenError(IReadOnlyList<string> args, ParseResult result, AppCommandLine cli)
    {
        var tokens = result.Tokens;
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            // Flags have arity zero, so the word after one is left over: "--fixed=yes", "--fixed yes".
            if (tokens[i].Type == TokenType.Option && cli.IsFlag(tokens[i].Value) && tokens[i + 1].Type == TokenType.Argument)
            {
                return $"{tokens[i].Value} takes no value (got '{tokens[i + 1].Value}')";
            }
        }

        if (result.CommandResult.Command == cli.Load && (args.Count == 0 || args[0] != cli.Load.Name))
        {
            return $"unexpected argument '{cli.Load.Name}' (the only command is 'load', and it comes first)";
        }

        return result.UnmatchedTokens.FirstOrDefault() is not { } unmatched ? null
            : unmatched.StartsWith('-') ? $"unknown option '{unmatched}'"
            : $"unexpected argument '{unmatched}' (the only command is 'load', and it comes first)";
    }

    /// <summary>The symbols, fresh per parse. Every option is the root's and recursive: <c>load</c> sees them all, and <see cref="Bind"/> says which mode takes which.</summary>
    private sealed class AppCommandLine
    {
        public readonly HelpOption Help = new();
        // The addresses are read in Bind, after the modes' rules, as ever: "load --urls x" applies to the server first.
        public readonly Option<string> Urls = Value("--urls", text => text);
        public readonly Option<bool> NoAgent = Flag("--no-agent");
        public readonly Option<bool> LoadShedding = Flag("--load-shedding");
        public readonly Option<string> MetricsUrl = Value("--metrics-url", text => text);
        public readonly Option<string> Url = Value("--url", text => text);
        public readonly Option<ScenarioInfo> Scenario = Value("--scenario", ParseScenario);
        public readonly Option<bool> Fixed = Flag("--fixed");
        public readonly Option<double> Rps = Value("--rps", ParseRps, _ => AppArguments.DefaultRps);
        public readonly Option<TimeSpan?> Duration = Value<TimeSpan?>("--duration", text => ParseDuration("--duration", text));
        public readonly Option<TimeSpan> Drain = Value("--drain", text => ParseDuration("--drain", text), _ => AppArguments.DefaultDrain);
        public readonly Command Load = new("load", "Drive another instance.") { TreatUnmatchedTokensAsErrors = false };
        public readonly Command Root;

        private readonly Option[] _flags;

        public AppCommandLine()
        {
            _flags = [NoAgent, LoadShedding, Fixed];
            Root = new Command("BlockingApp", "Reproduces async anti-patterns on demand.") { TreatUnmatchedTokensAsErrors = false };
            // In the order their errors are reported when there are several.
            foreach (var option in new Option[] { Help, Scenario, Rps, Duration, Drain, Fixed, Url, Urls, NoAgent, LoadShedding, MetricsUrl })
            {
                option.Recursive = true;
                Root.Options.Add(option);
            }

            Root.Subcommands.Add(Load);

            // Program runs the modes from the AppArguments it gets back; an action only tells System.CommandLine that the
            // root runs without a command (else "Required command was not provided").
            Root.SetAction(_ => ExitCodes.Ok);
            Load.SetAction(_ => ExitCodes.Ok);
        }

        public bool IsFlag(string name) => Array.Exists(_flags, f => f.Name == name);

        /// <summary>The modes' rules: which options each takes, and what each needs.</summary>
        public AppArguments Bind(ParseResult result)
        {
            bool Given(Option option) => result.GetResult(option) is { Implicit: false };

            var scenario = result.GetValue(Scenario);
            if (result.CommandResult.Command == Load)
            {
                foreach (var serverOnly in new Option[] { Urls, NoAgent, LoadShedding, MetricsUrl })
                {
                    if (Given(serverOnly))
                    {
                        throw new UsageException($"{serverOnly.Name} applies to the server, not to 'load'");
                    }
                }

                if (result.GetValue(Url) is not { } url)
                {
                    throw new UsageException("'load' needs --url (the base address of a running BlockingApp, e.g. http://127.0.0.1:5000)");
                }

                if (scenario is null)
                {
                    throw new UsageException("'load' needs --scenario (one of: " + string.Join(", ", ScenarioCatalog.Names) + ")");
                }

                return new AppArguments
                {
                    Mode = AppMode.Drive,
                    TargetUrl = ParseTargetUrl(url),
                    Scenario = scenario,
                    Fixed = Given(Fixed),
                    RequestsPerSecond = result.GetValue(Rps),
                    Duration = result.GetValue(Duration),
                    Drain = result.GetValue(Drain),
                };
            }

            if (Given(Url))
            {
                throw new UsageException("--url belongs to 'load'; the server listens on --urls");
            }

            if (scenario is null)
            {
                foreach (var driverOnly in new Option[] { Rps, Fixed, Drain })
                {
                    if (Given(driverOnly))
                    {
                        throw new UsageException($"{driverOnly.Name} needs --scenario");
                    }
                }
            }

            if (Given(LoadShedding) && Given(NoAgent))
            {
                throw new UsageException("--load-shedding needs the agent; drop --no-agent");
            }

            string? metricsUrl = null;
            if (result.GetValue(MetricsUrl) is { } metricsText)
            {
                if (Given(NoAgent))
                {
                    throw new UsageException("--metrics-url needs the agent; drop --no-agent");
                }

                metricsUrl = ParseMetricsUrl(metricsText);
            }

            return new AppArguments
            {
                Mode = scenario is null ? AppMode.Serve : AppMode.ServeAndDrive,
                Listen = result.GetValue(Urls) is { } urls ? ParseListenUrl(urls) : new IPEndPoint(IPAddress.Loopback, 0),
                Scenario = scenario,
                Fixed = Given(Fixed),
                RequestsPerSecond = result.GetValue(Rps),
                Duration = result.GetValue(Duration),
                Drain = result.GetValue(Drain),
                NoAgent = Given(NoAgent),
                LoadShedding = Given(LoadShedding),
                MetricsUrl = metricsUrl,
            };
        }

        /// <summary>An option that takes no value; given twice is an error.</summary>
        private static Option<bool> Flag(string name)
        {
            var option = new Option<bool>(name) { Arity = ArgumentArity.Zero };
            option.Validators.Add(r =>
            {
                if (r.IdentifierTokenCount > 1)
                {
                    r.AddError($"{name} is given twice");
                }
            });
            return option;
        }

        /// <summary>
        /// An option with one value, read by <paramref name="parse"/> (which throws <see cref="UsageException"/>). The arity
        /// is open so that a missing or repeated value gets our line, not System.CommandLine's.
        /// </summary>
        private static Option<T> Value<T>(string name, Func<string, T> parse, Func<ArgumentResult, T>? defaultValue = null)
        {
            var option = new Option<T>(name)
            {
                Arity = ArgumentArity.ZeroOrMore,
                AllowMultipleArgumentsPerToken = false, // "--scenario a b": b is left over, not a second value
                CustomParser = r =>
                {
                    try
                    {
                        return parse(r.Tokens[0].Value);
                    }
                    catch (UsageException e)
                    {
                        r.AddError(e.Message);
                        return default;
                    }
                },
            };
            if (defaultValue is not null)
            {
                option.DefaultValueFactory = defaultValue;
            }

            // Validators run before the value is parsed, and only for an option that was given.
            option.Validators.Add(r =>
            {
                if (r.Implicit)
                {
                    return;
                }

                if (r.IdentifierTokenCount > 1)
                {
                    r.AddError($"{name} is given twice");
                }
                else if (r.Tokens.Count == 0)
                {
                    r.AddError($"{name} needs a value");
                }
            });
            return option;
        }
    }

    private static ScenarioInfo ParseScenario(string text) =>
        ScenarioCatalog.Find(text)
        ?? throw new UsageException($"unknown scenario '{text}' (one of: {string.Join(", ", ScenarioCatalog.Names)})");

    private static double ParseRps(string text)
    {
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rps)
            || rps <= 0 || rps > AppArguments.MaxRps)
        {
            throw new UsageException($"--rps must be a number greater than 0 and at most {AppArguments.MaxRps} (got '{text}')");
        }

        return rps;
    }

    /// <summary>LoopDoctor's one duration grammar (<see cref="DurationParser"/>), then this app's range: more than 0, at most a week.</summary>
    private static TimeSpan ParseDuration(string option, string text) =>
        DurationParser.TryParse(text, out var duration) && duration > TimeSpan.Zero && duration <= AppArguments.MaxDuration
            ? duration
            : throw new UsageException($"{option} must be a positive duration of at most 7 days, such as {DurationParser.Examples} (got '{text}')");

    /// <summary>
    /// The server binds only to loopback: it is a deliberately broken app with a /gc endpoint.
    /// <c>localhost</c> means 127.0.0.1 (Kestrel cannot bind port 0 on the name <c>localhost</c>).
    /// </summary>
    private static IPEndPoint ParseListenUrl(string text)
    {
        if (text.Contains(';'))
        {
            throw new UsageException($"--urls takes one address (got '{text}')");
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
            || uri.PathAndQuery != "/" || !string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new UsageException($"--urls must be an http:// address such as http://127.0.0.1:0 (got '{text}')");
        }

        IPAddress address;
        if (uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(uri.IdnHost, out address!) || !IPAddress.IsLoopback(address))
        {
            throw new UsageException($"--urls must be a loopback address (127.0.0.1, [::1] or localhost) (got '{text}')");
        }

        return new IPEndPoint(address, uri.Port);
    }

    /// <summary>Loopback only, like --urls; the agent validates the rest (and reports a taken port without failing the app).</summary>
    private static string ParseMetricsUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
            || !(uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)))
        {
            throw new UsageException($"--metrics-url must be a loopback http:// URL such as http://127.0.0.1:0/metrics (got '{text}')");
        }

        return text;
    }

    private static Uri ParseTargetUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new UsageException($"--url must be an http:// or https:// base address such as http://127.0.0.1:5000 (got '{text}')");
        }

        // A base address: the scenario's path is appended to it.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }
}
