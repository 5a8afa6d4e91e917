"""The process scheduler (spyvm.scheduler) on mini.image's real Processor.

mini.image (Squeak 2.2) is saved with its UI process active at priority 4, the idle
process ready at priority 1 and three processes waiting on Semaphores. The tests
make their own Processes and Semaphores and move them with the Scheduler methods;
the image's scheduling state is put back after each test. The last tests run
Smalltalk source through the image's Compiler, as --eval does.
"""

import pytest

from spyvm import constants
from spyvm.errors import VMFatal, UnhandledError
from spyvm.image.reader import read_image
from spyvm.interpreter import Interpreter
from spyvm.model import W_Context, W_PointersObject, W_CompiledMethod, W_SmallInteger

ACTIVE_PRIORITY = 4      # mini.image's UI process
IDLE_PRIORITY = 1


@pytest.fixture(scope="module")
def mini_image(image_bytes):
    return read_image(image_bytes("mini.image"))


class Processes(object):
    """The scheduler of a fresh Interpreter, and helpers to make processes."""

    def __init__(self, image):
        self.image = image
        self.space = space = image.space
        self.interp = Interpreter(space, image)
        self.scheduler = self.interp.scheduler
        self.w_processor = self.scheduler.processor()
        self.w_LinkedList = self.list_at(1).getclass(space)

    def list_at(self, priority):
        return self.scheduler.process_lists().fetch(self.space, priority - 1)

    def contents(self, w_list):
        """The links of a LinkedList (or Semaphore), first to last."""
        space = self.space
        result = []
        w_link = w_list.fetch(space, constants.LINKEDLIST_FIRST)
        while w_link is not space.w_nil:
            result.append(w_link)
            assert len(result) < 1000, "cyclic list"
            w_link = w_link.fetch(space, constants.LINK_NEXT)
        if result:
            assert w_list.fetch(space, constants.LINKEDLIST_LAST) is result[-1]
        else:
            assert w_list.fetch(space, constants.LINKEDLIST_LAST) is space.w_nil
        return result

    def context(self):
        """A runnable context: `^1`."""
        space = self.space
        w_method = W_CompiledMethod(space.w_CompiledMethod, 4, False)
        w_method.set_bytes("\x76\x7c")
        w_method.set_header(0)
        ctx = W_Context(space, space.w_MethodContext, False, 16)
        ctx.w_method = w_method
        ctx.w_slot_method = w_method
        ctx.start_at(0)
        return ctx

    def process(self, priority):
        """A new suspended Process (in no list) with its own context."""
        space = self.space
        size = space.class_format(space.w_Process).inst_size
        w_process = W_PointersObject(space.w_Process, size, space.w_nil)
        w_process.store(space, constants.PROCESS_SUSPENDED_CONTEXT, self.context())
        w_process.store(space, constants.PROCESS_PRIORITY, space.wrap_int(priority))
        return w_process

    def semaphore(self, signals=0):
        space = self.space
        w_sema = W_PointersObject(space.w_Semaphore, 3, space.w_nil)
        w_sema.store(space, constants.SEMAPHORE_EXCESS_SIGNALS, space.wrap_int(signals))
        return w_sema

    def excess_signals(self, w_sema):
        return w_sema.fetch(self.space, constants.SEMAPHORE_EXCESS_SIGNALS).value

    def active(self):
        return self.scheduler.active_process()

    def suspended_context(self, w_process):
        return w_process.fetch(self.space, constants.PROCESS_SUSPENDED_CONTEXT)

    def my_list(self, w_process):
        return w_process.fetch(self.space, constants.PROCESS_MY_LIST)


@pytest.fixture
def procs(mini_image):
    """Processes on mini.image; restores every Process, Semaphore and process list."""
    space = mini_image.space
    machine = Processes(mini_image)
    saved_w = [machine.w_processor, machine.scheduler.process_lists()]
    saved_w += [machine.list_at(p) for p in range(1, 9)]
    saved_w += [w for w in mini_image.objects_w
                if isinstance(w, W_PointersObject) and
                w.getclass(space) in (space.w_Process, space.w_Semaphore)]
    saved = [(w, list(w.slots)) for w in saved_w]
    yield machine
    for w_obj, slots in saved:
        w_obj.slots = slots


