"""Arithmetic primitives: SmallInteger, LargeInteger, Float."""

import math

import pytest
from rpython.rlib.rbigint import rbigint

from spyvm import constants, model
from spyvm.errors import PrimitiveFailed
from spyvm.primitives import arithmetic

NAN = float("nan")
INF = float("inf")

MAXINT = 2 ** 30 - 1
MININT = -2 ** 30


# --- helpers --------------------------------------------------------------------

def assert_float(w_obj, expected):
    assert isinstance(w_obj, model.W_Float)
    if math.isnan(expected):
        assert math.isnan(w_obj.value)
    else:
        assert w_obj.value == expected
        assert math.copysign(1.0, w_obj.value) == math.copysign(1.0, expected)


def quo(a, b):
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    return q


def test_module_imports_and_registers():
    from spyvm import primitives
    for number in range(1, 60):
        registered = primitives._TABLE[number] is not None
        assert registered == (number not in (19, 38, 39)), number


def test_fake_space(fake_space):
    space = fake_space
    assert space.maxint == MAXINT and space.minint == MININT
    assert space.class_format(space.w_Point).inst_size == 2
    assert space.class_name(space.w_LargePositiveInteger) == "LargePositiveInteger"
    assert space.wrap_char(65).fetch(space, 0).value == 65


# --- SmallInteger (1-17) ----------------------------------------------------------

SMALL_CASES = [
    (1, 3, 4, 7), (1, -3, 4, 1), (1, MAXINT, 1, 2 ** 30), (1, MININT, -1, MININT - 1),
    (1, MAXINT, MAXINT, 2 * MAXINT), (1, MININT, MININT, 2 * MININT),
    (2, 3, 4, -1), (2, MININT, 1, MININT - 1), (2, MAXINT, -1, 2 ** 30), (2, 0, MININT, 2 ** 30),
    (9, 6, 7, 42), (9, -6, 7, -42), (9, 2 ** 20, 2 ** 20, 2 ** 40), (9, MININT, -1, 2 ** 30),
    (9, MININT, MININT, 2 ** 60), (9, MAXINT, -2, -2 * MAXINT), (9, 0, MININT, 0),
    (10, 6, 3, 2), (10, -6, 3, -2), (10, 6, -3, -2), (10, 0, 5, 0),
    (11, 7, 2, 1), (11, -7, 2, 1), (11, 7, -2, -1), (11, -7, -2, -1), (11, 6, 3, 0),
    (11, MININT, -1, 0), (11, MININT, MAXINT, MAXINT - 1),
    (12, 7, 2, 3), (12, -7, 2, -4), (12, 7, -2, -4), (12, -7, -2, 3),
    (13, 7, 2, 3), (13, -7, 2, -3), (13, 7, -2, -3), (13, -7, -2, 3), (13, MININT, 1, MININT),
    (14, -1, 255, 255), (14, 12, 10, 8), (14, MININT, -1, MININT),
    (15, -256, 255, -1), (15, 12, 10, 14),
    (16, 5, 3, 6), (16, -1, MAXINT, MININT), (16, 12, 10, 6),
    (17, 1, 10, 1024), (17, 1, 29, 2 ** 29), (17, 1, 30, 2 ** 30), (17, -1, 30, MININT),
    (17, -1, 31, -2 ** 31), (17, 3, 100, 3 * 2 ** 100), (17, -3, 100, -3 * 2 ** 100),
    (17, MAXINT, 1, 2 * MAXINT), (17, 0, 10 ** 9, 0), (17, 0, 0, 0), (17, 5, 0, 5),
    (17, 5, -1, 2), (17, -5, -1, -3), (17, 1024, -10, 1), (17, 5, -100, 0),
    (17, -5, -100, -1), (17, MININT, -30, -1), (17, MININT, -29, -2), (17, -1, -1, -1),
    (17, 7, MININT, 0), (17, -7, MININT, -1),
]


