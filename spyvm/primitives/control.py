"""Control primitives: blocks and closures, perform:, processes, method cache flushes."""

from rpython.rlib import jit

from spyvm import constants
from spyvm.errors import PrimitiveFailed
from spyvm.objspace import WrappingError
from spyvm.model import W_PointersObject, W_Context, W_SmallInteger, W_CompiledMethod
from spyvm.model import new_activation, new_context
from spyvm.primitives import expose, expose_raw

# --- BlockContext (images without closures) ------------------------------------


@expose_raw(80)
def prim_block_copy(interp, ctx, argcount, w_method):
    """thisContext blockCopy: nargs -- the block's code follows the jump after this send."""
    space = interp.space
    if argcount != 1:
        raise PrimitiveFailed
    w_nargs = ctx.peek(0)
    w_rcvr = ctx.peek(1)
    if not isinstance(w_nargs, W_SmallInteger) or not isinstance(w_rcvr, W_Context):
        raise PrimitiveFailed
    w_home = w_rcvr.home_context()
    if w_home.w_method is None or w_home.is_block_context:
        raise PrimitiveFailed
    w_block = new_context(space, space.w_BlockContext, True, w_home.w_method)
    w_block.mark_escaped()           # the block is handed to the image
    w_home.mark_escaped()
    w_block.w_home = w_home
    w_block.w_receiver = w_home.w_receiver
    w_block.block_nargs = w_nargs.value
    # ctx.pc is at the long jump (2 bytes) that skips the block body.
    start = ctx.pc + 2
    w_block.block_startpc = start + ctx.w_method.literal_bytes() + 1
    w_block.start_at(start)  # a fresh block context is ready to run (e.g. by newProcess)
    w_block.w_pending_pc = space.w_nil
    ctx.pop_n(2)
    ctx.push(w_block)
    return ctx


@jit.unroll_safe
def _activate_block_context(interp, ctx, w_block, args_w):
    if w_block.block_nargs != len(args_w) or w_block.w_method is None:
        raise PrimitiveFailed
    # A BlockContext is its own activation: one that is still running (it has a
    # sender) cannot be entered again, so recursion fails here and the image
    # reports it, as in the OpenSmalltalk VM.
    if w_block.is_linked() or w_block.w_sender is not interp.space.w_nil:
        raise PrimitiveFailed
    start = w_block.block_startpc - w_block.w_method.literal_bytes() - 1
    if start < 0 or start >= len(w_block.w_method.bytes):
        raise PrimitiveFailed
    if len(args_w) > w_block.slot_count():
        raise PrimitiveFailed
    for i in range(len(args_w)):
        w_block.set_slot(i, args_w[i])
    w_block.sp = len(args_w)
    w_block.start_at(start)
    w_block.w_sender = ctx
    w_block.depth = interp.next_depth(ctx)
    return w_block


@expose_raw(81)
@jit.unroll_safe
def prim_block_value(interp, ctx, argcount, w_method):
    w_block = ctx.peek(argcount)
    if not isinstance(w_block, W_Context) or not w_block.is_block_context:
        raise PrimitiveFailed
    args_w = [ctx.peek(argcount - 1 - i) for i in range(argcount)]
    new_ctx = _activate_block_context(interp, ctx, w_block, args_w)
    ctx.pop_n(argcount + 1)
    return interp.entered(new_ctx)


@expose_raw(82)
def prim_block_value_with_arguments(interp, ctx, argcount, w_method):
    if argcount != 1:
        raise PrimitiveFailed
    w_block = ctx.peek(1)
    w_args = ctx.peek(0)
    if not isinstance(w_block, W_Context) or not w_block.is_block_context or \
            not isinstance(w_args, W_PointersObject) or \
            w_args.getclass(interp.space) is not interp.space.w_Array:
        raise PrimitiveFailed
    new_ctx = _activate_block_context(interp, ctx, w_block, w_args.slots[:])
    ctx.pop_n(2)
    return interp.entered(new_ctx)


# --- BlockClosure ----------------------------------------------------------------


def _closure_parts(space, w_closure):
    if not isinstance(w_closure, W_PointersObject) or \
            w_closure.getclass(space) is not space.w_BlockClosure or \
            w_closure.size() < constants.CLOSURE_FIXED_SIZE:
        raise PrimitiveFailed
    w_outer = w_closure.fetch(space, constants.CLOSURE_OUTER_CONTEXT)
    if not isinstance(w_outer, W_Context) or w_outer.w_method is None:
        raise PrimitiveFailed
    return w_outer


