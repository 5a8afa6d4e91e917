"""Arithmetic primitives: SmallInteger (1-18), LargeInteger (20-37), Float (40-59).
The LargeIntegers plugin is spyvm/plugins/largeintegers.py.

Every primitive checks the classes of receiver and arguments and fails (raises
PrimitiveFailed) when the image's fallback code has to do the work: a wrong
argument class (so the image's coercion runs), division by zero, an inexact
SmallInteger division, or a result the VM will not build.

Integer results are always normalised: a SmallInteger when the value fits,
otherwise a LargePositiveInteger / LargeNegativeInteger without leading zero
bytes. Where the C VM fails on SmallInteger overflow, these primitives answer
the LargeInteger the image's fallback would compute (the same value, normalised)
as long as the image has the LargeInteger classes; without them they fail.

Float primitives follow the C library semantics the C VM uses (IEEE results
such as NaN and infinities) except where the C VM fails: sqrt of a negative or
NaN, truncated of a NaN or infinity, division by zero.
"""

import math

from rpython.rlib.rarithmetic import ovfcheck, intmask, r_uint, LONG_BIT
from rpython.rlib.rbigint import rbigint
from rpython.rlib.objectmodel import dont_inline
from rpython.rlib.rfloat import isinf, isnan, INFINITY, NAN, copysign

from spyvm import constants, model
from spyvm.errors import PrimitiveFailed
from spyvm.objspace import WrappingError
from spyvm.primitives import expose


# Largest left shift (in bits) a primitive performs; beyond it the image's
# fallback runs (it would need about MAX_SHIFT / 8 bytes of memory).
MAX_SHIFT = 1 << 24

# Integers of at most this magnitude convert to a Float exactly.
if LONG_BIT > 32:
    MAX_EXACT_FLOAT_INT = 1 << 53
else:
    MAX_EXACT_FLOAT_INT = (1 << 31) - 1

# timesTwoPower: exponents beyond this saturate every double (as the C VM clips).
MAX_TWO_POWER = 0x1000

# --- helpers -----------------------------------------------------------------

def smallint_value(w_obj):
    if isinstance(w_obj, model.W_SmallInteger):
        return w_obj.value
    raise PrimitiveFailed


def class_missing(space, w_class):
    return w_class is None or w_class is space.w_nil


def is_large_integer(space, w_obj):
    """A LargePositiveInteger or LargeNegativeInteger (normalised or not)."""
    if not isinstance(w_obj, model.W_BytesObject):
        return False
    w_class = w_obj.getclass(space)
    if w_class is None:
        return False
    return w_class is space.w_LargePositiveInteger or \
        w_class is space.w_LargeNegativeInteger


def is_integer(space, w_obj):
    return isinstance(w_obj, model.W_SmallInteger) or is_large_integer(space, w_obj)


def bigint_value(space, w_obj):
    """The value of a SmallInteger or LargeInteger; fails for anything else."""
    if isinstance(w_obj, model.W_SmallInteger):
        return rbigint.fromint(w_obj.value)
    if is_large_integer(space, w_obj):
        try:
            return space.unwrap_bigint(w_obj)
        except WrappingError:
            raise PrimitiveFailed
    raise PrimitiveFailed


def is_negative(space, w_obj):
    """Sign as the LargeIntegers plugin sees it: by value or by class."""
    if isinstance(w_obj, model.W_SmallInteger):
        return w_obj.value < 0
    return w_obj.getclass(space) is space.w_LargeNegativeInteger


def answer_bigint(space, big):
    """The normalised Integer for big; fails when the image lacks the class for it."""
    try:
        value = big.toint()
    except OverflowError:
        pass
    else:
        if space.is_small_int(value):
            return model.W_SmallInteger(value)
    if big.sign < 0:
        w_class = space.w_LargeNegativeInteger
    else:
        w_class = space.w_LargePositiveInteger
    if class_missing(space, w_class):
        raise PrimitiveFailed
    try:
        return space.wrap_bigint(big)
    except WrappingError:
        raise PrimitiveFailed


