"""The SistaV1 bytecode set (spyvm.interpreter's SISTA handlers, spyvm.bytecodes):
every family of bytecodes, extension prefixes, CompiledBlocks and FullBlockClosures,
and malformed methods.

Methods are built by hand with a negative (SistaV1) header on headless.image, a
small Spur kernel, as test_interpreter.py builds V3 methods; classes are fresh
ones, FullBlockClosure a stand-in with its four instance variables.
"""

import pytest

from spyvm import bytecodes, constants, interpreter, model, stackdepth
from spyvm.errors import VMFatal
from spyvm.image.reader import read_image
from spyvm.model import W_CompiledMethod, W_PointersObject, W_SmallInteger, W_Context

from test_interpreter import Machine, arity


# --- bytecodes by name (SistaV1) --------------------------------------------------------

def push_rcvr_var(i):
    return 0 + i


def push_lit_var(i):
    return 16 + i


def push_lit(i):
    return 32 + i


def push_temp(i):
    return 64 + i


def pop_rcvr_var(i):
    return 200 + i


def pop_temp(i):
    return 208 + i


def send0(lit):
    return 128 + lit


def send1(lit):
    return 144 + lit


def send2(lit):
    return 160 + lit


PUSH_SELF, PUSH_TRUE, PUSH_FALSE, PUSH_NIL, PUSH_0, PUSH_1 = 76, 77, 78, 79, 80, 81
PUSH_CONTEXT, DUP = 82, 83
RETURN_SELF, RETURN_TRUE, RETURN_FALSE, RETURN_NIL, RETURN_TOP = 88, 89, 90, 91, 92
BLOCK_RETURN_NIL, BLOCK_RETURN, NOP = 93, 94, 95
SEND_PLUS, SEND_LESS, SEND_IDENTICAL, SEND_CLASS, SEND_VALUE, SEND_VALUE_1 = \
    96, 98, 118, 119, 121, 122
POP, TRAP = 216, 217
EXT_A, EXT_B = 224, 225
EXT_PUSH_RCVR_VAR, EXT_PUSH_LIT_VAR, EXT_PUSH_LIT, LONG_PUSH_TEMP = 226, 227, 228, 229
PUSH_ARRAY, PUSH_INTEGER, PUSH_CHARACTER, EXT_SEND, EXT_SUPER = 231, 232, 233, 234, 235
EXT_JUMP, EXT_JUMP_TRUE, EXT_JUMP_FALSE = 237, 238, 239
EXT_POP_RCVR_VAR, EXT_POP_LIT_VAR, LONG_POP_TEMP = 240, 241, 242
EXT_STORE_RCVR_VAR, EXT_STORE_LIT_VAR, LONG_STORE_TEMP = 243, 244, 245
CALL_PRIMITIVE, PUSH_FULL_CLOSURE, PUSH_CLOSURE = 248, 249, 250
PUSH_REMOTE, STORE_REMOTE, POP_REMOTE = 251, 252, 253


def short_jump(n):
    return 176 + n - 1


def short_jump_true(n):
    return 184 + n - 1


def short_jump_false(n):
    return 192 + n - 1


def ext_b(value):
    """extB prefix bytes for value (-128..32767)."""
    if -128 <= value < 128:
        return [EXT_B, value & 255]
    assert value < 32768
    return [EXT_B, value >> 8, EXT_B, value & 255]


def sista_header(num_args, num_temps, num_literals, has_primitive=False, large=False):
    """A SistaV1 method header value: Spur's layout with the sign bit set."""
    fields = ((num_args << 24) | (num_temps << 18) | (int(large) << 17) |
              (int(has_primitive) << 16) | num_literals)
    return fields - (1 << 30)


FULL_BLOCK_FLAGS_RECEIVER_ON_STACK = bytecodes.FULL_CLOSURE_RECEIVER_ON_STACK
FULL_BLOCK_FLAGS_IGNORE_OUTER = bytecodes.FULL_CLOSURE_IGNORE_OUTER


