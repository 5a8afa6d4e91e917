"""The bytecode interpreter: the V3 bytecode set with the closure extensions.

All Smalltalk state lives in heap contexts: a send makes a new context, a return
goes back to the sender, a process switch to another process's context. For the
JIT, each context runs in its own call of Interpreter.loop, nested as the sends
are (up to a bound): see there. Returns and switches that leave a loop are
Unwind exceptions; deep recursion, process switches and non-local returns stay
ordinary context manipulations.
"""

from rpython.rlib import jit, rstack, rstackovf
from rpython.rlib.objectmodel import we_are_translated
from rpython.rlib.rarithmetic import ovfcheck, intmask

from spyvm import bytecodes, constants, model
from spyvm.model import W_Context, W_CompiledMethod, W_SmallInteger, W_PointersObject
from spyvm.model import StackUnderflow
from spyvm.objspace import WrappingError
from spyvm import aio, stackdepth
from spyvm.platform import alarm


from spyvm.errors import PrimitiveFailed, TopLevelReturn, VMFatal, UnhandledError, Exit


# Interrupts (timer, low space) are looked at in sends and backward jumps:
# everything that runs long does one or the other. Where the alarm works
# (spyvm/platform/alarm.py) they read its flag; elsewhere they count down from
# this number.
INTERRUPT_CHECK_COUNT = 1000

# How long the image's shutdown hook may run once the host asked the VM to stop
# (SIGTERM; `xl shutdown` in the guest) before the VM stops without it.
SHUTDOWN_GRACE_USECS = 2 * 1000 * 1000


def get_printable_location(pc, w_method):
    """`Class>>selector @ pc: bytecodeName`, for JIT logs."""
    if w_method is None:
        return "pc %d" % pc
    name = "?"
    if 0 <= pc < len(w_method.bytes):
        name = bytecodes.names_for(w_method.sista)[ord(w_method.bytes[pc])]
    return "%s @ %d: %s" % (w_method.printable_name(), pc, name)


jitdriver = jit.JitDriver(greens=['pc', 'w_method'],
                          reds=['level', 'ctx', 'self', 'w_caller'],
                          virtualizables=['ctx'],
                          get_printable_location=get_printable_location,
                          is_recursive=True)


def configure_jit(text):
    """`--jit ARG`: 'off' or RPython's param=value,... (ValueError if malformed)."""
    try:
        jit.set_user_param(jitdriver, text)
    except jit.TraceLimitTooHigh:
        raise ValueError


def set_jit_decay(decay):
    """The JIT's counter decay (spyvm/memory.py); `--jit decay=N` comes after."""
    jit.set_param(jitdriver, "decay", decay)


class Unwind(Exception):
    """Control leaves the running context for target, which is not one of its
    callees: a return (w_value: the answer to push there) or a switch (None).
    Target None: a linked context returns w_value to the loop that called it."""

    def __init__(self, target, w_value):
        self.target = target
        self.w_value = w_value


def push_answer(ctx, w_value):
    """Push the answer of a return or callee onto ctx, the context it returns to."""
    try:
        ctx.push(w_value)
    except StackUnderflow:
        raise VMFatal("malformed method: no room on the stack for an answer")


class MethodCache(object):
    """selector -> {class -> method}, with a version the JIT folds lookups under.

    Traces treat a lookup as a constant for a given receiver class; every flush
    makes a new version, and that invalidates the traces that depend on the old one.
    """
    _immutable_fields_ = ['version?']

    def __init__(self):
        self.by_selector = {}
        self.version = CacheVersion()
        # Every class, method dictionary and method array an uncached lookup read:
        # a become: that swaps none of them cannot change an answer.
        self.path = {}

    def flush(self):
        self.by_selector = {}
        self.version = CacheVersion()
        self.path = {}

    def note_path(self, w_obj):
        self.path[w_obj] = True

    def depends_on(self, w_obj):
        return w_obj in self.path

    def flush_selector(self, w_selector):
        if w_selector in self.by_selector:
            del self.by_selector[w_selector]
        self.version = CacheVersion()


class CacheVersion(object):
    pass


class Dispatch(object):
    """The bytecode and primitive tables, immutable so traces fold the dispatch."""
    _immutable_fields_ = ['bytecodes[*]', 'sista_bytecodes[*]', 'primitives[*]']

    def __init__(self, bytecodes, sista_bytecodes, primitives):
        self.bytecodes = bytecodes              # V3PlusClosures
        self.sista_bytecodes = sista_bytecodes  # SistaV1 (handlers take extA, extB)
        self.primitives = primitives


# Method activations run in nested calls of Interpreter.loop (for the JIT: see
# there) while the C stack has room: up to MAX_NESTING deep without asking, deeper
# while RPython's own stack measure says so (translated), and never past
# NESTING_LIMIT. A deeper activation is handed to the outermost loop and runs flat
# there; its callers then resume one by one from the outermost loop, which costs
# far more than a nested return, so real recursive code should rarely get there.
# Past MAX_NESTING the stack is measured at every NESTING_PROBE-th level
# (probe_stack) by a conditional call, not at every level: compiled code makes no
# call at the levels between. The answer covers the next NESTING_PROBE levels, well
# inside the last sixteenth of the stack that "almost full" keeps free.
MAX_NESTING = 100
NESTING_LIMIT = 1000000
NESTING_PROBE = 8


ROOM, NO_ROOM = 1, 0


def probe_stack(level):
    """ROOM when the C stack has room for this level and the next NESTING_PROBE - 1
    (see MAX_NESTING), else NO_ROOM. Treated as elidable: a loop at this level
    asks once, and the stack is as deep at every iteration."""
    if not we_are_translated():
        return NO_ROOM      # CPython's own recursion limit is near
    if level >= NESTING_LIMIT or rstack.stack_almost_full():
        return NO_ROOM
    return ROOM


# _LEAVING_A_LOOP: control leaves a loop's context for another one (a process
# switch, or a return past it) while the context may run again later, in another
# loop (its process is resumed, or a callee returns to it). Compiled code that
# leaves by an exception keeps the virtualizable's pc, stack pointer and stack in
# its finished JIT frame, to be forced out at the next checked access; but a new
# loop reads its context directly (access_directly), stale fields and all: a
# process was resumed at an old pc (and waited a second time on the mutex it held).
# So the loop writes them to the context before it lets go, as PyPy's interpreter
# does for a generator's frame at a yield (jit.hint(force_virtualizable)).


# Runaway recursion: past this many nested activations the image's low-space
# semaphore is signalled (as a VM short of memory does), so the image reports it;
# past twice as many the run ends with a fatal error instead of exhausting memory.
MAX_DEPTH = 200000


