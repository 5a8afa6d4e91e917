"""The null display: screen, cursor and input primitives of a machine without a screen."""

import pytest

from spyvm import constants
from spyvm.model import W_PointersObject, W_SmallInteger
from spyvm.primitives import display, _TABLE, lookup_named   # noqa: registers them


def i(n):
    return W_SmallInteger(n)


ARITIES = {90: 0, 91: 1, 92: 4, 93: 1, 94: 1, 95: 0, 102: 0, 106: 0, 107: 0, 108: 0,
           109: 0, 126: 1, 127: 4, 231: 0, 233: 1}


def test_registered():
    for number in list(ARITIES) + [101]:
        assert _TABLE[number] is not None, number
    assert lookup_named("", "primitiveScreenDepth") is not None


@pytest.mark.parametrize("number", sorted(ARITIES))
def test_wrong_argument_counts_fail(env, number):
    nargs = ARITIES[number]
    env.run_fails(number, env.array(i(0)), [i(1)] * (nargs + 1))
    if nargs > 0:
        env.run_fails(number, env.array(i(0)), [i(1)] * (nargs - 1))


def test_be_display(env):
    w_display = env.obj(env.cls("DisplayScreen", 4, constants.FMT_FIXED),
                        env.nil, i(640), i(480), i(32))
    assert env.call(102, w_display) is w_display
    assert env.space.special(constants.SO_DISPLAY) is w_display
    env.fails(102, i(3))


def test_screen_size_and_depth(env):
    w_point = env.call(106, env.nil)
    assert isinstance(w_point, W_PointersObject)
    assert w_point.getclass(env.space) is env.space.w_Point
    assert [w.value for w in w_point.slots] == [1024, 768]
    assert env.call_named("", "primitiveScreenDepth", env.nil).value == 32


def test_mouse_point(env):
    w_point = env.call(90, env.nil)
    assert w_point.getclass(env.space) is env.space.w_Point
    assert [w.value for w in w_point.slots] == [0, 0]


@pytest.mark.parametrize("number", [95, 107, 108, 109])
def test_no_input(env, number):
    w_result = env.call(number, env.nil)
    assert isinstance(w_result, W_SmallInteger) and w_result.value == 0


def test_get_next_event(env):
    w_event = env.array(*[i(7)] * 8)
    w_rcvr = env.string("EventSensor")
    assert env.call(94, w_rcvr, w_event) is w_rcvr
    assert w_event.slots[0].value == 0            # event type 0: none
    env.fails(94, w_rcvr, env.array())
    env.fails(94, w_rcvr, env.nil)
    env.fails(94, w_rcvr, env.string("12345678"))
    env.fails(94, w_rcvr, i(8))


def test_test_display_depth(env):
    for depth in (1, 2, 4, 8, 16, 32, -32):
        assert env.call(91, env.nil, i(depth)) is env.space.w_true
    for depth in (0, 3, 24, 64):
        assert env.call(91, env.nil, i(depth)) is env.space.w_false
    w_point = W_PointersObject(env.space.w_Point, 2, env.nil)
    assert env.call(91, env.nil, w_point) is env.nil     # old cursorLocPut:
    env.fails(91, env.nil, env.string("x"))


def test_set_display_mode(env):
    assert env.call(92, env.nil, i(32), i(800), i(600), env.space.w_false) is \
        env.space.w_true
    assert env.call(92, env.nil, i(3), i(800), i(600), env.space.w_false) is \
        env.space.w_false
    env.fails(92, env.nil, env.nil, i(800), i(600), env.space.w_false)


@pytest.mark.parametrize("number", [126, 233])
def test_boolean_flags(env, number):
    w_rcvr = env.string("Display")
    assert env.call(number, w_rcvr, env.space.w_true) is w_rcvr
    assert env.call(number, w_rcvr, env.space.w_false) is w_rcvr
    env.fails(number, w_rcvr, i(1))


def test_show_rect_and_force_update(env):
    w_rcvr = env.string("Display")
    assert env.call(127, w_rcvr, i(0), i(10), i(0), i(10)) is w_rcvr
    env.fails(127, w_rcvr, i(0), env.nil, i(0), i(10))
    assert env.call(231, w_rcvr) is w_rcvr
    assert env.call(93, w_rcvr, i(3)) is w_rcvr


@pytest.mark.parametrize("nargs", [0, 1])
def test_be_cursor(env, nargs):
    w_cursor = env.string("Cursor")
    ctx, new_ctx = env.run(101, w_cursor, [env.string("mask")] * nargs)
    assert new_ctx is ctx and ctx.sp == 2 and ctx.top() is w_cursor


def test_be_cursor_too_many_arguments(env):
    env.run_fails(101, env.string("Cursor"), [env.nil, env.nil])