class SistaMachine(Machine):
    """Machine (test_interpreter.py) making SistaV1 methods and Spur classes."""

    def __init__(self, image, mode="step"):
        Machine.__init__(self, image, mode)
        space = self.space
        self.w_FullBlockClosure = self.make_class("FullBlockClosure", inst_size=4)
        self.w_CompiledBlock = self.make_class("CompiledBlock")
        self.old_full_block_closure = space.w_FullBlockClosure
        space.w_FullBlockClosure = self.w_FullBlockClosure
        # value, value:, value:value:, valueWithArguments: (207, 208) with fallback
        # code answering #failed, as the image's own methods would.
        for selector, prim in [("value", 207), ("value:", 207), ("value:value:", 207),
                               ("valueWithArguments:", 208), ("valueNoContextSwitch", 209)]:
            self.define(self.w_FullBlockClosure, selector,
                        [CALL_PRIMITIVE, prim & 255, prim >> 8, push_lit(0), RETURN_TOP],
                        literals=[self.sym("failed")], primitive=prim)

    def restore(self):
        self.space.w_FullBlockClosure = self.old_full_block_closure

    def make_class(self, name, w_superclass=None, inst_size=0):
        space = self.space
        if w_superclass is None:
            w_superclass = self.w_Object
        w_class = W_PointersObject(self.w_Object.getclass(space),
                                   max(self.w_Object.size(), constants.CLASS_NAME + 1),
                                   space.w_nil)
        w_class.store(space, constants.CLASS_SUPERCLASS, w_superclass)
        w_class.store(space, constants.CLASS_METHODDICT, self._method_dict(8))
        w_class.store(space, constants.CLASS_FORMAT, self.int(inst_size | (1 << 16)))
        w_class.store(space, constants.CLASS_NAME, space.wrap_string(name))
        return w_class

    def method(self, bytes, literals=(), num_args=0, num_temps=None, primitive=0):
        space = self.space
        if num_temps is None:
            num_temps = num_args
        literals = list(literals)
        w_method = W_CompiledMethod(space.w_CompiledMethod, 4, True)
        w_method.literals = literals
        w_method.set_bytes("".join([chr(b) for b in bytes]))
        w_method.set_header(sista_header(num_args, num_temps, len(literals),
                                         has_primitive=primitive != 0,
                                         large=num_temps + 8 > constants.FRAME_SMALL))
        assert w_method.sista and w_method.primitive == primitive
        return w_method

    def block(self, bytes, outer, literals=(), num_args=0, num_temps=None):
        """A CompiledBlock: its last literal is its outer code."""
        w_block = self.method(bytes, list(literals) + [outer], num_args, num_temps)
        w_block.w_class = self.w_CompiledBlock
        return w_block


@pytest.fixture(scope="module")
def spur_image(image_bytes):
    return read_image(image_bytes("headless.image"))


@pytest.fixture(params=["step", "loop"])
def vm(spur_image, request):
    machine = SistaMachine(spur_image, request.param)
    yield machine
    machine.restore()


@pytest.fixture
def probe(vm):
    return vm.make_class("Probe", inst_size=4)


def run(vm, bytes, literals=(), w_rcvr=None, args_w=(), temps_w=(), num_temps=None):
    return vm.value(vm.execute(bytes, literals, w_rcvr, args_w, temps_w, num_temps))


# --- the table and the header ----------------------------------------------------------


