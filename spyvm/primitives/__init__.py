"""Primitives: numbered (the Blue Book table and Squeak's additions) and named (plugins).

A primitive either succeeds, leaving its answer on the stack in place of the
receiver and arguments, or raises PrimitiveFailed before touching the stack, so
the method body runs as the image's fallback. Every primitive checks its
receiver and arguments: nothing an image passes may crash the VM.

Two ways to define one:
- @expose(NUMBER, nargs): fn(interp, w_rcvr, w_arg...) answers the result object;
- @expose_raw(NUMBER): fn(interp, ctx, argcount, w_method) answers the context to
  continue in (for primitives that activate blocks, switch processes, perform).
"""

from spyvm.errors import PrimitiveFailed

MAX_PRIMITIVE = 1024

_TABLE = [None] * MAX_PRIMITIVE
_NAMED = {}


def _register(number, fn):
    assert 0 < number < MAX_PRIMITIVE
    assert _TABLE[number] is None, "primitive %d defined twice" % number
    _TABLE[number] = fn


def _simple_wrapper(fn, nargs):
    if nargs == 0:
        def wrapper(interp, ctx, argcount, w_method):
            if argcount != 0:
                raise PrimitiveFailed
            w_result = fn(interp, ctx.peek(0))
            ctx.settop(w_result)
            return ctx
    elif nargs == 1:
        def wrapper(interp, ctx, argcount, w_method):
            if argcount != 1:
                raise PrimitiveFailed
            w_result = fn(interp, ctx.peek(1), ctx.peek(0))
            ctx.pop_n(1)
            ctx.settop(w_result)
            return ctx
    elif nargs == 2:
        def wrapper(interp, ctx, argcount, w_method):
            if argcount != 2:
                raise PrimitiveFailed
            w_result = fn(interp, ctx.peek(2), ctx.peek(1), ctx.peek(0))
            ctx.pop_n(2)
            ctx.settop(w_result)
            return ctx
    elif nargs == 3:
        def wrapper(interp, ctx, argcount, w_method):
            if argcount != 3:
                raise PrimitiveFailed
            w_result = fn(interp, ctx.peek(3), ctx.peek(2), ctx.peek(1), ctx.peek(0))
            ctx.pop_n(3)
            ctx.settop(w_result)
            return ctx
    elif nargs == 4:
        def wrapper(interp, ctx, argcount, w_method):
            if argcount != 4:
                raise PrimitiveFailed
            w_result = fn(interp, ctx.peek(4), ctx.peek(3), ctx.peek(2), ctx.peek(1),
                          ctx.peek(0))
            ctx.pop_n(4)
            ctx.settop(w_result)
            return ctx
    elif nargs == 5:
        def wrapper(interp, ctx, argcount, w_method):
            if argcount != 5:
                raise PrimitiveFailed
            w_result = fn(interp, ctx.peek(5), ctx.peek(4), ctx.peek(3), ctx.peek(2),
                          ctx.peek(1), ctx.peek(0))
            ctx.pop_n(5)
            ctx.settop(w_result)
            return ctx
    elif nargs == 6:
        def wrapper(interp, ctx, argcount, w_method):
            if argcount != 6:
                raise PrimitiveFailed
            w_result = fn(interp, ctx.peek(6), ctx.peek(5), ctx.peek(4), ctx.peek(3),
                          ctx.peek(2), ctx.peek(1), ctx.peek(0))
            ctx.pop_n(6)
            ctx.settop(w_result)
            return ctx
    elif nargs == 7:
        def wrapper(interp, ctx, argcount, w_method):
            if argcount != 7:
                raise PrimitiveFailed
            w_result = fn(interp, ctx.peek(7), ctx.peek(6), ctx.peek(5), ctx.peek(4),
                          ctx.peek(3), ctx.peek(2), ctx.peek(1), ctx.peek(0))
            ctx.pop_n(7)
            ctx.settop(w_result)
            return ctx
    else:
        raise AssertionError("unsupported argument count")
    wrapper.__name__ = "prim_" + fn.__name__
    wrapper.prim_nargs = nargs      # for tests (the primitive fuzz); unused by the VM
    return wrapper


def expose(numbers, nargs):
    """Register fn(interp, w_rcvr, args...) -> w_result under one or more numbers."""
    if isinstance(numbers, int):
        numbers = [numbers]

    def decorator(fn):
        wrapper = _simple_wrapper(fn, nargs)
        for number in numbers:
            _register(number, wrapper)
        return fn
    return decorator


def expose_raw(numbers):
    """Register fn(interp, ctx, argcount, w_method) -> ctx under one or more numbers."""
    if isinstance(numbers, int):
        numbers = [numbers]

    def decorator(fn):
        for number in numbers:
            _register(number, fn)
        return fn
    return decorator


def expose_named(module, name, nargs=-1):
    """Register a named primitive (primitive 117, <primitive: 'name' module: 'module'>).

    With nargs >= 0 fn is a simple primitive like @expose; with -1 it is raw.
    """
    def decorator(fn):
        if nargs >= 0:
            wrapper = _simple_wrapper(fn, nargs)
        else:
            wrapper = fn
        _NAMED[module + "." + name] = wrapper
        return fn
    return decorator


def lookup_named(module, name):
    return _NAMED.get(module + "." + name, None)


_loaded = []


def table():
    """The numbered primitive table, with every primitive module loaded."""
    if not _loaded:
        from spyvm.primitives import arithmetic, objects, control, system, display  # noqa
        from spyvm import plugins
        plugins.load_all()
        _loaded.append(True)
    return _TABLE
