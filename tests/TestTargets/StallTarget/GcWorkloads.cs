namespace StallTarget;

/// <summary>A cache of rendered reports that, after each refresh, calls GC.Collect to "give the memory back".</summary>
internal sealed class ReportCache
{
    private readonly Dictionary<int, List<string>> _reports = [];

    public void StartRefreshing()
    {
        // A large, long-lived heap of small objects (about 500 MB): what a full blocking collection has to mark.
        for (var id = 0; id < 5000; id++)
        {
            _reports[id] = Render(id);
        }

        _ = Task.Run(async () =>
        {
            var next = 0;
            while (true)
            {
                await Task.Delay(1000);
                _reports[next] = Render(next);
                next = (next + 1) % _reports.Count;
                GC.Collect();
            }
        });
    }

    private static List<string> Render(int id)
    {
        var lines = new List<string>(1000);
        for (var line = 0; line < 1000; line++)
        {
            lines.Add($"report {id} line {line}: {Guid.NewGuid()}");
        }

        return lines;
    }
}

/// <summary>A store of user sessions that replaces entries continuously: objects live long enough to reach gen2, then die.</summary>
internal sealed class SessionStore
{
    private readonly Dictionary<int, UserSession> _sessions = [];

    public void StartChurning()
    {
        // A batch-style service that turned concurrent GC off for throughput (GCLatencyMode.Batch): every gen2
        // collection then blocks, so the churn below pauses the process whichever way the GC's timing falls.
        System.Runtime.GCSettings.LatencyMode = System.Runtime.GCLatencyMode.Batch;
        for (var id = 0; id < 600_000; id++)
        {
            _sessions[id] = UserSession.Create(id);
        }

        _ = Task.Factory.StartNew(() =>
        {
            var random = new Random(7);
            while (true)
            {
                var id = random.Next(_sessions.Count);
                _sessions[id] = UserSession.Create(id);
            }
        }, TaskCreationOptions.LongRunning);
    }
}

internal sealed record UserSession(int Id, string Token, List<string> Claims, byte[] State)
{
    public static UserSession Create(int id) =>
        new(id, Guid.NewGuid().ToString("N"), [$"sub:{id}", $"name:user{id}", "role:reader"], new byte[256]);
}

/// <summary>Parses small request bodies as they come in: short-lived garbage, a small live heap, frequent brief gen0s.</summary>
internal sealed class RequestParser
{
    public void StartParsing() => _ = Task.Factory.StartNew(() =>
    {
        long total = 0;
        while (true)
        {
            // A batch of bodies every 10 ms: about 100 MB/s of garbage, a busy service's rate.
            for (var i = 0; i < 2000; i++)
            {
                var body = $"{{\"id\":{total},\"name\":\"item {total}\",\"tags\":[\"a\",\"b\",\"c\"]}}";
                total += body.Split(',').Length;
            }

            Thread.Sleep(10);
        }
    }, TaskCreationOptions.LongRunning);
}