def test_every_byte_has_a_name_length_and_handler():
    assert len(bytecodes.SISTA_NAMES) == 256 == len(interpreter.SISTA_BYTECODE_TABLE)
    assert bytecodes.SISTA_NAMES[249] == "pushFullClosure"
    assert bytecodes.SISTA_LENGTHS[249] == 3 and bytecodes.SISTA_LENGTHS[232] == 2
    assert bytecodes.V3_NAMES[143] == "pushClosureCopy"
    assert interpreter.BYTECODE_TABLE[143] is interpreter.bc_push_closure
    for b in range(256):
        handler = interpreter.SISTA_BYTECODE_TABLE[b]
        if bytecodes.SISTA_NAMES[b] == "unknownBytecode":
            assert handler is interpreter.sbc_unknown


def test_the_header_sign_bit_selects_sista(vm):
    w_method = vm.method([RETURN_SELF])
    assert w_method.sista
    w_method.set_header(3)                  # a positive Spur header: V3PlusClosures
    assert not w_method.sista


def test_printable_location_names_the_bytecode(vm, probe):
    w_method = vm.define(probe, "foo", [PUSH_1, RETURN_TOP])
    assert interpreter.get_printable_location(1, w_method) == "Probe>>foo @ 1: returnSpecial"
    assert interpreter.get_printable_location(0, w_method) == "Probe>>foo @ 0: pushConstant"


# --- pushes, stores, returns -----------------------------------------------------------


@pytest.mark.parametrize("i", [0, 3, 15])
def test_push_receiver_variable(vm, probe, i):
    ivars = [vm.int(10 + k) for k in range(16)]
    big = vm.make_class("Big", inst_size=16)
    assert run(vm, [push_rcvr_var(i), RETURN_TOP], w_rcvr=vm.new(big, *ivars)) == 10 + i


@pytest.mark.parametrize("i", [0, 15])
def test_push_literal_variable(vm, i):
    lits = [vm.assoc(vm.sym("k"), vm.int(k)) for k in range(16)]
    assert run(vm, [push_lit_var(i), RETURN_TOP], lits) == i


@pytest.mark.parametrize("i", [0, 31])
def test_push_literal_constant(vm, i):
    assert run(vm, [push_lit(i), RETURN_TOP], [vm.int(k) for k in range(32)]) == i


@pytest.mark.parametrize("i", [0, 7, 11])
def test_push_temp(vm, i):
    temps = [vm.int(100 + k) for k in range(12)]
    assert run(vm, [push_temp(i), RETURN_TOP], temps_w=temps) == 100 + i


@pytest.mark.parametrize("b, expected", [(PUSH_TRUE, True), (PUSH_FALSE, False),
                                         (PUSH_NIL, None), (PUSH_0, 0), (PUSH_1, 1)])
def test_push_constant(vm, b, expected):
    assert run(vm, [b, RETURN_TOP]) == expected


def test_push_self_dup_pop_nop(vm, probe):
    w_rcvr = vm.new(probe, vm.int(1), vm.int(2), vm.int(3), vm.int(4))
    assert vm.execute([PUSH_SELF, DUP, POP, NOP, RETURN_TOP], w_rcvr=w_rcvr) is w_rcvr


@pytest.mark.parametrize("b, expected", [(RETURN_TRUE, True), (RETURN_FALSE, False),
                                         (RETURN_NIL, None)])
def test_return_constant(vm, b, expected):
    assert run(vm, [b]) == expected


def test_return_receiver(vm, probe):
    w_rcvr = vm.new(probe)
    assert vm.execute([RETURN_SELF], w_rcvr=w_rcvr) is w_rcvr


def test_block_returns_from_a_method_return_to_the_sender(vm):
    assert run(vm, [BLOCK_RETURN_NIL]) is None
    assert run(vm, [PUSH_1, BLOCK_RETURN]) == 1


@pytest.mark.parametrize("i", [0, 7])
def test_store_and_pop_receiver_variable(vm, i):
    big = vm.make_class("Big", inst_size=8)
    w_rcvr = vm.new(big, *[vm.int(0)] * 8)
    run(vm, [PUSH_1, pop_rcvr_var(i), RETURN_SELF], w_rcvr=w_rcvr)
    assert w_rcvr.slots[i].value == 1