class Interpreter(object):
    # top_context changes only when the VM starts a send from outside (perform).
    _immutable_fields_ = ['space', 'method_cache', 'dispatch', 'scheduler', 'heap_walks',
                          'alarm_works', 'top_context?']

    def __init__(self, space, image=None):
        from spyvm import scheduler, primitives, heap
        self.space = space
        self.image = image
        self.method_cache = MethodCache()
        self.scheduler = scheduler.Scheduler(space, self)
        self.dispatch = Dispatch(BYTECODE_TABLE, SISTA_BYTECODE_TABLE, primitives.table())
        self.heap_walks = heap.HeapWalks()   # someInstance/nextInstance loops in progress
        self.alarm_works = alarm.start()
        self.interrupt_counter = INTERRUPT_CHECK_COUNT
        self.next_wakeup_usecs = 0    # timer semaphore deadline (0 = none)
        self.w_shutdown_semaphore = None    # the image's hook for a stop request
        self.shutdown_deadline_usecs = 0    # when the hook's time is up (0 = not asked)
        self.next_poll_usecs = 0      # when to look at watched descriptors (0 = none)
        self.pending_semaphores = []  # external semaphore indices plugins signalled
        self.start_usecs = self.now_usecs()
        self.top_context = None
        self.output = None            # set by the runner: where the image's output goes
        self.signalled_low_space = False
        self.pending_low_space = None
        self.image_name = ""
        self.vm_path = ""
        self.image_args = []
        self.vm_options = []          # the VM's own command-line options, as given
        self.stop_when_idle = False   # headless start-up: the first idle ends it

    # --- clock ----------------------------------------------------------------

    def now_usecs(self):
        from spyvm.platform import current
        return current.monotonic_microseconds()

    def millisecond_clock(self):
        return intmask(((self.now_usecs() - self.start_usecs) / 1000) & 0x1fffffff)

    def system_attribute(self, index):
        """Smalltalk getSystemAttribute: as OpenSmalltalk VMs answer it."""
        if index < 0:
            # The VM's options (Pharo's isHeadless looks for --headless there).
            if -index <= len(self.vm_options):
                return self.vm_options[-index - 1]
            return None
        if index == 0:
            return self.vm_path
        if index == 1:
            return self.image_name
        if 2 <= index < 1000:
            if index - 2 < len(self.image_args):
                return self.image_args[index - 2]
            return None
        if index == 1001:
            return "unix"
        if index == 1002:
            return "linux"
        if index == 1003:
            return "x86_64"
        from spyvm import version
        if index == 1004:
            return "CogXen " + version.VERSION
        if index == 1005:
            return "none"
        # 1006 the build, 1007 the interpreter ("interpreter class"), 1009 the
        # sources' version: Pharo's error log writes them (VirtualMachine>>version).
        # 1008 (the Cogit) belongs to Cog VMs only.
        if index == 1006:
            return "CogXen " + version.VERSION + " (RPython)"
        if index == 1007:
            return "CogXen Interpreter " + version.VERSION
        if index == 1009:
            return "VM: CogXen " + version.VERSION
        return None

    # --- method lookup --------------------------------------------------------

    def lookup(self, w_class, w_selector):
        """The method for selector in class or a superclass, or None."""
        cache = self.method_cache
        return self._lookup(cache.version, jit.promote(w_class), w_selector)

    @jit.elidable
    def _lookup(self, version, w_class, w_selector):
        by_selector = self.method_cache.by_selector
        by_class = by_selector.get(w_selector, None)
        if by_class is None:
            by_class = {}
            by_selector[w_selector] = by_class
        w_method = by_class.get(w_class, None)
        if w_method is None:
            w_method = self._lookup_uncached(w_class, w_selector)
            if w_method is None:
                return None
            by_class[w_class] = w_method
        return w_method

    def _lookup_uncached(self, w_class, w_selector):
        space = self.space
        depth = 0
        while isinstance(w_class, W_PointersObject) and depth < 10000:
            self.method_cache.note_path(w_class)
            if w_class.size() > constants.CLASS_METHODDICT:
                w_dict = w_class.fetch(space, constants.CLASS_METHODDICT)
                w_found = self._dict_lookup(w_dict, w_selector)
                if w_found is not None:
                    if isinstance(w_found, W_CompiledMethod) and \
                            w_found.lookup_name is None:
                        w_found.lookup_name = "%s>>%s" % (space.class_name(w_class),
                                                          _selector_name(w_selector))
                    return w_found
            w_class = space.superclass(w_class)
            depth += 1
        return None

    def _dict_lookup(self, w_dict, w_selector):
        space = self.space
        if not isinstance(w_dict, W_PointersObject):
            return None
        self.method_cache.note_path(w_dict)
        size = w_dict.size()
        if size <= constants.METHODDICT_FIXED:
            return None
        w_values = w_dict.fetch(space, constants.METHODDICT_VALUES)
        if not isinstance(w_values, W_PointersObject):
            return None
        self.method_cache.note_path(w_values)
        for i in range(constants.METHODDICT_FIXED, size):
            if w_dict.fetch(space, i) is w_selector:
                j = i - constants.METHODDICT_FIXED
                if j < w_values.size():
                    w_method = w_values.fetch(space, j)
                    if w_method is not space.w_nil:
                        return w_method
        return None

    def method_name(self, ctx):
        """Class>>selector of the method ctx runs (a block's: its method's), for
        messages."""
        w_method = ctx.w_method
        if w_method is not None:
            w_method = w_method.home_method()
        w_class, selector = self.find_method_owner(ctx.w_receiver.getclass(self.space),
                                                   w_method)
        return "%s>>%s" % (self.space.class_name(w_class), selector)

    def find_method_owner(self, w_class, w_method):
        """(class, selector) under which w_method is installed in w_class's hierarchy."""
        space = self.space
        depth = 0
        while isinstance(w_class, W_PointersObject) and depth < 10000:
            if w_class.size() > constants.CLASS_METHODDICT:
                w_dict = w_class.fetch(space, constants.CLASS_METHODDICT)
                if isinstance(w_dict, W_PointersObject) and \
                        w_dict.size() > constants.METHODDICT_FIXED:
                    w_values = w_dict.fetch(space, constants.METHODDICT_VALUES)
                    if isinstance(w_values, W_PointersObject):
                        for i in range(w_values.size()):
                            if w_values.fetch(space, i) is w_method and \
                                    i + constants.METHODDICT_FIXED < w_dict.size():
                                w_sel = w_dict.fetch(space, i + constants.METHODDICT_FIXED)
                                return w_class, _selector_name(w_sel)
            w_class = space.superclass(w_class)
            depth += 1
        return space.w_nil, "?"

    def flush_method_cache(self):
        self.method_cache.flush()

    def flush_selector(self, w_selector):
        self.method_cache.flush_selector(w_selector)

    # --- running --------------------------------------------------------------

    def run(self, ctx):
        """Run from ctx until TopLevelReturn or Exit propagates."""
        while True:
            try:
                self.loop(jit.hint(ctx, access_directly=True), None, 0)
            except rstackovf.StackOverflow:
                # room_to_nest leaves a margin; a primitive that recursed deep in
                # the last of it still ends here, not in a crash.
                raise VMFatal("the C stack is exhausted")
            except Unwind as u:
                # Control went to a context no running loop holds: it runs at the
                # outermost level.
                ctx = u.target
                if u.w_value is not None:
                    push_answer(ctx, u.w_value)

    def loop(self, ctx, w_caller, level):
        """Run ctx, a context called from w_caller (None: from outside any loop).

        Answers the value ctx returns to w_caller (None if control goes back to
        w_caller without a value); raises Unwind when control goes anywhere else.

        Each loop runs one context, so the JIT keeps that context's pc, stack
        pointer and stack in registers (it is the virtualizable). A method or
        block activation runs in a nested call (while room_to_nest allows: deeper
        ones are handed to the outermost loop): a nested call is a portal call,
        which the JIT inlines into the caller's trace or, when the callee is too
        big to inline or recursive, compiles on its own and calls. The green key
        is the bytecode position (method, pc); loops are entered at backward
        jumps and at method entries.
        """
        ctx = jit.hint(ctx, access_directly=True)
        w_method = ctx.w_method
        if w_method is not None and not ctx.fits_method():
            if ctx.sp > w_method.stack_size():
                # More live slots than the method's bytecodes can make (a context
                # built or edited by hand): laying it out would drop some.
                raise VMFatal("malformed context: stack pointer %d beyond the %d slots "
                              "of %s" % (ctx.sp, w_method.stack_size(), self.method_name(ctx)))
            ctx.fit_stack(self.space)
        while True:
            pc = ctx.pc
            w_method = ctx.w_method
            jitdriver.jit_merge_point(pc=pc, w_method=w_method, ctx=ctx, self=self,
                                      w_caller=w_caller, level=level)
            try:
                new_ctx = self.step_at(ctx, pc, w_method)
            except Unwind as u:
                # A linked context's return (target None) ends here too: its loop
                # runs with w_caller None.
                if u.target is w_caller:
                    return u.w_value
                # ctx may run again in another loop (its process resumed, a callee
                # returning to it): see _LEAVING_A_LOOP.
                ctx = jit.hint(ctx, force_virtualizable=True)
                raise
            if new_ctx is ctx:
                if ctx.pc < pc:
                    jitdriver.can_enter_jit(pc=ctx.pc, w_method=w_method, ctx=ctx,
                                            self=self, w_caller=w_caller, level=level)
                continue
            if new_ctx.w_sender is ctx and self.room_to_nest(level):
                w_value = self.run_callee(ctx, new_ctx, level)
                if w_value is not None:
                    push_answer(ctx, w_value)
                continue
            ctx = jit.hint(ctx, force_virtualizable=True)    # see _LEAVING_A_LOOP
            raise Unwind(new_ctx, None)

    def room_to_nest(self, level):
        # No probe below MAX_NESTING, nor between probes: a probe answers for
        # the NESTING_PROBE - 1 levels above it, and no level is reached without
        # passing the ones below. Branch-free, so that one trace serves every
        # level: a guard on the level made a recursion traced deep fail into a
        # bridge at every shallow level (or one traced shallow at every deep one).
        between = ((level - MAX_NESTING) & (NESTING_PROBE - 1)) | int(level < MAX_NESTING)
        return jit.conditional_call_elidable(between, probe_stack, level) != NO_ROOM

    def run_callee(self, ctx, new_ctx, level):
        """Run new_ctx, just activated by ctx, in a nested loop; answer the value it
        returns to ctx (None: control came back to ctx without one).

        new_ctx holds ctx by a virtual reference (linked) unless the image may
        hold ctx (escaped): when the JIT compiles the nested loop as a call, ctx
        can then stay in registers. The link lasts exactly as long as the nested
        loop: a callee that did not return (a process switch, an exception) keeps
        its sender as an ordinary reference, read while the reference is valid."""
        if ctx.escaped:
            return self.run_nested(ctx, new_ctx, ctx, level)
        vref = jit.virtual_ref(ctx)
        new_ctx.link_sender(vref)
        try:
            return self.run_nested(ctx, new_ctx, None, level)
        finally:
            new_ctx.sender()
            jit.virtual_ref_finish(vref, ctx)

    def run_nested(self, ctx, new_ctx, w_caller, level):
        try:
            # Both calls of loop pass a hinted context: one graph, one portal.
            return self.loop(jit.hint(new_ctx, access_directly=True), w_caller,
                             level + 1)
        except Unwind as u:
            if u.target is not ctx:
                raise
            return u.w_value

    def step(self, ctx):
        """Run ctx's next bytecode; answer the context to continue in (for tests:
        a return is carried out here, as the loops do it)."""
        try:
            return self.step_at(ctx, ctx.pc, ctx.w_method)
        except Unwind as u:
            if u.w_value is not None:
                push_answer(u.target, u.w_value)
            return u.target

    def step_at(self, ctx, pc, w_method):
        """Run the bytecode at pc of w_method: ctx's own pc and method, passed in so
        that traces see them as the constants (greens) they are."""
        self = jit.promote(self)
        # At a given position the stack depth is fixed: promoting it lets traces
        # address the stack with constants.
        jit.promote(ctx.sp)
        # One read of the quasi-immutable field: a trace records each read.
        code = w_method.code if w_method is not None else None
        if code is None or pc < 0 or pc >= len(code.bytes):
            raise VMFatal("context has no bytecode to run (pc %d)" % pc)
        try:
            if code.sista:
                return self.step_sista(ctx, pc, w_method, code.bytes)
            b = ord(code.bytes[pc])
            ctx.pc = pc + 1
            return self.dispatch.bytecodes[b](self, ctx, b)
        except StackUnderflow:
            raise VMFatal("malformed method: stack or temporary index out of range in %s"
                          % self.method_name(ctx))

    @jit.unroll_safe      # pc and method are constants in a trace: the prefixes fold
    def step_sista(self, ctx, pc, w_method, bytes):
        """A SistaV1 bytecode with its extA/extB prefixes (spyvm/bytecodes.py);
        bytes: w_method's."""
        b = ord(bytes[pc])
        pc += 1
        ext_a = 0
        ext_b = 0
        n_ext_b = 0
        count = 0
        while b == bytecodes.EXT_A or b == bytecodes.EXT_B:
            if pc + 1 >= len(bytes):
                raise VMFatal("malformed method: an extension prefix runs past the end "
                              "in %s" % self.method_name(ctx))
            if count >= stackdepth.MAX_EXTENSIONS:
                raise VMFatal("malformed method: more than %d extension prefixes in %s"
                              % (stackdepth.MAX_EXTENSIONS, self.method_name(ctx)))
            d = ord(bytes[pc])
            if b == bytecodes.EXT_A:
                ext_a = (ext_a << 8) + d
            elif n_ext_b == 0 and d > 127:
                ext_b = d - 256             # the first extB byte is signed
                n_ext_b += 1
            else:
                ext_b = (ext_b << 8) + d
                n_ext_b += 1
            count += 1
            b = ord(bytes[pc + 1])
            pc += 2
        ctx.pc = pc
        return self.dispatch.sista_bytecodes[b](self, ctx, b, ext_a, ext_b)

    def next_byte(self, ctx):
        pc = ctx.pc
        bytes = ctx.w_method.bytes
        if pc >= len(bytes):
            raise VMFatal("malformed method: bytecode runs past the end")
        ctx.pc = pc + 1
        return ord(bytes[pc])

    def interrupt_due(self):
        """At a send or a backward jump: is it time to look at interrupts?"""
        if self.alarm_works:
            return alarm.raised()
        self.interrupt_counter -= 1
        return self.interrupt_counter <= 0

    def entered(self, new_ctx):
        """new_ctx, a method or block activation, is about to run its first bytecode:
        a place where another process may take over (as Cog's stack-limit check in
        a frame's prologue). Answer the context to continue in."""
        if self.interrupt_due():
            return self.check_interrupts(new_ctx)
        return new_ctx

    def force_interrupt_check(self):
        """Look at interrupts at the next send or backward jump."""
        self.interrupt_counter = 0
        alarm.raise_flag()

    def signal_arrived(self):
        """Whether the alarm's flag is up (a signal, such as a stop request, came
        while the VM slept); if so, even a counting VM looks at the next send."""
        if alarm.raised():
            self.interrupt_counter = 0
            return True
        return False

    def set_wakeup(self, usecs):
        """Signal the timer semaphore at monotonic time usecs (0: never)."""
        self.next_wakeup_usecs = usecs
        self.arm_alarm(self.now_usecs())

    def next_deadline_usecs(self):
        """The earliest of the timer's and the shutdown hook's deadlines (0: none):
        when the VM must look at interrupts again, idle or not."""
        a = self.next_wakeup_usecs
        b = self.shutdown_deadline_usecs
        if a == 0 or (b != 0 and b < a):
            return b
        return a

    def arm_alarm(self, now):
        deadline = self.next_deadline_usecs()
        poll = self.next_poll_usecs
        if deadline == 0 or (poll != 0 and poll < deadline):
            deadline = poll
        if deadline != 0:
            alarm.arm(max(deadline - now, 1))
        else:
            alarm.arm(0)

    def set_shutdown_semaphore(self, w_sema):
        """The image's hook (a Semaphore, or None): signalled when the host asks the VM
        to stop; the VM then stops by itself SHUTDOWN_GRACE_USECS later at the latest.
        Without a hook, a stop request ends the VM as the host's default does."""
        self.w_shutdown_semaphore = w_sema
        alarm.catch_termination(w_sema is not None)

    def check_interrupts(self, ctx):
        """ctx is at a bytecode boundary: answer it, or the context of the process
        an interrupt makes run."""
        self.interrupt_counter = INTERRUPT_CHECK_COUNT
        requests = alarm.clear()
        if requests & alarm.PRINT_STACKS:
            self.print_all_stacks(ctx)
        if requests & alarm.TERMINATE:
            w_sema = self.shutdown_requested()
            return self.scheduler.synchronous_signal(w_sema, ctx)
        if self.pending_low_space is not None:
            w_sema = self.pending_low_space
            self.pending_low_space = None
            if self.next_deadline_usecs() != 0 or self.next_poll_usecs != 0 or \
                    self.pending_semaphores:
                self.force_interrupt_check()    # the rest is looked at next time
            return self.scheduler.synchronous_signal(w_sema, ctx)
        if self.next_poll_usecs != 0:
            now = self.now_usecs()
            if now >= self.next_poll_usecs:
                self.poll_io(0)
        if self.pending_semaphores:
            # One per check: the rest, and the timer, are looked at next time.
            w_sema = self.take_pending_semaphore()
            if self.pending_semaphores or self.next_deadline_usecs() != 0:
                self.force_interrupt_check()
            if w_sema is not None:
                return self.scheduler.synchronous_signal(w_sema, ctx)
        if self.next_deadline_usecs() == 0:
            return ctx
        now = self.now_usecs()
        if self.shutdown_deadline_usecs != 0 and now >= self.shutdown_deadline_usecs:
            raise self.stop_for_shutdown("the image's shutdown hook did not finish in time")
        if self.next_wakeup_usecs != 0 and now >= self.next_wakeup_usecs:
            self.next_wakeup_usecs = 0
            self.arm_alarm(now)
            w_sema = self.space.special(constants.SO_TIMER_SEMAPHORE)
            if isinstance(w_sema, W_PointersObject) and \
                    w_sema.getclass(self.space) is self.space.w_Semaphore:
                return self.scheduler.synchronous_signal(w_sema, ctx)
            return ctx
        # Early (another interval timer, or a clock's rounding): wait for the rest.
        self.arm_alarm(now)
        return ctx

    # --- external semaphores and I/O -------------------------------------------

    def signal_semaphore_with_index(self, index):
        """A plugin's event (a socket became ready): signal the index-th (1-based)
        object of the image's ExternalObjects array at the next interrupt check,
        if it is a Semaphore then."""
        if index > 0:
            self.pending_semaphores.append(index)
            self.force_interrupt_check()

    def take_pending_semaphore(self):
        """The Semaphore of the first pending index, or None if none names one."""
        space = self.space
        w_objects = space.special(constants.SO_EXTERNAL_OBJECTS_ARRAY)
        while self.pending_semaphores:
            index = self.pending_semaphores.pop(0)
            if not isinstance(w_objects, W_PointersObject) or index > w_objects.size():
                continue
            w_sema = w_objects.fetch(space, index - 1)
            if isinstance(w_sema, W_PointersObject) and \
                    w_sema.getclass(space) is space.w_Semaphore:
                return w_sema
        return None

    def watch_io(self):
        """A plugin armed a watcher (spyvm/aio.py): look at it from the interrupt
        check too, while processes run."""
        if self.next_poll_usecs == 0:
            now = self.now_usecs()
            self.next_poll_usecs = now + aio.POLL_INTERVAL_USECS
            self.arm_alarm(now)

    def poll_io(self, timeout_usecs):
        """Poll the watched descriptors, waiting up to timeout_usecs (-1: until one
        is ready or a signal comes); their handlers signal semaphores."""
        aio.watchers.poll(self, timeout_usecs)
        now = self.now_usecs()
        if aio.watchers.waiting():
            self.next_poll_usecs = now + aio.POLL_INTERVAL_USECS
        else:
            self.next_poll_usecs = 0
        self.arm_alarm(now)

    def shutdown_requested(self):
        """The host asked the VM to stop: answer the image's hook, given its time
        (the caller signals it), or stop now if there is none or it was asked
        before."""
        w_sema = self.w_shutdown_semaphore
        if w_sema is None or self.shutdown_deadline_usecs != 0:
            raise self.stop_for_shutdown("asked again")
        now = self.now_usecs()
        self.shutdown_deadline_usecs = now + SHUTDOWN_GRACE_USECS
        self.arm_alarm(now)
        self.force_interrupt_check()            # the timer is looked at next time
        return w_sema

    def stop_for_shutdown(self, why):
        """The Exit to raise, said on stderr."""
        from spyvm.platform import current
        current.write_stderr("cogxen: asked to stop (SIGTERM): %s: stopping\n" % why)
        return Exit(0)

    # --- sends ----------------------------------------------------------------

    def send(self, ctx, w_selector, argcount, w_lookup_class=None):
        """Send the message whose receiver and arguments are on ctx's stack."""
        # Constants in traces (special selectors come from an array).
        w_selector = jit.promote(w_selector)
        argcount = jit.promote(argcount)
        w_rcvr = ctx.peek(argcount)
        if w_lookup_class is None:
            w_lookup_class = w_rcvr.getclass(self.space)
        w_method = self.lookup(w_lookup_class, w_selector)
        if w_method is None:
            return self.does_not_understand(ctx, w_rcvr, w_selector, argcount,
                                            w_lookup_class)
        return self.invoke(ctx, w_method, w_rcvr, argcount, w_selector)

    def invoke(self, ctx, w_method, w_rcvr, argcount, w_selector):
        if not isinstance(w_method, W_CompiledMethod):
            return self.run_with_in(ctx, w_method, w_rcvr, argcount, w_selector)
        if w_method.num_args != argcount:
            raise VMFatal("method %s takes %d arguments, sent with %d"
                          % (_selector_name(w_selector), w_method.num_args, argcount))
        if w_method.reports_unhandled_error:
            raise UnhandledError(self.error_description(ctx, argcount),
                                 self.stack_trace(ctx))
        prim = w_method.primitive
        if prim != 0:
            if 256 <= prim <= 519:
                return self.quick_primitive(ctx, prim, w_rcvr, argcount)
            primitives = self.dispatch.primitives
            if prim < len(primitives):
                fn = primitives[prim]
                if fn is not None:
                    try:
                        return fn(self, ctx, argcount, w_method)
                    except PrimitiveFailed:
                        pass
                    except WrappingError:
                        pass
                    except MemoryError:
                        # The primitive fails; its fallback code sees low space.
                        self.low_on_memory()
        try:
            return self.activate(ctx, w_method, w_rcvr, argcount)
        except MemoryError:
            # Raised by the new context's allocation, before anything changed.
            self.low_on_memory()
            return self.activate(ctx, w_method, w_rcvr, argcount)

    @jit.dont_look_inside       # the JIT has no operation for the GC's heap limit
    def low_on_memory(self):
        """The GC reached the heap's soft limit: give the image the reserve and its
        low-space signal, or give up when the reserve is used up too."""
        from spyvm import memory
        if not memory.grant_reserve():
            raise MemoryError
        self.signal_low_space()

    def quick_primitive(self, ctx, prim, w_rcvr, argcount):
        space = self.space
        if prim == 256:
            w_result = w_rcvr
        elif prim == 257:
            w_result = space.w_true
        elif prim == 258:
            w_result = space.w_false
        elif prim == 259:
            w_result = space.w_nil
        elif prim <= 263:
            w_result = space.wrap_int(prim - 261)
        else:
            index = prim - 264
            if not (0 <= index < w_rcvr.size()) or \
                    isinstance(w_rcvr, model.W_BytesObject) or \
                    isinstance(w_rcvr, model.W_SmallInteger):
                raise VMFatal("quick primitive reads a missing instance variable")
            w_result = w_rcvr.fetch(space, index)
        ctx.pop_n(argcount + 1)
        ctx.push(w_result)
        return ctx

    @jit.unroll_safe
    def activate(self, ctx, w_method, w_rcvr, argcount):
        """A new MethodContext for w_method, arguments taken from ctx's stack."""
        space = self.space
        w_new = model.new_activation(space, w_method, w_rcvr, None, ctx, 0,
                                     self.next_depth(ctx))
        new_ctx = jit.hint(w_new, access_directly=True, fresh_virtualizable=True)
        num_temps = w_method.num_temps
        base = ctx.sp - argcount
        if base < 1 or argcount > new_ctx.slot_count():
            raise StackUnderflow
        for i in range(argcount):
            new_ctx.set_slot(i, ctx.get_slot(base + i))
        if num_temps < argcount:
            num_temps = argcount
        if num_temps > new_ctx.slot_count():
            raise StackUnderflow
        for i in range(argcount, num_temps):
            new_ctx.set_slot(i, space.w_nil)
        new_ctx.sp = num_temps
        ctx.pop_n(argcount + 1)
        # The unhinted reference: an interrupt may answer another process's context,
        # and the annotator must not see the two kinds of reference meet.
        return self.entered(w_new)

    def next_depth(self, ctx):
        """The depth of an activation called by ctx (checked against MAX_DEPTH)."""
        depth = ctx.depth + 1
        if depth > MAX_DEPTH:
            self.recursion_too_deep(depth)
        return depth

    def recursion_too_deep(self, depth):
        if depth > 2 * MAX_DEPTH:
            raise VMFatal("recursion deeper than %d activations" % (2 * MAX_DEPTH))
        self.signal_low_space()

    def signal_low_space(self):
        """Signal the image's low-space semaphore (once) at the next interrupt check."""
        if self.signalled_low_space:
            return
        space = self.space
        w_sema = space.special(constants.SO_LOW_SPACE_SEMAPHORE)
        if isinstance(w_sema, W_PointersObject) and \
                w_sema.getclass(space) is space.w_Semaphore:
            self.signalled_low_space = True
            w_active = self.scheduler.active_process()
            space.w_special_objects.store(space, constants.SO_PROCESS_SIGNALING_LOW_SPACE,
                                          w_active)
            self.pending_low_space = w_sema
            self.force_interrupt_check()

    @jit.unroll_safe
    def run_with_in(self, ctx, w_object, w_rcvr, argcount, w_selector):
        """An object that is not a CompiledMethod stands in a method dictionary."""
        space = self.space
        w_run = space.special(constants.SO_RUN_WITH_IN)
        w_found = self.lookup(w_object.getclass(space), w_run)
        if w_found is not None and not isinstance(w_found, W_CompiledMethod):
            # Its run:with:in: is not a method either: sending it would recurse forever.
            raise VMFatal("an object in a method dictionary has no run:with:in: method")
        w_args = space.wrap_list([ctx.peek(argcount - 1 - i) for i in range(argcount)])
        ctx.pop_n(argcount + 1)
        ctx.push(w_object)
        ctx.push(w_selector)
        ctx.push(w_args)
        ctx.push(w_rcvr)
        return self.send(ctx, w_run, 3)

    @jit.unroll_safe
    def does_not_understand(self, ctx, w_rcvr, w_selector, argcount, w_class):
        space = self.space
        w_args = space.wrap_list([ctx.peek(argcount - 1 - i) for i in range(argcount)])
        size = 2
        try:
            size = max(2, space.class_format(space.w_Message).inst_size)
        except WrappingError:
            pass
        w_message = W_PointersObject(space.w_Message, size, space.w_nil)
        w_message.slots[constants.MESSAGE_SELECTOR] = w_selector
        w_message.slots[constants.MESSAGE_ARGUMENTS] = w_args
        if size > constants.MESSAGE_LOOKUP_CLASS:
            w_message.slots[constants.MESSAGE_LOOKUP_CLASS] = w_class
        ctx.pop_n(argcount)
        ctx.push(w_message)
        w_dnu = space.special(constants.SO_DOES_NOT_UNDERSTAND)
        w_method = self.lookup(w_class, w_dnu)
        if w_method is None:
            raise VMFatal("%s does not understand #%s, nor #doesNotUnderstand:"
                          % (space.class_name(w_class), _selector_name(w_selector)))
        return self.invoke(ctx, w_method, w_rcvr, 1, w_dnu)

    @jit.unroll_safe
    def error_description(self, ctx, argcount):
        """The first String argument of a debugger-opening send: the error's label."""
        for i in range(argcount - 1, -1, -1):
            w_arg = ctx.peek(i)
            if isinstance(w_arg, model.W_BytesObject) and \
                    w_arg.getclass(self.space) is self.space.w_String:
                return w_arg.as_string()
        return "unhandled error"

    @jit.dont_look_inside
    def stack_trace(self, ctx, limit=40):
        """Lines naming the methods on ctx's sender chain, innermost first."""
        space = self.space
        lines = []
        w_c = ctx
        while isinstance(w_c, W_Context) and len(lines) < limit:
            w_method = w_c.w_method
            if w_method is not None:
                w_rcvr_class = w_c.w_receiver.getclass(space)
                prefix = "[] in " if w_c.is_block_context or \
                    w_c.w_closure is not space.w_nil else ""
                w_class, selector = self.find_method_owner(w_rcvr_class,
                                                           w_method.home_method())
                owner = ""
                if w_class is not w_rcvr_class:
                    owner = "(%s)" % space.class_name(w_class)
                lines.append("%s%s%s>>%s" % (
                    prefix, space.class_name(w_rcvr_class), owner, selector))
            w_c = w_c.sender()
        return lines

    @jit.dont_look_inside
    def print_all_stacks(self, ctx):
        """Every process's stack on stderr, the active one (running ctx) first, as
        the OpenSmalltalk VM answers SIGUSR1. Waiting processes are found by a heap
        walk: a Semaphore's waiters are in no list the VM keeps."""
        from spyvm import heap
        from spyvm.platform import current
        space = self.space
        w_active = self.scheduler.active_process()
        out = ["cogxen: the stacks of all processes (SIGUSR1)\n"]
        out.append(self.describe_process(w_active, ctx, "active"))
        w_process_class = space.w_Process
        if w_process_class is not None:
            for w_process in heap.all_instances(self, w_process_class):
                if w_process is w_active or not isinstance(w_process, W_PointersObject) \
                        or w_process.size() <= constants.PROCESS_MY_LIST:
                    continue
                w_ctx = w_process.fetch(space, constants.PROCESS_SUSPENDED_CONTEXT)
                if not isinstance(w_ctx, W_Context) or w_ctx.is_dead():
                    continue                    # terminated, or never started
                out.append(self.describe_process(w_process, w_ctx,
                                                 self.where_process_waits(w_process)))
        current.write_stderr("".join(out))

    def where_process_waits(self, w_process):
        space = self.space
        w_list = w_process.fetch(space, constants.PROCESS_MY_LIST)
        if w_list is space.w_nil:
            return "suspended"
        if w_list.getclass(space) is space.w_Semaphore:
            return "waiting on a Semaphore"
        return "runnable"

    def describe_process(self, w_process, w_ctx, state):
        space = self.space
        w_priority = w_process.fetch(space, constants.PROCESS_PRIORITY)
        priority = w_priority.value if isinstance(w_priority, W_SmallInteger) else -1
        lines = ["\nProcess priority %d, %s:\n" % (priority, state)]
        for line in self.stack_trace(w_ctx):
            lines.append("    %s\n" % line)
        return "".join(lines)

    # --- returns --------------------------------------------------------------

    def is_top_context(self, w_ctx):
        # Not `w_ctx is self.top_context`: while the annotator still knows
        # top_context as None only, that test narrows a virtualizable w_ctx to an
        # annotation without its access_directly flag, which it cannot widen later.
        w_top = self.top_context
        return w_top is not None and w_ctx is w_top

    @jit.unroll_safe
    def return_to(self, ctx, w_value, w_target):
        """Return w_value from ctx to w_target, which must be ctx's sender or above it.

        Contexts left behind are marked dead (nil sender and pc) so a later return
        into them is detected as cannotReturn:.
        """
        space = self.space
        if not isinstance(w_target, W_Context) or w_target.is_dead():
            if self.is_top_context(ctx):
                raise TopLevelReturn(w_value)
            return self.cannot_return(ctx, w_value)
        # The target must be on the sender chain.
        w_c = ctx.sender()
        w_unwind = None
        while w_c is not w_target:
            if not isinstance(w_c, W_Context):
                return self.cannot_return(ctx, w_value)
            if w_unwind is None and w_c.w_method is not None and \
                    w_c.w_method.primitive == 198:
                w_unwind = w_c
            w_c = w_c.sender()
        if w_unwind is not None:
            return self.about_to_return(ctx, w_value, w_unwind)
        w_c = ctx
        while w_c is not w_target:
            assert isinstance(w_c, W_Context)
            w_next = w_c.sender()
            w_c.mark_dead(space)
            w_c = w_next
        if w_target is self.top_context:
            w_target.push(w_value)
            raise TopLevelReturn(w_value)
        raise Unwind(w_target, w_value)

    def local_return(self, ctx, w_value):
        """Return to the sender (method return, or a block's return to its caller)."""
        # Linked (w_sender None): the sender is the calling loop's context, running
        # and so alive, and not held by the image (see run_callee); the return goes
        # to that loop (Unwind target None) without touching it.
        w_sender = ctx.w_sender
        if w_sender is not None and (not isinstance(w_sender, W_Context) or
                                     w_sender.is_dead()):
            return self.cannot_return(ctx, w_value)
        ctx.mark_dead(self.space)
        ctx.pc = -1
        if w_sender is not None and w_sender is self.top_context:
            w_sender.push(w_value)
            raise TopLevelReturn(w_value)
        raise Unwind(w_sender, w_value)

    def method_return(self, ctx, w_value):
        """^ value: from a method, or non-locally from a block to its home's sender."""
        if ctx.is_block_context:
            w_home = ctx.w_home
            if not isinstance(w_home, W_Context) or w_home.is_dead():
                return self.cannot_return(ctx, w_value)
            return self.return_to(ctx, w_value, w_home.sender())
        if ctx.w_closure is self.space.w_nil or not self.space.uses_closures:
            return self.local_return(ctx, w_value)
        w_home = self.closure_home(ctx)
        if w_home is None or w_home.is_dead():
            return self.cannot_return(ctx, w_value)
        return self.return_to(ctx, w_value, w_home.sender())

    @jit.unroll_safe
    def closure_home(self, ctx):
        """The method context a closure activation was created in (its outermost)."""
        space = self.space
        w_c = ctx
        depth = 0
        while isinstance(w_c, W_Context) and depth < 100000:
            w_closure = w_c.w_closure
            if w_closure is space.w_nil:
                return w_c
            if not isinstance(w_closure, W_PointersObject) or w_closure.size() < 1:
                return None
            w_c = w_closure.fetch(space, constants.CLOSURE_OUTER_CONTEXT)
            depth += 1
        return None

    def cannot_return(self, ctx, w_value):
        ctx.mark_escaped()
        ctx.push(ctx)
        ctx.push(w_value)
        return self.send(ctx, self.space.special(constants.SO_CANNOT_RETURN), 1)

    def about_to_return(self, ctx, w_value, w_unwind):
        ctx.mark_escaped()
        ctx.push(ctx)
        ctx.push(w_value)
        ctx.push(w_unwind)
        return self.send(ctx, self.space.special(constants.SO_ABOUT_TO_RETURN), 2)

    # --- helpers for primitives -------------------------------------------------

    def must_be_boolean(self, ctx, w_value):
        ctx.push(w_value)
        return self.send(ctx, self.space.special(constants.SO_MUST_BE_BOOLEAN), 0)

    def base_context(self, w_rcvr, args_w):
        """A context holding receiver and arguments of a send the VM makes.

        The VM stops when an answer is returned into it. Its own code only runs
        if an image saved during such a send is resumed later: when the send
        completes there, `Smalltalk quitPrimitive` ends the run.
        """
        space = self.space
        w_method = W_CompiledMethod(space.w_CompiledMethod, space.word_size,
                                    space.new_method_header)
        w_quit = self.symbol("quitPrimitive")
        if w_quit is None:
            w_method.literals = [space.w_nil, space.w_nil]
            w_method.set_bytes("\x7c")                     # returnTop
        else:
            w_method.literals = [space.special(constants.SO_SMALLTALK), w_quit,
                                 space.w_nil, space.w_nil]
            # pop the answer; push literal 0; send literal 1; returnTop
            w_method.set_bytes("\x87\x20\xd1\x7c")
        w_method.set_header(w_method.header_for(len(w_method.literals)))
        ctx = W_Context(space, space.w_MethodContext, False, len(args_w) + 4)
        ctx.w_method = w_method
        ctx.w_slot_method = w_method
        ctx.w_receiver = space.w_nil
        ctx.start_at(0)
        ctx.push(w_rcvr)
        for w_arg in args_w:
            ctx.push(w_arg)
        return ctx

    def perform(self, w_rcvr, selector, args_w):
        """Send a message from outside the image and run until it answers.

        The computation runs in the active process; other processes run as the
        image's scheduling demands. Returns the answer, raises Exit on quit.
        """
        space = self.space
        w_selector = self.symbol(selector)
        if w_selector is None:
            raise VMFatal("the image has no symbol #%s" % selector)
        base = self.base_context(w_rcvr, args_w)
        previous_top = self.top_context
        self.top_context = base
        try:
            ctx = self.send(base, w_selector, len(args_w))
            if ctx is base:          # answered by a primitive
                return base.top()
            self.run(ctx)
        except TopLevelReturn as ret:
            return ret.w_value
        finally:
            self.top_context = previous_top
        return space.w_nil

    def symbol(self, name):
        """The image's Symbol for name, found through the symbol table or method dicts."""
        cache = self.symbol_cache()
        return cache.get(name, None)

    def symbol_cache(self):
        if self._symbols is None:
            self._symbols = {}
            image = self.image
            if image is not None:
                w_symbol_class = self.space.special(constants.SO_DOES_NOT_UNDERSTAND).getclass(self.space)
                for w_obj in image.objects_w:
                    if isinstance(w_obj, model.W_BytesObject) and \
                            w_obj.getclass(self.space) is w_symbol_class:
                        self._symbols[w_obj.as_string()] = w_obj
        return self._symbols

    _symbols = None


