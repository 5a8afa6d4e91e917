"""The LargeIntegers plugin: digit arithmetic on magnitudes, normalising, module name."""

import pytest

from spyvm import model, primitives
from spyvm.errors import PrimitiveFailed
from spyvm.plugins import largeintegers


def test_registers_its_primitives():
    for name in ["primDigitAdd", "primDigitSubtract", "primDigitMultiplyNegative",
                 "primDigitDivNegative", "primDigitBitAnd", "primDigitBitOr",
                 "primDigitBitXor", "primDigitBitShiftMagnitude", "primDigitCompare",
                 "primNormalizePositive", "primNormalizeNegative", "primGetModuleName"]:
        assert primitives.lookup_named(largeintegers.MODULE, name) is not None, name


def call_lip(call_named_primitive, space, name, w_rcvr, *args_w):
    return call_named_primitive(space, largeintegers.MODULE, name, w_rcvr, *args_w)


@pytest.mark.parametrize("a, b, add, sub", [
    (2 ** 40, 5, 2 ** 40 + 5, 2 ** 40 - 5),
    (-(2 ** 40), 5, -(2 ** 40 + 5), -(2 ** 40 - 5)),
    (-(2 ** 40), -5, -(2 ** 40 + 5), -(2 ** 40 - 5)),
    (5, 2 ** 40, 2 ** 40 + 5, -(2 ** 40 - 5)),
    (-5, 2 ** 40, -(2 ** 40 + 5), 2 ** 40 - 5),
    (-3, 4, -7, 1), (3, -4, 7, -1), (0, -4, 4, -4), (2 ** 40, 2 ** 40, 2 ** 41, 0),
    (-(2 ** 40), 2 ** 40, -(2 ** 41), 0),
])
def test_lip_add_subtract(ints, fake_space, call_named_primitive, a, b, add, sub):
    space = fake_space
    ints.assert_int(space, call_lip(call_named_primitive, space, "primDigitAdd",
                               ints.w_int(space, a), ints.w_int(space, b)), add)
    ints.assert_int(space, call_lip(call_named_primitive, space, "primDigitSubtract",
                               ints.w_int(space, a), ints.w_int(space, b)), sub)


def test_lip_multiply(ints, fake_space, call_named_primitive):
    space = fake_space
    f = "primDigitMultiplyNegative"
    ints.assert_int(space, call_lip(call_named_primitive, space, f, ints.w_int(space, 2 ** 40),
                               ints.w_int(space, -3), space.w_true), -3 * 2 ** 40)
    ints.assert_int(space, call_lip(call_named_primitive, space, f, ints.w_int(space, -(2 ** 40)),
                               ints.w_int(space, -3), space.w_false), 3 * 2 ** 40)
    ints.assert_int(space, call_lip(call_named_primitive, space, f, ints.w_int(space, 2 ** 40),
                               ints.w_int(space, 0), space.w_true), 0)
    with pytest.raises(PrimitiveFailed):
        call_lip(call_named_primitive, space, f, ints.w_int(space, 2), ints.w_int(space, 3), space.w_nil)