@pytest.mark.parametrize("i", [0, 7])
def test_store_and_pop_temp(vm, i):
    assert run(vm, [PUSH_1, pop_temp(i), push_temp(i), RETURN_TOP],
               temps_w=[vm.int(0)] * 8) == 1


def test_push_this_context(vm):
    w_result = vm.execute([PUSH_CONTEXT, RETURN_TOP])
    assert isinstance(w_result, W_Context)


def test_pseudo_variable_other_than_this_context_is_fatal(vm):
    with pytest.raises(VMFatal) as e:
        vm.execute(ext_b(1) + [PUSH_CONTEXT, RETURN_TOP])
    assert "malformed method" in e.value.message


# --- extended operands ------------------------------------------------------------------


def test_ext_push_receiver_variable_and_stores(vm):
    big = vm.make_class("Big", inst_size=300)
    w_rcvr = vm.new(big, *[vm.int(k) for k in range(300)])
    assert run(vm, [EXT_A, 1, EXT_PUSH_RCVR_VAR, 2, RETURN_TOP], w_rcvr=w_rcvr) == 258
    run(vm, [PUSH_0, EXT_A, 1, EXT_STORE_RCVR_VAR, 3, EXT_A, 1, EXT_POP_RCVR_VAR, 4,
             RETURN_SELF], w_rcvr=w_rcvr)
    assert w_rcvr.slots[259].value == 0 and w_rcvr.slots[260].value == 0


def test_ext_literals_take_ext_a(vm):
    lits = [vm.int(k) for k in range(300)]
    assert run(vm, [EXT_A, 1, EXT_PUSH_LIT, 5, RETURN_TOP], lits) == 261
    assert run(vm, [EXT_PUSH_LIT, 7, RETURN_TOP], lits) == 7


def test_ext_literal_variables(vm):
    w_assoc = vm.assoc(vm.sym("k"), vm.int(5))
    lits = [vm.int(0)] * 256 + [w_assoc]
    assert run(vm, [EXT_A, 1, EXT_PUSH_LIT_VAR, 0, RETURN_TOP], lits) == 5
    run(vm, [PUSH_1, EXT_A, 1, EXT_STORE_LIT_VAR, 0, POP, PUSH_SELF, RETURN_TOP], lits)
    assert w_assoc.slots[1].value == 1
    run(vm, [PUSH_0, EXT_A, 1, EXT_POP_LIT_VAR, 0, RETURN_SELF], lits)
    assert w_assoc.slots[1].value == 0


def test_long_temps(vm):
    temps = [vm.int(k) for k in range(20)]
    assert run(vm, [LONG_PUSH_TEMP, 17, RETURN_TOP], temps_w=temps) == 17
    assert run(vm, [PUSH_1, LONG_STORE_TEMP, 18, LONG_POP_TEMP, 19, push_temp(0), POP,
                    LONG_PUSH_TEMP, 19, RETURN_TOP], temps_w=temps) == 1


@pytest.mark.parametrize("prefix, byte, expected", [
    ([], 5, 5), ([], 255, 255), (ext_b(1), 2, 258), (ext_b(-1), 0, -256),
    (ext_b(-1), 255, -1), (ext_b(-128), 0, -32768), (ext_b(0x1234), 0x56, 0x123456)])
def test_push_integer_extb_is_signed(vm, prefix, byte, expected):
    assert run(vm, prefix + [PUSH_INTEGER, byte, RETURN_TOP]) == expected


def test_push_character(vm):
    w_char = vm.execute(ext_b(1) + [PUSH_CHARACTER, 0x41, RETURN_TOP])
    assert isinstance(w_char, model.W_Character) and w_char.value == 0x141


@pytest.mark.parametrize("d, expected", [(3, [None] * 3), (0x80 | 2, [1, 0])])
def test_push_new_array_and_cons_array(vm, d, expected):
    w_array = vm.execute([PUSH_1, PUSH_0, PUSH_ARRAY, d, RETURN_TOP])
    assert [vm.value(w) for w in w_array.slots] == expected