def _selector_name(w_selector):
    if isinstance(w_selector, model.W_BytesObject):
        return w_selector.as_string()
    return "?"


# --- bytecodes ---------------------------------------------------------------------


def _literal(ctx, index):
    lits = jit.promote(ctx.w_method).literals
    if index >= len(lits):
        raise StackUnderflow
    return lits[index]


def _receiver_var(interp, ctx, index):
    w_rcvr = ctx.w_receiver
    if isinstance(w_rcvr, W_PointersObject) or isinstance(w_rcvr, W_Context):
        if 0 <= index < w_rcvr.size():
            return w_rcvr.fetch(interp.space, index)
    raise StackUnderflow


def _store_receiver_var(interp, ctx, index, w_value):
    w_rcvr = ctx.w_receiver
    if isinstance(w_rcvr, W_PointersObject) or isinstance(w_rcvr, W_Context):
        if 0 <= index < w_rcvr.size():
            w_rcvr.store(interp.space, index, w_value)
            return
    raise StackUnderflow


def _assoc_value(interp, w_assoc):
    if isinstance(w_assoc, W_PointersObject) and w_assoc.size() > 1:
        return w_assoc.fetch(interp.space, constants.ASSOCIATION_VALUE)
    raise StackUnderflow


def _store_assoc_value(interp, w_assoc, w_value):
    if isinstance(w_assoc, W_PointersObject) and w_assoc.size() > 1:
        w_assoc.store(interp.space, constants.ASSOCIATION_VALUE, w_value)
        return
    raise StackUnderflow