def answer_int(space, value):
    """The normalised Integer for a machine integer."""
    if space.is_small_int(value):
        return model.W_SmallInteger(value)
    return answer_bigint(space, rbigint.fromint(value))


def _quo(a, b):
    """Quotient truncated towards zero (b != 0; a, b within SmallInteger range)."""
    if a < 0:
        na = -a
    else:
        na = a
    if b < 0:
        nb = -b
    else:
        nb = b
    q = na // nb
    if (a < 0) != (b < 0):
        return -q
    return q


def _big_quo_rem(a, b):
    """Truncated quotient and remainder (sign of a); b is not zero."""
    q, r = a.abs().divmod(b.abs())
    if a.sign * b.sign < 0:
        q = q.neg()
    if a.sign < 0:
        r = r.neg()
    return q, r


def bit_shift(space, a, shift):
    """a bitShift: shift for SmallInteger values (arithmetic shift, floored).

    Answers the normalised result (a LargeInteger for a left shift that leaves
    the SmallInteger range), or None when the primitive must fail: the shift is
    too large or the image has no LargeInteger class.
    """
    if shift >= 0:
        if a == 0:
            return model.W_SmallInteger(0)
        if shift < LONG_BIT - 1:
            r = intmask(r_uint(a) << shift)
            if (r >> shift) == a and space.is_small_int(r):
                return model.W_SmallInteger(r)
        if shift > MAX_SHIFT:
            return None
        big = big_lshift(rbigint.fromint(a), shift)
        try:
            return answer_bigint(space, big)
        except PrimitiveFailed:
            return None
    if shift <= -(LONG_BIT - 1):
        if a < 0:
            return model.W_SmallInteger(-1)
        return model.W_SmallInteger(0)
    return model.W_SmallInteger(a >> (-shift))


def float_value(space, w_obj):
    """A W_Float for a Float or a SmallInteger (converted to a new Float), else None.

    SmallIntegers that a double cannot hold exactly (64-bit images only) answer
    None, so comparisons with them are left to the image, which compares exactly.
    """
    if isinstance(w_obj, model.W_Float):
        return w_obj
    if isinstance(w_obj, model.W_SmallInteger):
        value = w_obj.value
        if -MAX_EXACT_FLOAT_INT <= value <= MAX_EXACT_FLOAT_INT:
            return space.wrap_float(float(value))
    return None


def _float_arg(w_obj):
    """The float value of a Float or (exactly convertible) SmallInteger argument."""
    if isinstance(w_obj, model.W_Float):
        return w_obj.value
    if isinstance(w_obj, model.W_SmallInteger):
        value = w_obj.value
        if -MAX_EXACT_FLOAT_INT <= value <= MAX_EXACT_FLOAT_INT:
            return float(value)
    raise PrimitiveFailed


def _float_rcvr(w_obj):
    if isinstance(w_obj, model.W_Float):
        return w_obj.value
    raise PrimitiveFailed


def _answer_float(space, value):
    if class_missing(space, space.w_Float):
        raise PrimitiveFailed
    return space.wrap_float(value)


# --- SmallInteger primitives (1-18) ---------------------------------------------

@expose(1, 1)
def small_add(interp, w_rcvr, w_arg):
    a = smallint_value(w_rcvr)
    b = smallint_value(w_arg)
    try:
        r = ovfcheck(a + b)
    except OverflowError:
        return answer_bigint(interp.space, rbigint.fromint(a).add(rbigint.fromint(b)))
    return answer_int(interp.space, r)


@expose(2, 1)
def small_sub(interp, w_rcvr, w_arg):
    a = smallint_value(w_rcvr)
    b = smallint_value(w_arg)
    try:
        r = ovfcheck(a - b)
    except OverflowError:
        return answer_bigint(interp.space, rbigint.fromint(a).sub(rbigint.fromint(b)))
    return answer_int(interp.space, r)


