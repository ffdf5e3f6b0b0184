using System.Diagnostics;
using BlockingApp.Scenarios;
using Microsoft.AspNetCore.Mvc;

namespace BlockingApp.Customers;

/// <summary>
/// An MVC controller with the mistakes of Microsoft's "Debug ThreadPool starvation" tutorial, written again in this
/// app's terms: <c>taskwait</c> blocks on the repository's task with <c>.Result</c>, <c>tasksleepwait</c> polls it with
/// <c>Thread.Sleep</c>; <c>taskasyncwait</c> is the fix for both (it awaits). The two broken actions are synchronous,
/// as in the tutorial, so at tier 1 the JIT may inline them into MVC's generated invoker.
/// </summary>
[ApiController]
[Route("api/customers")]
public sealed class CustomersController(CustomerRepository customers) : ControllerBase
{
    private const string Name = "Dana";

    [HttpGet("taskwait")]
    public ActionResult<ScenarioResponse> TaskWait()
    {
        var started = Stopwatch.GetTimestamp();
        var customer = customers.FindByNameAsync(Name).Result;
        return Found("taskwait", false, started, customer);
    }

    [HttpGet("tasksleepwait")]
    public ActionResult<ScenarioResponse> TaskSleepWait()
    {
        var started = Stopwatch.GetTimestamp();
        var query = customers.FindByNameAsync(Name);
        while (!query.IsCompleted)
        {
            Thread.Sleep(10);
        }

        return Found("tasksleepwait", false, started, query.Result);
    }

    [HttpGet("taskasyncwait")]
    public async Task<ActionResult<ScenarioResponse>> TaskAsyncWait(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var customer = await customers.FindByNameAsync(Name, cancellationToken);
        return Found("taskasyncwait", true, started, customer);
    }

    private ActionResult<ScenarioResponse> Found(string scenario, bool isFixed, long started, Customer? customer) =>
        customer is null
            ? NotFound()
            : Ok(ScenarioResponse.Create(scenario, isFixed, started, $"customer={customer.Id}"));
}