# --- the image's scheduler ------------------------------------------------------------

def test_saved_scheduling_state(procs):
    space = procs.space
    assert procs.w_processor.classname(space) == "ProcessorScheduler"
    assert space.smalltalk_at("Processor") is procs.w_processor
    assert procs.scheduler.process_lists().size() == 8
    w_active = procs.active()
    assert w_active.getclass(space) is space.w_Process
    assert procs.scheduler.priority(w_active) == ACTIVE_PRIORITY
    assert isinstance(procs.suspended_context(w_active), W_Context)
    ready = [len(procs.contents(procs.list_at(p))) for p in range(1, 9)]
    assert ready == [1, 0, 0, 0, 0, 0, 0, 0]
    assert procs.scheduler.highest_ready_priority() == IDLE_PRIORITY


# --- resume ---------------------------------------------------------------------------

def test_resume_lower_priority_makes_ready(procs):
    ctx = procs.context()
    w_active = procs.active()
    w_new = procs.process(ACTIVE_PRIORITY - 1)
    assert procs.scheduler.resume(w_new, ctx) is ctx
    assert procs.active() is w_active
    w_list = procs.list_at(ACTIVE_PRIORITY - 1)
    assert procs.contents(w_list) == [w_new]
    assert procs.my_list(w_new) is w_list
    assert procs.scheduler.highest_ready_priority() == ACTIVE_PRIORITY - 1


def test_resume_same_priority_does_not_preempt(procs):
    ctx = procs.context()
    w_active = procs.active()
    w_first = procs.process(ACTIVE_PRIORITY)
    w_second = procs.process(ACTIVE_PRIORITY)
    assert procs.scheduler.resume(w_first, ctx) is ctx
    assert procs.scheduler.resume(w_second, ctx) is ctx
    assert procs.active() is w_active
    assert procs.contents(procs.list_at(ACTIVE_PRIORITY)) == [w_first, w_second]


def test_resume_higher_priority_preempts(procs):
    ctx = procs.context()
    w_old = procs.active()
    w_new = procs.process(ACTIVE_PRIORITY + 1)
    new_ctx = procs.suspended_context(w_new)
    assert procs.scheduler.resume(w_new, ctx) is new_ctx
    assert procs.active() is w_new
    assert procs.suspended_context(w_new) is procs.space.w_nil
    # The preempted process is ready at its priority, keeping the running context.
    assert procs.suspended_context(w_old) is ctx
    w_list = procs.list_at(ACTIVE_PRIORITY)
    assert procs.contents(w_list) == [w_old]
    assert procs.my_list(w_old) is w_list


# --- suspend and yield -------------------------------------------------------------------

def test_suspend_active_runs_the_highest_ready_process(procs):
    ctx = procs.context()
    w_old = procs.active()
    w_low = procs.process(2)
    w_high = procs.process(3)
    procs.scheduler.resume(w_low, ctx)
    procs.scheduler.resume(w_high, ctx)
    high_ctx = procs.suspended_context(w_high)
    assert procs.scheduler.suspend_active(ctx) is high_ctx
    assert procs.active() is w_high
    assert procs.my_list(w_high) is procs.space.w_nil
    assert procs.contents(procs.list_at(3)) == []
    assert procs.contents(procs.list_at(2)) == [w_low]
    # The suspended process is in no list and keeps its context.
    assert procs.suspended_context(w_old) is ctx
    assert all(w_old not in procs.contents(procs.list_at(p)) for p in range(1, 9))


def test_suspend_active_leaves_the_process_in_no_list(procs):
    # mini.image was saved by a VM that left the active process's myList pointing at
    # the priority-4 list it was once taken from. Once suspended the process must be
    # in no list (myList nil), or Process>>resume (primitive 87, which refuses a
    # process whose myList is set) can never resume it.
    ctx = procs.context()
    w_old = procs.active()
    procs.scheduler.suspend_active(ctx)
    assert procs.my_list(w_old) is procs.space.w_nil