@pytest.mark.parametrize("a, b, neg, q, r", [
    (2 ** 70 + 7, 2 ** 35, False, 2 ** 35, 7),
    (-(2 ** 70 + 7), 2 ** 35, True, -(2 ** 35), -7),
    (2 ** 70 + 7, -(2 ** 35), True, -(2 ** 35), 7),
    (5, 2 ** 40, False, 0, 5),
    (-5, 2 ** 40, True, 0, -5),
    (3 ** 60, 7, False, 3 ** 60 // 7, 3 ** 60 % 7),
    (2 ** 40, 2 ** 40, False, 1, 0),
])
def test_lip_div(ints, fake_space, call_named_primitive, a, b, neg, q, r):
    space = fake_space
    w_result = call_lip(call_named_primitive, space, "primDigitDivNegative",
                        ints.w_int(space, a), ints.w_int(space, b), space.wrap_bool(neg))
    assert w_result.getclass(space) is space.w_Array
    assert w_result.size() == 2
    ints.assert_int(space, w_result.fetch(space, 0), q)
    ints.assert_int(space, w_result.fetch(space, 1), r)


def test_lip_div_failures(ints, fake_space, call_named_primitive):
    space = fake_space
    f = "primDigitDivNegative"
    w_a = ints.w_int(space, 2 ** 40)
    for w_zero in [ints.w_int(space, 0), ints.w_large(space, 0, extra_bytes=3)]:
        with pytest.raises(PrimitiveFailed):
            call_lip(call_named_primitive, space, f, w_a, w_zero, space.w_false)
    with pytest.raises(PrimitiveFailed):
        call_lip(call_named_primitive, space, f, w_a, ints.w_int(space, 3), ints.w_int(space, 0))
    with pytest.raises(PrimitiveFailed):
        call_lip(call_named_primitive, space, f, w_a, ints.w_float(space, 3.0), space.w_false)


def test_lip_bit_logic(ints, fake_space, call_named_primitive):
    space = fake_space
    a, b = 2 ** 40 + 3, 5
    for name, expected in [("primDigitBitAnd", a & b), ("primDigitBitOr", a | b),
                           ("primDigitBitXor", a ^ b)]:
        ints.assert_int(space, call_lip(call_named_primitive, space, name,
                                   ints.w_int(space, a), ints.w_int(space, b)), expected)
        ints.assert_int(space, call_lip(call_named_primitive, space, name,
                                   ints.w_int(space, b), ints.w_int(space, a)), expected)
        for x, y in [(-a, b), (a, -b), (-1, 1)]:
            with pytest.raises(PrimitiveFailed):
                call_lip(call_named_primitive, space, name, ints.w_int(space, x), ints.w_int(space, y))
    ints.assert_int(space, call_lip(call_named_primitive, space, "primDigitBitXor",
                               ints.w_int(space, a), ints.w_int(space, a)), 0)


@pytest.mark.parametrize("a, shift, expected", [
    (2 ** 40, 3, 2 ** 43), (2 ** 40, -3, 2 ** 37), (-(2 ** 40), 3, -(2 ** 43)),
    (-(2 ** 40), -3, -(2 ** 37)), (-(2 ** 40 + 1), -1, -(2 ** 39)), (1, 40, 2 ** 40),
    (-1, 40, -(2 ** 40)), (-1, -1, 0), (2 ** 40, -100, 0), (0, 100, 0), (5, 0, 5),
])
def test_lip_bit_shift_magnitude(ints, fake_space, call_named_primitive, a, shift, expected):
    space = fake_space
    ints.assert_int(space, call_lip(call_named_primitive, space, "primDigitBitShiftMagnitude",
                               ints.w_int(space, a), ints.w_int(space, shift)), expected)


def test_lip_bit_shift_magnitude_failures(ints, fake_space, call_named_primitive):
    space = fake_space
    f = "primDigitBitShiftMagnitude"
    with pytest.raises(PrimitiveFailed):
        call_lip(call_named_primitive, space, f, ints.w_int(space, 1), ints.w_int(space, 2 ** 40))
    with pytest.raises(PrimitiveFailed):
        call_lip(call_named_primitive, space, f, space.w_nil, ints.w_int(space, 1))


@pytest.mark.parametrize("a, b, expected", [
    (2 ** 40, -(2 ** 41), -1), (-(2 ** 41), 2 ** 40, 1), (2 ** 40, 2 ** 40, 0),
    (2 ** 40, -(2 ** 40), 0), (-5, 3, 1), (3, -5, -1), (4, 4, 0), (5, 2 ** 40, -1),
    (2 ** 40, 5, 1),
])
def test_lip_compare(ints, fake_space, call_named_primitive, a, b, expected):
    space = fake_space
    w_result = call_lip(call_named_primitive, space, "primDigitCompare",
                        ints.w_int(space, a), ints.w_int(space, b))
    assert isinstance(w_result, model.W_SmallInteger) and w_result.value == expected


def test_lip_compare_unnormalised(ints, fake_space, call_named_primitive):
    space = fake_space
    w_result = call_lip(call_named_primitive, space, "primDigitCompare",
                        ints.w_large(space, 2 ** 40, extra_bytes=3), ints.w_int(space, 2 ** 40))
    assert w_result.value == 0
    with pytest.raises(PrimitiveFailed):
        call_lip(call_named_primitive, space, "primDigitCompare", ints.w_int(space, 1),
                 ints.w_float(space, 1.0))


def test_lip_normalize(ints, fake_space, call_named_primitive):
    space = fake_space
    pos, neg = "primNormalizePositive", "primNormalizeNegative"
    ints.assert_int(space, call_lip(call_named_primitive, space, pos, ints.w_large(space, 5, 2)), 5)
    ints.assert_int(space, call_lip(call_named_primitive, space, pos, ints.w_large(space, 0, 2)), 0)
    w_unnorm = ints.w_large(space, 2 ** 40, 2)
    w_result = call_lip(call_named_primitive, space, pos, w_unnorm)
    assert w_result is not w_unnorm
    ints.assert_int(space, w_result, 2 ** 40)
    w_norm = ints.w_large(space, 2 ** 40)
    assert call_lip(call_named_primitive, space, pos, w_norm) is w_norm
    ints.assert_int(space, call_lip(call_named_primitive, space, neg, ints.w_large(space, -5, 1)), -5)
    minint = space.minint
    ints.assert_int(space, call_lip(call_named_primitive, space, neg,
                                    ints.w_large(space, minint)), minint)
    ints.assert_int(space, call_lip(call_named_primitive, space, neg,
                               ints.w_large(space, minint - 1, 3)), minint - 1)
    w_norm = ints.w_large(space, -(2 ** 40))
    assert call_lip(call_named_primitive, space, neg, w_norm) is w_norm
    for name, w_bad in [(pos, ints.w_large(space, -(2 ** 40))), (neg, ints.w_large(space, 2 ** 40)),
                        (pos, ints.w_int(space, 3)), (neg, ints.w_int(space, -3)),
                        (pos, space.wrap_string("abcdef"))]:
        with pytest.raises(PrimitiveFailed):
            call_lip(call_named_primitive, space, name, w_bad)


@pytest.mark.parametrize("a, start, stop, expected", [
    (160, 1, 5, False), (160, 6, 6, True), (160, 1, 8, True), (160, 9, 100, False),
    (2 ** 40, 41, 41, True), (2 ** 40, 1, 40, False), (-(2 ** 40), 1, 41, True),
    (-(2 ** 40), 1, 40, False), (0, 1, 10, False), (7, 3, 2, False), (2 ** 70 + 1, 1, 1, True),
])
def test_lip_any_bit(ints, fake_space, call_named_primitive, a, start, stop, expected):
    space = fake_space
    w_result = call_lip(call_named_primitive, space, "primAnyBitFromTo", ints.w_int(space, a),
                        ints.w_int(space, start), ints.w_int(space, stop))
    ints.assert_bool(space, w_result, expected)


def test_lip_any_bit_failures(ints, fake_space, call_named_primitive):
    space = fake_space
    for start, stop in [(0, 5), (1, 0), (-1, 3)]:
        with pytest.raises(PrimitiveFailed):
            call_lip(call_named_primitive, space, "primAnyBitFromTo", ints.w_int(space, 5),
                     ints.w_int(space, start), ints.w_int(space, stop))


def test_lip_module_name(ints, fake_space, call_named_primitive):
    space = fake_space
    w_name = call_lip(call_named_primitive, space, "primGetModuleName", space.w_nil)
    assert w_name.getclass(space) is space.w_String
    assert w_name.as_string().startswith("LargeIntegers")
    assert call_lip(call_named_primitive, space, "primCheckIfCModuleExists",
                    space.w_nil) is space.w_true


@pytest.mark.parametrize("name", ["primDigitAdd", "primDigitSubtract", "primDigitBitAnd",
                                  "primDigitBitOr", "primDigitBitXor", "primDigitCompare"])
def test_lip_wrong_classes(ints, fake_space, call_named_primitive, name):
    space = fake_space
    for w_bad in [space.w_nil, ints.w_float(space, 1.0), space.wrap_string("abc")]:
        with pytest.raises(PrimitiveFailed):
            call_lip(call_named_primitive, space, name, ints.w_int(space, 2 ** 40), w_bad)
        with pytest.raises(PrimitiveFailed):
            call_lip(call_named_primitive, space, name, w_bad, ints.w_int(space, 2 ** 40))
