using System.Globalization;
using System.Text;
using System.Xml;
using LoopDoctor.Cli.Baselines;

namespace LoopDoctor.Cli.Reporting;

/// <summary>check's <c>--junit FILE</c>: one &lt;testcase&gt; per rule, so CI test-report tools show each rule; a failed rule's &lt;failure&gt; lists call sites and advice.</summary>
internal static class JUnitWriter
{
    public static void Write(CheckResult result, string path)
    {
        var inv = CultureInfo.InvariantCulture;
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
        try
        {
            using var xml = XmlWriter.Create(path, settings);
            var failed = result.Rules.Count(r => r.Status == RuleStatus.Failed);
            var skipped = result.Rules.Count(r => r.Status == RuleStatus.Skipped);
            var time = result.Report.DurationSeconds.ToString("0.###", inv);
            xml.WriteStartElement("testsuites");
            xml.WriteAttributeString("name", "loopdoctor check");
            xml.WriteAttributeString("tests", result.Rules.Count.ToString(inv));
            xml.WriteAttributeString("failures", failed.ToString(inv));
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", $"loopdoctor check {result.Report.Target.ProcessName}");
            xml.WriteAttributeString("tests", result.Rules.Count.ToString(inv));
            xml.WriteAttributeString("failures", failed.ToString(inv));
            xml.WriteAttributeString("errors", "0");
            xml.WriteAttributeString("skipped", skipped.ToString(inv));
            xml.WriteAttributeString("time", time);
            foreach (var rule in result.Rules)
            {
                WriteTestCase(xml, rule, time);
            }

            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new LoopDoctorException(ExitCode.UsageError, $"Cannot write the JUnit file '{path}': {ex.Message}", ex);
        }
    }

    private static void WriteTestCase(XmlWriter xml, RuleResult rule, string time)
    {
        xml.WriteStartElement("testcase");
        xml.WriteAttributeString("classname", "loopdoctor.check");
        xml.WriteAttributeString("name", rule.Name);
        xml.WriteAttributeString("time", time);
        switch (rule.Status)
        {
            case RuleStatus.Failed:
                xml.WriteStartElement("failure");
                xml.WriteAttributeString("type", rule.Name);
                xml.WriteAttributeString("message", rule.Summary);
                xml.WriteString(string.Join("\n", rule.Failures.Select(f => $"{f.Kind} at {f.CallSite}: {f.Message}\nfix: {f.Advice}")));
                xml.WriteEndElement();
                break;
            case RuleStatus.Skipped:
                xml.WriteStartElement("skipped");
                xml.WriteAttributeString("message", rule.Summary);
                xml.WriteEndElement();
                break;
        }

        xml.WriteEndElement();
    }
}
