"""The stack depth analysis that sizes contexts (spyvm/stackdepth.py)."""

import os

import pytest

from spyvm import constants, model, stackdepth
from spyvm.image.reader import read_image


def depth(codes, temps=0, limit=100):
    return stackdepth.max_slots("".join(chr(c) for c in codes), 0, temps, limit)


def test_straight_line_counts_pushes_and_sends():
    # self < 2 ifTrue: [^ 1]. ^ (self - 1) fib + (self - 2) fib + 1   (benchFib)
    fib = [0x70, 0x77, 0xB2, 0x99, 0x76, 0x7C,
           0x70, 0x76, 0xB1, 0xD0, 0x70, 0x77, 0xB1, 0xD0, 0xB0, 0x76, 0xB0, 0x7C]
    assert depth(fib) == 3
    assert depth(fib, temps=2) == 5


def test_sends_pop_their_arguments():
    # push self, 4 literals; send a 2-argument literal selector; send at:put:
    assert depth([0x70, 0x20, 0x21, 0xF0, 0x22, 0x23, 0xC1, 0x7C]) == 3
    # single extended send with 3 arguments (0x83, args << 5 | literal)
    assert depth([0x70, 0x20, 0x21, 0x22, 0x83, 0x60, 0x87, 0x70, 0x7C]) == 4


def test_branches_take_the_deepest_path():
    # true ifTrue: [1 + 2 + 3] ifFalse: [4]; pushes more on the first arm
    codes = [0x71, 0x9C,                  # push true; jump if false +5 (to the else arm)
             0x76, 0x77, 0x20, 0x21, 0x90,  # 4 deep; jump +1 over the else arm
             0x22,                        # else: one push
             0x7C]
    assert depth(codes) == 4


def test_loops_reach_a_fixed_point():
    # [x < 10] whileTrue: [x := x + 1]  on temp 0
    codes = [0x10, 0x20, 0xB2, 0x9D,      # push t0, push 10, <, jump if false +6
             0x10, 0x76, 0xB0, 0x68,      # t0 := t0 + 1
             0xA3, 0xF6,                  # long jump back -10 (to pc 0)
             0x78]
    assert depth(codes, temps=1) == 3


def test_closure_bodies_count_from_their_own_arguments():
    # [:a :b | a + b] pushes a closure of 2 args, 0 copied, body of 4 bytes
    codes = [0x8F, 0x02, 0x00, 0x04,      # push closure (0 copied, 2 args), 4 bytes
             0x10, 0x11, 0xB0, 0x7D,      # body: a + b, block return
             0x7C]
    assert depth(codes) == 4              # the body holds a and b, then pushes both
    # With one copied value the outer stack pops it into the closure.
    codes = [0x70, 0x8F, 0x11, 0x00, 0x05,  # push self; closure (1 copied, 1 arg)
             0x10, 0x11, 0x20, 0xE0, 0x7D,  # body: a, copied, a literal; a 1-arg send
             0x7C]
    assert depth(codes) == 5


def test_push_new_array_pops_in_consume_mode():
    assert depth([0x20, 0x21, 0x22, 0x8A, 0x83, 0x7C]) == 3
    assert depth([0x8A, 0x05, 0x7C]) == 1


def test_what_it_does_not_understand_is_unknown():
    assert depth([0x7E]) == stackdepth.UNKNOWN            # an unused bytecode
    assert depth([0x70]) == stackdepth.UNKNOWN            # runs off the end
    assert depth([0x87, 0x78]) == stackdepth.UNKNOWN      # pops below the stack
    assert depth([0x90 | 7, 0x78]) == stackdepth.UNKNOWN  # jumps past the end
    assert depth([0x70] * 8 + [0x7C], limit=5) == stackdepth.UNKNOWN
    assert depth([0x83]) == stackdepth.UNKNOWN            # truncated


def method(codes, temps=0, large=False, literals=()):
    w_method = model.W_CompiledMethod(None, 4, False)
    w_method.literals = list(literals)
    w_method.set_bytes("".join(chr(c) for c in codes))
    w_method.set_header((temps << 18) | ((1 if large else 0) << 17))
    return w_method


