"""System primitives: clocks, the timer semaphore, quit, memory and VM queries, the
special objects array and the external call (117). The display, keyboard and mouse
primitives are in display.py."""

from spyvm import aio, constants
from spyvm.errors import PrimitiveFailed, Exit, StartUpFinished, VMFatal
from spyvm.model import W_PointersObject, W_SmallInteger, W_BytesObject
from spyvm.objspace import WrappingError
from spyvm.primitives import expose, expose_raw, lookup_named
from spyvm.platform import current as platform

# Seconds from 1901-01-01 (Squeak's epoch) to 1970-01-01.
SQUEAK_EPOCH_OFFSET = 2177452800


@expose_raw(113)
def prim_quit(interp, ctx, argcount, w_method):
    status = 0
    if argcount == 1:
        w_status = ctx.peek(0)
        if not isinstance(w_status, W_SmallInteger):
            raise PrimitiveFailed
        status = w_status.value
    elif argcount != 0:
        raise PrimitiveFailed
    raise Exit(status)


@expose(135, 0)
def prim_millisecond_clock(interp, w_rcvr):
    return W_SmallInteger(interp.millisecond_clock())


@expose(137, 0)
def prim_seconds_clock(interp, w_rcvr):
    seconds = int(platform.wall_clock_seconds()) + SQUEAK_EPOCH_OFFSET
    return interp.space.wrap_int(seconds)


@expose([240, 241], 0)
def prim_microsecond_clock(interp, w_rcvr):
    usecs = int(platform.wall_clock_seconds() * 1000000.0) + \
        SQUEAK_EPOCH_OFFSET * 1000000
    return interp.space.wrap_int(usecs)


@expose(136, 2)
def prim_signal_at_milliseconds(interp, w_rcvr, w_sema, w_msecs):
    """Arrange for the timer semaphore to be signalled at a millisecond clock value."""
    space = interp.space
    if not isinstance(w_msecs, W_SmallInteger):
        raise PrimitiveFailed
    if isinstance(w_sema, W_PointersObject) and \
            w_sema.getclass(space) is space.w_Semaphore:
        space.w_special_objects.store(space, constants.SO_TIMER_SEMAPHORE, w_sema)
        delta_ms = w_msecs.value - interp.millisecond_clock()
        if delta_ms < 0:
            delta_ms = 0
        interp.set_wakeup(interp.now_usecs() + delta_ms * 1000)
    else:
        space.w_special_objects.store(space, constants.SO_TIMER_SEMAPHORE, space.w_nil)
        interp.set_wakeup(0)
    return w_rcvr


@expose(242, 2)
def prim_signal_at_utc_microseconds(interp, w_rcvr, w_sema, w_usecs):
    """primitiveSignalAtUTCMicroseconds: as 136, the time given in the clock of
    primitive 240 (microseconds since 1901, a LargePositiveInteger today); the
    wait itself follows the monotonic clock, so only the distance counts."""
    space = interp.space
    try:
        target = space.unwrap_int(w_usecs)
    except WrappingError:
        raise PrimitiveFailed
    if isinstance(w_sema, W_PointersObject) and \
            w_sema.getclass(space) is space.w_Semaphore:
        space.w_special_objects.store(space, constants.SO_TIMER_SEMAPHORE, w_sema)
        now = int(platform.wall_clock_seconds() * 1000000.0) + \
            SQUEAK_EPOCH_OFFSET * 1000000
        delta_us = target - now
        if delta_us < 0:
            delta_us = 0
        interp.set_wakeup(interp.now_usecs() + delta_us)
    else:
        space.w_special_objects.store(space, constants.SO_TIMER_SEMAPHORE, space.w_nil)
        interp.set_wakeup(0)
    return w_rcvr


