"""CpSystemPlugin: the part of CodeParadise's browser-side plugin a headless VM can
give an application image (tp-location-app.image): logging, the Symbol table the
image keeps in the plugin instead of in Smalltalk, and the string primitives
its kernel has no fallback code for. The JavaScript and WebSocket primitives are
left out: they fail, and the image reports that itself.
"""

from spyvm import model
from spyvm.errors import PrimitiveFailed
from spyvm.objspace import WrappingError
from spyvm.primitives import expose_named
from spyvm.plugins.arguments import bytes_arg, answer
from spyvm.platform import current as platform

MODULE = "CpSystemPlugin"


class SymbolTable(object):
    """string -> Symbol, for the object space it was filled in."""

    def __init__(self):
        self.space = None
        self.symbols = {}

    def for_space(self, space):
        if self.space is not space:
            self.space = space
            self.symbols = {}
        return self.symbols


symbol_table = SymbolTable()


def _log(ctx, argcount, to_stderr):
    if argcount != 1:
        raise PrimitiveFailed
    line = bytes_arg(ctx.peek(0)).as_string() + "\n"
    if to_stderr:
        platform.write_stderr(line)
    else:
        platform.write_stdout(line)
    ctx.pop_n(1)
    return ctx


@expose_named(MODULE, "primitiveObjectTraceCr:")
def prim_trace_cr(interp, ctx, argcount, w_method):
    return _log(ctx, argcount, False)


@expose_named(MODULE, "primitiveObjectWarnCr:")
def prim_warn_cr(interp, ctx, argcount, w_method):
    return _log(ctx, argcount, True)


@expose_named(MODULE, "primitiveObjectErrorCr:")
def prim_error_cr(interp, ctx, argcount, w_method):
    return _log(ctx, argcount, True)


@expose_named(MODULE, "primitiveSymbolRegister:")
def prim_symbol_register(interp, ctx, argcount, w_method):
    """Symbol class primRegister: aSymbol -- an existing Symbol joins the table."""
    if argcount != 1:
        raise PrimitiveFailed
    w_symbol = bytes_arg(ctx.peek(0))
    symbols = symbol_table.for_space(interp.space)
    name = w_symbol.as_string()
    w_known = symbols.get(name, None)
    if w_known is not None and w_known is not w_symbol:
        raise PrimitiveFailed           # two Symbols with one name
    symbols[name] = w_symbol
    ctx.pop_n(1)
    return ctx


@expose_named(MODULE, "primitiveSymbolFromString:")
def prim_symbol_from_string(interp, ctx, argcount, w_method):
    """Symbol class fromString: aString -- the one Symbol with that name."""
    if argcount != 1:
        raise PrimitiveFailed
    name = bytes_arg(ctx.peek(0)).as_string()
    w_class = ctx.peek(1)
    try:
        spec = interp.space.class_format(w_class).inst_spec
    except WrappingError:
        raise PrimitiveFailed
    if not 8 <= spec <= 11:
        raise PrimitiveFailed       # the receiver is no class of byte objects
    symbols = symbol_table.for_space(interp.space)
    w_symbol = symbols.get(name, None)
    if w_symbol is None:
        w_symbol = model.W_BytesObject(w_class, len(name))
        w_symbol.set_string(name)
        symbols[name] = w_symbol
    return answer(ctx, 1, w_symbol)


@expose_named(MODULE, "primitiveSymbolEquals:")
def prim_symbol_equals(interp, ctx, argcount, w_method):
    if argcount != 1:
        raise PrimitiveFailed
    w_other = ctx.peek(0)
    w_rcvr = ctx.peek(1)
    equal = w_other is w_rcvr or (isinstance(w_other, model.W_BytesObject) and
                                  isinstance(w_rcvr, model.W_BytesObject) and
                                  w_other.as_string() == w_rcvr.as_string())
    return answer(ctx, 1, interp.space.wrap_bool(equal))


@expose_named(MODULE, "primitiveStringConcatenate:")
def prim_string_concatenate(interp, ctx, argcount, w_method):
    """Byte strings only (a WideString fails the primitive)."""
    if argcount != 1:
        raise PrimitiveFailed
    w_other = bytes_arg(ctx.peek(0))
    w_rcvr = bytes_arg(ctx.peek(1))
    s = w_rcvr.as_string() + w_other.as_string()
    w_result = model.W_BytesObject(interp.space.w_String, len(s))
    w_result.set_string(s)
    return answer(ctx, 1, w_result)


def string_hash(s):
    """ByteString's hash as the plugin computes it (a multiplicative hash in 28 bits,
    seeded with ByteString's species hash)."""
    h = 0x3400
    for c in s:
        h += ord(c)
        low = h & 0x3fff
        h = (0x260d * low + (((0x260d * (h >> 14) + 0x0065 * low) & 0x3fff) << 14)) \
            & 0xfffffff
    return h


@expose_named(MODULE, "primitiveStringHash")
def prim_string_hash(interp, ctx, argcount, w_method):
    if argcount != 0:
        raise PrimitiveFailed
    return answer(ctx, 0, interp.space.wrap_int(string_hash(bytes_arg(ctx.peek(0)).as_string())))


@expose_named(MODULE, "primitiveProcessBeIdleProcess")
def prim_process_be_idle(interp, ctx, argcount, w_method):
    """The browser runs the idle process when nothing else does: so does the
    scheduler here, with any process at the lowest priority."""
    if argcount != 0:
        raise PrimitiveFailed
    return ctx


@expose_named(MODULE, "primitiveProcessIsSyncProcess")
def prim_process_is_sync(interp, ctx, argcount, w_method):
    """Only JavaScript callbacks run in synchronous processes."""
    if argcount != 0:
        raise PrimitiveFailed
    return answer(ctx, 0, interp.space.w_false)


@expose_named(MODULE, "primitiveProcessAllowAwaitPromise")
def prim_process_allow_await(interp, ctx, argcount, w_method):
    """Whether the process may wait for a JavaScript Promise: all may, but those
    running JavaScript callbacks, which a headless VM has none of."""
    if argcount != 0:
        raise PrimitiveFailed
    return answer(ctx, 0, interp.space.w_true)