@jit.unroll_safe
def activate_closure(interp, ctx, w_closure, args_w):
    """A MethodContext running the closure's code, with args and copied values."""
    space = interp.space
    w_outer = _closure_parts(space, w_closure)
    nargs = space.unwrap_int_or(w_closure.fetch(space, constants.CLOSURE_NUMARGS), -1)
    if nargs != len(args_w):
        raise PrimitiveFailed
    w_method = w_outer.w_method
    startpc = space.unwrap_int_or(w_closure.fetch(space, constants.CLOSURE_STARTPC), -1)
    start = startpc - w_method.literal_bytes() - 1
    if start < 0 or start >= len(w_method.bytes):
        raise PrimitiveFailed
    num_copied = w_closure.size() - constants.CLOSURE_FIXED_SIZE
    if nargs + num_copied > w_method.stack_size():
        raise PrimitiveFailed
    new_ctx = new_activation(space, w_method, w_outer.w_receiver, w_closure, ctx, start,
                             interp.next_depth(ctx))
    for i in range(nargs):
        new_ctx.set_slot(i, args_w[i])
    for i in range(num_copied):
        new_ctx.set_slot(nargs + i, w_closure.fetch(space, constants.CLOSURE_FIXED_SIZE + i))
    new_ctx.sp = nargs + num_copied
    return new_ctx


@expose_raw([201, 202, 203, 204, 205, 221, 222])
@jit.unroll_safe
def prim_closure_value(interp, ctx, argcount, w_method):
    w_closure = ctx.peek(argcount)
    args_w = [ctx.peek(argcount - 1 - i) for i in range(argcount)]
    new_ctx = activate_closure(interp, ctx, w_closure, args_w)
    ctx.pop_n(argcount + 1)
    return interp.entered(new_ctx)


# --- FullBlockClosure (SistaV1): the code is a CompiledBlock of its own ----------


@jit.unroll_safe
def activate_full_closure(interp, ctx, w_closure, args_w):
    """A context running the closure's CompiledBlock from its first bytecode, on
    the closure's receiver: arguments, copied values, then the block's other
    temporaries (nil)."""
    space = interp.space
    if not isinstance(w_closure, W_PointersObject) or \
            w_closure.size() < constants.FULL_CLOSURE_FIXED_SIZE:
        raise PrimitiveFailed
    w_block = w_closure.fetch(space, constants.FULL_CLOSURE_COMPILED_BLOCK)
    if not isinstance(w_block, W_CompiledMethod):
        raise PrimitiveFailed
    nargs = len(args_w)
    if w_block.num_args != nargs or \
            space.unwrap_int_or(w_closure.fetch(space, constants.CLOSURE_NUMARGS), -1) != nargs:
        raise PrimitiveFailed
    num_copied = w_closure.size() - constants.FULL_CLOSURE_FIXED_SIZE
    num_temps = w_block.num_temps
    if num_temps < nargs + num_copied:
        num_temps = nargs + num_copied
    if num_temps > w_block.stack_size() or len(w_block.bytes) == 0:
        raise PrimitiveFailed
    new_ctx = new_activation(space, w_block,
                             w_closure.fetch(space, constants.FULL_CLOSURE_RECEIVER),
                             w_closure, ctx, 0, interp.next_depth(ctx))
    for i in range(nargs):
        new_ctx.set_slot(i, args_w[i])
    for i in range(num_copied):
        new_ctx.set_slot(nargs + i,
                         w_closure.fetch(space, constants.FULL_CLOSURE_FIXED_SIZE + i))
    for i in range(nargs + num_copied, num_temps):
        new_ctx.set_slot(i, space.w_nil)
    new_ctx.sp = num_temps
    return new_ctx


# primitiveFullClosureValue, primitiveFullClosureValueNoContextSwitch (no process
# switch happens at a block's activation here anyway).
@expose_raw([207, 209])
@jit.unroll_safe
def prim_full_closure_value(interp, ctx, argcount, w_method):
    w_closure = ctx.peek(argcount)
    args_w = [ctx.peek(argcount - 1 - i) for i in range(argcount)]
    new_ctx = activate_full_closure(interp, ctx, w_closure, args_w)
    ctx.pop_n(argcount + 1)
    if w_method is not None and w_method.primitive == 209:
        return new_ctx
    return interp.entered(new_ctx)


