using LoopDoctor.Cli.Findings;
using LoopDoctor.Cli.Projections;
using LoopDoctor.Cli.Reporting;
using LoopDoctor.Cli.Signals;
using LoopDoctor.Cli.Tests.Detectors;

namespace LoopDoctor.Cli.Tests.Attribution;

/// <summary>
/// What a synchronous task wait waits for, from the TPL's events. The sequence is the one measured on the blocking
/// thread of BlockingApp's <c>CustomersController.TaskWait</c> (.NET 10.0.12): TraceOperationBegin for Task.Delay and
/// for the async method, the method's await on the delay, then the synchronous wait on the method's task, then the
/// runtime's WaitHandleWaitStart.
/// </summary>
public sealed class AwaitedTaskTests
{
    private const int Thread = 7;

    private static SignalBuilder TaskWaitOnFindByName(double syncWaitAt, double blockedAt, CallStack stack, int thread = Thread) => new SignalBuilder()
        .Worker(thread, 0)
        .Add(new AsyncOperationStarted(syncWaitAt - 0.3, thread, 13, "Task.Delay"))
        .Add(new AsyncOperationStarted(syncWaitAt - 0.2, thread, 14, "Async: <FindByNameAsync>d__2"))
        .Add(new TaskWaitStarted(syncWaitAt - 0.1, thread, 13, TaskWaitBehavior.Asynchronous, 14))
        .Add(new TaskWaitStarted(syncWaitAt, thread, 14, TaskWaitBehavior.Synchronous, 0))
        .Wait(thread, blockedAt, blockedAt + 300, stack);

    [Fact]
    public void A_Result_says_which_async_method_it_blocks_on_and_what_that_one_awaits()
    {
        var finding = TaskWaitOnFindByName(100, 100.05, InlinedEndpointAttributionTests.MvcResult).Find(FindingKinds.BlockingWait);

        var site = Assert.Single(finding!.CallSites);
        Assert.Equal(["FindByNameAsync", "Task.Delay"], site.Awaits);
        Assert.Equal("waiting for FindByNameAsync, which awaits Task.Delay", CallSiteText.Awaiting(site));
    }

    [Fact]
    public void The_text_and_json_reports_carry_it()
    {
        var report = TaskWaitOnFindByName(100, 100.05, InlinedEndpointAttributionTests.MvcResult).Report();

        var text = new StringWriter();
        TextReportWriter.Write(report, text);
        Assert.Contains("in .Result, waiting for FindByNameAsync, which awaits Task.Delay", text.ToString());
        var json = new StringWriter();
        JsonReportWriter.Write(report, json);
        Assert.Contains("\"awaits\": [", json.ToString());
    }

    [Fact]
    public void A_synchronous_task_wait_long_before_the_blocking_wait_is_another_wait()
    {
        var finding = TaskWaitOnFindByName(100, 2500, InlinedEndpointAttributionTests.MvcResult).Find(FindingKinds.BlockingWait);

        Assert.Null(Assert.Single(finding!.CallSites).Awaits);
    }

    [Fact]
    public void A_task_wait_on_another_thread_says_nothing()
    {
        var finding = new SignalBuilder()
            .Worker(8, 0)
            .Add(new AsyncOperationStarted(99, Thread, 14, "Async: <FindByNameAsync>d__2"))
            .Add(new TaskWaitStarted(100, Thread, 14, TaskWaitBehavior.Synchronous, 0))
            .Wait(8, 100.05, 400, InlinedEndpointAttributionTests.MvcResult)
            .Find(FindingKinds.BlockingWait);

        Assert.Null(Assert.Single(finding!.CallSites).Awaits);
    }

    [Fact]
    public void A_wait_that_is_not_on_a_task_is_not_given_one()
    {
        var semaphore = SignalBuilder.PoolStack("System.Threading.SemaphoreSlim.Wait", SignalBuilder.Handler);

        var finding = TaskWaitOnFindByName(100, 100.05, semaphore).Find(FindingKinds.BlockingWait);

        Assert.Null(Assert.Single(finding!.CallSites).Awaits);
    }

    [Fact]
    public void A_task_without_a_name_gives_no_name()
    {
        var awaited = new AwaitedTasks();
        awaited.Observe(new TaskWaitStarted(100, Thread, 99, TaskWaitBehavior.Synchronous, 0)); // a Task.Run task: no TraceOperationBegin

        Assert.Null(awaited.AwaitsAt(Thread, 100.05));
    }

    [Theory]
    [InlineData("Async: <FindByNameAsync>d__2", "FindByNameAsync")]
    [InlineData("Async: <<Main>$>d__0", "<Main>$")]
    [InlineData("Task.Delay", "Task.Delay")]
    [InlineData("Task.WhenAll", "Task.WhenAll")]
    public void Operation_names_read_as_the_method_the_user_wrote(string operation, string expected) =>
        Assert.Equal(expected, AwaitedTasks.OperationName(operation));

    [Fact]
    public void Memory_is_bounded_by_the_task_cap_not_by_the_event_count()
    {
        var awaited = new AwaitedTasks();
        for (var id = 1; id <= AwaitedTasks.MaxTasks * 3; id++)
        {
            awaited.Observe(new AsyncOperationStarted(id, Thread, id, "Async: <LoadAsync>d__1"));
        }

        awaited.Observe(new TaskWaitStarted(1e6, Thread, 1, TaskWaitBehavior.Synchronous, 0));
        Assert.Null(awaited.AwaitsAt(Thread, 1e6)); // long forgotten
        awaited.Observe(new TaskWaitStarted(2e6, Thread, AwaitedTasks.MaxTasks * 3, TaskWaitBehavior.Synchronous, 0));
        Assert.Equal(["LoadAsync"], awaited.AwaitsAt(Thread, 2e6));
    }
}