@expose_raw(230)
def prim_relinquish_processor(interp, ctx, argcount, w_method):
    """The idle process gives the host the time until the next event; during a
    headless start-up (interp.stop_when_idle) its first call ends the start-up.
    Without an argument, as SqueakJS takes it (CodeParadise's Process>>idle), the
    same: the time asked for never shortens the wait."""
    if argcount > 1:
        raise PrimitiveFailed
    w_rcvr = ctx.peek(argcount)
    if argcount == 1 and not isinstance(ctx.peek(0), W_SmallInteger):
        raise PrimitiveFailed
    if interp.stop_when_idle and interp.scheduler.highest_ready_priority() == 0:
        interp.stop_when_idle = False
        ctx.pop_n(argcount)            # answered: the idle loop goes on when resumed
        interp.scheduler.pause_active(ctx)
        raise StartUpFinished()
    relinquish(interp, w_rcvr)
    ctx.pop_n(argcount)
    return ctx


def relinquish(interp, w_rcvr):
    """The idle process gives the host the time until the next event.

    Only the timer and the watched descriptors (sockets) can make a waiting process
    runnable, so the VM waits for the first of them, however short a time the image
    asks for: no periodic wake-ups. With no timer set, nothing watched and no other
    process ready, only a stop request for the image's shutdown hook can wake one;
    with no hook either, nothing can ever run again: a deadlock, reported and ended."""
    if interp.scheduler.highest_ready_priority() > 0:
        return w_rcvr       # a process of the idle one's priority is ready
    if interp.signal_arrived():
        return w_rcvr       # it may make a process ready: the next send looks
    deadline = interp.next_deadline_usecs()
    if deadline != 0:
        until = deadline - interp.now_usecs()
    elif aio.watchers.waiting():
        until = -1                              # a socket wakes it
    elif interp.w_shutdown_semaphore is not None:
        until = SLEEP_UNTIL_SIGNALLED_USECS     # a signal ends it early
    else:
        raise VMFatal(DEADLOCK_MESSAGE)
    if aio.watchers.waiting():
        interp.poll_io(max(until, 0) if deadline != 0 else -1)
        interp.signal_arrived()
    elif until > 0:
        platform.sleep_microseconds(until)
        interp.signal_arrived()
    return w_rcvr


SLEEP_UNTIL_SIGNALLED_USECS = 3600 * 1000 * 1000
DEADLOCK_MESSAGE = ("deadlock: every process is waiting and nothing can wake one "
                    "(no timer is set and no socket is waited on)")


@expose([130, 131], 0)
def prim_garbage_collect(interp, w_rcvr):
    # Walks in progress hold their objects: let the image's garbage go.
    interp.heap_walks.clear()
    # The host GC manages memory; answer a generous amount of free space.
    return W_SmallInteger(64 * 1024 * 1024)


@expose(112, 0)
def prim_bytes_left(interp, w_rcvr):
    return W_SmallInteger(64 * 1024 * 1024)


@expose(124, 1)
def prim_low_space_semaphore(interp, w_rcvr, w_sema):
    space = interp.space
    space.w_special_objects.store(space, constants.SO_LOW_SPACE_SEMAPHORE, w_sema)
    return w_rcvr


@expose(125, 1)
def prim_set_low_space_threshold(interp, w_rcvr, w_bytes):
    if not isinstance(w_bytes, W_SmallInteger):
        raise PrimitiveFailed
    return w_rcvr


@expose_raw(121)
def prim_image_name(interp, ctx, argcount, w_method):
    """imageName, or imageName: aString to save under another name."""
    if argcount == 0:
        ctx.settop(interp.space.wrap_string(interp.image_name))
        return ctx
    if argcount != 1:
        raise PrimitiveFailed
    w_name = ctx.peek(0)
    if not isinstance(w_name, W_BytesObject) or w_name.size() == 0:
        raise PrimitiveFailed
    interp.image_name = w_name.as_string()
    ctx.pop_n(1)
    return ctx


@expose(142, 0)
def prim_vm_path(interp, w_rcvr):
    """vmPath: the folder of the VM's file (getSystemAttribute: 0 is the file)."""
    return interp.space.wrap_string(platform.folder_of(interp.vm_path))


@expose(149, 1)
def prim_get_attribute(interp, w_rcvr, w_index):
    if not isinstance(w_index, W_SmallInteger):
        raise PrimitiveFailed
    value = interp.system_attribute(w_index.value)
    if value is None:
        return interp.space.w_nil
    return interp.space.wrap_string(value)


