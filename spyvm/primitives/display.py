"""The null display: display, cursor and input primitives of a machine without a screen.

Images call these at start-up and from their UI loop. Headless, the screen is a
fixed 1024x768 at 32 bits per pixel that nobody sees: the Display Form is drawn
into (BitBlt, plugins/bitblt.py) but never shown, no key or mouse event ever
arrives, and requests to change the screen succeed without effect. Numbers and
failure rules are OpenSmalltalk-VM's.
"""

from spyvm import constants
from spyvm.errors import PrimitiveFailed
from spyvm.model import W_PointersObject, W_SmallInteger
from spyvm.primitives import expose, expose_named, expose_raw
from spyvm.plugins.arguments import answer

SCREEN_WIDTH = 1024
SCREEN_HEIGHT = 768
SCREEN_DEPTH = 32
DISPLAY_DEPTHS = (1, 2, 4, 8, 16, 32, -1, -2, -4, -8, -16, -32)


def wrap_point(space, x, y):
    w_point = W_PointersObject(space.w_Point, 2, space.w_nil)
    w_point.slots[0] = W_SmallInteger(x)
    w_point.slots[1] = W_SmallInteger(y)
    return w_point


@expose(102, 0)
def prim_be_display(interp, w_rcvr):
    """primitiveBeDisplay: the receiver becomes the Display (special object)."""
    space = interp.space
    if not isinstance(w_rcvr, W_PointersObject) or w_rcvr.size() < 4:
        raise PrimitiveFailed
    space.w_special_objects.store(space, constants.SO_DISPLAY, w_rcvr)
    return w_rcvr


@expose(106, 0)
def prim_screen_size(interp, w_rcvr):
    """primitiveScreenSize: the (imaginary) window's extent."""
    return wrap_point(interp.space, SCREEN_WIDTH, SCREEN_HEIGHT)


@expose_named("", "primitiveScreenDepth", 0)
def prim_screen_depth(interp, w_rcvr):
    return W_SmallInteger(SCREEN_DEPTH)


@expose(91, 1)
def prim_test_display_depth(interp, w_rcvr, w_arg):
    """primitiveTestDisplayDepth: whether the screen can show a depth. Older images
    send 91 as cursorLocPut: with a Point: accepted, there is no cursor to move."""
    if isinstance(w_arg, W_SmallInteger):
        return interp.space.wrap_bool(w_arg.value in DISPLAY_DEPTHS)
    if isinstance(w_arg, W_PointersObject) and \
            w_arg.getclass(interp.space) is interp.space.w_Point:
        return w_rcvr
    raise PrimitiveFailed


@expose(92, 4)
def prim_set_display_mode(interp, w_rcvr, w_depth, w_width, w_height, w_full):
    """primitiveSetDisplayMode (depth:width:height:fullscreen:): nothing to switch;
    answers whether the mode is one a screen could have."""
    if not (isinstance(w_depth, W_SmallInteger) and isinstance(w_width, W_SmallInteger)
            and isinstance(w_height, W_SmallInteger)):
        raise PrimitiveFailed
    ok = w_depth.value in DISPLAY_DEPTHS and w_width.value > 0 and w_height.value > 0
    return interp.space.wrap_bool(ok)


@expose([233, 126], 1)
def prim_boolean_display_switch(interp, w_rcvr, w_flag):
    """primitiveSetFullScreen (233), primitiveDeferDisplayUpdates (126): a Boolean;
    with no screen there is nothing to resize, nothing shown either way."""
    space = interp.space
    if w_flag is not space.w_true and w_flag is not space.w_false:
        raise PrimitiveFailed
    return w_rcvr


@expose(127, 4)
def prim_show_display_rect(interp, w_rcvr, w_left, w_right, w_top, w_bottom):
    """primitiveShowDisplayRect: the pixels are in the Display Form; nobody looks."""
    if not (isinstance(w_left, W_SmallInteger) and isinstance(w_right, W_SmallInteger)
            and isinstance(w_top, W_SmallInteger) and isinstance(w_bottom, W_SmallInteger)):
        raise PrimitiveFailed
    return w_rcvr


@expose(231, 0)
def prim_force_display_update(interp, w_rcvr):
    return w_rcvr


@expose_raw(101)
def prim_be_cursor(interp, ctx, argcount, w_method):
    """primitiveBeCursor (and beCursorWithMask:): nothing to show."""
    if argcount > 1:
        raise PrimitiveFailed
    return answer(ctx, argcount, ctx.peek(argcount))


# --- input: nothing is ever pressed ---------------------------------------------------


@expose(90, 0)
def prim_mouse_point(interp, w_rcvr):
    return wrap_point(interp.space, 0, 0)


@expose([107, 108, 109, 95], 0)
def prim_no_input(interp, w_rcvr):
    # mouseButtons, kbdNext, kbdPeek, inputWord.
    return W_SmallInteger(0)


@expose(93, 1)
def prim_input_semaphore(interp, w_rcvr, w_index):
    """primitiveInputSemaphore: the semaphore index events would signal; none come."""
    return w_rcvr


@expose(94, 1)
def prim_get_next_event(interp, w_rcvr, w_array):
    """primitiveGetNextEvent: an event buffer whose type field is 0 means no event."""
    if not isinstance(w_array, W_PointersObject) or w_array.size() < 1:
        raise PrimitiveFailed
    w_array.store(interp.space, 0, W_SmallInteger(0))
    return w_rcvr