@pytest.mark.parametrize("number, a, b, expected", SMALL_CASES)
def test_smallint_arithmetic(ints, fake_space, call_primitive, number, a, b, expected):
    space = fake_space
    w_result = call_primitive(space, number, ints.w_int(space, a), ints.w_int(space, b))
    ints.assert_int(space, w_result, expected)


@pytest.mark.parametrize("a, b", [(3, 4), (4, 3), (5, 5), (-1, 1), (MININT, MAXINT), (0, 0)])
def test_smallint_comparisons(ints, fake_space, call_primitive, a, b):
    space = fake_space
    ops = {3: a < b, 4: a > b, 5: a <= b, 6: a >= b, 7: a == b, 8: a != b}
    for number, expected in ops.items():
        w_result = call_primitive(space, number, ints.w_int(space, a), ints.w_int(space, b))
        ints.assert_bool(space, w_result, expected)


@pytest.mark.parametrize("number, a, b", [
    (10, 7, 2), (10, -7, 2), (10, 1, 0), (10, 0, 0), (11, 7, 0), (12, 7, 0), (13, 7, 0),
    (17, 1, arithmetic.MAX_SHIFT + 1), (17, -1, MAXINT),
    # The quotient is not a SmallInteger: the division primitives fail, as in the
    # OpenSmalltalk VM, and the image's fallback code answers the LargeInteger.
    (10, MININT, -1), (12, MININT, -1), (13, MININT, -1),
])
def test_smallint_failures(ints, fake_space, call_primitive, number, a, b):
    space = fake_space
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, number, ints.w_int(space, a), ints.w_int(space, b))


@pytest.mark.parametrize("number", range(1, 18))
def test_smallint_wrong_classes(ints, fake_space, call_primitive, number):
    space = fake_space
    bad = [ints.w_float(space, 2.0), ints.w_int(space, 2 ** 40), ints.w_large(space, 2), space.w_nil,
           space.w_true, space.wrap_string("2")]
    for w_bad in bad:
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, number, ints.w_int(space, 3), w_bad)
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, number, w_bad, ints.w_int(space, 3))


@pytest.mark.parametrize("number, a, b", [
    (1, MAXINT, 1), (2, MININT, 1), (9, 2 ** 20, 2 ** 20), (10, MININT, -1),
    (12, MININT, -1), (13, MININT, -1), (17, 1, 40), (17, -1, 40),
])
def test_smallint_overflow_without_large_classes(ints, fake_space, call_primitive, number, a, b):
    space = fake_space
    space.w_LargePositiveInteger = space.w_nil
    space.w_LargeNegativeInteger = space.w_nil
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, number, ints.w_int(space, a), ints.w_int(space, b))
    # Results in range still work.
    ints.assert_int(space, call_primitive(space, 1, ints.w_int(space, 3), ints.w_int(space, 4)), 7)


def test_wrong_argument_count(ints, fake_space, run_primitive):
    from spyvm.primitives import _TABLE
    space = fake_space
    with pytest.raises(PrimitiveFailed):
        run_primitive(space, _TABLE[1], ints.w_int(space, 1), [ints.w_int(space, 2), ints.w_int(space, 3)])
    with pytest.raises(PrimitiveFailed):
        run_primitive(space, _TABLE[40], ints.w_int(space, 1), [ints.w_int(space, 2)])