def test_suspend_active_with_nothing_else_runs_the_idle_process(procs):
    ctx = procs.context()
    w_idle = procs.contents(procs.list_at(IDLE_PRIORITY))[0]
    idle_ctx = procs.suspended_context(w_idle)
    assert procs.scheduler.suspend_active(ctx) is idle_ctx
    assert procs.active() is w_idle
    assert procs.contents(procs.list_at(IDLE_PRIORITY)) == []


def test_suspend_with_no_process_at_all_is_fatal(procs):
    ctx = procs.context()
    procs.scheduler.suspend_active(ctx)      # to the idle process
    with pytest.raises(VMFatal) as info:
        procs.scheduler.suspend_active(ctx)
    assert info.value.message == "no runnable process"


@pytest.mark.parametrize("w_bad, described", [
    (W_SmallInteger(5), "the SmallInteger 5"), (None, "nil")])
def test_a_corrupt_active_process_is_fatal_and_named(procs, w_bad, described):
    # Processor instVarAt: 2 put: 5: no process runs, so the VM stops with a
    # message that says what is wrong rather than failing somewhere inside.
    space = procs.space
    if w_bad is None:
        w_bad = space.w_nil
    procs.w_processor.store(space, constants.SCHEDULER_ACTIVE_PROCESS, w_bad)
    ctx = procs.context()
    w_other = procs.process(ACTIVE_PRIORITY + 1)
    for operation in [lambda: procs.scheduler.yield_(ctx),
                      lambda: procs.scheduler.resume(w_other, ctx),
                      lambda: procs.scheduler.suspend_active(ctx),
                      lambda: procs.scheduler.wait(procs.semaphore(), ctx)]:
        with pytest.raises(VMFatal) as info:
            operation()
        assert info.value.message == ("corrupt scheduler: Processor's activeProcess is %s, "
                                      "not a Process" % described)


def test_corrupt_process_lists_are_fatal_and_named(procs):
    space = procs.space
    ctx = procs.context()
    procs.scheduler.process_lists().store(space, ACTIVE_PRIORITY - 1, W_SmallInteger(7))
    with pytest.raises(VMFatal) as info:
        procs.scheduler.resume(procs.process(ACTIVE_PRIORITY), ctx)
    assert info.value.message == ("corrupt scheduler: the SmallInteger 7 in place of a "
                                  "process list")
    procs.w_processor.store(space, constants.SCHEDULER_PROCESS_LISTS, space.w_nil)
    with pytest.raises(VMFatal) as info:
        procs.scheduler.yield_(ctx)
    assert info.value.message == ("corrupt scheduler: Processor's processLists is nil, "
                                  "not an Array")


def test_a_process_list_ending_in_a_non_process_is_fatal(procs):
    space = procs.space
    w_list = procs.list_at(ACTIVE_PRIORITY)
    w_list.store(space, constants.LINKEDLIST_FIRST, procs.process(ACTIVE_PRIORITY))
    w_list.store(space, constants.LINKEDLIST_LAST, W_SmallInteger(9))
    with pytest.raises(VMFatal) as info:
        procs.scheduler.resume(procs.process(ACTIVE_PRIORITY), procs.context())
    assert info.value.message == "corrupt scheduler: a process list ends in the SmallInteger 9"


def test_yield_to_a_process_of_the_same_priority(procs):
    ctx = procs.context()
    w_old = procs.active()
    w_other = procs.process(ACTIVE_PRIORITY)
    procs.scheduler.resume(w_other, ctx)
    other_ctx = procs.suspended_context(w_other)
    assert procs.scheduler.yield_(ctx) is other_ctx
    assert procs.active() is w_other
    assert procs.contents(procs.list_at(ACTIVE_PRIORITY)) == [w_old]
    assert procs.suspended_context(w_old) is ctx
    # And back.
    ctx2 = procs.context()
    assert procs.scheduler.yield_(ctx2) is ctx
    assert procs.active() is w_old
    assert procs.contents(procs.list_at(ACTIVE_PRIORITY)) == [w_other]


