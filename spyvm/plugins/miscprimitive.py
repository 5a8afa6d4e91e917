"""MiscPrimitivePlugin: the string loops that Squeak's String and ByteArray classes
name as primitives (compare, find, hash, translate).

These take their operands as arguments; the receiver (a class) is not used. Each
loop is a function of its own that does not see the context: the JIT calls it
instead of tracing it, and the context it runs stays in registers.
"""

from spyvm.errors import PrimitiveFailed
from spyvm.model import W_SmallInteger
from spyvm.primitives import expose_named
from spyvm.plugins.arguments import bytes_arg, int_arg, answer

MISC = "MiscPrimitivePlugin"


@expose_named(MISC, "primitiveCompareString")
def prim_compare_string(interp, ctx, argcount, w_method):
    """compare: string1 with: string2 collated: order -> 1 (<), 2 (=), 3 (>)."""
    if argcount != 3:
        raise PrimitiveFailed
    s1 = bytes_arg(ctx.peek(2))
    s2 = bytes_arg(ctx.peek(1))
    order = bytes_arg(ctx.peek(0))
    if order.size() < 256:
        raise PrimitiveFailed
    return answer(ctx, argcount, W_SmallInteger(_compare(s1, s2, order)))


def _compare(s1, s2, order):
    n1 = s1.size()
    n2 = s2.size()
    for i in range(min(n1, n2)):
        c1 = order.getbyte(s1.getbyte(i))
        c2 = order.getbyte(s2.getbyte(i))
        if c1 != c2:
            return 1 if c1 < c2 else 3
    if n1 == n2:
        return 2
    if n1 < n2:
        return 1
    return 3


@expose_named(MISC, "primitiveIndexOfAsciiInString")
def prim_index_of_ascii(interp, ctx, argcount, w_method):
    """indexOfAscii: anInteger inString: aString startingAt: start -> index or 0."""
    if argcount != 3:
        raise PrimitiveFailed
    code = int_arg(ctx.peek(2))
    s = bytes_arg(ctx.peek(1))
    start = int_arg(ctx.peek(0))
    # The C plugin does not check start: from 0 or below it reads before the
    # string (and Cuis's timeStamp:partsDo: asks from 0 for a stamp without '/'),
    # where the image's fallback fails on at: 0. Here only the string's own bytes
    # are searched: from 1.
    if start < 1:
        start = 1
    return answer(ctx, argcount, W_SmallInteger(_index_of(code, s, start)))


def _index_of(code, s, start):
    for i in range(start - 1, s.size()):
        if s.getbyte(i) == code:
            return i + 1
    return 0


@expose_named(MISC, "primitiveFindFirstInString")
def prim_find_first_in_string(interp, ctx, argcount, w_method):
    """findFirstInString: aString inSet: inclusionMap startingAt: start -> index or 0."""
    if argcount != 3:
        raise PrimitiveFailed
    s = bytes_arg(ctx.peek(2))
    inclusion = bytes_arg(ctx.peek(1))
    start = int_arg(ctx.peek(0))
    if inclusion.size() != 256 or start < 1:
        raise PrimitiveFailed
    return answer(ctx, argcount, W_SmallInteger(_find_first_in(s, inclusion, start)))


def _find_first_in(s, inclusion, start):
    for i in range(start - 1, s.size()):
        if inclusion.getbyte(s.getbyte(i)) != 0:
            return i + 1
    return 0


def string_hash(s, initial):
    """Squeak's stringHash:initialHash: (a 28-bit multiplicative hash)."""
    h = initial & 0x0fffffff
    for i in range(len(s)):
        h += ord(s[i])
        low = h & 16383
        h = (0x260D * low + (((0x260D * (h >> 14) + 0x0065 * low) & 16383) * 16384)) \
            & 0x0fffffff
    return h


@expose_named(MISC, "primitiveStringHash")
def prim_string_hash(interp, ctx, argcount, w_method):
    if argcount != 2:
        raise PrimitiveFailed
    s = bytes_arg(ctx.peek(1))
    initial = int_arg(ctx.peek(0))
    return answer(ctx, argcount, W_SmallInteger(string_hash(s.as_string(), initial)))


@expose_named(MISC, "primitiveTranslateStringWithTable")
def prim_translate(interp, ctx, argcount, w_method):
    """translate: aString from: start to: stop table: table (in place)."""
    if argcount != 4:
        raise PrimitiveFailed
    s = bytes_arg(ctx.peek(3))
    start = int_arg(ctx.peek(2))
    stop = int_arg(ctx.peek(1))
    table = bytes_arg(ctx.peek(0))
    if start < 1 or stop > s.size() or table.size() < 256:
        raise PrimitiveFailed
    _translate(s, start, stop, table)
    return answer(ctx, argcount, ctx.peek(argcount))


def _translate(s, start, stop, table):
    for i in range(start - 1, stop):
        s.setbyte(i, table.getbyte(s.getbyte(i)))


@expose_named(MISC, "primitiveFindSubstring")
def prim_find_substring(interp, ctx, argcount, w_method):
    """findSubstring: key in: body startingAt: start matchTable: table -> index or 0."""
    if argcount != 4:
        raise PrimitiveFailed
    key = bytes_arg(ctx.peek(3))
    body = bytes_arg(ctx.peek(2))
    start = int_arg(ctx.peek(1))
    table = bytes_arg(ctx.peek(0))
    if table.size() < 256:
        raise PrimitiveFailed
    return answer(ctx, argcount, W_SmallInteger(_find_substring(key, body, start, table)))


def _find_substring(key, body, start, table):
    nkey = key.size()
    if nkey == 0:
        return 0
    if start < 1:
        start = 1
    for i in range(start - 1, body.size() - nkey + 1):
        matched = True
        for j in range(nkey):
            if table.getbyte(body.getbyte(i + j)) != table.getbyte(key.getbyte(j)):
                matched = False
                break
        if matched:
            return i + 1
    return 0