@pytest.mark.parametrize("number, a, b, expected", [
    (1, 2 ** 60 - 1, 1, 2 ** 60), (2, -2 ** 60, 1, -2 ** 60 - 1),
    (9, 2 ** 40, 2 ** 40, 2 ** 80), (9, 2 ** 30, 2 ** 29, 2 ** 59), (9, -2 ** 60, -1, 2 ** 60),
    (9, 2 ** 59, 2 ** 59, 2 ** 118), (9, -(2 ** 60), -(2 ** 60), 2 ** 120),
    (11, -2 ** 60, 2 ** 60 - 1, 2 ** 60 - 2),
    (17, 1, 59, 2 ** 59), (17, 1, 60, 2 ** 60), (17, -1, 60, -2 ** 60), (17, 1, 62, 2 ** 62),
    (17, 1, 63, 2 ** 63), (17, 3, 64, 3 * 2 ** 64), (17, -2 ** 60, -60, -1),
    (17, 2 ** 60 - 1, -59, 1), (17, 2 ** 60 - 1, -62, 0), (17, -5, -63, -1),
    (16, -1, 2 ** 60 - 1, -2 ** 60),
])
def test_smallint_64bit(ints, fake_space64, call_primitive, number, a, b, expected):
    space = fake_space64
    w_result = call_primitive(space, number, ints.w_int(space, a), ints.w_int(space, b))
    ints.assert_int(space, w_result, expected)


@pytest.mark.parametrize("number", [10, 12, 13])
def test_smallint_64bit_division_overflow_fails(ints, fake_space64, call_primitive, number):
    space = fake_space64
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, number, ints.w_int(space, -2 ** 60), ints.w_int(space, -1))
    ints.assert_int(space, call_primitive(space, number, ints.w_int(space, -2 ** 60), ints.w_int(space, 1)),
               -2 ** 60)


def test_bit_shift_function(ints, fake_space):
    space = fake_space
    assert arithmetic.bit_shift(space, 1, 3).value == 8
    assert arithmetic.bit_shift(space, -8, -2).value == -2
    assert arithmetic.bit_shift(space, 1, arithmetic.MAX_SHIFT + 1) is None
    ints.assert_int(space, arithmetic.bit_shift(space, 1, 64), 2 ** 64)
    space.w_LargePositiveInteger = space.w_nil
    assert arithmetic.bit_shift(space, 1, 64) is None


def test_interpreter_fast_paths(ints, fake_space):
    from spyvm.interpreter import _smallint_op, _float_op
    space = fake_space
    ints.assert_int(space, _smallint_op(space, 12, 1, 40), 2 ** 40)
    ints.assert_int(space, _smallint_op(space, 12, -16, -2), -4)
    assert_float(_float_op(space, 0, ints.w_float(space, 1.5), ints.w_int(space, 2)), 3.5)
    assert_float(_float_op(space, 9, ints.w_int(space, 3), ints.w_float(space, 2.0)), 1.5)
    assert _float_op(space, 0, ints.w_float(space, 1.5), space.w_nil) is None
    assert _float_op(space, 0, ints.w_float(space, 1.5), ints.w_int(space, 2 ** 40)) is None


# --- Point (18) -------------------------------------------------------------------

def test_make_point(ints, fake_space, call_primitive):
    space = fake_space
    w_x = ints.w_int(space, 3)
    w_y = ints.w_float(space, 4.5)
    w_point = call_primitive(space, 18, w_x, w_y)
    assert isinstance(w_point, model.W_PointersObject)
    assert w_point.getclass(space) is space.w_Point
    assert w_point.size() == 2
    assert w_point.fetch(space, constants.POINT_X) is w_x
    assert w_point.fetch(space, constants.POINT_Y) is w_y
    w_point = call_primitive(space, 18, ints.w_float(space, 1.0), ints.w_int(space, -2))
    assert w_point.fetch(space, constants.POINT_Y).value == -2


@pytest.mark.parametrize("make_arg", [
    lambda space: space.w_nil, lambda space: space.wrap_bigint(rbigint.fromlong(2 ** 40)),
    lambda space: space.wrap_string("x"),
])
def test_make_point_bad_argument(ints, fake_space, call_primitive, make_arg):
    space = fake_space
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 18, ints.w_int(space, 1), make_arg(space))