def _arguments_array(interp, ctx, argcount):
    """valueWithArguments:'s one argument, an Array, as a list."""
    if argcount != 1:
        raise PrimitiveFailed
    w_args = ctx.peek(0)
    if not isinstance(w_args, W_PointersObject) or \
            w_args.getclass(interp.space) is not interp.space.w_Array:
        raise PrimitiveFailed
    return w_args.slots[:]


@expose_raw(208)
def prim_full_closure_value_with_args(interp, ctx, argcount, w_method):
    """primitiveFullClosureValueWithArgs"""
    args_w = _arguments_array(interp, ctx, argcount)
    new_ctx = activate_full_closure(interp, ctx, ctx.peek(1), args_w)
    ctx.pop_n(2)
    return interp.entered(new_ctx)


@expose_raw(206)
def prim_closure_value_with_arguments(interp, ctx, argcount, w_method):
    """primitiveClosureValueWithArgs"""
    args_w = _arguments_array(interp, ctx, argcount)
    new_ctx = activate_closure(interp, ctx, ctx.peek(1), args_w)
    ctx.pop_n(2)
    return interp.entered(new_ctx)


# --- perform ---------------------------------------------------------------------


@expose_raw(83)
@jit.unroll_safe
def prim_perform(interp, ctx, argcount, w_method):
    """perform: sel with: a ... -- shift the arguments down over the selector and send."""
    if argcount < 1:
        raise PrimitiveFailed
    w_selector = ctx.peek(argcount - 1)
    w_rcvr = ctx.peek(argcount)
    nargs = argcount - 1
    _check_selector_arity(interp, w_rcvr, w_selector, nargs)
    base = ctx.sp - argcount
    if base < 1:
        raise PrimitiveFailed
    for i in range(nargs):
        ctx.set_slot(base + i, ctx.get_slot(base + i + 1))
    ctx.pop_n(1)
    return interp.send(ctx, w_selector, nargs)


def _check_selector_arity(interp, w_rcvr, w_selector, nargs):
    """Fail like the C VM when a found method takes another number of arguments."""
    w_found = interp.lookup(w_rcvr.getclass(interp.space), w_selector)
    if isinstance(w_found, W_CompiledMethod) and w_found.num_args != nargs:
        raise PrimitiveFailed


def _array_args(interp, w_args):
    space = interp.space
    if not isinstance(w_args, W_PointersObject) or \
            w_args.getclass(space) is not space.w_Array:
        raise PrimitiveFailed
    return w_args.slots[:]


def _check_room(ctx, drop, args_w):
    """Fail unless ctx's frame holds args_w in place of its top drop slots (a
    context never grows: see W_Context)."""
    if ctx.sp - drop + len(args_w) > ctx.slot_count():
        raise PrimitiveFailed


# The argument loops below run over an Array of a few elements: unrolled in traces.

@expose_raw(84)
@jit.unroll_safe
def prim_perform_with_arguments(interp, ctx, argcount, w_method):
    if argcount != 2:
        raise PrimitiveFailed
    w_rcvr = ctx.peek(2)
    w_selector = ctx.peek(1)
    args_w = _array_args(interp, ctx.peek(0))
    _check_selector_arity(interp, w_rcvr, w_selector, len(args_w))
    _check_room(ctx, 2, args_w)
    ctx.pop_n(2)
    for w_arg in args_w:
        ctx.push(w_arg)
    return interp.send(ctx, w_selector, len(args_w))


@expose_raw(100)
@jit.unroll_safe
def prim_perform_in_superclass(interp, ctx, argcount, w_method):
    if argcount != 3:
        raise PrimitiveFailed
    space = interp.space
    w_rcvr = ctx.peek(3)
    w_selector = ctx.peek(2)
    args_w = _array_args(interp, ctx.peek(1))
    w_class = ctx.peek(0)
    if w_class is space.w_nil:
        raise PrimitiveFailed
    # The receiver must be an instance of the class or a subclass.
    w_c = w_rcvr.getclass(space)
    depth = 0
    while w_c is not w_class:
        if w_c is space.w_nil or depth > 10000:
            raise PrimitiveFailed
        w_c = space.superclass(w_c)
        depth += 1
    w_found = interp.lookup(w_class, w_selector)
    if isinstance(w_found, W_CompiledMethod) and w_found.num_args != len(args_w):
        raise PrimitiveFailed
    _check_room(ctx, 3, args_w)
    ctx.pop_n(3)
    for w_arg in args_w:
        ctx.push(w_arg)
    return interp.send(ctx, w_selector, len(args_w), w_class)


