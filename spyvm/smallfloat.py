"""Spur 64-bit's immediate floats (SmallFloat64, tag 4).

A SmallFloat64 holds a double whose 11-bit exponent lies in 897..1151 (the
8-bit exponent range of a single float, rebiased), or +/-0.0. Its oop is the
double's 64 bits rotated left by one (the sign moves to bit 0), with 896 taken
off the exponent (except for +/-0.0, whose rotated bits are 0 or 1), shifted left
by the 3 tag bits. Other doubles (NaN, infinities, very large or small values) are
boxed objects.
"""

from rpython.rlib.rarithmetic import r_uint, intmask
from rpython.rlib import longlong2float

TAG = 4
TAG_BITS = 3
EXPONENT_OFFSET = 896           # 1023 - 127
MANTISSA_BITS = 52
EXPONENT_MAX = EXPONENT_OFFSET + 255
SIGN_BIT = r_uint(1) << 63
REBIAS = r_uint(EXPONENT_OFFSET) << (MANTISSA_BITS + 1)


def float_of_oop(oop):
    """The double of a SmallFloat64 oop (the tag is ignored)."""
    rotated = r_uint(oop) >> TAG_BITS
    if rotated > r_uint(1):            # not +/-0.0
        rotated += REBIAS
    bits = (rotated << 63) | (rotated >> 1)
    return longlong2float.longlong2float(intmask(bits))


def is_representable(value):
    bits = r_uint(longlong2float.float2longlong(value))
    if bits & ~SIGN_BIT == r_uint(0):
        return True
    exponent = intmask((bits >> MANTISSA_BITS) & r_uint(0x7ff))
    return EXPONENT_OFFSET < exponent <= EXPONENT_MAX


def oop_of_float(value):
    """The SmallFloat64 oop of a representable double (see is_representable)."""
    bits = r_uint(longlong2float.float2longlong(value))
    rotated = (bits << 1) | (bits >> 63)
    if rotated > r_uint(1):
        rotated -= REBIAS
    return intmask((rotated << TAG_BITS) | r_uint(TAG))