def test_remote_temps(vm):
    w_vector = vm.array([vm.int(0), vm.int(7)])
    assert run(vm, [PUSH_REMOTE, 1, 0, RETURN_TOP], temps_w=[w_vector]) == 7
    run(vm, [PUSH_1, STORE_REMOTE, 0, 0, POP_REMOTE, 1, 0, RETURN_SELF], temps_w=[w_vector])
    assert [vm.value(w) for w in w_vector.slots] == [1, 1]


# --- sends ------------------------------------------------------------------------------


def test_literal_sends(vm, probe):
    vm.define(probe, "zero", [PUSH_1, RETURN_TOP])
    vm.define(probe, "one:", [push_temp(0), RETURN_TOP])
    vm.define(probe, "two:and:", [push_temp(1), RETURN_TOP])
    w_rcvr = vm.new(probe)
    lits = [vm.sym("zero"), vm.sym("one:"), vm.sym("two:and:")]
    assert run(vm, [PUSH_SELF, send0(0), RETURN_TOP], lits, w_rcvr) == 1
    assert run(vm, [PUSH_SELF, PUSH_0, send1(1), RETURN_TOP], lits, w_rcvr) == 0
    assert run(vm, [PUSH_SELF, PUSH_0, PUSH_1, send2(2), RETURN_TOP], lits, w_rcvr) == 1


def test_ext_send_widens_literal_index_and_argument_count(vm, probe):
    selector = "a:b:c:d:e:f:g:h:i:"
    vm.define(probe, selector, [push_temp(8), RETURN_TOP])
    lits = [vm.int(0)] * 40 + [vm.sym(selector)]
    args = [PUSH_0] * 8 + [PUSH_1]
    # literal 40 = (d >> 3) + extA * 32; 9 arguments = (d & 7) + extB * 8
    code = [PUSH_SELF] + args + [EXT_A, 1, EXT_B, 1, EXT_SEND, (8 << 3) | 1, RETURN_TOP]
    assert run(vm, code, lits, vm.new(probe)) == 1


def test_special_sends(vm):
    assert run(vm, [PUSH_1, PUSH_1, SEND_PLUS, RETURN_TOP]) == 2
    assert run(vm, [PUSH_0, PUSH_1, SEND_LESS, RETURN_TOP]) is True
    assert run(vm, [PUSH_NIL, PUSH_NIL, SEND_IDENTICAL, RETURN_TOP]) is True
    assert vm.execute([PUSH_1, SEND_CLASS, RETURN_TOP]) is vm.space.w_SmallInteger


def test_super_sends(vm, probe):
    sub = vm.make_class("Sub", w_superclass=probe)
    vm.define(probe, "who", [PUSH_0, RETURN_TOP])
    vm.define(sub, "who", [PUSH_1, RETURN_TOP])
    w_super_who = vm.define(sub, "superWho", [PUSH_SELF, EXT_SUPER, 0 << 3, RETURN_TOP],
                            literals=[vm.sym("who")])
    assert vm.value(vm.run(vm.start(w_super_who, vm.new(sub)))) == 0
    # Directed (extB >= 64): the class to look above is pushed after the receiver.
    code = [PUSH_SELF, push_lit(1)] + ext_b(64) + [EXT_SUPER, 0 << 3, RETURN_TOP]
    assert run(vm, code, [vm.sym("who"), sub], vm.new(sub)) == 0


# --- jumps ------------------------------------------------------------------------------


def test_short_jumps(vm):
    assert run(vm, [short_jump(1), PUSH_0, PUSH_1, RETURN_TOP]) == 1
    assert run(vm, [PUSH_TRUE, short_jump_true(2), PUSH_0, RETURN_TOP, PUSH_1,
                    RETURN_TOP]) == 1
    assert run(vm, [PUSH_TRUE, short_jump_false(2), PUSH_0, RETURN_TOP, PUSH_1,
                    RETURN_TOP]) == 0


