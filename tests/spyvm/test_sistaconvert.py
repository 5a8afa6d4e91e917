"""spyvm.sistaconvert: V3PlusClosures methods re-encoded as SistaV1.

Each V3 family is checked against the SistaV1 bytes EncoderForSistaV1 would
emit (the numbers written out from the bytecode tables, not from the code);
jumps and blocks whose distances cross the short and long limits are run in
both forms on the interpreter (headless.image) and must answer the same; a
whole image keeps its suspended contexts' pcs and closures' startpcs on their
instructions.
"""

import pytest

from spyvm import constants, model, sistaconvert
from spyvm.model import W_CompiledMethod
from spyvm.sistaconvert import Unconvertible, convert_bytes

from test_sista import SistaMachine, sista_header, spur_image, vm  # noqa: F401 (fixtures)


def sista(v3_bytes, trailer=()):
    code = "".join(chr(b) for b in list(v3_bytes) + list(trailer))
    new, new_at = convert_bytes(code)
    return [ord(c) for c in new]


# (V3 bytes, SistaV1 bytes) for one instruction each, then returnTop (124 -> 92).
FAMILIES = [
    ([5], [5]),                                  # push receiver variable 5
    ([128, 20], [226, 20]),                      # extended push rcvr 20
    ([132, 2 << 5, 200], [226, 200]),            # doubleExtended push rcvr 200
    ([16 + 3], [64 + 3]),                        # push temp 3
    ([16 + 13], [229, 13]),                      # push temp 13: past SistaV1's 12
    ([128, (1 << 6) | 40], [229, 40]),
    ([32 + 3], [32 + 3]),                        # push literal 3
    ([128, (2 << 6) | 40], [228, 40]),
    ([132, 3 << 5, 255], [228, 255]),
    ([64 + 3], [16 + 3]),                        # push literal variable 3
    ([64 + 20], [227, 20]),                      # literal variable 20: past 16
    ([132, 4 << 5, 99], [227, 99]),
    ([112], [76]), ([113], [77]), ([114], [78]), ([115], [79]),    # self true false nil
    ([116], [225, 255, 232, 255]),               # -1: pushInteger with extB -1
    ([117], [80]), ([118], [81]), ([119], [232, 2]),
    ([137], [82]),                               # thisContext
    ([136], [83]),                               # dup
    ([96 + 3, 112], [200 + 3, 76]),              # pop into rcvr 3
    ([104 + 2, 112], [208 + 2, 76]),             # pop into temp 2
    ([129, 9], [243, 9]),                        # store rcvr 9
    ([129, (1 << 6) | 20], [245, 20]),           # store temp 20
    ([129, (3 << 6) | 4], [244, 4]),             # store literal variable 4
    ([130, 9, 112], [240, 9, 76]),               # pop into rcvr 9
    ([130, 5, 112], [205, 76]),                  # pop into rcvr 5: short in SistaV1
    ([130, (1 << 6) | 9, 112], [242, 9, 76]),
    ([130, (3 << 6) | 4, 112], [241, 4, 76]),
    ([132, 5 << 5, 3], [243, 3]),
    ([132, 6 << 5, 10, 112], [240, 10, 76]),
    ([132, 7 << 5, 40], [244, 40]),
    ([208 + 5], [128 + 5]), ([224 + 5], [144 + 5]), ([240 + 5], [160 + 5]),
    ([131, (3 << 5) | 7], [234, (7 << 3) | 3]),              # 3 arguments
    ([131, (1 << 5) | 20], [234, (20 << 3) | 1]),            # literal 20
    ([134, (1 << 6) | 40], [224, 1, 234, (8 << 3) | 1]),     # literal 40: extA 1
    ([132, 10, 100], [224, 3, 225, 1, 234, (4 << 3) | 2]),   # literal 100, 10 args
    ([133, (1 << 5) | 2], [235, (2 << 3) | 1]),              # super
    ([132, (1 << 5) | 2, 50], [224, 1, 235, (18 << 3) | 2]),
    ([176], [96]), ([191], [111]), ([192], [112]), ([207], [127]),   # special sends
    ([135], [216]),                              # pop
    ([138, 0x83], [231, 0x83]),                  # pop 3 into a new Array
    ([138, 0x02], [231, 0x02]),
    ([140, 1, 2], [251, 1, 2]), ([141, 1, 2], [252, 1, 2]), ([142, 1, 2, 112], [253, 1, 2, 76]),
]


@pytest.mark.parametrize("v3, expected", FAMILIES)
def test_each_family_is_re_encoded(v3, expected):
    assert sista(v3 + [124]) == expected + [92]


@pytest.mark.parametrize("v3, expected", [([120], [88]), ([121], [89]), ([122], [90]),
                                          ([123], [91]), ([124], [92])])
def test_returns(v3, expected):
    assert sista(v3) == expected


def test_call_primitive_and_quick_methods():
    assert sista([139, 60, 0, 112, 124]) == [248, 60, 0, 76, 92]
    # A quick primitive (^self: 256) has no code after its callPrimitive.
    assert sista([139, 0, 1], trailer=[0x7f, 0x1e, 0x00, 0xfc]) == \
        [248, 0, 1, 0x7f, 0x1e, 0x00, 0xfc]


def test_the_trailer_after_the_last_reachable_instruction_is_kept():
    # A source pointer trailer that would decode as pushes and sends.
    assert sista([112, 124], trailer=[0x10, 0xd0, 0x41, 0xfc]) == \
        [76, 92, 0x10, 0xd0, 0x41, 0xfc]


