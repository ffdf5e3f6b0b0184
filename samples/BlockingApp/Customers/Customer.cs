namespace BlockingApp.Customers;

/// <summary>A customer row, as an ORM would materialise it.</summary>
public sealed record Customer(int Id, string Name, string Email);
