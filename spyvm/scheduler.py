"""The process scheduler (Blue Book ch. 29): Processor, process lists and semaphores.

The image owns the scheduler's state: the ProcessorScheduler object with one
LinkedList of ready processes per priority, and Semaphores holding waiting
processes. The VM only moves processes between these lists and switches the
active context. Each operation takes the running context and answers the
context to continue with (another process's, after a switch).
"""

from spyvm import constants
from spyvm.model import W_PointersObject, W_Context


from spyvm.errors import StartUpFinished, VMFatal as SchedulerError


def _describe(space, w_obj):
    """What the image put where a Process or list belongs, for the fatal message."""
    from spyvm.model import W_SmallInteger
    if isinstance(w_obj, W_SmallInteger):
        return "the SmallInteger %d" % w_obj.value
    if w_obj is space.w_nil:
        return "nil"
    return "an object of another class"


class Scheduler(object):

    def __init__(self, space, interp):
        self.space = space
        self.interp = interp
        self.w_watched_process = None    # headless start-up: its suspension ends it

    # --- accessors ------------------------------------------------------------

    def processor(self):
        w_assoc = self.space.special(constants.SO_SCHEDULER_ASSOCIATION)
        if isinstance(w_assoc, W_PointersObject) and w_assoc.size() > 1:
            w_processor = w_assoc.fetch(self.space, constants.ASSOCIATION_VALUE)
            if isinstance(w_processor, W_PointersObject) and w_processor.size() > 1:
                return w_processor
        raise SchedulerError("the image has no ProcessorScheduler")

    def active_process(self):
        w_active = self.processor().fetch(self.space, constants.SCHEDULER_ACTIVE_PROCESS)
        if not self.is_process(w_active):
            # The image overwrote it (Processor instVarAt: 2 put: ...): no process
            # runs, so nothing in the image could report it.
            raise SchedulerError("corrupt scheduler: Processor's activeProcess is %s, "
                                 "not a Process" % _describe(self.space, w_active))
        return w_active

    def is_process(self, w_obj):
        return isinstance(w_obj, W_PointersObject) and w_obj.size() > constants.PROCESS_MY_LIST

    def priority(self, w_process):
        if not self.is_process(w_process):
            raise SchedulerError("corrupt scheduler: %s in place of a Process"
                                 % _describe(self.space, w_process))
        return self.space.unwrap_int_or(
            w_process.fetch(self.space, constants.PROCESS_PRIORITY), 0)

    def process_lists(self):
        w_lists = self.processor().fetch(self.space, constants.SCHEDULER_PROCESS_LISTS)
        if not isinstance(w_lists, W_PointersObject) or w_lists.size() < 1:
            raise SchedulerError("corrupt scheduler: Processor's processLists is %s, "
                                 "not an Array" % _describe(self.space, w_lists))
        return w_lists

    # --- linked lists ----------------------------------------------------------

    def is_empty_list(self, w_list):
        if not isinstance(w_list, W_PointersObject) or w_list.size() < 2:
            raise SchedulerError("corrupt scheduler: %s in place of a process list"
                                 % _describe(self.space, w_list))
        return w_list.fetch(self.space, constants.LINKEDLIST_FIRST) is self.space.w_nil

    def add_last(self, w_list, w_process):
        space = self.space
        if self.is_empty_list(w_list):
            w_last = space.w_nil
        else:
            w_last = w_list.fetch(space, constants.LINKEDLIST_LAST)
            if not self.is_process(w_last):
                raise SchedulerError("corrupt scheduler: a process list ends in %s"
                                     % _describe(space, w_last))
        if w_last is space.w_nil:
            w_list.store(space, constants.LINKEDLIST_FIRST, w_process)
        else:
            w_last.store(space, constants.LINK_NEXT, w_process)
        w_list.store(space, constants.LINKEDLIST_LAST, w_process)
        w_process.store(space, constants.PROCESS_MY_LIST, w_list)

    def remove_first(self, w_list):
        space = self.space
        w_first = w_list.fetch(space, constants.LINKEDLIST_FIRST)
        if not self.is_process(w_first):
            raise SchedulerError("a process list holds something that is not a Process")
        w_last = w_list.fetch(space, constants.LINKEDLIST_LAST)
        if w_first is w_last:
            w_list.store(space, constants.LINKEDLIST_FIRST, space.w_nil)
            w_list.store(space, constants.LINKEDLIST_LAST, space.w_nil)
        else:
            w_list.store(space, constants.LINKEDLIST_FIRST,
                         w_first.fetch(space, constants.LINK_NEXT))
        w_first.store(space, constants.LINK_NEXT, space.w_nil)
        w_first.store(space, constants.PROCESS_MY_LIST, space.w_nil)
        return w_first

    def remove(self, w_list, w_process):
        """Unlink w_process from w_list; False if it was not there."""
        space = self.space
        w_prev = space.w_nil
        w_cur = w_list.fetch(space, constants.LINKEDLIST_FIRST)
        count = 0
        while w_cur is not space.w_nil and count < 1000000:
            if w_cur is w_process:
                w_next = w_cur.fetch(space, constants.LINK_NEXT)
                if w_prev is space.w_nil:
                    w_list.store(space, constants.LINKEDLIST_FIRST, w_next)
                else:
                    w_prev.store(space, constants.LINK_NEXT, w_next)
                if w_list.fetch(space, constants.LINKEDLIST_LAST) is w_process:
                    w_list.store(space, constants.LINKEDLIST_LAST, w_prev)
                w_process.store(space, constants.LINK_NEXT, space.w_nil)
                w_process.store(space, constants.PROCESS_MY_LIST, space.w_nil)
                return True
            w_prev = w_cur
            if not isinstance(w_cur, W_PointersObject) or w_cur.size() < 1:
                return False
            w_cur = w_cur.fetch(space, constants.LINK_NEXT)
            count += 1
        return False

    # --- process switching -----------------------------------------------------

    def put_to_sleep(self, w_process):
        """Make a process ready: append it to the list of its priority."""
        w_lists = self.process_lists()
        priority = self.priority(w_process)
        if priority < 1 or priority > w_lists.size():
            raise SchedulerError("process priority %d out of range" % priority)
        w_list = w_lists.fetch(self.space, priority - 1)
        if not isinstance(w_list, W_PointersObject):
            raise SchedulerError("corrupt scheduler: %s in place of a process list"
                                 % _describe(self.space, w_list))
        self.add_last(w_list, w_process)

    def wake_highest_priority(self):
        w_lists = self.process_lists()
        i = w_lists.size() - 1
        while i >= 0:
            w_list = w_lists.fetch(self.space, i)
            if isinstance(w_list, W_PointersObject) and not self.is_empty_list(w_list):
                return self.remove_first(w_list)
            i -= 1
        raise SchedulerError("no runnable process")

    def highest_ready_priority(self):
        w_lists = self.process_lists()
        i = w_lists.size() - 1
        while i >= 0:
            w_list = w_lists.fetch(self.space, i)
            if isinstance(w_list, W_PointersObject) and not self.is_empty_list(w_list):
                return i + 1
            i -= 1
        return 0

    def transfer_to(self, w_new, ctx):
        """Suspend the active process in ctx and answer w_new's context."""
        space = self.space
        w_processor = self.processor()
        w_old = w_processor.fetch(space, constants.SCHEDULER_ACTIVE_PROCESS)
        if self.is_process(w_old):
            ctx.mark_escaped()
            w_old.store(space, constants.PROCESS_SUSPENDED_CONTEXT, ctx)
        w_processor.store(space, constants.SCHEDULER_ACTIVE_PROCESS, w_new)
        w_ctx = w_new.fetch(space, constants.PROCESS_SUSPENDED_CONTEXT)
        w_new.store(space, constants.PROCESS_SUSPENDED_CONTEXT, space.w_nil)
        if not isinstance(w_ctx, W_Context) or w_ctx.is_dead():
            raise SchedulerError("resumed a process without a context to run")
        return w_ctx

    def resume(self, w_process, ctx):
        """Make w_process runnable; preempt the active one if it ranks higher."""
        w_active = self.active_process()
        if self.priority(w_process) > self.priority(w_active):
            self.put_to_sleep(w_active)
            return self.transfer_to(w_process, ctx)
        self.put_to_sleep(w_process)
        return ctx

    def pause_active(self, ctx):
        """Leave the active process runnable in ctx, in its ready list; the VM then
        makes another process active itself (headless: a process for --eval)."""
        w_active = self.active_process()
        ctx.mark_escaped()
        w_active.store(self.space, constants.PROCESS_SUSPENDED_CONTEXT, ctx)
        self.put_to_sleep(w_active)

    def make_active(self, w_process):
        """w_process, new and in no list, becomes the active process."""
        self.processor().store(self.space, constants.SCHEDULER_ACTIVE_PROCESS, w_process)

    def suspend_active(self, ctx):
        if self.w_watched_process is not None and \
                self.active_process() is self.w_watched_process:
            # Headless start-up: the process the image was saved in has finished.
            self.w_watched_process = None
            self.active_process().store(self.space, constants.PROCESS_MY_LIST,
                                        self.space.w_nil)
            ctx.mark_escaped()
            self.active_process().store(self.space, constants.PROCESS_SUSPENDED_CONTEXT, ctx)
            raise StartUpFinished()
        # Older images leave a stale myList on the active process: a suspended
        # process is in no list, so resume must see nil there.
        self.active_process().store(self.space, constants.PROCESS_MY_LIST, self.space.w_nil)
        return self.transfer_to(self.wake_highest_priority(), ctx)

    def yield_(self, ctx):
        w_active = self.active_process()
        if self.highest_ready_priority() >= self.priority(w_active):
            self.put_to_sleep(w_active)
            return self.transfer_to(self.wake_highest_priority(), ctx)
        return ctx

    # --- semaphores ------------------------------------------------------------

    def synchronous_signal(self, w_semaphore, ctx):
        space = self.space
        if self.is_empty_list(w_semaphore):
            w_excess = w_semaphore.fetch(space, constants.SEMAPHORE_EXCESS_SIGNALS)
            count = space.unwrap_int_or(w_excess, 0)
            w_semaphore.store(space, constants.SEMAPHORE_EXCESS_SIGNALS,
                              space.wrap_int(count + 1))
            return ctx
        return self.resume(self.remove_first(w_semaphore), ctx)

    def wait(self, w_semaphore, ctx):
        space = self.space
        w_excess = w_semaphore.fetch(space, constants.SEMAPHORE_EXCESS_SIGNALS)
        count = space.unwrap_int_or(w_excess, 0)
        if count > 0:
            w_semaphore.store(space, constants.SEMAPHORE_EXCESS_SIGNALS,
                              space.wrap_int(count - 1))
            return ctx
        self.add_last(w_semaphore, self.active_process())
        return self.transfer_to(self.wake_highest_priority(), ctx)