@expose_raw(254)
def prim_vm_parameter(interp, ctx, argcount, w_method):
    """vmParameterAt: index, or vmParameterAt: index put: value (answers the old
    value). The settable ones are GC and JIT tuning knobs of the C VM (Pharo's
    session start sets the tenuring threshold, 6); this VM has no such knobs, so
    a SmallInteger is accepted and changes nothing."""
    if argcount == 1:
        w_index = ctx.peek(0)
    elif argcount == 2:
        w_index = ctx.peek(1)
        w_value = ctx.peek(0)
        if not isinstance(w_value, W_SmallInteger):
            raise PrimitiveFailed
    else:
        raise PrimitiveFailed
    if not isinstance(w_index, W_SmallInteger):
        raise PrimitiveFailed
    index = w_index.value
    if argcount == 2 and (index < 1 or index > VM_PARAMETER_LAST):
        raise PrimitiveFailed
    w_result = vm_parameter(interp, index)
    ctx.pop_n(argcount)
    ctx.settop(w_result)
    return ctx


def vm_parameter(interp, index):
    if index == VM_PARAMETER_WORD_SIZE:
        # Pharo picks its platform class (Unix32/Unix64Platform) by it.
        return W_SmallInteger(interp.space.word_size)
    # Other counters and sizes the image may ask for: none is meaningful here yet.
    return W_SmallInteger(0)


VM_PARAMETER_LAST = 80


VM_PARAMETER_WORD_SIZE = 40     # bytes in an object memory word


@expose_raw(97)
def prim_snapshot(interp, ctx, argcount, w_method):
    """Save the image under its name, in the format and byte order it was read in.

    The saved image resumes in this context with true answered; the running one
    continues with false. A failed write fails the primitive and leaves the old
    file as it was.
    """
    from spyvm.image import writer
    from spyvm.image.format import ImageError
    space = interp.space
    if argcount != 0 or interp.image is None or not interp.image_name:
        raise PrimitiveFailed
    w_rcvr = ctx.top()
    w_process = interp.scheduler.active_process()
    ctx.settop(space.w_true)
    ctx.mark_escaped()
    w_process.store(space, constants.PROCESS_SUSPENDED_CONTEXT, ctx)
    data = ""
    try:
        data = writer.image_bytes(space, interp.image)
    except ImageError:
        data = ""
    w_process.store(space, constants.PROCESS_SUSPENDED_CONTEXT, space.w_nil)
    if not data or not platform.write_file_atomically(interp.image_name, data):
        ctx.settop(w_rcvr)
        raise PrimitiveFailed
    ctx.settop(space.w_false)
    return ctx


@expose(114, 0)
def prim_exit_to_debugger(interp, w_rcvr):
    raise PrimitiveFailed


# --- named primitives ------------------------------------------------------------------


def _string_literal(space, w_obj):
    if isinstance(w_obj, W_BytesObject):
        return w_obj.as_string()
    return ""


@expose_raw(117)
def prim_external_call(interp, ctx, argcount, w_method):
    """Named primitives: the method's first literal is {module. name. flags. index}."""
    space = interp.space
    if len(w_method.literals) < 1:
        raise PrimitiveFailed
    w_desc = w_method.literals[0]
    if not isinstance(w_desc, W_PointersObject) or w_desc.size() < 2:
        raise PrimitiveFailed
    module = _string_literal(space, w_desc.fetch(space, 0))
    name = _string_literal(space, w_desc.fetch(space, 1))
    fn = lookup_named(module, name)
    if fn is None:
        raise PrimitiveFailed
    return fn(interp, ctx, argcount, w_method)


@expose(129, 0)
def prim_special_objects_array(interp, w_rcvr):
    return interp.space.w_special_objects


@expose(134, 1)
def prim_interrupt_semaphore(interp, w_rcvr, w_sema):
    """Register the semaphore the user-interrupt key signals (never pressed here)."""
    space = interp.space
    space.w_special_objects.store(space, constants.SO_USER_INTERRUPT_SEMAPHORE, w_sema)
    return w_rcvr


@expose(133, 1)
def prim_set_interrupt_key(interp, w_rcvr, w_key):
    if not isinstance(w_key, W_SmallInteger):
        raise PrimitiveFailed
    return w_rcvr