def test_ext_jumps_backward_with_negative_extb(vm):
    # t0 := 0. [t0 < 5] whileTrue: [t0 := t0 + 1]. ^t0
    loop = [push_temp(0), PUSH_INTEGER, 5, SEND_LESS, EXT_JUMP_FALSE, 8,
            push_temp(0), PUSH_1, SEND_PLUS, pop_temp(0)]
    back = -(len(loop) + 4)
    code = loop + ext_b(-1) + [EXT_JUMP, back & 255] + [push_temp(0), RETURN_TOP]
    assert run(vm, code, temps_w=[vm.int(0)]) == 5


def test_ext_jump_if_true_forward_with_extb(vm):
    code = [PUSH_TRUE, EXT_B, 1, EXT_JUMP_TRUE, 0] + [PUSH_0, RETURN_TOP] + \
        [NOP] * 254 + [PUSH_1, RETURN_TOP]
    assert run(vm, code) == 1


# --- closures ---------------------------------------------------------------------------


def test_push_closure_copy_with_extensions(vm):
    # 2 copied values, 1 argument, a 2-byte body; extA 0 and extB 0.
    body = [push_temp(0), BLOCK_RETURN]
    w_closure = vm.execute([PUSH_1, PUSH_0, PUSH_CLOSURE, (2 << 3) | 1, len(body)] + body +
                           [RETURN_TOP])
    assert w_closure.getclass(vm.space) is vm.space.w_BlockClosure
    assert vm.value(w_closure.slots[constants.CLOSURE_NUMARGS]) == 1
    assert [vm.value(w) for w in w_closure.slots[constants.CLOSURE_FIXED_SIZE:]] == [1, 0]
    w_method = w_closure.slots[constants.CLOSURE_OUTER_CONTEXT].w_method
    assert vm.value(w_closure.slots[constants.CLOSURE_STARTPC]) == \
        w_method.literal_bytes() + 1 + 5


def test_push_closure_copy_ext_a_counts(vm):
    # extA 0x11: 8 more arguments (extA % 16 * 8) and 8 more copied values (extA // 16 * 8)
    body = [BLOCK_RETURN_NIL]
    w_closure = vm.execute([PUSH_1] * 8 + [EXT_A, 0x11, PUSH_CLOSURE, 0, len(body)] + body +
                           [RETURN_TOP])
    assert vm.value(w_closure.slots[constants.CLOSURE_NUMARGS]) == 8
    assert len(w_closure.slots) == constants.CLOSURE_FIXED_SIZE + 8


def full_block_method(vm, w_class, selector, block_bytes, method_bytes, block_args=0,
                      block_temps=None, literals=()):
    """Install selector in w_class: its literal 0 is a CompiledBlock of block_bytes."""
    num_args = arity(selector)
    lits = [None] + list(literals) + [vm.sym(selector),
                                      vm.assoc(vm.sym(vm.space.class_name(w_class)), w_class)]
    w_method = vm.method(method_bytes, [vm.space.w_nil] * len(lits), num_args)
    w_block = vm.block(block_bytes, w_method, num_args=block_args, num_temps=block_temps)
    lits[0] = w_block
    w_method.literals = lits
    vm.install(w_class, selector, w_method)
    return w_method, w_block


def test_full_block_value_runs_on_the_closures_receiver(vm, probe):
    w_rcvr = vm.new(probe, vm.int(42), vm.space.w_nil, vm.space.w_nil, vm.space.w_nil)
    full_block_method(vm, probe, "run", [push_rcvr_var(0), BLOCK_RETURN],
                      [PUSH_FULL_CLOSURE, 0, 0, SEND_VALUE, RETURN_TOP])
    assert vm.value(vm.send(w_rcvr, "run")) == 42