def bc_push_receiver_variable(interp, ctx, b):
    ctx.push(_receiver_var(interp, ctx, b & 15))
    return ctx


def bc_push_temp(interp, ctx, b):
    ctx.push(ctx.gettemp(b & 15))
    return ctx


def bc_push_literal_constant(interp, ctx, b):
    ctx.push(_literal(ctx, b & 31))
    return ctx


def bc_push_literal_variable(interp, ctx, b):
    ctx.push(_assoc_value(interp, _literal(ctx, b & 31)))
    return ctx


def bc_pop_store_receiver_variable(interp, ctx, b):
    _store_receiver_var(interp, ctx, b & 7, ctx.pop())
    return ctx


def bc_pop_store_temp(interp, ctx, b):
    ctx.settemp(b & 7, ctx.pop())
    return ctx


# The SmallIntegers -1, 0, 1, 2 that bytecodes 116-119 push: shared (constants in
# traces), not allocated.
W_MINUS_ONE = W_SmallInteger(-1)
W_ZERO = W_SmallInteger(0)
W_ONE = W_SmallInteger(1)
W_TWO = W_SmallInteger(2)


def _small_constant(b):
    if b == 116:
        return W_MINUS_ONE
    if b == 117:
        return W_ZERO
    if b == 118:
        return W_ONE
    return W_TWO