@expose_raw(118)
@jit.unroll_safe
def prim_do_primitive_with_args(interp, ctx, argcount, w_method):
    """primitiveDoPrimitiveWithArgs: `rcvr tryPrimitive: index withArgs: args`
    runs primitive index on rcvr and args, as the debugger's simulation of a
    method with a primitive does; fails as that primitive fails."""
    if argcount != 2:
        raise PrimitiveFailed
    w_rcvr = ctx.peek(2)
    w_index = ctx.peek(1)
    w_args = ctx.peek(0)
    if not isinstance(w_index, W_SmallInteger):
        raise PrimitiveFailed
    args_w = _array_args(interp, w_args)
    _check_room(ctx, 2, args_w)
    index = w_index.value
    nargs = len(args_w)
    if 256 <= index <= 519:
        if index >= 264 and not _quick_inst_var_ok(interp, w_rcvr, index - 264):
            raise PrimitiveFailed
        ctx.pop_n(2)
        for w_arg in args_w:
            ctx.push(w_arg)
        return interp.quick_primitive(ctx, index, w_rcvr, nargs)
    primitives = interp.dispatch.primitives
    # 117 and 118 read the running method (the named primitive's literal) or
    # would nest: as in the OpenSmalltalk VM they do not run this way.
    if index <= 0 or index >= len(primitives) or index == 117 or index == 118:
        raise PrimitiveFailed
    fn = primitives[index]
    if fn is None:
        raise PrimitiveFailed
    ctx.pop_n(2)
    for w_arg in args_w:
        ctx.push(w_arg)
    try:
        return fn(interp, ctx, nargs, w_method)
    except PrimitiveFailed:
        pass
    except WrappingError:
        pass
    # A failed primitive leaves the stack alone: put the original operands back.
    ctx.pop_n(nargs)
    ctx.push(w_index)
    ctx.push(w_args)
    raise PrimitiveFailed


def _quick_inst_var_ok(interp, w_rcvr, index):
    return isinstance(w_rcvr, W_PointersObject) and 0 <= index < w_rcvr.size()


@expose_raw(188)
@jit.unroll_safe
def prim_execute_method(interp, ctx, argcount, w_method):
    """withArgs: argArray executeMethod: compiledMethod (receiver is the receiver)."""
    if argcount != 2:
        raise PrimitiveFailed
    w_rcvr = ctx.peek(2)
    args_w = _array_args(interp, ctx.peek(1))
    w_run = ctx.peek(0)
    if not isinstance(w_run, W_CompiledMethod) or w_run.num_args != len(args_w):
        raise PrimitiveFailed
    _check_room(ctx, 2, args_w)
    ctx.pop_n(2)
    for w_arg in args_w:
        ctx.push(w_arg)
    # Like a send: the method's own primitive runs first.
    return interp.invoke(ctx, w_run, w_rcvr, len(args_w), interp.space.w_nil)


# --- processes and semaphores -------------------------------------------------------


def _semaphore(interp, w_obj):
    """A Semaphore whose list holds processes (or nothing), as signal and wait need.

    Like the C VM, only instances of the class Semaphore: signal and wait on another
    object (an Array, say) fail instead of reading its slots as a process list."""
    space = interp.space
    if not isinstance(w_obj, W_PointersObject) or \
            w_obj.size() <= constants.SEMAPHORE_EXCESS_SIGNALS or \
            w_obj.getclass(space) is not space.w_Semaphore:
        raise PrimitiveFailed
    if not isinstance(w_obj.fetch(space, constants.SEMAPHORE_EXCESS_SIGNALS), W_SmallInteger):
        raise PrimitiveFailed
    scheduler = interp.scheduler
    w_first = w_obj.fetch(space, constants.LINKEDLIST_FIRST)
    w_last = w_obj.fetch(space, constants.LINKEDLIST_LAST)
    if (w_first is space.w_nil) != (w_last is space.w_nil):
        raise PrimitiveFailed
    if w_first is not space.w_nil and \
            not (scheduler.is_process(w_first) and scheduler.is_process(w_last)):
        raise PrimitiveFailed
    return w_obj