def test_full_block_copied_values_arguments_and_temps(vm, probe):
    # [:a | | t | t := a + copied. t] value: 1, copied = 5 (block temps: a, copied, t)
    block = [push_temp(0), push_temp(1), SEND_PLUS, pop_temp(2), push_temp(2), BLOCK_RETURN]
    full_block_method(vm, probe, "run", block,
                      [PUSH_INTEGER, 5, PUSH_FULL_CLOSURE, 0, 1, PUSH_1, SEND_VALUE_1,
                       RETURN_TOP], block_args=1, block_temps=3)
    assert vm.value(vm.send(vm.new(probe), "run")) == 6


def test_full_block_closure_fields(vm, probe):
    w_method, w_block = full_block_method(
        vm, probe, "make", [BLOCK_RETURN_NIL],
        [PUSH_1, PUSH_0, PUSH_FULL_CLOSURE, 0, FULL_BLOCK_FLAGS_RECEIVER_ON_STACK | 1,
         RETURN_TOP])
    w_closure = vm.send(vm.new(probe), "make")
    assert w_closure.getclass(vm.space) is vm.w_FullBlockClosure
    assert w_closure.slots[constants.FULL_CLOSURE_COMPILED_BLOCK] is w_block
    assert vm.value(w_closure.slots[constants.FULL_CLOSURE_RECEIVER]) == 1
    assert vm.value(w_closure.slots[constants.FULL_CLOSURE_FIXED_SIZE]) == 0
    assert isinstance(w_closure.slots[constants.CLOSURE_OUTER_CONTEXT], W_Context)
    full_block_method(vm, probe, "clean", [BLOCK_RETURN_NIL],
                      [PUSH_FULL_CLOSURE, 0, FULL_BLOCK_FLAGS_IGNORE_OUTER, RETURN_TOP])
    w_clean = vm.send(vm.new(probe), "clean")
    assert w_clean.slots[constants.CLOSURE_OUTER_CONTEXT] is vm.space.w_nil


def test_full_block_non_local_return(vm, probe):
    # run: ^[^1] value. 2  -- the ^ in the block returns 1 from run
    full_block_method(vm, probe, "run", [PUSH_1, RETURN_TOP],
                      [PUSH_FULL_CLOSURE, 0, 0, SEND_VALUE, POP, PUSH_INTEGER, 2,
                       RETURN_TOP])
    full_block_method(vm, probe, "outer", [],
                      [PUSH_SELF, send0(1), PUSH_INTEGER, 10, SEND_PLUS, RETURN_TOP],
                      literals=[vm.sym("run")])
    assert vm.value(vm.send(vm.new(probe), "outer")) == 11


def test_this_context_method_in_a_full_block_is_the_compiled_block(vm, probe):
    w_method, w_block = full_block_method(
        vm, probe, "run", [PUSH_CONTEXT, BLOCK_RETURN],
        [PUSH_FULL_CLOSURE, 0, 0, SEND_VALUE, RETURN_TOP])
    w_ctx = vm.send(vm.new(probe), "run")
    assert w_ctx.fetch(vm.space, constants.MCTX_METHOD) is w_block
    assert w_block.home_method() is w_method
    assert vm.interp.method_name(w_ctx) == "Probe>>run"
    assert w_block.printable_name() == "[] in Probe>>run"


def test_full_block_value_with_arguments_and_wrong_arity(vm, probe):
    full_block_method(vm, probe, "run", [push_temp(1), BLOCK_RETURN],
                      [PUSH_FULL_CLOSURE, 0, 0, PUSH_0, PUSH_1, PUSH_ARRAY, 0x82,
                       send1(1), RETURN_TOP], block_args=2,
                      literals=[vm.sym("valueWithArguments:")])
    assert vm.value(vm.send(vm.new(probe), "run")) == 1
    # value with a two-argument block: the primitive fails, the fallback answers #failed
    full_block_method(vm, probe, "bad", [BLOCK_RETURN_NIL],
                      [PUSH_FULL_CLOSURE, 0, 0, SEND_VALUE, RETURN_TOP], block_args=2)
    assert vm.send(vm.new(probe), "bad") is vm.sym("failed")