def test_yield_round_robin(procs):
    ctx = procs.context()
    w_main = procs.active()
    w_a = procs.process(ACTIVE_PRIORITY)
    w_b = procs.process(ACTIVE_PRIORITY)
    procs.scheduler.resume(w_a, ctx)
    procs.scheduler.resume(w_b, ctx)
    order = []
    for _ in range(6):
        ctx = procs.scheduler.yield_(ctx)
        order.append(procs.active())
    assert order == [w_a, w_b, w_main, w_a, w_b, w_main]


def test_yield_without_others_of_that_priority_goes_on(procs):
    ctx = procs.context()
    w_active = procs.active()
    procs.scheduler.resume(procs.process(ACTIVE_PRIORITY - 1), ctx)
    assert procs.scheduler.yield_(ctx) is ctx
    assert procs.active() is w_active
    assert procs.contents(procs.list_at(ACTIVE_PRIORITY)) == []


# --- semaphores ------------------------------------------------------------------------

def test_signal_without_waiters_counts_excess_signals(procs):
    ctx = procs.context()
    w_sema = procs.semaphore()
    for expected in [1, 2, 3]:
        assert procs.scheduler.synchronous_signal(w_sema, ctx) is ctx
        assert procs.excess_signals(w_sema) == expected
    assert procs.contents(w_sema) == []


def test_wait_consumes_an_excess_signal(procs):
    ctx = procs.context()
    w_active = procs.active()
    w_sema = procs.semaphore(signals=2)
    assert procs.scheduler.wait(w_sema, ctx) is ctx
    assert procs.excess_signals(w_sema) == 1
    assert procs.scheduler.wait(w_sema, ctx) is ctx
    assert procs.excess_signals(w_sema) == 0
    assert procs.active() is w_active


def test_wait_blocks_and_signal_resumes(procs):
    ctx = procs.context()
    w_main = procs.active()
    w_other = procs.process(ACTIVE_PRIORITY)
    procs.scheduler.resume(w_other, ctx)
    w_sema = procs.semaphore()
    other_ctx = procs.suspended_context(w_other)
    # main waits: it joins the semaphore, the other process runs.
    assert procs.scheduler.wait(w_sema, ctx) is other_ctx
    assert procs.active() is w_other
    assert procs.contents(w_sema) == [w_main]
    assert procs.my_list(w_main) is w_sema
    assert procs.suspended_context(w_main) is ctx
    assert procs.excess_signals(w_sema) == 0
    # other signals: main (same priority) becomes ready, other keeps running.
    ctx2 = procs.context()
    assert procs.scheduler.synchronous_signal(w_sema, ctx2) is ctx2
    assert procs.contents(w_sema) == []
    assert procs.contents(procs.list_at(ACTIVE_PRIORITY)) == [w_main]
    assert procs.my_list(w_main) is procs.list_at(ACTIVE_PRIORITY)
    assert procs.excess_signals(w_sema) == 0
    assert procs.active() is w_other


def test_signal_resumes_a_higher_priority_waiter_at_once(procs):
    ctx = procs.context()
    w_main = procs.active()
    w_high = procs.process(ACTIVE_PRIORITY + 2)
    w_sema = procs.semaphore()
    high_ctx = procs.suspended_context(w_high)
    # The high priority process runs (preempting main) and waits on the semaphore.
    assert procs.scheduler.resume(w_high, ctx) is high_ctx
    assert procs.scheduler.wait(w_sema, high_ctx) is ctx
    assert procs.active() is w_main
    assert procs.contents(w_sema) == [w_high]
    # main signals: the waiter preempts it.
    main_ctx = procs.context()
    assert procs.scheduler.synchronous_signal(w_sema, main_ctx) is high_ctx
    assert procs.active() is w_high
    assert procs.contents(procs.list_at(ACTIVE_PRIORITY)) == [w_main]
    assert procs.suspended_context(w_main) is main_ctx