def _process(interp, w_obj):
    if not isinstance(w_obj, W_PointersObject) or \
            w_obj.size() <= constants.PROCESS_MY_LIST:
        raise PrimitiveFailed
    return w_obj


@expose_raw(85)
def prim_signal(interp, ctx, argcount, w_method):
    if argcount != 0:
        raise PrimitiveFailed
    w_sema = _semaphore(interp, ctx.peek(0))
    return interp.scheduler.synchronous_signal(w_sema, ctx)


@expose_raw(86)
def prim_wait(interp, ctx, argcount, w_method):
    if argcount != 0:
        raise PrimitiveFailed
    w_sema = _semaphore(interp, ctx.peek(0))
    return interp.scheduler.wait(w_sema, ctx)


@expose_raw(87)
def prim_resume(interp, ctx, argcount, w_method):
    if argcount != 0:
        raise PrimitiveFailed
    w_process = _process(interp, ctx.peek(0))
    w_ctx = w_process.fetch(interp.space, constants.PROCESS_SUSPENDED_CONTEXT)
    if not isinstance(w_ctx, W_Context) or w_ctx.is_dead():
        raise PrimitiveFailed
    if w_process.fetch(interp.space, constants.PROCESS_MY_LIST) is not interp.space.w_nil:
        raise PrimitiveFailed   # already runnable or waiting
    priority = interp.space.unwrap_int_or(
        w_process.fetch(interp.space, constants.PROCESS_PRIORITY), 0)
    if priority < 1 or priority > interp.scheduler.process_lists().size():
        raise PrimitiveFailed
    return interp.scheduler.resume(w_process, ctx)


@expose_raw(88)
def prim_suspend(interp, ctx, argcount, w_method):
    space = interp.space
    if argcount != 0:
        raise PrimitiveFailed
    w_process = _process(interp, ctx.peek(0))
    scheduler = interp.scheduler
    if w_process is scheduler.active_process():
        ctx.settop(space.w_nil)
        return scheduler.suspend_active(ctx)
    w_list = w_process.fetch(space, constants.PROCESS_MY_LIST)
    if not isinstance(w_list, W_PointersObject) or w_list.size() < 2:
        raise PrimitiveFailed
    if not scheduler.remove(w_list, w_process):
        raise PrimitiveFailed
    ctx.settop(w_list)
    return ctx


@expose_raw(167)
def prim_yield(interp, ctx, argcount, w_method):
    if argcount != 0:
        raise PrimitiveFailed
    return interp.scheduler.yield_(ctx)


# --- method cache --------------------------------------------------------------------


@expose([89, 116], 0)
def prim_flush_cache(interp, w_rcvr):
    interp.flush_method_cache()
    return w_rcvr


@expose(119, 0)
def prim_flush_selector(interp, w_rcvr):
    interp.flush_selector(w_rcvr)
    return w_rcvr


# --- contexts ------------------------------------------------------------------------


@expose(76, 1)
def prim_store_stackp(interp, w_ctx, w_stackp):
    """primitiveStoreStackp: set a context's stack pointer; slots it uncovers
    become nil (the debugger's simulation pushes through it)."""
    if not isinstance(w_ctx, W_Context) or not isinstance(w_stackp, W_SmallInteger):
        raise PrimitiveFailed
    try:
        w_ctx.store(interp.space, constants.CTX_STACKP, w_stackp)
    except IndexError:
        raise PrimitiveFailed
    return w_ctx


@expose(210, 1)
def prim_context_at(interp, w_ctx, w_index):
    if not isinstance(w_ctx, W_Context) or not isinstance(w_index, W_SmallInteger):
        raise PrimitiveFailed
    i = w_index.value
    if i < 1 or i > w_ctx.sp or i > w_ctx.slot_count():
        raise PrimitiveFailed
    return w_ctx.fetch(interp.space, constants.CTX_FIXED_SIZE + i - 1)


@expose(211, 2)
def prim_context_at_put(interp, w_ctx, w_index, w_value):
    if not isinstance(w_ctx, W_Context) or not isinstance(w_index, W_SmallInteger):
        raise PrimitiveFailed
    i = w_index.value
    if i < 1 or i > w_ctx.sp:
        raise PrimitiveFailed
    w_ctx.stack_at_put(i - 1, w_value)
    return w_value


@expose(212, 0)
def prim_context_size(interp, w_ctx):
    if not isinstance(w_ctx, W_Context):
        raise PrimitiveFailed
    return W_SmallInteger(w_ctx.sp)
