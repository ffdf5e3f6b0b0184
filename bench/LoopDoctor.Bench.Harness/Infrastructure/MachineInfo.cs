using System.Globalization;
using System.Runtime.InteropServices;

namespace LoopDoctor.Bench.Infrastructure;

/// <summary>The machine a figure was measured on: cores, memory, CPU model, .NET, OS, load, date.</summary>
internal static class MachineInfo
{
    public static string Describe()
    {
        var cpu = ReadFirst("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memKb = ReadFirst("/proc/meminfo", "MemTotal")?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        var memory = memKb is null ? "?" : $"{long.Parse(memKb, CultureInfo.InvariantCulture) / 1024.0 / 1024.0:0.0} GiB";
        var load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
        return $"{Environment.ProcessorCount} logical cores, {memory} RAM, CPU `{cpu}`; .NET runtime {RuntimeInformation.FrameworkDescription.Replace(".NET ", "")} " +
               $"(SDK {Sdk()}), {RuntimeInformation.OSDescription}; load average at start {load}";
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static string? ReadFirst(string file, string key)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }

        return null;
    }

    private static string Sdk()
    {
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true });
            var v = p!.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return v;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }
}