def bc_push_special(interp, ctx, b):
    space = interp.space
    if b == 112:
        ctx.push(ctx.w_receiver)
    elif b == 113:
        ctx.push(space.w_true)
    elif b == 114:
        ctx.push(space.w_false)
    elif b == 115:
        ctx.push(space.w_nil)
    else:
        ctx.push(_small_constant(b))
    return ctx


def bc_return_special(interp, ctx, b):
    space = interp.space
    if b == 120:
        w_value = ctx.w_receiver
    elif b == 121:
        w_value = space.w_true
    elif b == 122:
        w_value = space.w_false
    elif b == 123:
        w_value = space.w_nil
    else:
        w_value = ctx.pop()
    return interp.method_return(ctx, w_value)


def bc_block_return(interp, ctx, b):
    return interp.local_return(ctx, ctx.pop())


def bc_unknown(interp, ctx, b):
    raise VMFatal("unknown bytecode %d" % b)


def bc_extended_push(interp, ctx, b):
    d = interp.next_byte(ctx)
    kind = (d >> 6) & 3
    index = d & 63
    if kind == 0:
        ctx.push(_receiver_var(interp, ctx, index))
    elif kind == 1:
        ctx.push(ctx.gettemp(index))
    elif kind == 2:
        ctx.push(_literal(ctx, index))
    else:
        ctx.push(_assoc_value(interp, _literal(ctx, index)))
    return ctx


