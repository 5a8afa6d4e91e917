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


MAX_SIMPLE_ARGS = 7

# The wrapper of a simple primitive of N arguments, written out for each N (RPython
# calls need a fixed number of arguments): the receiver and arguments from the
# stack, the answer in their place.
_WRAPPER_SOURCE = """
def wrapper(interp, ctx, argcount, w_method):
    if argcount != %(n)d:
        raise PrimitiveFailed
    w_result = fn(interp, %(operands)s)
    %(pop)s
    ctx.settop(w_result)
    return ctx
"""


def _simple_wrapper(fn, nargs):
    if not 0 <= nargs <= MAX_SIMPLE_ARGS:
        raise AssertionError("unsupported argument count")
    operands = ", ".join("ctx.peek(%d)" % (nargs - i) for i in range(nargs + 1))
    source = _WRAPPER_SOURCE % {"n": nargs, "operands": operands,
                                "pop": "ctx.pop_n(%d)" % nargs if nargs else "pass"}
    namespace = {"fn": fn, "PrimitiveFailed": PrimitiveFailed}
    exec(compile(source, "<primitive wrapper of %d arguments>" % nargs, "exec"), namespace)
    wrapper = namespace["wrapper"]
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
        from spyvm.primitives import arithmetic, objects, control, system  # noqa
        from spyvm import plugins
        plugins.load_all()
        _loaded.append(True)
    return _TABLE