@expose(3, 1)
def small_lt(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(smallint_value(w_rcvr) < smallint_value(w_arg))


@expose(4, 1)
def small_gt(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(smallint_value(w_rcvr) > smallint_value(w_arg))


@expose(5, 1)
def small_le(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(smallint_value(w_rcvr) <= smallint_value(w_arg))


@expose(6, 1)
def small_ge(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(smallint_value(w_rcvr) >= smallint_value(w_arg))


@expose(7, 1)
def small_eq(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(smallint_value(w_rcvr) == smallint_value(w_arg))


@expose(8, 1)
def small_ne(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(smallint_value(w_rcvr) != smallint_value(w_arg))


@expose(9, 1)
def small_mul(interp, w_rcvr, w_arg):
    a = smallint_value(w_rcvr)
    b = smallint_value(w_arg)
    try:
        r = ovfcheck(a * b)
    except OverflowError:
        return answer_bigint(interp.space, rbigint.fromint(a).mul(rbigint.fromint(b)))
    return answer_int(interp.space, r)


def _small_result(space, value):
    """A SmallInteger primitive answers a SmallInteger or fails (minVal // -1):
    the image's fallback code then computes the LargeInteger."""
    if not space.is_small_int(value):
        raise PrimitiveFailed
    return model.W_SmallInteger(value)


@expose(10, 1)
def small_divide(interp, w_rcvr, w_arg):
    """/ : only exact quotients; fractions are the image's business."""
    a = smallint_value(w_rcvr)
    b = smallint_value(w_arg)
    if b == 0 or a % b != 0:
        raise PrimitiveFailed
    return _small_result(interp.space, a // b)


@expose(11, 1)
def small_mod(interp, w_rcvr, w_arg):
    """\\\\ : remainder of the floored division (sign of the argument)."""
    a = smallint_value(w_rcvr)
    b = smallint_value(w_arg)
    if b == 0:
        raise PrimitiveFailed
    return model.W_SmallInteger(a % b)


@expose(12, 1)
def small_div(interp, w_rcvr, w_arg):
    """// : floored quotient."""
    a = smallint_value(w_rcvr)
    b = smallint_value(w_arg)
    if b == 0:
        raise PrimitiveFailed
    return _small_result(interp.space, a // b)


@expose(13, 1)
def small_quo(interp, w_rcvr, w_arg):
    """quo: : quotient truncated towards zero."""
    a = smallint_value(w_rcvr)
    b = smallint_value(w_arg)
    if b == 0:
        raise PrimitiveFailed
    return _small_result(interp.space, _quo(a, b))


@expose(14, 1)
def small_bit_and(interp, w_rcvr, w_arg):
    return model.W_SmallInteger(smallint_value(w_rcvr) & smallint_value(w_arg))


@expose(15, 1)
def small_bit_or(interp, w_rcvr, w_arg):
    return model.W_SmallInteger(smallint_value(w_rcvr) | smallint_value(w_arg))


@expose(16, 1)
def small_bit_xor(interp, w_rcvr, w_arg):
    return model.W_SmallInteger(smallint_value(w_rcvr) ^ smallint_value(w_arg))


@expose(17, 1)
def small_bit_shift(interp, w_rcvr, w_arg):
    w_result = bit_shift(interp.space, smallint_value(w_rcvr), smallint_value(w_arg))
    if w_result is None:
        raise PrimitiveFailed
    return w_result


@expose(18, 1)
def make_point(interp, w_x, w_y):
    """x @ y. Like the C VM, any receiver; the argument must be a SmallInteger or Float."""
    space = interp.space
    if not (isinstance(w_y, model.W_SmallInteger) or isinstance(w_y, model.W_Float)):
        raise PrimitiveFailed
    w_class = space.w_Point
    if class_missing(space, w_class):
        raise PrimitiveFailed
    size = 2
    try:
        inst_size = space.class_format(w_class).inst_size
        if inst_size > size:
            size = inst_size
    except WrappingError:
        pass
    w_point = model.W_PointersObject(w_class, size, space.w_nil)
    w_point.slots[constants.POINT_X] = w_x
    w_point.slots[constants.POINT_Y] = w_y
    return w_point


# --- LargeInteger primitives (20-37) -------------------------------------------
# Any Integer receiver and argument (SmallIntegers too); results normalised.

@expose(20, 1)
def large_rem(interp, w_rcvr, w_arg):
    """rem: : remainder of the truncated division (sign of the receiver)."""
    space = interp.space
    a = bigint_value(space, w_rcvr)
    b = bigint_value(space, w_arg)
    if b.sign == 0:
        raise PrimitiveFailed
    q, r = _big_quo_rem(a, b)
    return answer_bigint(space, r)


@expose(21, 1)
def large_add(interp, w_rcvr, w_arg):
    space = interp.space
    return answer_bigint(space, bigint_value(space, w_rcvr).add(bigint_value(space, w_arg)))


@expose(22, 1)
def large_sub(interp, w_rcvr, w_arg):
    space = interp.space
    return answer_bigint(space, bigint_value(space, w_rcvr).sub(bigint_value(space, w_arg)))


@expose(23, 1)
def large_lt(interp, w_rcvr, w_arg):
    space = interp.space
    return space.wrap_bool(bigint_value(space, w_rcvr).lt(bigint_value(space, w_arg)))


@expose(24, 1)
def large_gt(interp, w_rcvr, w_arg):
    space = interp.space
    return space.wrap_bool(bigint_value(space, w_rcvr).gt(bigint_value(space, w_arg)))


@expose(25, 1)
def large_le(interp, w_rcvr, w_arg):
    space = interp.space
    return space.wrap_bool(bigint_value(space, w_rcvr).le(bigint_value(space, w_arg)))


@expose(26, 1)
def large_ge(interp, w_rcvr, w_arg):
    space = interp.space
    return space.wrap_bool(bigint_value(space, w_rcvr).ge(bigint_value(space, w_arg)))


@expose(27, 1)
def large_eq(interp, w_rcvr, w_arg):
    space = interp.space
    return space.wrap_bool(bigint_value(space, w_rcvr).eq(bigint_value(space, w_arg)))


@expose(28, 1)
def large_ne(interp, w_rcvr, w_arg):
    space = interp.space
    return space.wrap_bool(bigint_value(space, w_rcvr).ne(bigint_value(space, w_arg)))


@expose(29, 1)
def large_mul(interp, w_rcvr, w_arg):
    space = interp.space
    return answer_bigint(space, bigint_value(space, w_rcvr).mul(bigint_value(space, w_arg)))


@expose(30, 1)
def large_divide(interp, w_rcvr, w_arg):
    """/ : only exact quotients."""
    space = interp.space
    a = bigint_value(space, w_rcvr)
    b = bigint_value(space, w_arg)
    if b.sign == 0:
        raise PrimitiveFailed
    q, r = a.divmod(b)
    if r.sign != 0:
        raise PrimitiveFailed
    return answer_bigint(space, q)


@expose(31, 1)
def large_mod(interp, w_rcvr, w_arg):
    space = interp.space
    a = bigint_value(space, w_rcvr)
    b = bigint_value(space, w_arg)
    if b.sign == 0:
        raise PrimitiveFailed
    return answer_bigint(space, a.mod(b))


@expose(32, 1)
def large_div(interp, w_rcvr, w_arg):
    space = interp.space
    a = bigint_value(space, w_rcvr)
    b = bigint_value(space, w_arg)
    if b.sign == 0:
        raise PrimitiveFailed
    return answer_bigint(space, a.floordiv(b))


@expose(33, 1)
def large_quo(interp, w_rcvr, w_arg):
    space = interp.space
    a = bigint_value(space, w_rcvr)
    b = bigint_value(space, w_arg)
    if b.sign == 0:
        raise PrimitiveFailed
    q, r = _big_quo_rem(a, b)
    return answer_bigint(space, q)


@expose(34, 1)
def large_bit_and(interp, w_rcvr, w_arg):
    space = interp.space
    return answer_bigint(space, bigint_value(space, w_rcvr).and_(bigint_value(space, w_arg)))


@expose(35, 1)
def large_bit_or(interp, w_rcvr, w_arg):
    space = interp.space
    return answer_bigint(space, bigint_value(space, w_rcvr).or_(bigint_value(space, w_arg)))


@expose(36, 1)
def large_bit_xor(interp, w_rcvr, w_arg):
    space = interp.space
    return answer_bigint(space, bigint_value(space, w_rcvr).xor(bigint_value(space, w_arg)))


@expose(37, 1)
def large_bit_shift(interp, w_rcvr, w_arg):
    """bitShift: with two's-complement semantics (right shifts floor)."""
    space = interp.space
    a = bigint_value(space, w_rcvr)
    shift = smallint_value(w_arg)
    return answer_bigint(space, shift_bigint(a, shift))


@dont_inline
def big_lshift(a, shift):
    """rbigint.lshift, kept out of line: RPython cannot inline it into a try block."""
    assert shift >= 0
    return a.lshift(shift)


def shift_bigint(a, shift):
    if shift >= 0:
        if a.sign == 0:
            return a
        if shift > MAX_SHIFT:
            raise PrimitiveFailed
        return big_lshift(a, shift)
    # rbigint.rshift floors (-1 for negatives shifted out) and copes with any count.
    return a.rshift(-shift)


# --- Float primitives (40-59) ----------------------------------------------------

@expose(40, 0)
def small_as_float(interp, w_rcvr):
    return _answer_float(interp.space, float(smallint_value(w_rcvr)))


@expose([41, 541], 1)
def float_add(interp, w_rcvr, w_arg):
    return _answer_float(interp.space, _float_rcvr(w_rcvr) + _float_arg(w_arg))


@expose([42, 542], 1)
def float_sub(interp, w_rcvr, w_arg):
    return _answer_float(interp.space, _float_rcvr(w_rcvr) - _float_arg(w_arg))


@expose([43, 543], 1)
def float_lt(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(_float_rcvr(w_rcvr) < _float_arg(w_arg))


@expose([44, 544], 1)
def float_gt(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(_float_rcvr(w_rcvr) > _float_arg(w_arg))


@expose([45, 545], 1)
def float_le(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(_float_rcvr(w_rcvr) <= _float_arg(w_arg))


@expose([46, 546], 1)
def float_ge(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(_float_rcvr(w_rcvr) >= _float_arg(w_arg))


@expose([47, 547], 1)
def float_eq(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(_float_rcvr(w_rcvr) == _float_arg(w_arg))


@expose([48, 548], 1)
def float_ne(interp, w_rcvr, w_arg):
    return interp.space.wrap_bool(_float_rcvr(w_rcvr) != _float_arg(w_arg))


@expose([49, 549], 1)
def float_mul(interp, w_rcvr, w_arg):
    return _answer_float(interp.space, _float_rcvr(w_rcvr) * _float_arg(w_arg))


@expose([50, 550], 1)
def float_divide(interp, w_rcvr, w_arg):
    a = _float_rcvr(w_rcvr)
    b = _float_arg(w_arg)
    if b == 0.0:
        raise PrimitiveFailed
    return _answer_float(interp.space, a / b)


@expose([51, 551], 0)
def float_truncated(interp, w_rcvr):
    """The exact integer part; fails for NaN and infinities."""
    space = interp.space
    x = _float_rcvr(w_rcvr)
    if isnan(x) or isinf(x):
        raise PrimitiveFailed
    if float(space.minint) - 1.0 < x < float(space.maxint) + 1.0:
        value = int(x)
        if space.is_small_int(value):
            return model.W_SmallInteger(value)
    try:
        big = rbigint.fromfloat(x)
    except (OverflowError, ValueError):
        raise PrimitiveFailed
    return answer_bigint(space, big)


@expose([52, 552], 0)
def float_fraction_part(interp, w_rcvr):
    x = _float_rcvr(w_rcvr)
    if isnan(x):
        return _answer_float(interp.space, x)
    if isinf(x):
        return _answer_float(interp.space, copysign(0.0, x))
    frac, whole = math.modf(x)
    return _answer_float(interp.space, frac)


@expose([53, 553], 0)
def float_exponent(interp, w_rcvr):
    """The binary exponent e with x = m * 2^e, 1 <= |m| < 2 (frexp's exponent - 1).

    As in the C VM, zero, infinities and NaN answer -1 (frexp's exponent 0).
    """
    x = _float_rcvr(w_rcvr)
    if x == 0.0 or isnan(x) or isinf(x):
        return model.W_SmallInteger(-1)
    mantissa, exponent = math.frexp(x)
    return model.W_SmallInteger(exponent - 1)


@expose([54, 554], 1)
def float_times_two_power(interp, w_rcvr, w_arg):
    x = _float_rcvr(w_rcvr)
    n = smallint_value(w_arg)
    if n > MAX_TWO_POWER:
        n = MAX_TWO_POWER
    elif n < -MAX_TWO_POWER:
        n = -MAX_TWO_POWER
    return _answer_float(interp.space, _ldexp(x, n))


def _ldexp(x, n):
    if x == 0.0 or isnan(x) or isinf(x):
        return x
    try:
        return math.ldexp(x, n)
    except OverflowError:
        return copysign(INFINITY, x)
    except ValueError:
        return NAN


@expose([55, 555], 0)
def float_sqrt(interp, w_rcvr):
    """Fails for negative receivers and NaN, as in the C VM (-0.0 answers -0.0)."""
    x = _float_rcvr(w_rcvr)
    if not (x >= 0.0):
        raise PrimitiveFailed
    if isinf(x):
        return _answer_float(interp.space, x)
    try:
        return _answer_float(interp.space, math.sqrt(x))
    except ValueError:
        raise PrimitiveFailed


@expose([56, 556], 0)
def float_sin(interp, w_rcvr):
    x = _float_rcvr(w_rcvr)
    if isnan(x) or isinf(x):
        return _answer_float(interp.space, NAN)
    try:
        r = math.sin(x)
    except (ValueError, OverflowError):
        r = NAN
    return _answer_float(interp.space, r)


@expose([57, 557], 0)
def float_arctan(interp, w_rcvr):
    x = _float_rcvr(w_rcvr)
    if isnan(x):
        return _answer_float(interp.space, x)
    try:
        r = math.atan(x)
    except (ValueError, OverflowError):
        r = NAN
    return _answer_float(interp.space, r)


@expose([58, 558], 0)
def float_ln(interp, w_rcvr):
    """Natural logarithm with C semantics: ln 0 = -inf, ln of a negative is NaN."""
    x = _float_rcvr(w_rcvr)
    if isnan(x):
        r = x
    elif x == 0.0:
        r = -INFINITY
    elif x < 0.0:
        r = NAN
    elif isinf(x):
        r = x
    else:
        try:
            r = math.log(x)
        except (ValueError, OverflowError):
            r = NAN
    return _answer_float(interp.space, r)


@expose([59, 559], 0)
def float_exp(interp, w_rcvr):
    """e raised to the receiver; overflow answers infinity as in C."""
    x = _float_rcvr(w_rcvr)
    if isnan(x):
        r = x
    elif isinf(x):
        if x > 0.0:
            r = x
        else:
            r = 0.0
    else:
        try:
            r = math.exp(x)
        except OverflowError:
            r = INFINITY
        except ValueError:
            r = NAN
    return _answer_float(interp.space, r)