def _extended_store(interp, ctx, d, w_value):
    kind = (d >> 6) & 3
    index = d & 63
    if kind == 0:
        _store_receiver_var(interp, ctx, index, w_value)
    elif kind == 1:
        ctx.settemp(index, w_value)
    elif kind == 2:
        raise VMFatal("illegal store into a literal constant")
    else:
        _store_assoc_value(interp, _literal(ctx, index), w_value)


def bc_extended_store(interp, ctx, b):
    d = interp.next_byte(ctx)
    _extended_store(interp, ctx, d, ctx.top())
    return ctx


def bc_extended_pop_store(interp, ctx, b):
    d = interp.next_byte(ctx)
    _extended_store(interp, ctx, d, ctx.pop())
    return ctx


def bc_single_extended_send(interp, ctx, b):
    d = interp.next_byte(ctx)
    return interp.send(ctx, _literal(ctx, d & 31), d >> 5)


def bc_double_extended_do_anything(interp, ctx, b):
    d1 = interp.next_byte(ctx)
    d2 = interp.next_byte(ctx)
    op = d1 >> 5
    if op == 0:
        return interp.send(ctx, _literal(ctx, d2), d1 & 31)
    if op == 1:
        return _super_send(interp, ctx, _literal(ctx, d2), d1 & 31)
    if op == 2:
        ctx.push(_receiver_var(interp, ctx, d2))
    elif op == 3:
        ctx.push(_literal(ctx, d2))
    elif op == 4:
        ctx.push(_assoc_value(interp, _literal(ctx, d2)))
    elif op == 5:
        _store_receiver_var(interp, ctx, d2, ctx.top())
    elif op == 6:
        _store_receiver_var(interp, ctx, d2, ctx.pop())
    else:
        _store_assoc_value(interp, _literal(ctx, d2), ctx.top())
    return ctx


def _super_send(interp, ctx, w_selector, argcount):
    w_class = jit.promote(ctx.w_method).home_method().method_class(interp.space)
    w_super = interp.space.superclass(w_class)
    return interp.send(ctx, w_selector, argcount, w_super)


def bc_single_extended_super(interp, ctx, b):
    d = interp.next_byte(ctx)
    return _super_send(interp, ctx, _literal(ctx, d & 31), d >> 5)


def bc_second_extended_send(interp, ctx, b):
    d = interp.next_byte(ctx)
    return interp.send(ctx, _literal(ctx, d & 63), d >> 6)


def bc_pop(interp, ctx, b):
    ctx.pop()
    return ctx


def bc_dup(interp, ctx, b):
    ctx.push(ctx.top())
    return ctx


def bc_push_this_context(interp, ctx, b):
    ctx.mark_escaped()
    ctx.push(ctx)
    return ctx


def bc_push_new_array(interp, ctx, b):
    return _push_new_array(interp, ctx, interp.next_byte(ctx))


@jit.unroll_safe
def _push_new_array(interp, ctx, d):
    """An Array of d & 127 nils, or (d & 128) of as many values popped."""
    size = d & 127
    space = interp.space
    w_array = W_PointersObject(space.w_Array, size, space.w_nil)
    if d & 128:
        for i in range(size - 1, -1, -1):
            w_array.slots[i] = ctx.pop()
    ctx.push(w_array)
    return ctx


def bc_call_primitive(interp, ctx, b):
    # The primitive ran (and failed) before the method was activated: skip it.
    interp.next_byte(ctx)
    interp.next_byte(ctx)
    return ctx


def _temp_vector(interp, ctx, index):
    w_vector = ctx.gettemp(index)
    if not isinstance(w_vector, W_PointersObject):
        raise VMFatal("temp vector is not an Array")
    return w_vector


def bc_push_remote_temp(interp, ctx, b):
    return _push_remote_temp(interp, ctx)


def bc_store_remote_temp(interp, ctx, b):
    return _store_remote_temp(interp, ctx)


def bc_pop_store_remote_temp(interp, ctx, b):
    return _pop_store_remote_temp(interp, ctx)


def _push_remote_temp(interp, ctx):
    i = interp.next_byte(ctx)
    w_vector = _temp_vector(interp, ctx, interp.next_byte(ctx))
    if i >= w_vector.size():
        raise StackUnderflow
    ctx.push(w_vector.fetch(interp.space, i))
    return ctx


def _store_remote_temp(interp, ctx):
    i = interp.next_byte(ctx)
    w_vector = _temp_vector(interp, ctx, interp.next_byte(ctx))
    if i >= w_vector.size():
        raise StackUnderflow
    w_vector.store(interp.space, i, ctx.top())
    return ctx


def _pop_store_remote_temp(interp, ctx):
    i = interp.next_byte(ctx)
    w_vector = _temp_vector(interp, ctx, interp.next_byte(ctx))
    if i >= w_vector.size():
        raise StackUnderflow
    w_vector.store(interp.space, i, ctx.pop())
    return ctx


def bc_push_closure(interp, ctx, b):
    d = interp.next_byte(ctx)
    hi = interp.next_byte(ctx)
    lo = interp.next_byte(ctx)
    return _push_closure_copy(interp, ctx, d >> 4, d & 15, (hi << 8) | lo)


@jit.unroll_safe
def _push_closure_copy(interp, ctx, num_copied, num_args, block_size):
    """A BlockClosure whose code follows in this method (block_size bytes)."""
    space = interp.space
    w_closure = W_PointersObject(space.w_BlockClosure,
                                 constants.CLOSURE_FIXED_SIZE + num_copied, space.w_nil)
    ctx.mark_escaped()
    w_closure.slots[constants.CLOSURE_OUTER_CONTEXT] = ctx
    w_closure.slots[constants.CLOSURE_STARTPC] = space.wrap_int(
        ctx.pc + ctx.w_method.literal_bytes() + 1)
    w_closure.slots[constants.CLOSURE_NUMARGS] = space.wrap_int(num_args)
    for i in range(num_copied - 1, -1, -1):
        w_closure.slots[constants.CLOSURE_FIXED_SIZE + i] = ctx.pop()
    ctx.pc += block_size
    ctx.push(w_closure)
    return ctx


def _jump(interp, ctx, offset):
    ctx.pc += offset
    if offset < 0 and interp.interrupt_due():
        return interp.check_interrupts(ctx)
    return ctx


def bc_short_jump(interp, ctx, b):
    return _jump(interp, ctx, (b & 7) + 1)


def _conditional(interp, ctx, when, offset):
    space = interp.space
    w_value = ctx.pop()
    if w_value is space.w_true:
        if when:
            ctx.pc += offset
    elif w_value is space.w_false:
        if not when:
            ctx.pc += offset
    else:
        return interp.must_be_boolean(ctx, w_value)
    return ctx


def bc_short_jump_if_false(interp, ctx, b):
    return _conditional(interp, ctx, False, (b & 7) + 1)


def bc_long_jump(interp, ctx, b):
    d = interp.next_byte(ctx)
    return _jump(interp, ctx, ((b & 7) - 4) * 256 + d)


def bc_long_jump_if_true(interp, ctx, b):
    d = interp.next_byte(ctx)
    return _conditional(interp, ctx, True, (b & 3) * 256 + d)


def bc_long_jump_if_false(interp, ctx, b):
    d = interp.next_byte(ctx)
    return _conditional(interp, ctx, False, (b & 3) * 256 + d)


def _special_send(interp, ctx, index):
    space = interp.space
    argcount = space.special_argcounts[index]
    if argcount < 0:
        raise VMFatal("no special selector %d" % index)
    return interp.send(ctx, space.special_selectors[index], argcount)


def bc_arithmetic_send(interp, ctx, b):
    return _arithmetic_send(interp, ctx, b - 176)


def _arithmetic_send(interp, ctx, index):
    w_arg = ctx.peek(0)
    w_rcvr = ctx.peek(1)
    if isinstance(w_rcvr, W_SmallInteger) and isinstance(w_arg, W_SmallInteger):
        w_result = _smallint_op(interp.space, index, w_rcvr.value, w_arg.value)
        if w_result is not None:
            ctx.pop_n(2)
            ctx.push(w_result)
            return ctx
    elif isinstance(w_rcvr, model.W_Float) or isinstance(w_arg, model.W_Float):
        w_result = _float_op(interp.space, index, w_rcvr, w_arg)
        if w_result is not None:
            ctx.pop_n(2)
            ctx.push(w_result)
            return ctx
    return _special_send(interp, ctx, index)


