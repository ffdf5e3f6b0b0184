using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace LoopDoctor.Agent.Hosting;

/// <summary>
/// The agent's side of the startup hook. <c>LoopDoctor.StartupHook.dll</c> (the hook the runtime calls, built to load on
/// any runtime) checks the runtime version, loads this assembly and calls <see cref="Initialize"/> by reflection.
/// </summary>
internal static class StartupHookRunner
{
    private static int _entered;

    /// <summary>
    /// Never throws: it runs inside the runtime's startup-hook call, where an escaping exception aborts the host. The real
    /// work sits behind a non-inlined call, so a type that fails to load while it is compiled is caught here too.
    /// </summary>
    /// <param name="hookAssembly">The hook assembly that called (its name tells launch-time hooks from injection).</param>
    internal static void Initialize(Assembly hookAssembly)
    {
        try
        {
            if (!TryEnter())
            {
                return; // applied twice: the first call already did (or is doing) the work
            }

            Run(hookAssembly);
        }
        catch (Exception error)
        {
            ReportFailure(error);
        }
    }

    /// <summary>The agent this hook started (kept here too so it is obviously rooted for the process lifetime).</summary>
    internal static LoopDoctorAgent? Agent { get; private set; }

    internal static bool TryEnter() => Interlocked.Exchange(ref _entered, 1) == 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Run(Assembly hookAssembly)
    {
        if (LoopDoctorAgent.Current is not null)
        {
            return; // an agent already runs (embedded by the app, or an earlier hook): one agent per process
        }

        var environment = Environment.GetEnvironmentVariables();
        var options = new LoopDoctorOptions { Mode = ModeFor(environment, hookAssembly) };
        var settings = EnvironmentSettings.Apply(environment, options);
        if (settings.Errors.Count > 0)
        {
            Report("not started: " + string.Join("; ", settings.Errors));
            return;
        }

        if (!settings.Enabled)
        {
            return;
        }

        if (settings.Warnings.Count > 0)
        {
            Report(string.Join("; ", settings.Warnings));
        }

        try
        {
            Agent = LoopDoctorAgent.Start(options);
        }
        catch (LoopDoctorConfigurationException error)
        {
            var variable = EnvironmentSettings.VariableFor(error.OptionName);
            Report("not started: " + (variable is null ? error.Message : $"{variable}: {error.Message}"));
        }
        catch (InvalidOperationException) when (LoopDoctorAgent.Current is not null)
        {
            // Lost a race with the app starting its own agent: that agent serves.
        }
    }

    /// <summary>
    /// <see cref="AgentMode.StartupHook"/> when <c>DOTNET_STARTUP_HOOKS</c> names the hook assembly (by path or by
    /// simple name, the two forms the host accepts), otherwise <see cref="AgentMode.Injected"/>: the hook was applied
    /// to a running process over the diagnostics port.
    /// </summary>
    internal static AgentMode ModeFor(IDictionary environment, Assembly hookAssembly)
    {
        if (environment["DOTNET_STARTUP_HOOKS"] is not string hooks || hooks.Length == 0)
        {
            return AgentMode.Injected;
        }

        var simpleName = hookAssembly.GetName().Name ?? string.Empty;
        var fileName = simpleName + ".dll";
        foreach (var entry in hooks.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (entry.Equals(simpleName, StringComparison.OrdinalIgnoreCase) ||
                Path.GetFileName(entry).Equals(fileName, StringComparison.OrdinalIgnoreCase))
            {
                return AgentMode.StartupHook;
            }
        }

        return AgentMode.Injected;
    }

    internal static void ReportFailure(Exception error)
    {
        try
        {
            Report($"not started: {error.GetType().Name}: {error.Message}");
        }
        catch (Exception)
        {
            // stderr may be closed; nothing else is safe to do inside a startup hook
        }
    }

    /// <summary>One line on stderr (same prefix as AgentLog), never a stack trace.</summary>
    private static void Report(string text)
        => Console.Error.WriteLine(ReportPrefix + text.ReplaceLineEndings(" "));

    internal const string ReportPrefix = "loopdoctor-agent: ";
}
