namespace LoopDoctor.Testing;

/// <summary>
/// The real Chromium (Debian package <c>chromium</c>; <c>./test.sh</c> installs it), headless: the DOM of a page after
/// its scripts ran, and a screenshot. The tests do not skip when it is missing: they fail, naming the package.
/// </summary>
public static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The page's DOM serialized after load (<c>--dump-dom</c>): what its scripts wrote is in it.</summary>
    public static async Task<string> DumpDomAsync(string htmlPath)
    {
        var (output, _) = await RunAsync(["--dump-dom", new Uri(System.IO.Path.GetFullPath(htmlPath)).AbsoluteUri]);
        return output;
    }

    /// <summary>A PNG of the page at <paramref name="width"/> × <paramref name="height"/> CSS pixels.</summary>
    public static async Task ScreenshotAsync(string htmlPath, string pngPath, int width, int height)
    {
        File.Delete(pngPath);
        await RunAsync([$"--screenshot={System.IO.Path.GetFullPath(pngPath)}", $"--window-size={width},{height}", "--hide-scrollbars", new Uri(System.IO.Path.GetFullPath(htmlPath)).AbsoluteUri]);
        if (!File.Exists(pngPath))
        {
            throw new InvalidOperationException($"chromium wrote no screenshot at {pngPath}.");
        }
    }

    private static async Task<(string Stdout, string Stderr)> RunAsync(string[] arguments)
    {
        if (!File.Exists(Path))
        {
            throw new FileNotFoundException($"chromium is missing at {Path}: install the Debian package 'chromium' (./test.sh does it).", Path);
        }

        var profile = Directory.CreateTempSubdirectory("loopdoctor-chromium-");
        try
        {
            // --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
            string[] common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                $"--user-data-dir={profile.FullName}", "--virtual-time-budget=5000"];
            await using var chromium = TestProcess.Start(Path, [.. common, .. arguments], new TestProcessOptions { MaxCapturedLines = 100_000 });
            var exit = await chromium.WaitForExitAsync(Timeout);
            var stdout = string.Join('\n', chromium.StdoutLines);
            if (exit != 0)
            {
                throw new InvalidOperationException($"chromium exited with {exit}.{Environment.NewLine}{chromium.DescribeOutput()}");
            }

            return (stdout, string.Join('\n', chromium.StderrLines));
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A helper process of Chromium may still hold a file for a moment; the temp folder is cleaned up later.
            }
        }
    }
}