def test_make_point_without_point_class(ints, fake_space, call_primitive):
    space = fake_space
    space.w_Point = space.w_nil
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 18, ints.w_int(space, 1), ints.w_int(space, 2))


# --- LargeInteger (20-37) ---------------------------------------------------------

LARGE_VALUES = [0, 1, -1, 7, -7, 255, 256, MAXINT, MININT, 2 ** 30, -2 ** 30 - 1,
                2 ** 32, 2 ** 64 + 5, -(2 ** 64 + 5), 3 ** 50, -(3 ** 50), 2 ** 100]


def _large_expected(number, a, b):
    """Expected result, or None when the primitive must fail."""
    if number in (20, 30, 31, 32, 33) and b == 0:
        return None
    if number == 20:
        return a - b * quo(a, b)
    if number == 30:
        if a % b != 0:
            return None
        return a // b
    return {21: lambda: a + b, 22: lambda: a - b, 23: lambda: a < b, 24: lambda: a > b,
            25: lambda: a <= b, 26: lambda: a >= b, 27: lambda: a == b, 28: lambda: a != b,
            29: lambda: a * b, 31: lambda: a % b, 32: lambda: a // b,
            33: lambda: quo(a, b), 34: lambda: a & b, 35: lambda: a | b,
            36: lambda: a ^ b}[number]()


@pytest.mark.parametrize("number", range(20, 37))
def test_large_integer_ops(ints, fake_space, call_primitive, number):
    space = fake_space
    for a in LARGE_VALUES:
        for b in LARGE_VALUES:
            expected = _large_expected(number, a, b)
            if expected is None:
                with pytest.raises(PrimitiveFailed):
                    call_primitive(space, number, ints.w_int(space, a), ints.w_int(space, b))
                continue
            w_result = call_primitive(space, number, ints.w_int(space, a), ints.w_int(space, b))
            if isinstance(expected, bool):
                ints.assert_bool(space, w_result, expected)
            else:
                ints.assert_int(space, w_result, expected)


@pytest.mark.parametrize("number", range(20, 37))
def test_large_integer_unnormalised_operands(ints, fake_space, call_primitive, number):
    space = fake_space
    a, b = 12 * (2 ** 40 + 1), 12
    w_a = ints.w_large(space, a, extra_bytes=2)
    w_b = ints.w_large(space, b, extra_bytes=1)
    expected = _large_expected(number, a, b)
    w_result = call_primitive(space, number, w_a, w_b)
    if isinstance(expected, bool):
        ints.assert_bool(space, w_result, expected)
    else:
        ints.assert_int(space, w_result, expected)


@pytest.mark.parametrize("number", range(20, 38))
def test_large_integer_wrong_classes(ints, fake_space, call_primitive, number):
    space = fake_space
    w_a = ints.w_int(space, 2 ** 40)
    w_bytes = model.W_BytesObject(space.w_ByteArray, 2)
    for w_bad in [ints.w_float(space, 2.0), space.w_nil, space.wrap_string("ab"), w_bytes]:
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, number, w_a, w_bad)
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, number, w_bad, ints.w_int(space, 3))


@pytest.mark.parametrize("a", [0, 1, -1, 5, -5, 2 ** 40 + 3, -(2 ** 40 + 3), 3 ** 60])
@pytest.mark.parametrize("shift", [0, 1, 7, 8, 31, 64, 200, -1, -7, -8, -31, -64, -200,
                                   MININT])
def test_large_bit_shift(ints, fake_space, call_primitive, a, shift):
    space = fake_space
    w_result = call_primitive(space, 37, ints.w_int(space, a), ints.w_int(space, shift))
    if shift >= 0:
        ints.assert_int(space, w_result, a << shift)
    else:
        ints.assert_int(space, w_result, a >> -shift)


