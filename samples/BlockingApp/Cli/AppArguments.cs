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
/// Hand-written parser: the syntax is small, and every error must be one precise line
/// (<c>--rps must be a number between 0 and 5000 (got 'abc')</c>). Accepts <c>--name value</c> and <c>--name=value</c>.
/// </summary>
internal static class AppArgumentsParser
{
    private static readonly string[] ValueOptions = ["--urls", "--url", "--scenario", "--rps", "--duration", "--drain", "--metrics-url"];
    private static readonly string[] FlagOptions = ["--fixed", "--no-agent", "--load-shedding", "--help"];

    public static AppArguments Parse(IReadOnlyList<string> args)
    {
        var index = 0;
        var mode = AppMode.Serve;
        if (args.Count > 0 && args[0] == "load")
        {
            mode = AppMode.Drive;
            index = 1;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        for (; index < args.Count; index++)
        {
            var token = args[index];
            if (token is "-h" or "-?" or "--help")
            {
                return new AppArguments { ShowHelp = true };
            }

            string name;
            string? inlineValue = null;
            var equals = token.IndexOf('=');
            if (token.StartsWith("--", StringComparison.Ordinal) && equals > 2)
            {
                name = token[..equals];
                inlineValue = token[(equals + 1)..];
            }
            else
            {
                name = token;
            }

            if (Array.IndexOf(FlagOptions, name) >= 0)
            {
                if (inlineValue is not null)
                {
                    throw new UsageException($"{name} takes no value (got '{token}')");
                }

                if (!flags.Add(name))
                {
                    throw new UsageException($"{name} is given twice");
                }

                continue;
            }

            if (Array.IndexOf(ValueOptions, name) < 0)
            {
                throw new UsageException(token.StartsWith('-')
                    ? $"unknown option '{token}'"
                    : $"unexpected argument '{token}' (the only command is 'load', and it comes first)");
            }

            var value = inlineValue;
            if (value is null)
            {
                if (index + 1 >= args.Count || args[index + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UsageException($"{name} needs a value");
                }

                value = args[++index];
            }

            if (!values.TryAdd(name, value))
            {
                throw new UsageException($"{name} is given twice");
            }
        }

        var scenario = values.TryGetValue("--scenario", out var scenarioName) ? ParseScenario(scenarioName) : null;
        var rps = values.TryGetValue("--rps", out var rpsText) ? ParseRps(rpsText) : AppArguments.DefaultRps;
        TimeSpan? duration = values.TryGetValue("--duration", out var durationText) ? ParseDuration("--duration", durationText) : null;
        var drain = values.TryGetValue("--drain", out var drainText) ? ParseDuration("--drain", drainText) : AppArguments.DefaultDrain;

        if (mode == AppMode.Drive)
        {
            foreach (var serverOnly in new[] { "--urls", "--no-agent", "--load-shedding", "--metrics-url" })
            {
                if (values.ContainsKey(serverOnly) || flags.Contains(serverOnly))
                {
                    throw new UsageException($"{serverOnly} applies to the server, not to 'load'");
                }
            }

            if (!values.TryGetValue("--url", out var urlText))
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
                TargetUrl = ParseTargetUrl(urlText),
                Scenario = scenario,
                Fixed = flags.Contains("--fixed"),
                RequestsPerSecond = rps,
                Duration = duration,
                Drain = drain,
            };
        }

        if (values.ContainsKey("--url"))
        {
            throw new UsageException("--url belongs to 'load'; the server listens on --urls");
        }

        if (scenario is null)
        {
            foreach (var driverOnly in new[] { "--rps", "--fixed", "--drain" })
            {
                if (values.ContainsKey(driverOnly) || flags.Contains(driverOnly))
                {
                    throw new UsageException($"{driverOnly} needs --scenario");
                }
            }
        }

        if (flags.Contains("--load-shedding") && flags.Contains("--no-agent"))
        {
            throw new UsageException("--load-shedding needs the agent; drop --no-agent");
        }

        string? metricsUrl = null;
        if (values.TryGetValue("--metrics-url", out var metricsText))
        {
            if (flags.Contains("--no-agent"))
            {
                throw new UsageException("--metrics-url needs the agent; drop --no-agent");
            }

            metricsUrl = ParseMetricsUrl(metricsText);
        }

        return new AppArguments
        {
            Mode = scenario is null ? AppMode.Serve : AppMode.ServeAndDrive,
            Listen = values.TryGetValue("--urls", out var listenText) ? ParseListenUrl(listenText) : new IPEndPoint(IPAddress.Loopback, 0),
            Scenario = scenario,
            Fixed = flags.Contains("--fixed"),
            RequestsPerSecond = rps,
            Duration = duration,
            Drain = drain,
            NoAgent = flags.Contains("--no-agent"),
            LoadShedding = flags.Contains("--load-shedding"),
            MetricsUrl = metricsUrl,
        };
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
