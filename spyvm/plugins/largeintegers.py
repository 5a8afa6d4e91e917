"""LargeIntegers (LargeIntegersPlugin): digit arithmetic on LargePositiveInteger and
LargeNegativeInteger magnitudes.

The plugin works on magnitudes: SmallIntegers count as LargeIntegers of their
sign. Results are normalised (the C plugin leaves some of them unnormalised;
the image normalises what it gets back, and equal values compare equal).
"""

from rpython.rlib.rbigint import rbigint

from spyvm.errors import PrimitiveFailed
from spyvm.primitives import expose_named
from spyvm.plugins.arguments import bool_arg
from spyvm import model
from spyvm.primitives.arithmetic import (
    bigint_value, answer_bigint, big_lshift, shift_bigint, is_negative, smallint_value,
    class_missing)

MODULE = "LargeIntegers"
MODULE_NAME = "LargeIntegers v2.0 (CogXen)"


def _magnitude(space, w_obj):
    return bigint_value(space, w_obj).abs()


def _with_sign(big, negative):
    if negative:
        return big.neg()
    return big


@expose_named(MODULE, "primDigitAdd", 1)
def lip_digit_add(interp, w_rcvr, w_arg):
    """|rcvr| + |arg| with the receiver's sign."""
    space = interp.space
    a = _magnitude(space, w_rcvr)
    b = _magnitude(space, w_arg)
    return answer_bigint(space, _with_sign(a.add(b), is_negative(space, w_rcvr)))


@expose_named(MODULE, "primDigitSubtract", 1)
def lip_digit_subtract(interp, w_rcvr, w_arg):
    """|rcvr| - |arg| with the receiver's sign (so the sign flips when |arg| > |rcvr|)."""
    space = interp.space
    a = _magnitude(space, w_rcvr)
    b = _magnitude(space, w_arg)
    return answer_bigint(space, _with_sign(a.sub(b), is_negative(space, w_rcvr)))


@expose_named(MODULE, "primDigitMultiplyNegative", 2)
def lip_digit_multiply_negative(interp, w_rcvr, w_arg, w_neg):
    space = interp.space
    a = _magnitude(space, w_rcvr)
    b = _magnitude(space, w_arg)
    negative = bool_arg(space, w_neg)
    return answer_bigint(space, _with_sign(a.mul(b), negative))


@expose_named(MODULE, "primDigitDivNegative", 2)
def lip_digit_div_negative(interp, w_rcvr, w_arg, w_neg):
    """{|rcvr| // |arg| with sign neg. |rcvr| \\\\ |arg| with the receiver's sign}."""
    space = interp.space
    a = _magnitude(space, w_rcvr)
    b = _magnitude(space, w_arg)
    negative = bool_arg(space, w_neg)
    if b.sign == 0:
        raise PrimitiveFailed
    if class_missing(space, space.w_Array):
        raise PrimitiveFailed
    q, r = a.divmod(b)
    w_quo = answer_bigint(space, _with_sign(q, negative))
    w_rem = answer_bigint(space, _with_sign(r, is_negative(space, w_rcvr)))
    return space.wrap_list([w_quo, w_rem])


def _digit_bit_logic(space, w_rcvr, w_arg, op):
    a = bigint_value(space, w_rcvr)
    b = bigint_value(space, w_arg)
    if a.sign < 0 or b.sign < 0:
        raise PrimitiveFailed
    if op == 0:
        r = a.and_(b)
    elif op == 1:
        r = a.or_(b)
    else:
        r = a.xor(b)
    return answer_bigint(space, r)


@expose_named(MODULE, "primDigitBitAnd", 1)
def lip_digit_bit_and(interp, w_rcvr, w_arg):
    """Non-negative operands only."""
    return _digit_bit_logic(interp.space, w_rcvr, w_arg, 0)


@expose_named(MODULE, "primDigitBitOr", 1)
def lip_digit_bit_or(interp, w_rcvr, w_arg):
    return _digit_bit_logic(interp.space, w_rcvr, w_arg, 1)


@expose_named(MODULE, "primDigitBitXor", 1)
def lip_digit_bit_xor(interp, w_rcvr, w_arg):
    return _digit_bit_logic(interp.space, w_rcvr, w_arg, 2)


@expose_named(MODULE, "primDigitBitShiftMagnitude", 1)
def lip_digit_bit_shift_magnitude(interp, w_rcvr, w_arg):
    """The magnitude shifted (right shifts truncate it), keeping the receiver's sign."""
    space = interp.space
    a = _magnitude(space, w_rcvr)
    shift = smallint_value(w_arg)
    r = shift_bigint(a, shift)
    return answer_bigint(space, _with_sign(r, is_negative(space, w_rcvr)))


@expose_named(MODULE, "primDigitCompare", 1)
def lip_digit_compare(interp, w_rcvr, w_arg):
    """Compare magnitudes: 1, 0 or -1 as |rcvr| >, =, < |arg|."""
    space = interp.space
    a = _magnitude(space, w_rcvr)
    b = _magnitude(space, w_arg)
    if a.gt(b):
        return model.W_SmallInteger(1)
    if a.lt(b):
        return model.W_SmallInteger(-1)
    return model.W_SmallInteger(0)


def _normalize(space, w_rcvr, w_class):
    if class_missing(space, w_class) or not isinstance(w_rcvr, model.W_BytesObject) \
            or w_rcvr.getclass(space) is not w_class:
        raise PrimitiveFailed
    big = bigint_value(space, w_rcvr)
    w_result = answer_bigint(space, big)
    if isinstance(w_result, model.W_BytesObject) and \
            w_result.size() == w_rcvr.size():
        return w_rcvr      # already normalised: the plugin answers the receiver
    return w_result


@expose_named(MODULE, "primNormalizePositive", 0)
def lip_normalize_positive(interp, w_rcvr):
    return _normalize(interp.space, w_rcvr, interp.space.w_LargePositiveInteger)


@expose_named(MODULE, "primNormalizeNegative", 0)
def lip_normalize_negative(interp, w_rcvr):
    return _normalize(interp.space, w_rcvr, interp.space.w_LargeNegativeInteger)


@expose_named(MODULE, "primAnyBitFromTo", 2)
def lip_any_bit_from_to(interp, w_rcvr, w_from, w_to):
    """Whether any bit from..to (1-based, inclusive) of the magnitude is set."""
    space = interp.space
    a = _magnitude(space, w_rcvr)
    start = smallint_value(w_from)
    stop = smallint_value(w_to)
    if start < 1 or stop < 1:
        raise PrimitiveFailed
    length = a.bit_length()
    if stop > length:
        stop = length
    if start > stop:
        return space.w_false
    bits = a.rshift(start - 1)
    width = stop - start + 1
    mask = big_lshift(rbigint.fromint(1), width).sub(rbigint.fromint(1))
    return space.wrap_bool(bits.and_(mask).sign != 0)


@expose_named(MODULE, "primGetModuleName", 0)
def lip_get_module_name(interp, w_rcvr):
    space = interp.space
    if class_missing(space, space.w_String):
        raise PrimitiveFailed
    return space.wrap_string(MODULE_NAME)


@expose_named(MODULE, "primCheckIfCModuleExists", 0)
def lip_check_if_c_module_exists(interp, w_rcvr):
    return interp.space.w_true