def test_large_bit_shift_failures(ints, fake_space, call_primitive):
    space = fake_space
    w_a = ints.w_int(space, 2 ** 40)
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 37, w_a, ints.w_int(space, 2 ** 40))
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 37, w_a, ints.w_int(space, arithmetic.MAX_SHIFT + 1))
    ints.assert_int(space, call_primitive(space, 37, ints.w_int(space, 0), ints.w_int(space, MAXINT)), 0)


def test_large_results_without_classes(ints, fake_space, call_primitive):
    space = fake_space
    w_a = ints.w_int(space, 2 ** 40)
    space.w_LargeNegativeInteger = space.w_nil
    ints.assert_int(space, call_primitive(space, 21, w_a, w_a), 2 ** 41)
    ints.assert_int(space, call_primitive(space, 22, w_a, w_a), 0)
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 22, ints.w_int(space, 5), w_a)


# --- Float (40-59) ----------------------------------------------------------------

def test_as_float(ints, fake_space, call_primitive):
    space = fake_space
    assert_float(call_primitive(space, 40, ints.w_int(space, 3)), 3.0)
    assert_float(call_primitive(space, 40, ints.w_int(space, MININT)), float(MININT))
    for w_bad in [ints.w_float(space, 1.0), ints.w_int(space, 2 ** 40), space.w_nil]:
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, 40, w_bad)


def test_as_float_64bit(ints, fake_space64, call_primitive):
    space = fake_space64
    assert_float(call_primitive(space, 40, ints.w_int(space, 2 ** 60 - 1)), float(2 ** 60))


FLOAT_BINARY = [
    (41, lambda a, b: a + b), (42, lambda a, b: a - b), (43, lambda a, b: a < b),
    (44, lambda a, b: a > b), (45, lambda a, b: a <= b), (46, lambda a, b: a >= b),
    (47, lambda a, b: a == b), (48, lambda a, b: a != b), (49, lambda a, b: a * b),
    (50, lambda a, b: a / b),
]
FLOAT_VALUES = [0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, INF, -INF, NAN]


@pytest.mark.parametrize("number, op", FLOAT_BINARY)
def test_float_binary(ints, fake_space, call_primitive, number, op):
    space = fake_space
    for a in FLOAT_VALUES:
        for b in FLOAT_VALUES + [3, -4, 0, MAXINT, MININT]:
            if isinstance(b, int):
                w_b = ints.w_int(space, b)
            else:
                w_b = ints.w_float(space, b)
            if number == 50 and b == 0:
                with pytest.raises(PrimitiveFailed):
                    call_primitive(space, number, ints.w_float(space, a), w_b)
                continue
            w_result = call_primitive(space, number, ints.w_float(space, a), w_b)
            expected = op(a, float(b))
            if isinstance(expected, bool):
                ints.assert_bool(space, w_result, expected)
            else:
                assert_float(w_result, expected)


@pytest.mark.parametrize("number", range(41, 51))
def test_float_binary_wrong_classes(ints, fake_space, call_primitive, number):
    space = fake_space
    for w_bad in [space.w_nil, ints.w_int(space, 2 ** 40), space.wrap_string("1.0"), space.w_true]:
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, number, ints.w_float(space, 1.0), w_bad)
    # The receiver must be a Float.
    for w_bad in [ints.w_int(space, 2), space.w_nil, ints.w_int(space, 2 ** 40)]:
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, number, w_bad, ints.w_float(space, 1.0))


def test_float_nan_comparisons(ints, fake_space, call_primitive):
    space = fake_space
    w_nan = ints.w_float(space, NAN)
    ints.assert_bool(space, call_primitive(space, 47, w_nan, w_nan), False)
    ints.assert_bool(space, call_primitive(space, 48, w_nan, w_nan), True)
    for number in (43, 44, 45, 46):
        ints.assert_bool(space, call_primitive(space, number, w_nan, ints.w_float(space, 1.0)), False)
        ints.assert_bool(space, call_primitive(space, number, ints.w_float(space, 1.0), w_nan), False)


