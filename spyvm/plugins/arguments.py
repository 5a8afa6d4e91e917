"""Argument checks shared by the plugins: a wrong kind of argument fails the primitive."""

from spyvm.errors import PrimitiveFailed
from spyvm.model import W_BytesObject, W_SmallInteger


def bytes_arg(w_obj):
    if not isinstance(w_obj, W_BytesObject):
        raise PrimitiveFailed
    return w_obj


def int_arg(w_obj):
    if not isinstance(w_obj, W_SmallInteger):
        raise PrimitiveFailed
    return w_obj.value


def bool_arg(space, w_obj):
    if w_obj is space.w_true:
        return True
    if w_obj is space.w_false:
        return False
    raise PrimitiveFailed


def answer(ctx, argcount, w_result):
    ctx.pop_n(argcount)
    ctx.settop(w_result)
    return ctx
