"""ConsolePlugin: the image logs a line at a level; here, one line on standard output."""

from spyvm.errors import PrimitiveFailed
from spyvm.primitives import expose_named
from spyvm.plugins.arguments import bytes_arg
from spyvm.platform import current as platform

@expose_named("ConsolePlugin", "primitiveLog:level:")
def prim_console_log(interp, ctx, argcount, w_method):
    """Log a string at a level (a Symbol such as #info): one line on standard output."""
    if argcount != 2:
        raise PrimitiveFailed
    s = bytes_arg(ctx.peek(1))
    platform.write_stdout(s.as_string() + "\n")
    ctx.pop_n(2)
    return ctx
