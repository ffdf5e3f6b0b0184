namespace LoopDoctor.Agent.Diagnostics;

/// <summary>
/// Where the agent reports its own trouble (a port in use, a failed scrape): one line, never an exception into the host.
/// Lines go to the <c>LoopDoctor-Agent</c> EventSource and, when <c>LOOPDOCTOR_LOG=stderr</c>, to stderr.
/// </summary>
internal static class AgentLog
{
    private static readonly bool ToStderr =
        string.Equals(Environment.GetEnvironmentVariable("LOOPDOCTOR_LOG"), "stderr", StringComparison.OrdinalIgnoreCase);

    public static void Write(string message)
    {
        try
        {
            LoopDoctorEventSource.Log.AgentMessage(message);
            if (ToStderr)
            {
                Console.Error.WriteLine("loopdoctor-agent: " + message);
            }
        }
        catch
        {
            // Diagnostics about diagnostics must never fail the host.
        }
    }
}