def test_frames_are_the_deepest_stack_plus_slack():
    w_method = method([0x70, 0x77, 0xB0, 0x7C], temps=1)
    assert w_method.stack_size() == 1 + 2 + constants.FRAME_SLACK
    assert w_method.vable_stack_size() == w_method.stack_size()
    # Changing the bytecodes sizes it again.
    w_method.set_bytes("\x70\x70\x70\x70\x7c")
    assert w_method.stack_size() == 1 + 4 + constants.FRAME_SLACK


def test_frames_fall_back_to_the_header():
    assert method([0x7E], temps=2).stack_size() == constants.FRAME_SMALL
    assert method([0x7E], large=True).stack_size() == constants.FRAME_LARGE
    # Methods making BlockContexts (blockCopy:) keep their frames on the heap.
    assert method([0x70, 0x76, 0xC8, 0x7C]).stack_size() == constants.FRAME_SMALL


def symbol(name):
    w_symbol = model.W_BytesObject(None, len(name))
    w_symbol.set_string(name)
    return w_symbol


def test_senders_of_perform_with_arguments_get_the_header_frame():
    w_selector = symbol("perform:withArguments:")
    w_method = method([0x70, 0x21, 0x22, 0xF0, 0x7C], literals=[w_selector, None, None])
    assert w_method.stack_size() == constants.FRAME_SMALL
    w_method.set_literal(0, symbol("at:put:"))
    assert w_method.stack_size() == 3 + constants.FRAME_SLACK


IMAGES = os.environ.get("COGXEN_IMAGES", os.path.join(os.path.dirname(__file__),
                                                      "..", "..", "..", "shared", "images"))


@pytest.mark.parametrize("name", ["mini.image", "headless.image"])
def test_real_methods_get_smaller_frames(name):
    path = os.path.join(IMAGES, name)
    if not os.path.exists(path):
        pytest.skip("missing image %s (set COGXEN_IMAGES)" % path)
    with open(path, "rb") as f:
        image = read_image(f.read())
    sizes = [w.stack_size() for w in image.objects_w
             if isinstance(w, model.W_CompiledMethod) and not w.heap_frame]
    assert len(sizes) > 500
    # Most methods need under half the header's small frame.
    assert sorted(sizes)[len(sizes) // 2] <= constants.FRAME_SMALL // 2


# --- SistaV1 -----------------------------------------------------------------------------

def sista_depth(codes, temps=0, limit=100):
    return stackdepth.max_slots("".join(chr(c) for c in codes), 0, temps, limit, True)


def test_sista_pushes_sends_and_returns():
    # self + 1 < 2 ifTrue: [^ self]. ^ 1
    assert sista_depth([0x4C, 0x51, 0x60, 0xE8, 2, 0x62, 0xC0, 0x58, 0x51, 0x5C]) == 2
    # 3 literals, then a literal send with 2 arguments and a 0-argument one
    assert sista_depth([0x4C, 0x20, 0x21, 0xA2, 0x80, 0x5C], temps=1) == 4


def test_sista_extensions_belong_to_their_bytecode():
    # extB 1 extSend: (d & 7) + extB * 8 = 9 arguments, all popped
    codes = [0x4C] + [0x50] * 9 + [0xE1, 1, 0xEA, 1, 0x5C]
    assert sista_depth(codes) == 10
    # extA 1 extPushLiteral 0; a negative extB backward jump closes a loop
    assert sista_depth([0xE0, 1, 0xE4, 0, 0xD8, 0xE1, 0xFF, 0xED, 0xF9]) == 1


def test_sista_closures():
    # two copied values and the receiver under them go into a full block
    assert sista_depth([0x4C, 0x50, 0x51, 0xF9, 0, 0x80 | 2, 0x5C]) == 3
    # pushClosureCopy: one copied value, one argument; the body starts above both
    body = [0x40, 0x41, 0x41, 0x41, 0x5E]
    codes = [0x51, 0xFA, (1 << 3) | 1, len(body)] + body + [0x5C]
    assert sista_depth(codes) == 6


@pytest.mark.parametrize("codes", [
    [0xE0], [0xE0, 1], [0x54, 0x5C], [0xE6, 0x5C], [0xE8], [0xE0, 0] * 5 + [0x51, 0x5C],
    [0xD8, 0x5C]])
def test_sista_malformed_code_is_not_understood(codes):
    assert sista_depth(codes) == stackdepth.UNKNOWN
