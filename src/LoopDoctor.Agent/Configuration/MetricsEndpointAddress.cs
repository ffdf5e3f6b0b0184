using System.Net;

namespace LoopDoctor.Agent;

/// <summary>A parsed, validated <c>http://host:port/path</c> for the standalone metrics endpoint.</summary>
internal sealed record MetricsEndpointAddress(string Host, int Port, string Path, bool IsLoopback)
{
    public static MetricsEndpointAddress Parse(string url, bool allowNonLoopback, string optionName)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            throw new LoopDoctorConfigurationException(optionName,
                $"LoopDoctor option {optionName} = '{url}' must be an absolute http:// URL such as http://127.0.0.1:9464/metrics.");
        }

        if (uri.Port is < 0 or > 65535)
        {
            throw new LoopDoctorConfigurationException(optionName,
                $"LoopDoctor option {optionName} = '{url}' has an invalid port.");
        }

        var host = uri.Host;
        var isLoopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.IdnHost, out var ip) && IPAddress.IsLoopback(ip));
        if (!isLoopback && !allowNonLoopback)
        {
            throw new LoopDoctorConfigurationException(optionName,
                $"LoopDoctor option {optionName} = '{url}' binds to a non-loopback host; set AllowNonLoopbackBinding = true (LOOPDOCTOR_ALLOW_NON_LOOPBACK=true) to expose metrics beyond this machine.");
        }

        var path = uri.AbsolutePath.Length == 0 ? "/metrics" : uri.AbsolutePath;
        return new MetricsEndpointAddress(host, uri.Port, path, isLoopback);
    }
}