def test_waiters_are_signalled_in_order(procs):
    ctx = procs.context()
    w_sema = procs.semaphore()
    w_a = procs.process(ACTIVE_PRIORITY - 1)
    w_b = procs.process(ACTIVE_PRIORITY - 1)
    for w_process in [w_a, w_b]:
        procs.scheduler.add_last(w_sema, w_process)
    assert procs.contents(w_sema) == [w_a, w_b]
    procs.scheduler.synchronous_signal(w_sema, ctx)
    assert procs.contents(w_sema) == [w_b]
    assert procs.contents(procs.list_at(ACTIVE_PRIORITY - 1)) == [w_a]
    procs.scheduler.synchronous_signal(w_sema, ctx)
    procs.scheduler.synchronous_signal(w_sema, ctx)
    assert procs.contents(w_sema) == []
    assert procs.contents(procs.list_at(ACTIVE_PRIORITY - 1)) == [w_a, w_b]
    assert procs.excess_signals(w_sema) == 1


def test_remove_from_the_middle_of_a_list(procs):
    w_list = procs.list_at(2)
    w_a, w_b, w_c = [procs.process(2) for _ in range(3)]
    for w_process in [w_a, w_b, w_c]:
        procs.scheduler.put_to_sleep(w_process)
    assert procs.scheduler.remove(w_list, w_b)
    assert procs.contents(w_list) == [w_a, w_c]
    assert procs.my_list(w_b) is procs.space.w_nil
    assert procs.scheduler.remove(w_list, w_c)
    assert procs.contents(w_list) == [w_a]
    assert not procs.scheduler.remove(w_list, w_c)


# --- primitives 85-88 and 167 ---------------------------------------------------------------

def run_primitive(procs, number, w_rcvr, ctx):
    from spyvm import primitives
    fn = primitives.table()[number]
    ctx.push(w_rcvr)
    return fn(procs.interp, ctx, 0, None)


def test_primitive_signal_and_wait(procs):
    ctx = procs.context()
    w_sema = procs.semaphore()
    assert run_primitive(procs, 85, w_sema, ctx) is ctx
    assert procs.excess_signals(w_sema) == 1
    assert ctx.top() is w_sema          # the receiver is the answer
    ctx.pop()
    assert run_primitive(procs, 86, w_sema, ctx) is ctx
    assert procs.excess_signals(w_sema) == 0


def test_primitive_resume_and_suspend(procs):
    ctx = procs.context()
    w_main = procs.active()
    w_new = procs.process(ACTIVE_PRIORITY + 1)
    new_ctx = procs.suspended_context(w_new)
    assert run_primitive(procs, 87, w_new, ctx) is new_ctx
    assert procs.active() is w_new
    # The new process suspends itself: main runs again, its stack as it was.
    assert run_primitive(procs, 88, w_new, new_ctx) is ctx
    assert procs.active() is w_main
    assert ctx.top() is w_new
    assert procs.suspended_context(w_new) is new_ctx


def test_primitive_resume_of_the_saved_active_process_after_suspend(procs):
    # Process>>suspend then, from another process, Process>>resume: the Squeak 2.2
    # VM's primitiveResume resumes it.
    ctx = procs.context()
    w_main = procs.active()
    idle_ctx = run_primitive(procs, 88, w_main, ctx)
    assert procs.active() is not w_main
    from spyvm.errors import PrimitiveFailed
    try:
        back = run_primitive(procs, 87, w_main, idle_ctx)
    except PrimitiveFailed:
        pytest.fail("resume failed: the suspended process still has myList %s"
                    % procs.my_list(w_main).classname(procs.space))
    assert back is ctx and procs.active() is w_main


def test_primitive_yield(procs):
    ctx = procs.context()
    w_other = procs.process(ACTIVE_PRIORITY)
    procs.scheduler.resume(w_other, ctx)
    other_ctx = procs.suspended_context(w_other)
    w_processor = procs.w_processor
    assert run_primitive(procs, 167, w_processor, ctx) is other_ctx
    assert procs.active() is w_other