def test_float_with_inexact_smallint_64bit(ints, fake_space64, call_primitive):
    space = fake_space64
    w_one = ints.w_float(space, 1.0)
    ints.assert_bool(space, call_primitive(space, 43, w_one, ints.w_int(space, 2 ** 53)), True)
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 47, ints.w_float(space, 2.0 ** 60), ints.w_int(space, 2 ** 60 - 1))


def test_float_value(ints, fake_space, fake_space64):
    space = fake_space
    w_f = ints.w_float(space, 2.5)
    assert arithmetic.float_value(space, w_f) is w_f
    w_conv = arithmetic.float_value(space, ints.w_int(space, -7))
    assert_float(w_conv, -7.0)
    assert w_conv.getclass(space) is space.w_Float
    assert arithmetic.float_value(space, space.w_nil) is None
    assert arithmetic.float_value(space, ints.w_int(space, 2 ** 40)) is None
    space = fake_space64
    assert_float(arithmetic.float_value(space, ints.w_int(space, 2 ** 53)), 2.0 ** 53)
    assert arithmetic.float_value(space, ints.w_int(space, 2 ** 53 + 1)) is None


@pytest.mark.parametrize("x, expected", [
    (3.7, 3), (-3.7, -3), (0.5, 0), (-0.5, 0), (0.0, 0), (-0.0, 0),
    (1073741823.9, MAXINT), (-1073741824.9, MININT), (1073741824.0, 2 ** 30),
    (-1073741825.0, -2 ** 30 - 1), (1e15, 10 ** 15), (-1e15, -10 ** 15),
    (2.0 ** 53 + 2, 2 ** 53 + 2), (1e300, int(1e300)), (-1.7976931348623157e308,
                                                       -int(1.7976931348623157e308)),
    (123456789012345.67, 123456789012345),
])
def test_truncated(ints, fake_space, call_primitive, x, expected):
    space = fake_space
    ints.assert_int(space, call_primitive(space, 51, ints.w_float(space, x)), expected)


@pytest.mark.parametrize("x", [NAN, INF, -INF])
def test_truncated_fails_for_non_finite(ints, fake_space, call_primitive, x):
    space = fake_space
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 51, ints.w_float(space, x))


def test_truncated_64bit(ints, fake_space64, call_primitive):
    space = fake_space64
    ints.assert_int(space, call_primitive(space, 51, ints.w_float(space, 1e15)), 10 ** 15)
    ints.assert_int(space, call_primitive(space, 51, ints.w_float(space, 2.0 ** 60)), 2 ** 60)
    ints.assert_int(space, call_primitive(space, 51, ints.w_float(space, -2.0 ** 60)), -2 ** 60)
    ints.assert_int(space, call_primitive(space, 51, ints.w_float(space, 1e20)), 10 ** 20)


def test_truncated_without_large_classes(ints, fake_space, call_primitive):
    space = fake_space
    space.w_LargePositiveInteger = space.w_nil
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 51, ints.w_float(space, 1e15))
    ints.assert_int(space, call_primitive(space, 51, ints.w_float(space, 1e5)), 100000)


@pytest.mark.parametrize("x, expected", [
    (3.75, 0.75), (-3.75, -0.75), (2.0, 0.0), (-2.0, -0.0), (0.0, 0.0), (1e300, 0.0),
    (INF, 0.0), (-INF, -0.0), (NAN, NAN),
])
def test_fraction_part(ints, fake_space, call_primitive, x, expected):
    space = fake_space
    assert_float(call_primitive(space, 52, ints.w_float(space, x)), expected)


@pytest.mark.parametrize("x, expected", [
    (1.0, 0), (2.0, 1), (3.0, 1), (0.5, -1), (0.75, -1), (-8.0, 3), (1e300, 996),
    (5e-324, -1074), (2.2250738585072014e-308, -1022), (1.7976931348623157e308, 1023),
    (0.0, -1), (-0.0, -1), (INF, -1), (NAN, -1),
])
def test_exponent(ints, fake_space, call_primitive, x, expected):
    space = fake_space
    w_result = call_primitive(space, 53, ints.w_float(space, x))
    assert isinstance(w_result, model.W_SmallInteger)
    assert w_result.value == expected