def _smallint_op(space, index, a, b):
    """The SmallInteger fast path of the arithmetic special sends; None to send."""
    # Results outside SmallInteger range are left to the send (the image's classes).
    if index == 0:
        r = a + b
        if space.is_small_int(r):
            return W_SmallInteger(r)
        return None
    if index == 1:
        r = a - b
        if space.is_small_int(r):
            return W_SmallInteger(r)
        return None
    if index == 2:
        return space.wrap_bool(a < b)
    if index == 3:
        return space.wrap_bool(a > b)
    if index == 4:
        return space.wrap_bool(a <= b)
    if index == 5:
        return space.wrap_bool(a >= b)
    if index == 6:
        return space.wrap_bool(a == b)
    if index == 7:
        return space.wrap_bool(a != b)
    if index == 8:
        try:
            r = ovfcheck(a * b)
        except OverflowError:
            return None
        if space.is_small_int(r):
            return W_SmallInteger(r)
        return None
    if index == 9:
        if b != 0 and a % b == 0 and space.is_small_int(a // b):
            return W_SmallInteger(a // b)
        return None
    if index == 10:
        if b != 0:
            return W_SmallInteger(a % b)
        return None
    if index == 12:
        from spyvm.primitives.arithmetic import bit_shift
        return bit_shift(space, a, b)
    if index == 13:
        if b != 0 and space.is_small_int(a // b):
            return W_SmallInteger(a // b)
        return None
    if index == 14:
        return W_SmallInteger(a & b)
    if index == 15:
        return W_SmallInteger(a | b)
    return None


def _float_op(space, index, w_rcvr, w_arg):
    from spyvm.primitives.arithmetic import float_value
    a = float_value(space, w_rcvr)
    b = float_value(space, w_arg)
    if a is None or b is None:
        return None
    return _float_op_values(space, index, a.value, b.value)


def _float_op_values(space, index, a, b):
    if index == 0:
        return space.wrap_float(a + b)
    if index == 1:
        return space.wrap_float(a - b)
    if index == 2:
        return space.wrap_bool(a < b)
    if index == 3:
        return space.wrap_bool(a > b)
    if index == 4:
        return space.wrap_bool(a <= b)
    if index == 5:
        return space.wrap_bool(a >= b)
    if index == 6:
        return space.wrap_bool(a == b)
    if index == 7:
        return space.wrap_bool(a != b)
    if index == 8:
        return space.wrap_float(a * b)
    if index == 9:
        if b == 0.0:
            return None
        return space.wrap_float(a / b)
    return None


def bc_common_send(interp, ctx, b):
    return _common_send(interp, ctx, b - 176)


def _common_send(interp, ctx, index):
    space = interp.space
    if index == 22:       # == never sends
        w_arg = ctx.pop()
        w_rcvr = ctx.pop()
        ctx.push(space.wrap_bool(w_rcvr.is_same_object(w_arg)))
        return ctx
    if index == 23:       # class never sends
        ctx.push(ctx.pop().getclass(space))
        return ctx
    return _special_send(interp, ctx, index)


def bc_send_literal_0(interp, ctx, b):
    return interp.send(ctx, _literal(ctx, b & 15), 0)


def bc_send_literal_1(interp, ctx, b):
    return interp.send(ctx, _literal(ctx, b & 15), 1)


def bc_send_literal_2(interp, ctx, b):
    return interp.send(ctx, _literal(ctx, b & 15), 2)


V3_HANDLERS = {
    "pushReceiverVariable": bc_push_receiver_variable,
    "pushTemporaryVariable": bc_push_temp,
    "pushLiteralConstant": bc_push_literal_constant,
    "pushLiteralVariable": bc_push_literal_variable,
    "storeAndPopReceiverVariable": bc_pop_store_receiver_variable,
    "storeAndPopTemporaryVariable": bc_pop_store_temp,
    "pushConstant": bc_push_special,
    "returnSpecial": bc_return_special,
    "blockReturn": bc_block_return,
    "unknownBytecode": bc_unknown,
    "extendedPush": bc_extended_push,
    "extendedStore": bc_extended_store,
    "extendedStoreAndPop": bc_extended_pop_store,
    "singleExtendedSend": bc_single_extended_send,
    "doubleExtendedDoAnything": bc_double_extended_do_anything,
    "singleExtendedSuper": bc_single_extended_super,
    "secondExtendedSend": bc_second_extended_send,
    "popStack": bc_pop,
    "duplicateTop": bc_dup,
    "pushActiveContext": bc_push_this_context,
    "pushNewArray": bc_push_new_array,
    "callPrimitive": bc_call_primitive,
    "pushRemoteTemp": bc_push_remote_temp,
    "storeRemoteTemp": bc_store_remote_temp,
    "storeAndPopRemoteTemp": bc_pop_store_remote_temp,
    "pushClosureCopy": bc_push_closure,
    "shortUnconditionalJump": bc_short_jump,
    "shortConditionalJumpFalse": bc_short_jump_if_false,
    "longUnconditionalJump": bc_long_jump,
    "longJumpIfTrue": bc_long_jump_if_true,
    "longJumpIfFalse": bc_long_jump_if_false,
    "sendArithmeticSelector": bc_arithmetic_send,
    "sendSpecialSelector": bc_common_send,
    "sendLiteralSelector0Args": bc_send_literal_0,
    "sendLiteralSelector1Arg": bc_send_literal_1,
    "sendLiteralSelector2Args": bc_send_literal_2,
}

BYTECODE_TABLE = bytecodes.build_dispatch(bytecodes.V3_NAMES, V3_HANDLERS)


# --- SistaV1 ------------------------------------------------------------------------
# Handlers take the extA and extB the prefixes before the bytecode accumulated
# (Interpreter.step_sista); bytecodes without an extended operand ignore them.


def sbc_push_receiver_variable(interp, ctx, b, ext_a, ext_b):
    ctx.push(_receiver_var(interp, ctx, b & 15))
    return ctx


def sbc_push_literal_variable(interp, ctx, b, ext_a, ext_b):
    ctx.push(_assoc_value(interp, _literal(ctx, b & 15)))
    return ctx


def sbc_push_literal_constant(interp, ctx, b, ext_a, ext_b):
    ctx.push(_literal(ctx, b & 31))
    return ctx


def sbc_push_temp(interp, ctx, b, ext_a, ext_b):
    ctx.push(ctx.gettemp(b - 64))
    return ctx


def sbc_push_constant(interp, ctx, b, ext_a, ext_b):
    space = interp.space
    if b == 76:
        ctx.push(ctx.w_receiver)
    elif b == 77:
        ctx.push(space.w_true)
    elif b == 78:
        ctx.push(space.w_false)
    elif b == 79:
        ctx.push(space.w_nil)
    elif b == 80:
        ctx.push(W_ZERO)
    else:
        ctx.push(W_ONE)
    return ctx


def sbc_push_pseudo_variable(interp, ctx, b, ext_a, ext_b):
    if ext_b != 0:
        raise VMFatal("malformed method: pseudo-variable %d in %s"
                      % (ext_b, interp.method_name(ctx)))
    ctx.mark_escaped()
    ctx.push(ctx)
    return ctx


def sbc_dup(interp, ctx, b, ext_a, ext_b):
    ctx.push(ctx.top())
    return ctx


def sbc_return_special(interp, ctx, b, ext_a, ext_b):
    # 88-92 return what V3's 120-124 return.
    return bc_return_special(interp, ctx, b + 32)


def sbc_block_return_nil(interp, ctx, b, ext_a, ext_b):
    return interp.local_return(ctx, interp.space.w_nil)


def sbc_block_return(interp, ctx, b, ext_a, ext_b):
    return interp.local_return(ctx, ctx.pop())


def sbc_nop(interp, ctx, b, ext_a, ext_b):
    return ctx


def sbc_arithmetic_send(interp, ctx, b, ext_a, ext_b):
    return _arithmetic_send(interp, ctx, b - 96)


def sbc_common_send(interp, ctx, b, ext_a, ext_b):
    return _common_send(interp, ctx, b - 96)


def sbc_send_literal_0(interp, ctx, b, ext_a, ext_b):
    return interp.send(ctx, _literal(ctx, b & 15), 0)


def sbc_send_literal_1(interp, ctx, b, ext_a, ext_b):
    return interp.send(ctx, _literal(ctx, b & 15), 1)


def sbc_send_literal_2(interp, ctx, b, ext_a, ext_b):
    return interp.send(ctx, _literal(ctx, b & 15), 2)


def sbc_short_jump(interp, ctx, b, ext_a, ext_b):
    return _jump(interp, ctx, (b & 7) + 1)


def sbc_short_jump_if_true(interp, ctx, b, ext_a, ext_b):
    return _conditional(interp, ctx, True, (b & 7) + 1)


def sbc_short_jump_if_false(interp, ctx, b, ext_a, ext_b):
    return _conditional(interp, ctx, False, (b & 7) + 1)


def sbc_pop_store_receiver_variable(interp, ctx, b, ext_a, ext_b):
    _store_receiver_var(interp, ctx, b & 7, ctx.pop())
    return ctx


def sbc_pop_store_temp(interp, ctx, b, ext_a, ext_b):
    ctx.settemp(b & 7, ctx.pop())
    return ctx


def sbc_pop(interp, ctx, b, ext_a, ext_b):
    ctx.pop()
    return ctx


def sbc_trap(interp, ctx, b, ext_a, ext_b):
    raise VMFatal("unconditional trap (bytecode 217) in %s" % interp.method_name(ctx))


def sbc_unknown(interp, ctx, b, ext_a, ext_b):
    raise VMFatal("malformed method: unknown SistaV1 bytecode %d in %s"
                  % (b, interp.method_name(ctx)))


def sbc_ext_push_receiver_variable(interp, ctx, b, ext_a, ext_b):
    ctx.push(_receiver_var(interp, ctx, interp.next_byte(ctx) + (ext_a << 8)))
    return ctx


def sbc_ext_push_literal_variable(interp, ctx, b, ext_a, ext_b):
    index = interp.next_byte(ctx) + (ext_a << 8)
    ctx.push(_assoc_value(interp, _literal(ctx, index)))
    return ctx


def sbc_ext_push_literal(interp, ctx, b, ext_a, ext_b):
    ctx.push(_literal(ctx, interp.next_byte(ctx) + (ext_a << 8)))
    return ctx


def sbc_long_push_temp(interp, ctx, b, ext_a, ext_b):
    ctx.push(ctx.gettemp(interp.next_byte(ctx)))
    return ctx


def sbc_push_new_array(interp, ctx, b, ext_a, ext_b):
    return _push_new_array(interp, ctx, interp.next_byte(ctx))


def sbc_push_integer(interp, ctx, b, ext_a, ext_b):
    ctx.push(interp.space.wrap_int(interp.next_byte(ctx) + (ext_b << 8)))
    return ctx


def sbc_push_character(interp, ctx, b, ext_a, ext_b):
    code = interp.next_byte(ctx) + (ext_b << 8)
    try:
        ctx.push(interp.space.wrap_char(code))
    except WrappingError:
        raise VMFatal("malformed method: no Character %d in %s"
                      % (code, interp.method_name(ctx)))
    return ctx


def _ext_send_argcount(interp, ctx, argcount):
    if argcount < 0:
        raise VMFatal("malformed method: a send with %d arguments in %s"
                      % (argcount, interp.method_name(ctx)))
    return argcount


def sbc_ext_send(interp, ctx, b, ext_a, ext_b):
    d = interp.next_byte(ctx)
    argcount = _ext_send_argcount(interp, ctx, (d & 7) + (ext_b << 3))
    return interp.send(ctx, _literal(ctx, (d >> 3) + (ext_a << 5)), argcount)


def sbc_ext_send_super(interp, ctx, b, ext_a, ext_b):
    d = interp.next_byte(ctx)
    w_selector = _literal(ctx, (d >> 3) + (ext_a << 5))
    if ext_b >= bytecodes.DIRECTED_SUPER_EXT_B:
        # Directed: the lookup starts above the class on top of the stack (what
        # a CompiledBlock, which has no class binding of its own, sends).
        argcount = (d & 7) + ((ext_b & 63) << 3)
        w_class = ctx.pop()
        w_super = interp.space.superclass(w_class)
        return interp.send(ctx, w_selector, argcount, w_super)
    argcount = _ext_send_argcount(interp, ctx, (d & 7) + (ext_b << 3))
    return _super_send(interp, ctx, w_selector, argcount)


def sbc_ext_jump(interp, ctx, b, ext_a, ext_b):
    d = interp.next_byte(ctx)
    return _jump(interp, ctx, d + (ext_b << 8))


def sbc_ext_jump_if_true(interp, ctx, b, ext_a, ext_b):
    d = interp.next_byte(ctx)
    return _conditional(interp, ctx, True, d + (ext_b << 8))


def sbc_ext_jump_if_false(interp, ctx, b, ext_a, ext_b):
    d = interp.next_byte(ctx)
    return _conditional(interp, ctx, False, d + (ext_b << 8))


def sbc_ext_pop_store_receiver_variable(interp, ctx, b, ext_a, ext_b):
    index = interp.next_byte(ctx) + (ext_a << 8)
    _store_receiver_var(interp, ctx, index, ctx.pop())
    return ctx


def sbc_ext_pop_store_literal_variable(interp, ctx, b, ext_a, ext_b):
    index = interp.next_byte(ctx) + (ext_a << 8)
    _store_assoc_value(interp, _literal(ctx, index), ctx.pop())
    return ctx


def sbc_long_pop_store_temp(interp, ctx, b, ext_a, ext_b):
    ctx.settemp(interp.next_byte(ctx), ctx.pop())
    return ctx


def sbc_ext_store_receiver_variable(interp, ctx, b, ext_a, ext_b):
    index = interp.next_byte(ctx) + (ext_a << 8)
    _store_receiver_var(interp, ctx, index, ctx.top())
    return ctx


def sbc_ext_store_literal_variable(interp, ctx, b, ext_a, ext_b):
    index = interp.next_byte(ctx) + (ext_a << 8)
    _store_assoc_value(interp, _literal(ctx, index), ctx.top())
    return ctx


def sbc_long_store_temp(interp, ctx, b, ext_a, ext_b):
    ctx.settemp(interp.next_byte(ctx), ctx.top())
    return ctx


def sbc_call_primitive(interp, ctx, b, ext_a, ext_b):
    interp.next_byte(ctx)
    if interp.next_byte(ctx) & bytecodes.CALL_PRIMITIVE_INLINE:
        # Sista's optimizer emits these; no image compiler does.
        raise VMFatal("inline primitive in %s: not supported" % interp.method_name(ctx))
    # The method's primitive ran (and failed) before it was activated: skip it.
    return ctx


@jit.unroll_safe
def sbc_push_full_closure(interp, ctx, b, ext_a, ext_b):
    space = interp.space
    index = interp.next_byte(ctx) + (ext_a << 8)
    flags = interp.next_byte(ctx)
    w_block = _literal(ctx, index)
    if not isinstance(w_block, W_CompiledMethod):
        raise VMFatal("malformed method: pushFullClosure's literal %d is not a "
                      "CompiledBlock in %s" % (index, interp.method_name(ctx)))
    num_copied = flags & bytecodes.FULL_CLOSURE_NUM_COPIED_MASK
    w_closure = W_PointersObject(space.w_FullBlockClosure,
                                 constants.FULL_CLOSURE_FIXED_SIZE + num_copied,
                                 space.w_nil)
    for i in range(num_copied - 1, -1, -1):
        w_closure.slots[constants.FULL_CLOSURE_FIXED_SIZE + i] = ctx.pop()
    if flags & bytecodes.FULL_CLOSURE_RECEIVER_ON_STACK:
        w_rcvr = ctx.pop()        # under the copied values
    else:
        w_rcvr = ctx.w_receiver
    if not flags & bytecodes.FULL_CLOSURE_IGNORE_OUTER:
        ctx.mark_escaped()
        w_closure.slots[constants.CLOSURE_OUTER_CONTEXT] = ctx
    w_closure.slots[constants.FULL_CLOSURE_COMPILED_BLOCK] = w_block
    w_closure.slots[constants.CLOSURE_NUMARGS] = W_SmallInteger(w_block.num_args)
    w_closure.slots[constants.FULL_CLOSURE_RECEIVER] = w_rcvr
    ctx.push(w_closure)
    return ctx


def sbc_push_closure(interp, ctx, b, ext_a, ext_b):
    d = interp.next_byte(ctx)
    block_size = interp.next_byte(ctx) + (ext_b << 8)
    if block_size < 0:
        raise VMFatal("malformed method: a block of %d bytes in %s"
                      % (block_size, interp.method_name(ctx)))
    num_args = (d & 7) + (ext_a & 15) * 8
    num_copied = ((d >> 3) & 7) + (ext_a >> 4) * 8
    return _push_closure_copy(interp, ctx, num_copied, num_args, block_size)


def sbc_push_remote_temp(interp, ctx, b, ext_a, ext_b):
    return _push_remote_temp(interp, ctx)


def sbc_store_remote_temp(interp, ctx, b, ext_a, ext_b):
    return _store_remote_temp(interp, ctx)


def sbc_pop_store_remote_temp(interp, ctx, b, ext_a, ext_b):
    return _pop_store_remote_temp(interp, ctx)


SISTA_HANDLERS = {
    "pushReceiverVariable": sbc_push_receiver_variable,
    "pushLiteralVariable": sbc_push_literal_variable,
    "pushLiteralConstant": sbc_push_literal_constant,
    "pushTemporaryVariable": sbc_push_temp,
    "pushConstant": sbc_push_constant,
    "extPushPseudoVariable": sbc_push_pseudo_variable,
    "duplicateTop": sbc_dup,
    "unknownBytecode": sbc_unknown,
    "returnSpecial": sbc_return_special,
    "blockReturnNil": sbc_block_return_nil,
    "blockReturn": sbc_block_return,
    "extNop": sbc_nop,
    "sendArithmeticSelector": sbc_arithmetic_send,
    "sendSpecialSelector": sbc_common_send,
    "sendLiteralSelector0Args": sbc_send_literal_0,
    "sendLiteralSelector1Arg": sbc_send_literal_1,
    "sendLiteralSelector2Args": sbc_send_literal_2,
    "shortUnconditionalJump": sbc_short_jump,
    "shortConditionalJumpTrue": sbc_short_jump_if_true,
    "shortConditionalJumpFalse": sbc_short_jump_if_false,
    "storeAndPopReceiverVariable": sbc_pop_store_receiver_variable,
    "storeAndPopTemporaryVariable": sbc_pop_store_temp,
    "popStack": sbc_pop,
    "unconditionalTrap": sbc_trap,
    "extA": sbc_unknown,            # consumed by step_sista, never dispatched
    "extB": sbc_unknown,
    "extPushReceiverVariable": sbc_ext_push_receiver_variable,
    "extPushLiteralVariable": sbc_ext_push_literal_variable,
    "extPushLiteral": sbc_ext_push_literal,
    "longPushTemporaryVariable": sbc_long_push_temp,
    "pushNewArray": sbc_push_new_array,
    "extPushInteger": sbc_push_integer,
    "extPushCharacter": sbc_push_character,
    "extSend": sbc_ext_send,
    "extSendSuper": sbc_ext_send_super,
    "extUnconditionalJump": sbc_ext_jump,
    "extJumpIfTrue": sbc_ext_jump_if_true,
    "extJumpIfFalse": sbc_ext_jump_if_false,
    "extStoreAndPopReceiverVariable": sbc_ext_pop_store_receiver_variable,
    "extStoreAndPopLiteralVariable": sbc_ext_pop_store_literal_variable,
    "longStoreAndPopTemporaryVariable": sbc_long_pop_store_temp,
    "extStoreReceiverVariable": sbc_ext_store_receiver_variable,
    "extStoreLiteralVariable": sbc_ext_store_literal_variable,
    "longStoreTemporaryVariable": sbc_long_store_temp,
    "callPrimitive": sbc_call_primitive,
    "pushFullClosure": sbc_push_full_closure,
    "pushClosureCopy": sbc_push_closure,
    "pushRemoteTemp": sbc_push_remote_temp,
    "storeRemoteTemp": sbc_store_remote_temp,
    "storeAndPopRemoteTemp": sbc_pop_store_remote_temp,
}

SISTA_BYTECODE_TABLE = bytecodes.build_dispatch(bytecodes.SISTA_NAMES, SISTA_HANDLERS)
