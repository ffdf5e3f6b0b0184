namespace LoopDoctor.Agent.AspNetCore;

/// <summary>Settings for <c>UseLoopDoctorLoadShedding</c>.</summary>
public sealed class LoadSheddingOptions
{
    /// <summary>Request path prefixes never shed, so operators can still see what is wrong. Default: /metrics, /health.</summary>
    public IList<string> ExemptPaths { get; } = ["/metrics", "/health"];

    /// <summary>The <c>Retry-After</c> value sent with 503. Default 1 s.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    internal void Validate()
    {
        if (RetryAfter < TimeSpan.FromSeconds(1) || RetryAfter > TimeSpan.FromHours(1))
        {
            throw new LoopDoctorConfigurationException(nameof(RetryAfter), $"LoopDoctor load shedding option {nameof(RetryAfter)} = {RetryAfter} must be between 1 s and 1 h.");
        }
    }
}