@pytest.mark.parametrize("x, n, expected", [
    (1.5, 3, 12.0), (12.0, -3, 1.5), (1.0, 0, 1.0), (1.0, 1023, 2.0 ** 1023),
    (1.0, 1024, INF), (-1.0, 2000, -INF), (1.0, -1074, 5e-324), (1.0, -1080, 0.0),
    (-1.0, -5000, -0.0), (5e-324, 1074, 1.0), (1.0, MAXINT, INF), (1.0, MININT, 0.0),
    (0.0, 100, 0.0), (INF, -100, INF), (NAN, 3, NAN),
])
def test_times_two_power(ints, fake_space, call_primitive, x, n, expected):
    space = fake_space
    assert_float(call_primitive(space, 54, ints.w_float(space, x), ints.w_int(space, n)), expected)


def test_times_two_power_failures(ints, fake_space, call_primitive):
    space = fake_space
    w_one = ints.w_float(space, 1.0)
    for w_bad in [ints.w_float(space, 2.0), ints.w_int(space, 2 ** 40), space.w_nil]:
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, 54, w_one, w_bad)
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 54, ints.w_int(space, 1), ints.w_int(space, 2))


@pytest.mark.parametrize("number, x, expected", [
    (55, 4.0, 2.0), (55, 2.0, math.sqrt(2.0)), (55, 0.0, 0.0), (55, -0.0, -0.0),
    (55, INF, INF),
    (56, 0.0, 0.0), (56, 1.0, math.sin(1.0)), (56, INF, NAN), (56, -INF, NAN), (56, NAN, NAN),
    (57, 1.0, math.atan(1.0)), (57, INF, math.pi / 2), (57, -INF, -math.pi / 2),
    (57, NAN, NAN), (57, -0.0, -0.0),
    (58, math.e, 1.0), (58, 1.0, 0.0), (58, 0.0, -INF), (58, -0.0, -INF), (58, -1.0, NAN),
    (58, INF, INF), (58, -INF, NAN), (58, NAN, NAN), (58, 5e-324, math.log(5e-324)),
    (59, 0.0, 1.0), (59, 1.0, math.exp(1.0)), (59, 1000.0, INF), (59, -1000.0, 0.0),
    (59, INF, INF), (59, -INF, 0.0), (59, NAN, NAN), (59, 709.0, math.exp(709.0)),
])
def test_float_functions(ints, fake_space, call_primitive, number, x, expected):
    space = fake_space
    assert_float(call_primitive(space, number, ints.w_float(space, x)), expected)


@pytest.mark.parametrize("x", [-1.0, -INF, NAN, -5e-324])
def test_sqrt_fails_for_negative_and_nan(ints, fake_space, call_primitive, x):
    space = fake_space
    with pytest.raises(PrimitiveFailed):
        call_primitive(space, 55, ints.w_float(space, x))


@pytest.mark.parametrize("number", range(51, 60))
def test_float_unary_wrong_receiver(ints, fake_space, call_primitive, number):
    space = fake_space
    args = [ints.w_int(space, 1)] if number == 54 else []
    for w_bad in [ints.w_int(space, 4), space.w_nil, ints.w_int(space, 2 ** 40)]:
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, number, w_bad, *args)


def test_smallfloat64_primitives_are_the_float_ones():
    # Spur 64-bit's SmallFloat64 methods use 541-559 for what 41-59 do on boxed floats.
    from spyvm.primitives import _TABLE
    for number in range(41, 60):
        assert _TABLE[number] is not None and _TABLE[500 + number] is _TABLE[number]