def test_jumps_are_re_targeted():
    # push true; jumpFalse +1 over push -1 (which grows to 4 bytes, still short)
    assert sista([113, 152, 116, 124]) == [77, 192 + 3, 225, 255, 232, 255, 92]
    # jump +1 over `push 1`: stays short
    assert sista([144, 118, 115, 124]) == [176, 81, 79, 92]
    assert sista([113, 168, 1, 118, 124]) == [77, 184, 81, 92]     # longJumpIfTrue +1


def test_block_size_is_re_counted():
    # [ -1 ] value: the block's body grows from 2 to 5 bytes
    assert sista([143, 0x00, 0, 2, 116, 125, 201, 124]) == \
        [250, 0, 5, 225, 255, 232, 255, 94, 121, 92]
    # 2 copied values, 1 argument
    assert sista([117, 118, 143, 0x21, 0, 2, 16, 125, 124]) == \
        [80, 81, 250, (2 << 3) | 1, 2, 64, 94, 92]


@pytest.mark.parametrize("bad", [
    [126], [127],                       # unused in V3PlusClosures
    [144, 112],                         # jump past the end
    [160 + 3, 250, 124],                # backwards out of the method
    [113, 153, 139, 0, 1, 124],         # jump into callPrimitive's operands
    [129, (2 << 6) | 1, 124],           # store into a literal constant
    [131],                              # truncated
])
def test_code_that_cannot_be_converted_is_refused(bad):
    with pytest.raises(Unconvertible):
        sista(bad)


# --- the converted code runs as the original ------------------------------------------

def v3_method(vm, code, num_temps):
    w_method = W_CompiledMethod(vm.space.w_CompiledMethod, 4, True)
    w_method.set_bytes("".join(chr(b) for b in code))
    w_method.set_header(sista_header(0, num_temps, 0) + (1 << 30))
    assert not w_method.sista
    return w_method


def run_both(vm, code, num_temps=2):
    w_v3 = v3_method(vm, code, num_temps)
    new, _ = convert_bytes(w_v3.bytes)
    w_sista = vm.method([ord(c) for c in new], num_temps=num_temps)
    answers = [vm.value(vm.run(vm.start(w, vm.space.w_nil))) for w in (w_v3, w_sista)]
    return answers, len(new)


def counting_loop(padding):
    """t1 := 0. t0 := 2. [t0 > 0] whileTrue: [<padding x (push -1. pop)>. t1 := t1 + 1.
    t0 := t0 - 1]. ^t1  -- with V3's long jumps; the padding grows 2 -> 5 bytes."""
    body = [116, 135] * padding + [17, 118, 176, 105, 16, 118, 177, 104]
    exit_distance = len(body) + 2
    head = [117, 105, 119, 104, 16, 117, 179, 172 + (exit_distance >> 8), exit_distance & 255]
    back = -(len(body) + 2 + 9 - 4)             # to `push t0` after the jump's 2 bytes
    back_jump = [160 + 4 + (back >> 8), back & 255]
    return head + body + back_jump + [17, 124]


@pytest.mark.parametrize("padding", [0, 1, 48, 49, 50, 51, 52, 100, 180, 190, 200])
def test_loops_across_jump_limits_answer_the_same(vm, padding):
    answers, size = run_both(vm, counting_loop(padding))
    assert answers == [2, 2]


def test_a_short_forward_jump_becomes_long_when_its_target_moves(vm):
    # true ifTrue: [-1 pop x 3] ... V3 short jumpFalse 6 over 6 bytes (-> 15 in SistaV1)
    answers, _ = run_both(vm, [113, 152 + 5] + [116, 135] * 3 + [118, 124])
    assert answers == [1, 1]


@pytest.mark.parametrize("padding", [0, 1, 50, 51, 52, 60])
def test_blocks_across_size_limits_answer_the_same(vm, padding):
    # [<padding x (push -1. pop)>. 7] value
    body = [116, 135] * padding + [32 + 0, 125]
    body[-2] = 119              # push 2 (no literals)
    code = [143, 0, len(body) >> 8, len(body) & 255] + body + [201, 124]
    answers, size = run_both(vm, code)
    assert answers == [2, 2]


# --- whole images ----------------------------------------------------------------------

def test_suspended_contexts_and_closures_follow_their_instructions(vm):
    space = vm.space
    code = [116, 135, 143, 0, 0, 4, 116, 135, 119, 125, 124]
    w_method = v3_method(vm, code, 1)
    ctx = vm.start(w_method, space.w_nil)
    ctx.pc = 2                          # at pushClosureCopy, after `push -1. pop`
    w_closure = model.W_PointersObject(space.w_BlockClosure, constants.CLOSURE_FIXED_SIZE,
                                       space.w_nil)
    w_closure.slots[constants.CLOSURE_OUTER_CONTEXT] = ctx
    w_closure.slots[constants.CLOSURE_STARTPC] = space.wrap_int(
        w_method.literal_bytes() + 1 + 6)
    w_closure.slots[constants.CLOSURE_NUMARGS] = space.wrap_int(0)

    class Loaded(object):
        pass
    loaded = Loaded()
    loaded.space = space
    loaded.objects_w = [w_method, ctx, w_closure]
    assert sistaconvert.convert_image(loaded) == (1, 0, 1, 1)
    assert w_method.sista and w_method.header < 0 and w_method.num_temps == 1
    assert ord(w_method.bytes[ctx.pc]) == 250
    assert ctx.pc == 5
    start = w_closure.slots[constants.CLOSURE_STARTPC].value - w_method.literal_bytes() - 1
    assert start == 8
    assert [ord(c) for c in w_method.bytes[start:start + 3]] == [225, 255, 232]
