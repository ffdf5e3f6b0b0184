using System.Globalization;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>CPU time from /proc (utime + stime): what a process or some of its threads really spent, immune to how
/// noisy the machine's throughput is.</summary>
internal static class ProcStat
{
    private static readonly double TickSeconds = 1.0 / 100;   // USER_HZ is 100 on Linux

    /// <summary>CPU seconds the whole process used so far.</summary>
    public static double ProcessCpuSeconds(int pid) => Parse(File.ReadAllText($"/proc/{pid}/stat"));

    /// <summary>CPU seconds used by the process's threads whose name starts with <paramref name="prefix"/> (Linux keeps 15 characters).</summary>
    public static double ThreadsCpuSeconds(int pid, string prefix)
    {
        double total = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).Trim().StartsWith(prefix, StringComparison.Ordinal))
                {
                    total += Parse(File.ReadAllText(Path.Combine(task, "stat")));
                }
            }
            catch (IOException)
            {
                // The thread ended between listing and reading.
            }
        }

        return total;
    }

    /// <summary>CPU seconds per thread name (threads of one name summed; names truncated by Linux to 15 characters).</summary>
    public static Dictionary<string, double> CpuSecondsByThreadName(int pid)
    {
        var byName = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                byName[name] = byName.GetValueOrDefault(name) + Parse(File.ReadAllText(Path.Combine(task, "stat")));
            }
            catch (IOException)
            {
            }
        }

        return byName;
    }

    /// <summary><paramref name="after"/> − <paramref name="before"/> per thread name (threads that ended in between are lost).</summary>
    public static Dictionary<string, double> Delta(Dictionary<string, double> before, Dictionary<string, double> after) =>
        after.ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key), StringComparer.Ordinal);

    private static double Parse(string stat)
    {
        // Fields after the command name (which may contain spaces) close with ')': state is [0], utime [11], stime [12].
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * TickSeconds;
    }
}
