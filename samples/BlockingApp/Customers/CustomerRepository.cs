namespace BlockingApp.Customers;

/// <summary>
/// The data-access layer of <see cref="CustomersController"/>, shaped like an Entity Framework repository
/// (<c>FirstOrDefaultAsync</c> behind a method). The database is a pretend one: each query is an awaited round trip of
/// <see cref="QueryLatency"/>, so the method is asynchronous for the same reason a real query is.
/// </summary>
public sealed class CustomerRepository
{
    internal static readonly TimeSpan QueryLatency = TimeSpan.FromMilliseconds(200);

    private static readonly Customer[] Rows =
    [
        new(1, "Dana", "dana@example.com"),
        new(2, "Ravi", "ravi@example.com"),
        new(3, "Mei", "mei@example.com"),
    ];

    public async Task<Customer?> FindByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        await Task.Delay(QueryLatency, cancellationToken); // the database round trip
        return Rows.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
    }
}