def test_nested_full_blocks_find_their_home(vm, probe):
    # run: ^[[^7] value] value. 0
    w_method = vm.method([PUSH_FULL_CLOSURE, 0, 0, SEND_VALUE, POP, PUSH_0, RETURN_TOP],
                         [vm.space.w_nil, vm.sym("run"),
                          vm.assoc(vm.sym("Probe"), probe)])
    w_outer = vm.block([PUSH_FULL_CLOSURE, 0, 0, SEND_VALUE, BLOCK_RETURN], w_method)
    w_inner = vm.block([PUSH_INTEGER, 7, RETURN_TOP], w_outer)
    w_outer.literals = [w_inner, w_method]
    w_method.literals = [w_outer] + w_method.literals[1:]
    vm.install(probe, "run", w_method)
    assert vm.value(vm.send(vm.new(probe), "run")) == 7
    assert w_inner.home_method() is w_method


# --- malformed methods ------------------------------------------------------------------


@pytest.mark.parametrize("code", [
    [EXT_A],                        # a prefix at the end
    [EXT_A, 1],                     # a prefix without its bytecode
    [EXT_B, 1, EXT_B],
    [EXT_PUSH_LIT],                 # an operand past the end
    [PUSH_INTEGER],
])
def test_truncated_code_is_fatal(vm, code):
    with pytest.raises(VMFatal) as e:
        vm.execute(code + [])
    assert "malformed method" in e.value.message or "past the end" in e.value.message


@pytest.mark.parametrize("b", [84, 87, 218, 223, 230, 236, 246, 247, 254, 255])
def test_unknown_bytecodes_are_fatal(vm, b):
    with pytest.raises(VMFatal) as e:
        vm.execute([b, RETURN_SELF])
    assert "malformed method" in e.value.message


@pytest.mark.parametrize("code", [
    [push_lit(3), RETURN_TOP],
    [EXT_A, 1, EXT_PUSH_LIT, 0, RETURN_TOP],
    [push_temp(9), RETURN_TOP],
    [POP, RETURN_SELF],
    [PUSH_FULL_CLOSURE, 5, 0, RETURN_TOP],
])
def test_bad_indices_are_fatal(vm, code):
    with pytest.raises(VMFatal) as e:
        vm.execute(code, [vm.int(0)])
    assert "malformed method" in e.value.message


def test_too_many_prefixes_and_negative_argument_counts_are_fatal(vm):
    with pytest.raises(VMFatal):
        vm.execute([EXT_A, 0] * 5 + [PUSH_1, RETURN_TOP])
    with pytest.raises(VMFatal) as e:
        vm.execute([PUSH_SELF] + ext_b(-1) + [EXT_SEND, 0, RETURN_TOP], [vm.sym("x")])
    assert "malformed method" in e.value.message


def test_full_closure_literal_must_be_a_compiled_block(vm):
    with pytest.raises(VMFatal) as e:
        vm.execute([PUSH_FULL_CLOSURE, 0, 0, RETURN_TOP], [vm.int(3)])
    assert "CompiledBlock" in e.value.message


def test_trap_and_inline_primitives_are_fatal(vm):
    with pytest.raises(VMFatal):
        vm.execute([TRAP, RETURN_SELF])
    with pytest.raises(VMFatal):
        vm.execute([CALL_PRIMITIVE, 1, 0x80, RETURN_SELF])


def test_call_primitive_is_skipped(vm):
    assert run(vm, [CALL_PRIMITIVE, 1, 0, PUSH_1, RETURN_TOP]) == 1
