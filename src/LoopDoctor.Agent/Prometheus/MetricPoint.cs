namespace LoopDoctor.Agent.Prometheus;

/// <summary>
/// One tag set's aggregate within an <see cref="InstrumentAggregate"/>. Written under the aggregate's lock by
/// measurement callbacks and read under it by the collection.
/// </summary>
internal sealed class MetricPoint
{
    public MetricPoint(KeyValuePair<string, object?>[] tags, int bucketCount)
    {
        Tags = tags;
        BucketCounts = bucketCount == 0 ? null : new long[bucketCount];
    }

    /// <summary>Sorted by key (ordinal), so labels come out in one order whatever order the caller passed them in.</summary>
    public KeyValuePair<string, object?>[] Tags { get; }

    public long LongValue { get; set; }
    public double DoubleValue { get; set; }

    /// <summary>Per-bucket counts (not cumulative): one per boundary, then the +Inf bucket; null unless a histogram.</summary>
    public long[]? BucketCounts { get; private set; }
    public double Sum { get; set; }
    public long Count { get; set; }

    public MetricPoint Clone()
    {
        var copy = new MetricPoint(Tags, 0) { LongValue = LongValue, DoubleValue = DoubleValue, Sum = Sum, Count = Count };
        if (BucketCounts is { } buckets)
        {
            copy.BucketCounts = (long[])buckets.Clone();
        }

        return copy;
    }

    /// <summary>True when <paramref name="tags"/> is this point's tag set in any order.</summary>
    public bool HasTags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != Tags.Length)
        {
            return false;
        }

        foreach (var tag in tags)
        {
            var found = false;
            foreach (var own in Tags)
            {
                if (string.Equals(own.Key, tag.Key, StringComparison.Ordinal) && Equals(own.Value, tag.Value))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }
}
