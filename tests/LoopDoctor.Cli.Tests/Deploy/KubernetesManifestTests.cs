using System.CommandLine;
using LoopDoctor.Cli.CommandLine;
using LoopDoctor.Cli.Commands;
using LoopDoctor.Testing;
using YamlDotNet.RepresentationModel;

namespace LoopDoctor.Cli.Tests.Deploy;

/// <summary>
/// deploy/kubernetes/*.yaml against the CLI: the loopdoctor container's arguments parse as a real <c>monitor</c> command
/// line, and the socket path, environment variable, ports, probe, scrape configuration and user agree with them.
/// No cluster here: FleetMonitorTests (EndToEnd) is the simulation of what these manifests set up.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static List<YamlMappingNode> Documents(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(RepoPaths.Combine(Path.Combine("deploy", "kubernetes", file))))
        {
            stream.Load(reader);
        }

        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            var mapping = Assert.IsType<YamlMappingNode>(node);
            Assert.True(mapping.Children.TryGetValue(new YamlScalarNode(key), out var child), $"missing '{key}' in {string.Join(".", path)}");
            node = child!;
        }

        return node;
    }

    private static string Text(YamlNode node, params string[] path) => Assert.IsType<YamlScalarNode>(At(node, path)).Value!;

    private static IEnumerable<YamlMappingNode> Items(YamlNode node, params string[] path) => Assert.IsType<YamlSequenceNode>(At(node, path)).Cast<YamlMappingNode>();

    private static bool Has(YamlNode node, string key) => node is YamlMappingNode m && m.Children.ContainsKey(new YamlScalarNode(key));

    /// <summary>The monitor options the container's arguments give, parsed by the CLI's own parser; no parse error.</summary>
    private static (ParseResult Parse, Command Monitor) ParseArguments(YamlMappingNode container)
    {
        var args = Assert.IsType<YamlSequenceNode>(At(container, "args")).Select(n => Assert.IsType<YamlScalarNode>(n).Value!).ToArray();
        Assert.Equal("monitor", args[0]);
        var root = LoopDoctorCommandLine.Create(new CliConsole(TextWriter.Null, TextWriter.Null, false));
        var parse = root.Parse(args);
        Assert.True(parse.Errors.Count == 0, $"{string.Join(' ', args)}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        return (parse, root.Subcommands.Single(c => c.Name == "monitor"));
    }

    private static T Value<T>(ParseResult parse, Command monitor, string option) => parse.GetValue(monitor.Options.OfType<Option<T>>().Single(o => o.Name == option))!;

    private static void AssertServesMetricsOn(YamlMappingNode pod, YamlMappingNode podMetadata, YamlMappingNode container, int port)
    {
        var metricsPort = Items(container, "ports").Single(p => Text(p, "name") == "metrics");
        Assert.Equal(port.ToString(), Text(metricsPort, "containerPort"));
        Assert.Equal("metrics", Text(container, "readinessProbe", "httpGet", "port"));
        Assert.Equal("/metrics", Text(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("true", Text(podMetadata, "annotations", "prometheus.io/scrape"));
        Assert.Equal(port.ToString(), Text(podMetadata, "annotations", "prometheus.io/port"));
        Assert.Equal("/metrics", Text(podMetadata, "annotations", "prometheus.io/path"));
        foreach (var kind in new[] { "requests", "limits" })
        {
            Assert.True(Has(At(container, "resources"), kind), $"loopdoctor container without resources.{kind}");
        }

        Assert.Equal("true", Text(pod, "securityContext", "runAsNonRoot"));
        Assert.NotEqual("0", Text(pod, "securityContext", "runAsUser"));
    }

    [Fact]
    public void The_sidecar_example_agrees_with_the_CLI_on_socket_env_var_ports_probe_and_user()
    {
        var documents = Documents("sidecar.yaml");
        var deployment = documents.Single(d => Text(d, "kind") == "Deployment");
        var template = At(deployment, "spec", "template");
        var pod = (YamlMappingNode)At(template, "spec");
        var containers = Items(pod, "containers").ToList();
        var loopdoctor = containers.Single(c => Text(c, "name") == "loopdoctor");
        var app = containers.Single(c => Text(c, "name") != "loopdoctor");

        var (parse, monitor) = ParseArguments(loopdoctor);
        var socket = Value<string?>(parse, monitor, "--diagnostic-port")!;
        var port = Value<int?>(parse, monitor, "--prometheus-port")!.Value;
        Assert.Equal("0.0.0.0", Value<string>(parse, monitor, "--prometheus-address")); // scraped from outside the pod

        // The app connects to exactly that socket and never waits for loopdoctor.
        var ports = Text(Items(app, "env").Single(e => Text(e, "name") == "DOTNET_DiagnosticPorts"), "value").Split(',');
        Assert.Equal(socket, ports[0]);
        Assert.Contains("nosuspend", ports.Skip(1));

        // ... on a volume both containers mount at the socket's directory.
        var socketDirectory = Path.GetDirectoryName(socket)!;
        Assert.Equal(VolumeMountedAt(app, socketDirectory), VolumeMountedAt(loopdoctor, socketDirectory));
        Assert.True(Has(Items(pod, "volumes").Single(v => Text(v, "name") == VolumeMountedAt(app, socketDirectory)), "emptyDir"), "the socket's volume is an emptyDir");

        // Sessions go to each process's default port by pid: shared process namespace and /tmp.
        Assert.Equal("true", Text(pod, "shareProcessNamespace"));
        Assert.Equal(VolumeMountedAt(app, "/tmp"), VolumeMountedAt(loopdoctor, "/tmp"));

        AssertServesMetricsOn(pod, (YamlMappingNode)At(template, "metadata"), loopdoctor, port);
        var podMonitor = documents.Single(d => Text(d, "kind") == "PodMonitor");
        Assert.Equal("metrics", Text(Items(podMonitor, "spec", "podMetricsEndpoints").Single(), "port"));
        Assert.Equal(Text(At(template, "metadata"), "labels", "app"), Text(podMonitor, "spec", "selector", "matchLabels", "app"));
    }

    private static string VolumeMountedAt(YamlMappingNode container, string path) => Text(Items(container, "volumeMounts").Single(m => Text(m, "mountPath") == path), "name");

    [Fact]
    public void The_DaemonSet_example_agrees_with_the_CLI_on_all_ports_probe_and_user()
    {
        var daemonSet = Documents("daemonset.yaml").Single(d => Text(d, "kind") == "DaemonSet");
        var template = At(daemonSet, "spec", "template");
        var pod = (YamlMappingNode)At(template, "spec");
        var loopdoctor = Items(pod, "containers").Single(c => Text(c, "name") == "loopdoctor");

        var (parse, monitor) = ParseArguments(loopdoctor);
        Assert.True(Value<bool>(parse, monitor, "--all"));
        var port = Value<int?>(parse, monitor, "--prometheus-port")!.Value;
        Assert.Equal("0.0.0.0", Value<string>(parse, monitor, "--prometheus-address"));
        Assert.Equal("true", Text(pod, "hostPID"));
        Assert.Equal("/tmp", Text(Items(loopdoctor, "volumeMounts").Single(), "mountPath")); // where runtimes put their ports

        AssertServesMetricsOn(pod, (YamlMappingNode)At(template, "metadata"), loopdoctor, port);
    }
}
