namespace BlockingApp.Load;

/// <summary>
/// When each request of an open-loop run is due: request <c>i</c> at <c>i / rps</c> seconds after the start, regardless
/// of whether earlier ones have completed. A closed loop (send the next when the last returns) slows down with the server
/// and hides a stall ("coordinated omission"); an open loop keeps sending, so a stall shows up as queued requests.
/// </summary>
internal readonly record struct OpenLoopSchedule(double RequestsPerSecond, TimeSpan? Duration)
{
    /// <summary>How many requests the run sends: <c>floor(duration × rps)</c>, or unbounded without a duration.</summary>
    public long PlannedRequests => Duration is { } d ? (long)Math.Floor(d.TotalSeconds * RequestsPerSecond + 1e-9) : long.MaxValue;

    /// <summary>Offset from the start at which request <paramref name="index"/> is due.</summary>
    public TimeSpan DueTime(long index) => TimeSpan.FromSeconds(index / RequestsPerSecond);
}