# --- through the image's Compiler (as --eval) ----------------------------------------------

@pytest.fixture(scope="module")
def headless_vm(image_path):
    from spyvm import headless
    return headless.load(image_path("mini.image"), "cogxen", [])


def evaluate(vm, source):
    """vm.evaluate_and_print(source), failing with the image's error and stack if any."""
    try:
        return vm.evaluate_and_print(source)
    except UnhandledError as error:
        pytest.fail("%s\n  %s" % (error.message, "\n  ".join(error.trace)))


def test_eval_prints_like_squeak_2_2(headless_vm):
    assert evaluate(headless_vm, "#(3 1 2) asSortedCollection asArray") == \
        "(1 2 3 )"
    assert evaluate(headless_vm, "Processor activePriority") == "4"


# Two processes that hand control to each other through two Semaphores.
FORK_AND_SEMAPHORES = (
    "| s1 s2 r |\n"
    "s1 := Semaphore new. s2 := Semaphore new. r := OrderedCollection new.\n"
    "[r add: 2. s2 signal. s1 wait. r add: 4. s2 signal] fork.\n"
    "r add: 1. s2 wait. r add: 3. s1 signal. s2 wait. r add: 5.\n"
    "r asArray")


def test_eval_fork_and_semaphore_interleave(headless_vm):
    assert evaluate(headless_vm, FORK_AND_SEMAPHORES) == "(1 2 3 4 5 )"


def test_eval_fork_signal_and_yield(headless_vm):
    # The forked process (same priority) runs when main waits; its signal makes main
    # ready without preempting it; yield lets main's turn come after the fork ends.
    source = (
        "| s r |\n"
        "s := Semaphore new. r := OrderedCollection new.\n"
        "[r add: 1. s signal. r add: 3] fork.\n"
        "r add: 0. s wait. r add: 2. Processor yield. r add: 4.\n"
        "r asArray")
    assert evaluate(headless_vm, source) == "(0 1 3 2 4 )"


def test_eval_priorities(headless_vm):
    # A lower priority process runs only when main waits; a higher one at once.
    source = (
        "| s r low high |\n"
        "s := Semaphore new. r := OrderedCollection new.\n"
        "low := [r add: 3. s signal] newProcess.\n"
        "low priority: Processor activePriority - 1.\n"
        "high := [r add: 1] newProcess.\n"
        "high priority: Processor activePriority + 1.\n"
        "low resume. Processor yield. r add: 0. high resume. r add: 2.\n"
        "s wait. r add: 4. r asArray")
    assert evaluate(headless_vm, source) == "(0 1 2 3 4 )"


def test_contexts_switched_away_from_are_forced_out_of_compiled_frames(headless_vm,
                                                                        monkeypatch):
    # A context whose loop gives control to another process's context must get
    # jit.hint(force_virtualizable=True) before it lets go: compiled code keeps its
    # pc and stack in the JIT frame, and the loop that resumes it later reads the
    # context directly (translated with the JIT, a worker resumed at an old pc took
    # a mutex twice: tests/images/test_jit.py has the machine-code test).
    from rpython.rlib import jit
    from spyvm.scheduler import Scheduler
    forced = []
    blocked = []
    original_hint = jit.hint
    original_wait = Scheduler.wait

    def hint(x, **flags):
        if flags.get("force_virtualizable"):
            forced.append(x)
        return original_hint(x, **flags)

    def wait(self, w_semaphore, ctx):
        w_next = original_wait(self, w_semaphore, ctx)
        if w_next is not ctx:
            blocked.append(ctx)
        return w_next

    monkeypatch.setattr(jit, "hint", hint)
    monkeypatch.setattr(Scheduler, "wait", wait)
    assert evaluate(headless_vm, FORK_AND_SEMAPHORES) == "(1 2 3 4 5 )"
    assert len(blocked) == 3
    for ctx in blocked:
        assert any(w is ctx for w in forced), "a context left for another process " \
            "was not forced out of its compiled frame"
