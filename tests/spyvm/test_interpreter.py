"""The bytecode interpreter (spyvm.interpreter): every bytecode of the V3 + closures set,
sends, returns, blocks and closures, primitives and their fallback.

The object space is a real image: mini.image (6502, Squeak 2.2, BlockContexts) for
most tests, bootstrapped.image (6505, PC* classes) where BlockClosures are needed.
Each image is read once per module; tests build their own classes and
CompiledMethods (Machine below), install them in fresh classes and run them a
bounded number of bytecodes, so they never change the image's own classes.
"""

import pytest

from spyvm import constants, interpreter, model
from spyvm.errors import TopLevelReturn, VMFatal
from spyvm.image.reader import read_image
from spyvm.interpreter import Interpreter, BYTECODE_TABLE, bc_unknown
from spyvm.model import W_Context, W_PointersObject, W_SmallInteger, W_CompiledMethod


# --- bytecodes by name ------------------------------------------------------------------

def push_rcvr_var(i):
    return 0 + i


def push_temp(i):
    return 16 + i


def push_lit(i):
    return 32 + i


def push_lit_var(i):
    return 64 + i


def pop_rcvr_var(i):
    return 96 + i


def pop_temp(i):
    return 104 + i


PUSH_SELF, PUSH_TRUE, PUSH_FALSE, PUSH_NIL = 112, 113, 114, 115
PUSH_MINUS_1, PUSH_0, PUSH_1, PUSH_2 = 116, 117, 118, 119
RETURN_SELF, RETURN_TRUE, RETURN_FALSE, RETURN_NIL, RETURN_TOP = 120, 121, 122, 123, 124
BLOCK_RETURN = 125
EXT_PUSH, EXT_STORE, EXT_POP_STORE = 128, 129, 130
EXT_SEND, DOUBLE_EXT, EXT_SUPER, SECOND_EXT_SEND = 131, 132, 133, 134
POP, DUP, PUSH_CONTEXT = 135, 136, 137
PUSH_ARRAY, CALL_PRIMITIVE = 138, 139
PUSH_REMOTE, STORE_REMOTE, POP_REMOTE, PUSH_CLOSURE = 140, 141, 142, 143
SEND_PLUS, SEND_MINUS, SEND_LESS = 176, 177, 178
SEND_BLOCK_COPY, SEND_VALUE, SEND_VALUE_1 = 200, 201, 202
BAD = 126          # an unused bytecode: VMFatal if a test ever executes it


def send0(lit):
    return 208 + lit


def send1(lit):
    return 224 + lit


def send2(lit):
    return 240 + lit


def long_jump(offset):
    """Bytes of an unconditional long jump (160-167) by offset (-1024..1023)."""
    value = offset + 1024
    return [160 + (value >> 8), value & 255]


def block_6502(body, nargs=0):
    """`thisContext blockCopy: nargs` and the jump over the block's body (Squeak 2.2)."""
    return [PUSH_CONTEXT, PUSH_0 + nargs, SEND_BLOCK_COPY] + long_jump(len(body)) + body


def closure(body, nargs=0, ncopied=0):
    """Push a BlockClosure (bytecode 143) whose code is body."""
    return [PUSH_CLOSURE, (ncopied << 4) | nargs, len(body) >> 8, len(body) & 255] + body


def v3_header(num_args, num_temps, num_literals, primitive, large=False):
    """A V3 CompiledMethod header value (the SmallInteger, not the tagged word)."""
    assert num_args < 16 and num_temps < 64 and num_literals < 256 and primitive < 1024
    return ((num_args << 24) | (num_temps << 18) | (int(large) << 17) |
            (num_literals << 9) | (primitive & 0x1ff) | (((primitive >> 9) & 1) << 28))


def arity(selector):
    if selector[0].isalpha():
        return selector.count(":")
    return 1


class StepLimit(Exception):
    pass


class Machine(object):
    """An Interpreter on a loaded image, with helpers to make classes and methods."""

    def __init__(self, image, mode="step"):
        space = image.space
        self.mode = mode        # run: "step" one bytecode at a time, or "loop" (see run)
        self.image = image
        self.space = space
        self.interp = Interpreter(space, image)
        self.w_Object = space.superclass(space.w_nil.getclass(space))
        self.w_MethodDictionary = self.w_Object.fetch(
            space, constants.CLASS_METHODDICT).getclass(space)
        self.w_Association = space.special(constants.SO_SCHEDULER_ASSOCIATION).getclass(space)
        self.w_Symbol = space.special(constants.SO_DOES_NOT_UNDERSTAND).getclass(space)

    # --- objects --------------------------------------------------------------------

    def int(self, value):
        return self.space.wrap_int(value)

    def sym(self, name):
        """The image's Symbol for name, or a new one known to this interpreter."""
        cache = self.interp.symbol_cache()
        w_symbol = cache.get(name, None)
        if w_symbol is None:
            w_symbol = model.W_BytesObject(self.w_Symbol, len(name))
            w_symbol.set_string(name)
            cache[name] = w_symbol
        return w_symbol

    def assoc(self, w_key, w_value):
        w_assoc = W_PointersObject(self.w_Association, 2, self.space.w_nil)
        w_assoc.slots = [w_key, w_value]
        return w_assoc

    def array(self, items_w):
        return self.space.wrap_list(list(items_w))

    def make_class(self, name, w_superclass=None, inst_size=0):
        space = self.space
        if w_superclass is None:
            w_superclass = self.w_Object
        w_class = W_PointersObject(self.w_Object.getclass(space), self.w_Object.size(),
                                   space.w_nil)
        n = inst_size + 1
        fmt = ((n & 0xc0) << 10) | ((n & 0x3f) << 1) | (constants.FMT_FIXED << 7)
        w_class.store(space, constants.CLASS_SUPERCLASS, w_superclass)
        w_class.store(space, constants.CLASS_METHODDICT, self._method_dict(8))
        w_class.store(space, constants.CLASS_FORMAT, self.int(fmt))
        w_class.store(space, constants.CLASS_NAME, space.wrap_string(name))
        return w_class

    def _method_dict(self, capacity):
        space = self.space
        w_dict = W_PointersObject(self.w_MethodDictionary,
                                  constants.METHODDICT_FIXED + capacity, space.w_nil)
        w_dict.store(space, constants.METHODDICT_TALLY, self.int(0))
        w_dict.store(space, constants.METHODDICT_VALUES,
                     W_PointersObject(space.w_Array, capacity, space.w_nil))
        return w_dict

    def new(self, w_class, *slots_w):
        w_obj = W_PointersObject(w_class, len(slots_w), self.space.w_nil)
        w_obj.slots = list(slots_w)
        return w_obj

    # --- methods ----------------------------------------------------------------------

    def method(self, bytes, literals=(), num_args=0, num_temps=None, primitive=0):
        space = self.space
        if num_temps is None:
            num_temps = num_args
        literals = list(literals)
        w_method = W_CompiledMethod(space.w_CompiledMethod, 4, False)
        w_method.literals = literals
        w_method.set_bytes("".join([chr(b) for b in bytes]))
        w_method.set_header(v3_header(num_args, num_temps, len(literals), primitive,
                                      large=num_temps + 8 > constants.FRAME_SMALL))
        return w_method

    def define(self, w_class, selector, bytes, literals=(), num_temps=None, primitive=0):
        """Install a method; like the Squeak compiler it ends its literals with the
        selector and the class's association (super sends use it)."""
        num_args = arity(selector)
        literals = list(literals) + [self.sym(selector),
                                     self.assoc(self.sym(self.space.class_name(w_class)),
                                                w_class)]
        w_method = self.method(bytes, literals, num_args, num_temps, primitive)
        self.install(w_class, selector, w_method)
        return w_method

    def install(self, w_class, selector, w_method):
        """Add selector -> w_method to the class's method dictionary (growing it)."""
        space = self.space
        w_dict = w_class.fetch(space, constants.CLASS_METHODDICT)
        w_values = w_dict.fetch(space, constants.METHODDICT_VALUES)
        selectors_w = w_dict.slots[constants.METHODDICT_FIXED:]
        if space.w_nil not in selectors_w:
            w_bigger = self._method_dict(2 * len(selectors_w))
            w_bigger.slots[constants.METHODDICT_FIXED:] = \
                selectors_w + [space.w_nil] * len(selectors_w)
            w_bigger.slots[constants.METHODDICT_TALLY] = w_dict.slots[constants.METHODDICT_TALLY]
            w_bigger.fetch(space, constants.METHODDICT_VALUES).slots[:len(selectors_w)] = \
                w_values.slots
            w_class.store(space, constants.CLASS_METHODDICT, w_bigger)
            return self.install(w_class, selector, w_method)
        i = selectors_w.index(space.w_nil)
        w_dict.store(space, constants.METHODDICT_FIXED + i, self.sym(selector))
        w_values.store(space, i, w_method)
        tally = w_dict.fetch(space, constants.METHODDICT_TALLY).value
        w_dict.store(space, constants.METHODDICT_TALLY, self.int(tally + 1))
        self.interp.flush_method_cache()

    def lookup(self, w_class, selector):
        return self.interp.lookup(w_class, self.sym(selector))

    # --- running ----------------------------------------------------------------------

    def start(self, w_method, w_rcvr=None, args_w=(), temps_w=()):
        """The context for w_method activated from a base context (the top context):
        arguments, then temps_w in the following temporaries."""
        if w_rcvr is None:
            w_rcvr = self.space.w_nil
        base = self.interp.base_context(w_rcvr, list(args_w))
        self.interp.top_context = base
        ctx = self.interp.activate(base, w_method, w_rcvr, len(args_w))
        for i, w_temp in enumerate(temps_w):
            ctx.set_slot(len(args_w) + i, w_temp)
        return ctx

    def run(self, ctx, limit=200000):
        """Run until the top context returns; answer the value. In "loop" mode this is
        Interpreter.run, the nested loops the translated VM runs (a bytecode budget
        still stops a runaway test); in "step" mode one step at a time."""
        if self.mode == "loop":
            return self._run_loops(ctx, limit)
        step = self.interp.step
        try:
            for _ in xrange(limit):
                ctx = step(ctx)
        except TopLevelReturn as ret:
            return ret.w_value
        raise StepLimit("no answer within %d bytecodes" % limit)

    def _run_loops(self, ctx, limit):
        interp = self.interp
        step_at = interp.step_at
        budget = [limit]

        def counting_step_at(c, pc, w_method):
            budget[0] -= 1
            if budget[0] < 0:
                raise StepLimit("no answer within %d bytecodes" % limit)
            return step_at(c, pc, w_method)
        interp.step_at = counting_step_at
        try:
            interp.run(ctx)
        except TopLevelReturn as ret:
            return ret.w_value
        finally:
            del interp.step_at

    def run_until(self, ctx, predicate, limit=200000):
        """Step until predicate(ctx) holds for the context about to run."""
        for _ in xrange(limit):
            if predicate(ctx):
                return ctx
            ctx = self.interp.step(ctx)
        raise StepLimit("condition not reached within %d bytecodes" % limit)

    def execute(self, bytes, literals=(), w_rcvr=None, args_w=(), temps_w=(),
                num_temps=None, primitive=0):
        """Run bytes as a method on w_rcvr; answer what it returns."""
        if num_temps is None:
            num_temps = len(args_w) + len(temps_w)
        w_method = self.method(bytes, literals, len(args_w), num_temps, primitive)
        return self.run(self.start(w_method, w_rcvr, args_w, temps_w))

    def send(self, w_rcvr, selector, *args_w):
        """Send selector to w_rcvr from a base context; answer the result."""
        base = self.interp.base_context(w_rcvr, list(args_w))
        self.interp.top_context = base
        ctx = self.interp.send(base, self.sym(selector), len(args_w))
        if ctx is base:          # a primitive answered at once
            return base.top()
        return self.run(ctx)

    def value(self, w_obj):
        """A Python value for simple results."""
        space = self.space
        if isinstance(w_obj, W_SmallInteger):
            return w_obj.value
        if w_obj is space.w_true:
            return True
        if w_obj is space.w_false:
            return False
        if w_obj is space.w_nil:
            return None
        if isinstance(w_obj, model.W_Float):
            return w_obj.value
        if isinstance(w_obj, model.W_BytesObject):
            # By name: mini.image's special objects array has no LargeNegativeInteger.
            class_name = w_obj.classname(space)
            if class_name in ("LargePositiveInteger", "LargeNegativeInteger"):
                magnitude = 0
                for i in range(w_obj.size() - 1, -1, -1):
                    magnitude = (magnitude << 8) | w_obj.getbyte(i)
                return -magnitude if class_name == "LargeNegativeInteger" else magnitude
        return w_obj


# --- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mini_image(image_bytes):
    return read_image(image_bytes("mini.image"))


@pytest.fixture(scope="module")
def boot_image(image_bytes):
    return read_image(image_bytes("bootstrapped.image"))


# Every test runs both ways: stepping, and through the interpreter's nested loops
# (returns and switches as Unwind exceptions), which is what the translated VM runs.
RUN_MODES = ["step", "loop"]


@pytest.fixture(params=RUN_MODES)
def vm(mini_image, request):
    """A fresh interpreter on mini.image (6502: BlockContexts, no closures)."""
    return Machine(mini_image, request.param)


@pytest.fixture(params=RUN_MODES)
def cvm(boot_image, request):
    """A fresh interpreter on bootstrapped.image (6505: BlockClosures)."""
    machine = Machine(boot_image, request.param)
    assert machine.space.uses_closures
    return machine


@pytest.fixture
def probe(vm):
    """A class Probe (subclass of Object) with 4 instance variables."""
    return vm.make_class("Probe", inst_size=4)


def ints(vm, values):
    return [vm.int(v) for v in values]


# --- the table --------------------------------------------------------------------------

def test_every_bytecode_but_126_127_is_defined():
    unknown = [b for b in range(256) if BYTECODE_TABLE[b] is bc_unknown]
    assert unknown == [126, 127]


@pytest.mark.parametrize("b", [126, 127])
def test_unused_bytecodes_are_fatal(vm, b):
    with pytest.raises(VMFatal) as info:
        vm.execute([b])
    assert info.value.message == "unknown bytecode %d" % b


# --- pushes and stores (0-119) ----------------------------------------------------------

@pytest.mark.parametrize("b", range(0, 16))
def test_push_receiver_variable(vm, probe, b):
    w_rcvr = vm.new(probe, *ints(vm, range(100, 116)))
    ctx = vm.start(vm.method([b, RETURN_TOP]), w_rcvr)
    ctx = vm.interp.step(ctx)
    assert ctx.sp == 1 and ctx.top().value == 100 + b
    assert vm.value(vm.run(ctx)) == 100 + b


@pytest.mark.parametrize("b", range(16, 32))
def test_push_temp(vm, b):
    temps = ints(vm, range(200, 216))
    assert vm.value(vm.execute([b, RETURN_TOP], temps_w=temps)) == 200 + b - 16


def test_push_temp_reads_arguments_first(vm):
    w_method = vm.method([push_temp(0), push_temp(1), push_temp(2), SEND_MINUS, SEND_MINUS,
                          RETURN_TOP], num_args=2, num_temps=3)
    ctx = vm.start(w_method, None, ints(vm, [10, 3]), ints(vm, [2]))
    assert vm.value(vm.run(ctx)) == 10 - (3 - 2)


@pytest.mark.parametrize("b", range(32, 64))
def test_push_literal_constant(vm, b):
    literals = ints(vm, range(300, 332))
    assert vm.value(vm.execute([b, RETURN_TOP], literals)) == 300 + b - 32


@pytest.mark.parametrize("b", range(64, 96))
def test_push_literal_variable(vm, b):
    literals = [vm.assoc(vm.sym("v%d" % i), vm.int(400 + i)) for i in range(32)]
    assert vm.value(vm.execute([b, RETURN_TOP], literals)) == 400 + b - 64


@pytest.mark.parametrize("b", range(96, 104))
def test_pop_into_receiver_variable(vm, probe, b):
    i = b - 96
    w_rcvr = vm.new(probe, *([vm.space.w_nil] * 8))
    ctx = vm.start(vm.method([push_lit(0), b, push_rcvr_var(i), RETURN_TOP],
                             [vm.int(7)]), w_rcvr)
    ctx = vm.interp.step(vm.interp.step(ctx))
    assert ctx.sp == 0
    assert vm.value(vm.run(ctx)) == 7
    assert w_rcvr.slots[i].value == 7
    assert all(w is vm.space.w_nil for j, w in enumerate(w_rcvr.slots) if j != i)


@pytest.mark.parametrize("b", range(104, 112))
def test_pop_into_temp(vm, b):
    i = b - 104
    w_method = vm.method([push_lit(0), b, push_temp(i), RETURN_TOP], [vm.int(9)],
                         num_temps=8)
    ctx = vm.start(w_method)
    ctx = vm.interp.step(vm.interp.step(ctx))
    assert ctx.sp == 8 and ctx.slots()[i].value == 9
    assert vm.value(vm.run(ctx)) == 9


@pytest.mark.parametrize("b,expected", [(113, True), (114, False), (115, None), (116, -1),
                                        (117, 0), (118, 1), (119, 2)])
def test_push_constant(vm, b, expected):
    assert vm.value(vm.execute([b, RETURN_TOP])) == expected


def test_push_receiver(vm, probe):
    w_rcvr = vm.new(probe)
    assert vm.execute([PUSH_SELF, RETURN_TOP], w_rcvr=w_rcvr) is w_rcvr


# --- returns (120-125) -----------------------------------------------------------------

@pytest.mark.parametrize("b,expected", [(121, True), (122, False), (123, None)])
def test_return_constant(vm, b, expected):
    assert vm.value(vm.execute([b])) == expected


def test_return_receiver_and_top(vm, probe):
    w_rcvr = vm.new(probe)
    assert vm.execute([RETURN_SELF], w_rcvr=w_rcvr) is w_rcvr
    assert vm.value(vm.execute([PUSH_2, RETURN_TOP])) == 2


def test_return_marks_the_context_dead_and_pushes_on_the_sender(vm):
    ctx = vm.start(vm.method([PUSH_1, PUSH_2, RETURN_TOP]))
    base = ctx.w_sender
    ctx = vm.interp.step(vm.interp.step(ctx))
    old = ctx
    # Returning into the top context ends the computation.
    with pytest.raises(TopLevelReturn) as ret:
        vm.interp.step(ctx)
    assert ret.value.w_value.value == 2
    assert base.sp == 1 and base.top().value == 2
    assert old.is_dead() and old.w_sender is vm.space.w_nil
    assert old.fetch(vm.space, constants.CTX_PC) is vm.space.w_nil


def test_block_return_from_a_method_context_returns_to_the_sender(vm):
    assert vm.value(vm.execute([PUSH_1, BLOCK_RETURN])) == 1


# --- extended pushes and stores (128-130, 132) -------------------------------------------

@pytest.mark.parametrize("kind,index", [(0, 0), (0, 33), (0, 63), (1, 0), (1, 40),
                                        (2, 0), (2, 63), (3, 5), (3, 63)])
def test_extended_push(vm, probe, kind, index):
    w_rcvr = vm.new(probe, *ints(vm, range(1000, 1064)))
    literals = [vm.int(2000 + i) for i in range(64)]
    if kind == 3:
        literals = [vm.assoc(vm.sym("g%d" % i), vm.int(3000 + i)) for i in range(64)]
    w_method = vm.method([EXT_PUSH, (kind << 6) | index, RETURN_TOP], literals,
                         num_temps=50)
    ctx = vm.start(w_method, w_rcvr, temps_w=ints(vm, range(4000, 4050)))
    expected = [1000, 4000, 2000, 3000][kind] + index
    assert vm.value(vm.run(ctx)) == expected


@pytest.mark.parametrize("b", [EXT_STORE, EXT_POP_STORE])
@pytest.mark.parametrize("kind,index", [(0, 0), (0, 63), (1, 0), (1, 40), (3, 7)])
def test_extended_store(vm, probe, b, kind, index):
    w_rcvr = vm.new(probe, *([vm.space.w_nil] * 64))
    literals = [vm.assoc(vm.sym("g%d" % i), vm.space.w_nil) for i in range(8)]
    w_method = vm.method([PUSH_1, PUSH_2, b, (kind << 6) | index, RETURN_TOP], literals,
                         num_temps=50)
    ctx = vm.start(w_method, w_rcvr)
    for _ in range(3):
        ctx = vm.interp.step(ctx)
    if b == EXT_STORE:
        assert ctx.sp == 52 and ctx.top().value == 2
    else:
        assert ctx.sp == 51 and ctx.top().value == 1
    if kind == 0:
        assert w_rcvr.slots[index].value == 2
    elif kind == 1:
        assert ctx.slots()[index].value == 2
    else:
        assert literals[index].slots[1].value == 2
    assert vm.value(vm.run(ctx)) == (2 if b == EXT_STORE else 1)


def test_extended_store_into_a_literal_constant_is_fatal(vm):
    with pytest.raises(VMFatal) as info:
        vm.execute([PUSH_1, EXT_STORE, (2 << 6) | 0, RETURN_TOP], [vm.int(1)])
    assert info.value.message == "illegal store into a literal constant"


@pytest.mark.parametrize("op,index", [(2, 0), (2, 255), (3, 0), (3, 254), (4, 130)])
def test_double_extended_push(vm, probe, op, index):
    w_rcvr = vm.new(probe, *ints(vm, range(5000, 5256)))
    if op == 4:
        literals = [vm.assoc(vm.sym("g%d" % i), vm.int(7000 + i)) for i in range(255)]
    else:
        literals = ints(vm, range(6000, 6255))
    expected = {2: 5000, 3: 6000, 4: 7000}[op] + index
    assert vm.value(vm.execute([DOUBLE_EXT, op << 5, index, RETURN_TOP], literals,
                               w_rcvr)) == expected


@pytest.mark.parametrize("op", [5, 6, 7])
def test_double_extended_store(vm, probe, op):
    w_rcvr = vm.new(probe, *([vm.space.w_nil] * 200))
    literals = [vm.assoc(vm.sym("g%d" % i), vm.space.w_nil) for i in range(200)]
    ctx = vm.start(vm.method([PUSH_1, PUSH_2, DOUBLE_EXT, op << 5, 150, RETURN_TOP],
                             literals), w_rcvr)
    for _ in range(3):
        ctx = vm.interp.step(ctx)
    if op == 7:
        assert literals[150].slots[1].value == 2
    else:
        assert w_rcvr.slots[150].value == 2
    assert ctx.sp == (1 if op == 6 else 2)
    assert vm.value(vm.run(ctx)) == (1 if op == 6 else 2)


# --- stack operations (135-139) -----------------------------------------------------------

def test_pop_and_dup(vm):
    ctx = vm.start(vm.method([PUSH_1, PUSH_2, POP, DUP, SEND_PLUS, RETURN_TOP]))
    ctx = vm.interp.step(vm.interp.step(vm.interp.step(ctx)))
    assert ctx.sp == 1 and ctx.top().value == 1
    ctx = vm.interp.step(ctx)
    assert ctx.sp == 2 and ctx.peek(1).value == 1 and ctx.top().value == 1
    assert vm.value(vm.run(ctx)) == 2


def test_push_this_context(vm):
    ctx = vm.start(vm.method([PUSH_CONTEXT, RETURN_TOP]))
    assert vm.run(ctx) is ctx


def test_push_new_array(vm):
    w_array = vm.execute([PUSH_ARRAY, 3, RETURN_TOP])
    assert w_array.getclass(vm.space) is vm.space.w_Array
    assert w_array.slots == [vm.space.w_nil] * 3
    ctx = vm.start(vm.method([PUSH_1, PUSH_2, PUSH_MINUS_1, PUSH_ARRAY, 0x80 | 3,
                              RETURN_TOP]))
    for _ in range(4):
        ctx = vm.interp.step(ctx)
    assert ctx.sp == 1
    w_array = ctx.top()
    assert [w.value for w in w_array.slots] == [1, 2, -1]
    assert vm.execute([PUSH_ARRAY, 0x80, RETURN_TOP]).slots == []


def test_call_primitive_is_skipped(vm):
    # 139 lo hi: the primitive ran (and failed) before activation; the body goes on.
    assert vm.value(vm.execute([CALL_PRIMITIVE, 60, 0, PUSH_2, RETURN_TOP])) == 2


# --- remote temps (140-142) ----------------------------------------------------------------

def test_push_remote_temp(vm):
    w_vector = vm.array(ints(vm, [10, 11, 12]))
    temps = [vm.space.w_nil, w_vector]
    assert vm.value(vm.execute([PUSH_REMOTE, 2, 1, RETURN_TOP], temps_w=temps)) == 12


def test_store_remote_temp(vm):
    w_vector = vm.array(ints(vm, [10, 11, 12]))
    ctx = vm.start(vm.method([PUSH_2, STORE_REMOTE, 0, 0, RETURN_TOP], num_temps=1),
                   temps_w=[w_vector])
    ctx = vm.interp.step(vm.interp.step(ctx))
    assert ctx.sp == 2 and ctx.top().value == 2
    assert w_vector.slots[0].value == 2
    assert vm.value(vm.run(ctx)) == 2


def test_pop_into_remote_temp(vm):
    w_vector = vm.array(ints(vm, [10, 11, 12]))
    ctx = vm.start(vm.method([PUSH_1, PUSH_2, POP_REMOTE, 1, 0, RETURN_TOP], num_temps=1),
                   temps_w=[w_vector])
    for _ in range(3):
        ctx = vm.interp.step(ctx)
    assert ctx.sp == 2 and ctx.top().value == 1
    assert [w.value for w in w_vector.slots] == [10, 2, 12]


def test_remote_temp_in_a_non_array_is_fatal(vm):
    with pytest.raises(VMFatal) as info:
        vm.execute([PUSH_REMOTE, 0, 0, RETURN_TOP], temps_w=[vm.int(3)])
    assert info.value.message == "temp vector is not an Array"


# --- jumps (144-175) ------------------------------------------------------------------------

@pytest.mark.parametrize("b", range(144, 152))
def test_short_jump(vm, b):
    offset = b - 143
    assert vm.value(vm.execute([b] + [BAD] * offset + [PUSH_1, RETURN_TOP])) == 1


@pytest.mark.parametrize("condition", [True, False])
@pytest.mark.parametrize("b", range(152, 160))
def test_short_jump_if_false(vm, b, condition):
    offset = b - 151
    push = PUSH_TRUE if condition else PUSH_FALSE
    bytes = [push, b, RETURN_FALSE] + [BAD] * (offset - 1) + [RETURN_TRUE]
    # Jumped (answers true) exactly when the condition was false.
    assert vm.value(vm.execute(bytes)) is (not condition)


@pytest.mark.parametrize("b", range(164, 168))
def test_long_jump_forward(vm, b):
    offset = (b - 164) * 256 + 3
    assert vm.value(vm.execute([b, 3] + [BAD] * offset + [PUSH_1, RETURN_TOP])) == 1


@pytest.mark.parametrize("b", range(160, 164))
def test_long_jump_backward(vm, b):
    # 0: jump forward to P; 2: push 2, return; ...; P: b d, jumping back to 2.
    d = 7
    back = (b - 164) * 256 + d
    p = -back
    bytes = long_jump(p - 2) + [PUSH_2, RETURN_TOP]
    bytes += [BAD] * (p - len(bytes)) + [b, d] + [BAD]
    assert bytes[p] == b
    ctx = vm.start(vm.method(bytes))
    ctx = vm.interp.step(ctx)
    assert ctx.pc == p
    ctx = vm.interp.step(ctx)
    assert ctx.pc == 2
    assert vm.value(vm.run(ctx)) == 2


def test_backward_jump_loop(vm):
    # t0 := 0. [t0 := t0 + 1. t0 < 5] whileTrue. ^t0
    bytes = [push_temp(0), PUSH_1, SEND_PLUS, pop_temp(0),      # 0..3
             push_temp(0), push_lit(0), SEND_LESS,              # 4..6
             153]                                               # 7: jump if false +2
    bytes += long_jump(-(len(bytes) + 2))                       # 8: back to 0
    bytes += [push_temp(0), RETURN_TOP]                         # 10
    assert vm.value(vm.execute(bytes, [vm.int(5)], temps_w=[vm.int(0)])) == 5


@pytest.mark.parametrize("condition", [True, False])
@pytest.mark.parametrize("b", range(168, 176))
def test_long_conditional_jump(vm, b, condition):
    offset = (b & 3) * 256 + 2
    push = PUSH_TRUE if condition else PUSH_FALSE
    bytes = [push, b, 2, RETURN_FALSE] + [BAD] * (offset - 1) + [RETURN_TRUE]
    jumps_when = b < 172
    assert vm.value(vm.execute(bytes)) is (condition == jumps_when)


@pytest.mark.parametrize("jump", [[152], [159], [168, 0], [171, 0], [172, 0], [175, 0]])
def test_conditional_jump_on_a_non_boolean_sends_must_be_boolean(vm, probe, jump):
    w_must = vm.define(probe, "mustBeBoolean", [push_lit(0), RETURN_TOP], [vm.int(77)])
    w_rcvr = vm.new(probe)
    ctx = vm.start(vm.method([PUSH_SELF] + jump + [RETURN_TOP, BAD]), w_rcvr)
    top = ctx
    ctx = vm.interp.step(vm.interp.step(ctx))
    assert ctx.w_method is w_must and ctx.w_receiver is w_rcvr and ctx.w_sender is top
    assert top.sp == 0
    # The answer is pushed and execution goes on after the jump, not taking it.
    assert vm.value(vm.run(ctx)) == 77


# --- special sends (176-207) -------------------------------------------------------------

MAXINT = 2 ** 30 - 1
MININT = -2 ** 30

SMALLINT_CASES = [
    (0, 3, 4, 7), (0, -3, 1, -2), (0, MAXINT, 1, MAXINT + 1),
    (1, 3, 10, -7), (1, MININT, 1, MININT - 1),
    (2, 3, 4, True), (2, 4, 3, False), (3, 4, 3, True), (3, 3, 3, False),
    (4, 3, 3, True), (4, 4, 3, False), (5, 2, 3, False), (5, 3, 3, True),
    (6, 3, 3, True), (6, 3, 4, False), (7, 3, 3, False), (7, 3, -3, True),
    (8, 6, 7, 42), (8, -6, 7, -42), (9, 42, 6, 7), (9, -42, 6, -7), (9, MININT, -1, MAXINT + 1),
    (10, 7, 2, 1), (10, -7, 2, 1), (10, 7, -2, -1), (12, 1, 10, 1024), (12, 1024, -3, 128),
    (12, -1, -5, -1), (12, 1, 29, 2 ** 29), (12, 5, -100, 0), (12, -5, -100, -1),
    (13, 7, 2, 3), (13, -7, 2, -4), (13, 7, -2, -4),
    (14, 12, 10, 8), (14, -1, 255, 255), (15, 12, 10, 14),
]


@pytest.mark.parametrize("index,a,b,expected", SMALLINT_CASES)
def test_smallinteger_fast_path(vm, index, a, b, expected):
    w_method = vm.method([push_lit(0), push_lit(1), 176 + index, RETURN_TOP],
                         ints(vm, [a, b]))
    ctx = vm.start(w_method)
    ctx = vm.interp.step(vm.interp.step(ctx))
    after = vm.interp.step(ctx)
    w_result = after.top() if after is ctx else vm.run(after)
    assert vm.value(w_result) == expected
    if MININT <= expected <= MAXINT or isinstance(expected, bool):
        assert after is ctx, "no send for a SmallInteger result"
        assert ctx.sp == 1
    else:
        assert w_result.getclass(vm.space) is vm.space.smalltalk_at(
            "LargePositiveInteger" if expected > 0 else "LargeNegativeInteger")


@pytest.mark.parametrize("index,a,b,expected", [
    (8, MAXINT, 2, 2 * MAXINT),        # overflow: SmallInteger>>* fails, Integer code runs
    (8, MININT, 2, 2 * MININT),
    (9, 7, 2, "(7/2)"),                 # inexact: a Fraction
    (12, 1, 40, 2 ** 40),               # shift out of range
    (11, 3, 4, "3@4"),                  # @ always sends
])
def test_smallinteger_ops_that_send(vm, index, a, b, expected):
    w_result = vm.execute([push_lit(0), push_lit(1), 176 + index, RETURN_TOP],
                          ints(vm, [a, b]))
    if isinstance(expected, str):
        assert vm.space.unwrap_string(vm.send(w_result, "printString")) == expected
    else:
        assert vm.value(w_result) == expected


def test_smallinteger_floor_division_overflow_runs_the_image_code(vm):
    # MININT // -1 is no SmallInteger: neither the fast path nor primitive 12
    # answers it, so SmallInteger>>// runs its fallback code (as on squeak-vm).
    w_method = vm.method([push_lit(0), push_lit(1), 176 + 13, RETURN_TOP],
                         ints(vm, [MININT, -1]))
    ctx = vm.start(w_method)
    ctx = vm.interp.step(vm.interp.step(ctx))
    after = vm.interp.step(ctx)
    assert after is not ctx and after.w_sender is ctx
    assert after.w_method.primitive == 12 and vm.value(after.w_receiver) == MININT


@pytest.mark.parametrize("index", [9, 10, 13])
def test_division_by_zero_sends(vm, index):
    w_method = vm.method([push_lit(0), push_lit(1), 176 + index, RETURN_TOP],
                         ints(vm, [7, 0]))
    ctx = vm.start(w_method)
    ctx = vm.interp.step(vm.interp.step(ctx))
    after = vm.interp.step(ctx)
    assert after is not ctx
    selector = vm.space.special(constants.SO_SPECIAL_SELECTORS).fetch(vm.space, 2 * index)
    assert after.w_method is vm.interp.lookup(vm.space.w_SmallInteger, selector)


FLOAT_CASES = [
    (0, 1.5, 2.25, 3.75), (1, 1.5, 2, -0.5), (1, 2, 0.5, 1.5),
    (2, 1.5, 2, True), (3, 2, 1.5, True), (4, 1.5, 1.5, True), (5, 1.0, 1.5, False),
    (6, 1.0, 1, True), (6, 1.5, 1, False), (7, 1.5, 1.5, False), (7, 1.5, 2.5, True),
    (8, 3, 0.5, 1.5), (9, 1.0, 4, 0.25), (9, 3, 1.5, 2.0),
]


@pytest.mark.parametrize("index,a,b,expected", FLOAT_CASES)
def test_float_fast_path(vm, index, a, b, expected):
    def w(x):
        return vm.space.wrap_float(x) if isinstance(x, float) else vm.int(x)
    ctx = vm.start(vm.method([push_lit(0), push_lit(1), 176 + index, RETURN_TOP],
                             [w(a), w(b)]))
    ctx = vm.interp.step(vm.interp.step(ctx))
    assert vm.interp.step(ctx) is ctx
    w_result = ctx.top()
    assert vm.value(w_result) == expected
    if isinstance(expected, float):
        assert w_result.getclass(vm.space) is vm.space.w_Float


@pytest.mark.parametrize("index,b", [(9, 0.0), (9, 0), (10, 2.0), (12, 1)])
def test_float_ops_that_send(vm, index, b):
    w_b = vm.space.wrap_float(b) if isinstance(b, float) else vm.int(b)
    ctx = vm.start(vm.method([push_lit(0), push_lit(1), 176 + index, RETURN_TOP],
                             [vm.space.wrap_float(1.5), w_b]))
    ctx = vm.interp.step(vm.interp.step(ctx))
    after = vm.interp.step(ctx)
    assert after is not ctx
    assert after.w_receiver.getclass(vm.space) is vm.space.w_Float


def test_float_add_through_the_image(vm):
    # 1.5 + 2 answers a Float; printString runs Float>>printOn: in the image.
    w_result = vm.execute([push_lit(0), PUSH_2, SEND_PLUS, RETURN_TOP],
                          [vm.space.wrap_float(1.5)])
    assert vm.space.unwrap_string(vm.send(w_result, "printString")) == "3.5"


def special_selector(vm, index):
    w_specials = vm.space.special(constants.SO_SPECIAL_SELECTORS)
    return (w_specials.fetch(vm.space, 2 * index).as_string(),
            w_specials.fetch(vm.space, 2 * index + 1).value)


@pytest.mark.parametrize("b", [b for b in range(176, 208) if b not in (198, 199)])
def test_special_selector_send(vm, probe, b):
    selector, nargs = special_selector(vm, b - 176)
    assert arity(selector) == nargs
    # The method stores its arguments in the receiver and answers a marker.
    body = []
    for i in range(nargs):
        body += [push_temp(i), pop_rcvr_var(i)]
    w_method = vm.define(probe, selector, body + [push_lit(0), RETURN_TOP], [vm.int(b)])
    w_rcvr = vm.new(probe, vm.space.w_nil, vm.space.w_nil)
    args = [PUSH_1, PUSH_2][:nargs]
    ctx = vm.start(vm.method([PUSH_SELF] + args + [b, RETURN_TOP]), w_rcvr)
    for _ in range(nargs + 1):
        ctx = vm.interp.step(ctx)
    called = vm.interp.step(ctx)
    assert called.w_method is w_method and called.w_receiver is w_rcvr
    assert vm.value(vm.run(called)) == b
    assert [w.value for w in w_rcvr.slots[:nargs]] == [1, 2][:nargs]


def test_identity_never_sends(vm, probe):
    vm.define(probe, "==", [PUSH_TRUE, RETURN_TOP])
    w_a, w_b = vm.new(probe), vm.new(probe)
    assert vm.execute([PUSH_SELF, push_lit(0), 198, RETURN_TOP], [w_b], w_a) is \
        vm.space.w_false
    assert vm.execute([PUSH_SELF, PUSH_SELF, 198, RETURN_TOP], [], w_a) is vm.space.w_true
    # SmallIntegers are identical by value.
    assert vm.execute([push_lit(0), push_lit(1), 198, RETURN_TOP],
                      [vm.int(300), vm.int(300)]) is vm.space.w_true


def test_class_never_sends(vm, probe):
    vm.define(probe, "class", [PUSH_NIL, RETURN_TOP])
    w_rcvr = vm.new(probe)
    ctx = vm.start(vm.method([PUSH_SELF, 199, RETURN_TOP]), w_rcvr)
    ctx = vm.interp.step(vm.interp.step(ctx))
    assert ctx.sp == 1 and ctx.top() is probe
    assert vm.execute([PUSH_2, 199, RETURN_TOP]) is vm.space.w_SmallInteger


def test_special_sends_reach_image_methods(vm):
    w_array = vm.array(ints(vm, [5, 6, 7]))
    # at: (192), size (194), at:put: (193) on an Array run Object's primitives 60-62.
    assert vm.value(vm.execute([push_lit(0), PUSH_2, 192, RETURN_TOP], [w_array])) == 6
    assert vm.value(vm.execute([push_lit(0), 194, RETURN_TOP], [w_array])) == 3
    vm.execute([push_lit(0), PUSH_1, PUSH_MINUS_1, 193, RETURN_TOP], [w_array])
    assert w_array.slots[0].value == -1
    w_point = vm.execute([PUSH_1, PUSH_2, 187, RETURN_TOP])
    assert vm.value(vm.execute([push_lit(0), 206, RETURN_TOP], [w_point])) == 1   # x
    assert vm.value(vm.execute([push_lit(0), 207, RETURN_TOP], [w_point])) == 2   # y


# --- literal sends (131, 132, 134, 208-255) --------------------------------------------------

def define_echo_methods(vm, w_class, selectors):
    """For each selector: store the arguments in the receiver, answer the selector's index."""
    methods = []
    for index, selector in enumerate(selectors):
        body = []
        for i in range(arity(selector)):
            body += [push_temp(i), pop_rcvr_var(i)]
        methods.append(vm.define(w_class, selector, body + [push_lit(0), RETURN_TOP],
                                 [vm.int(index)]))
    return methods


def check_send(vm, w_class, send_bytes, literals, nargs, expected):
    w_rcvr = vm.new(w_class, vm.space.w_nil, vm.space.w_nil, vm.space.w_nil)
    args = [PUSH_1, PUSH_2, PUSH_MINUS_1][:nargs]
    w_result = vm.execute([PUSH_SELF] + args + send_bytes + [RETURN_TOP], literals, w_rcvr)
    assert vm.value(w_result) == expected
    assert [w.value for w in w_rcvr.slots[:nargs]] == [1, 2, -1][:nargs]


@pytest.mark.parametrize("b", range(208, 256))
def test_send_literal_selector(vm, probe, b):
    nargs = (b - 208) // 16
    selectors = ["sel%d%s" % (i, "" if nargs == 0 else ":" + "with:" * (nargs - 1))
                 for i in range(16)]
    define_echo_methods(vm, probe, selectors)
    literals = [vm.sym(s) for s in selectors]
    check_send(vm, probe, [b], literals, nargs, b & 15)


@pytest.mark.parametrize("nargs,index", [(0, 0), (1, 31), (2, 17), (3, 5)])
def test_single_extended_send(vm, probe, nargs, index):
    selectors = ["s%d%s" % (i, "a:" * nargs) for i in range(32)]
    define_echo_methods(vm, probe, selectors)
    check_send(vm, probe, [EXT_SEND, (nargs << 5) | index], [vm.sym(s) for s in selectors],
               nargs, index)


@pytest.mark.parametrize("nargs,index", [(0, 0), (1, 63), (2, 40), (3, 1)])
def test_second_extended_send(vm, probe, nargs, index):
    selectors = ["s%d%s" % (i, "a:" * nargs) for i in range(64)]
    define_echo_methods(vm, probe, selectors)
    check_send(vm, probe, [SECOND_EXT_SEND, (nargs << 6) | index],
               [vm.sym(s) for s in selectors], nargs, index)


@pytest.mark.parametrize("nargs,index", [(0, 200), (2, 254), (3, 0)])
def test_double_extended_send(vm, probe, nargs, index):
    selectors = ["s%d%s" % (i, "a:" * nargs) for i in range(255)]
    define_echo_methods(vm, probe, [selectors[index]])
    literals = [vm.space.w_nil] * 255
    literals[index] = vm.sym(selectors[index])
    check_send(vm, probe, [DOUBLE_EXT, nargs, index], literals, nargs, 0)


def test_send_to_smallinteger_runs_image_code(vm):
    w_string = vm.execute([PUSH_2, send0(0), RETURN_TOP], [vm.sym("printString")])
    assert vm.space.unwrap_string(w_string) == "2"


def test_send_with_wrong_argument_count_is_fatal(vm, probe):
    vm.define(probe, "foo:", [RETURN_SELF])
    with pytest.raises(VMFatal) as info:
        vm.execute([PUSH_SELF, send0(0), RETURN_TOP], [vm.sym("foo:")], vm.new(probe))
    assert "takes 1 arguments, sent with 0" in info.value.message


# --- super sends ------------------------------------------------------------------------

@pytest.fixture
def hierarchy(vm):
    """A (foo ^1) <- B (foo ^2, bar ^super foo) <- C (foo ^3)."""
    w_a = vm.make_class("A")
    w_b = vm.make_class("B", w_a)
    w_c = vm.make_class("C", w_b)
    for w_class, value in [(w_a, 1), (w_b, 2), (w_c, 3)]:
        vm.define(w_class, "foo", [push_lit(0), RETURN_TOP], [vm.int(value)])
    return w_a, w_b, w_c


@pytest.mark.parametrize("send", [[EXT_SUPER, 0], [DOUBLE_EXT, 1 << 5, 0]])
def test_super_send_starts_above_the_method_class(vm, hierarchy, send):
    w_a, w_b, w_c = hierarchy
    vm.define(w_b, "bar", [PUSH_SELF] + send + [RETURN_TOP], [vm.sym("foo")])
    w_rcvr = vm.new(w_c)
    assert vm.value(vm.send(w_rcvr, "foo")) == 3
    assert vm.value(vm.send(w_rcvr, "bar")) == 1
    assert vm.value(vm.send(vm.new(w_b), "bar")) == 1


def test_super_send_with_arguments(vm, hierarchy):
    w_a, w_b, w_c = hierarchy
    vm.define(w_a, "with:with:", [push_temp(0), push_temp(1), SEND_MINUS, RETURN_TOP])
    vm.define(w_b, "with:with:", [PUSH_NIL, RETURN_TOP])
    vm.define(w_c, "with:with:", [PUSH_SELF, push_temp(0), push_temp(1),
                                  EXT_SUPER, (2 << 5) | 0, RETURN_TOP],
              [vm.sym("with:with:")])
    # C's super is B: B>>with:with: answers nil.
    assert vm.send(vm.new(w_c), "with:with:", vm.int(10), vm.int(3)) is vm.space.w_nil
    vm.define(w_b, "baz", [PUSH_SELF, push_lit(1), push_lit(2),
                           DOUBLE_EXT, (1 << 5) | 2, 0, RETURN_TOP],
              [vm.sym("with:with:"), vm.int(10), vm.int(3)])
    assert vm.value(vm.send(vm.new(w_c), "baz")) == 7


# --- doesNotUnderstand: -----------------------------------------------------------------

def test_does_not_understand_makes_a_message(vm, probe):
    vm.define(probe, "doesNotUnderstand:", [push_temp(0), RETURN_TOP])
    w_rcvr = vm.new(probe)
    w_message = vm.execute([PUSH_SELF, PUSH_1, PUSH_2, send2(0), RETURN_TOP],
                           [vm.sym("foo:bar:")], w_rcvr)
    space = vm.space
    assert w_message.getclass(space) is space.w_Message
    assert w_message.size() == 2      # Squeak 2.2: selector, args
    assert w_message.fetch(space, constants.MESSAGE_SELECTOR) is vm.sym("foo:bar:")
    w_args = w_message.fetch(space, constants.MESSAGE_ARGUMENTS)
    assert w_args.getclass(space) is space.w_Array
    assert [w.value for w in w_args.slots] == [1, 2]


def test_does_not_understand_keeps_the_stack_balanced(vm, probe):
    vm.define(probe, "doesNotUnderstand:", [PUSH_2, RETURN_TOP])
    ctx = vm.start(vm.method([PUSH_1, PUSH_SELF, PUSH_1, send1(0), SEND_PLUS, RETURN_TOP],
                             [vm.sym("nope:")]), vm.new(probe))
    assert vm.value(vm.run(ctx)) == 3


def test_does_not_understand_in_closure_image_has_lookup_class(cvm):
    w_probe = cvm.make_class("Probe")
    cvm.define(w_probe, "doesNotUnderstand:", [push_temp(0), RETURN_TOP])
    w_message = cvm.execute([PUSH_SELF, send0(0), RETURN_TOP], [cvm.sym("zork")],
                            cvm.new(w_probe))
    assert w_message.size() == 3
    assert w_message.fetch(cvm.space, constants.MESSAGE_LOOKUP_CLASS) is w_probe
    assert w_message.fetch(cvm.space, constants.MESSAGE_ARGUMENTS).slots == []


def test_does_not_understand_of_a_super_send(vm, hierarchy):
    w_a, w_b, w_c = hierarchy
    vm.define(w_a, "doesNotUnderstand:", [push_temp(0), RETURN_TOP])
    vm.define(w_c, "zork", [PUSH_SELF, EXT_SUPER, 0, RETURN_TOP], [vm.sym("zork")])
    w_message = vm.send(vm.new(w_c), "zork")
    assert w_message.fetch(vm.space, constants.MESSAGE_SELECTOR) is vm.sym("zork")


# --- primitives ----------------------------------------------------------------------------

def test_primitive_success_skips_the_body(vm, probe):
    # Object>>class is primitive 111.
    vm.define(probe, "myClass", [BAD], primitive=111)
    assert vm.send(vm.new(probe), "myClass") is probe


def test_primitive_failure_runs_the_body(vm, probe):
    # Primitive 1 (SmallInteger +) fails for a Probe receiver; the body sees the args.
    vm.define(probe, "plus:", [push_temp(0), push_lit(0), SEND_PLUS, RETURN_TOP],
              [vm.int(100)], primitive=1)
    assert vm.value(vm.send(vm.new(probe), "plus:", vm.int(5))) == 105
    # Primitive 60 (at:) fails on a non-indexable object.
    vm.define(probe, "at:", [PUSH_MINUS_1, RETURN_TOP], primitive=60)
    w_rcvr = vm.new(probe, *([vm.space.w_nil] * 4))
    assert vm.value(vm.send(w_rcvr, "at:", vm.int(1))) == -1


def test_unknown_primitive_runs_the_body(vm, probe):
    table = vm.interp.dispatch.primitives
    unused = [n for n in range(1, 256) if table[n] is None][0]
    vm.define(probe, "odd", [PUSH_2, RETURN_TOP], primitive=unused)
    assert vm.value(vm.send(vm.new(probe), "odd")) == 2


@pytest.mark.parametrize("prim,expected", [(256, "self"), (257, True), (258, False),
                                           (259, None), (260, -1), (261, 0), (262, 1),
                                           (263, 2), (264, 1000), (300, 1036),
                                           (511, 1247), (512, 1248), (519, 1255)])
def test_quick_primitive(vm, probe, prim, expected):
    w_method = vm.define(probe, "quick", [BAD], primitive=prim)
    assert w_method.primitive == prim
    w_rcvr = vm.new(probe, *ints(vm, range(1000, 1256)))
    w_result = vm.send(w_rcvr, "quick")
    if expected == "self":
        assert w_result is w_rcvr
    else:
        assert vm.value(w_result) == expected


def test_quick_primitives_on_contexts(vm):
    # ContextPart>>sender is primitive 264 (inst var 1), InstructionStream>>pc 265.
    ctx = vm.start(vm.method([PUSH_CONTEXT, send0(0), RETURN_TOP], [vm.sym("sender")]))
    base = ctx.w_sender
    assert vm.run(ctx) is base
    w_method = vm.method([PUSH_NIL, PUSH_CONTEXT, send0(0), RETURN_TOP], [vm.sym("pc")])
    assert vm.value(vm.run(vm.start(w_method))) == w_method.literal_bytes() + 1 + 3


def test_quick_primitive_leaves_one_result(vm, probe):
    vm.define(probe, "quick", [BAD], primitive=264)
    w_rcvr = vm.new(probe, vm.int(5))
    ctx = vm.start(vm.method([PUSH_1, PUSH_SELF, send0(0), SEND_PLUS, RETURN_TOP],
                             [vm.sym("quick")]), w_rcvr)
    ctx = vm.interp.step(vm.interp.step(ctx))
    top = ctx
    ctx = vm.interp.step(ctx)
    assert ctx is top and ctx.sp == 2 and ctx.top().value == 5
    assert vm.value(vm.run(ctx)) == 6


# --- BlockContexts (6502: blockCopy: primitive 80, value primitive 81) --------------------

def test_block_copy_makes_a_block_context(vm):
    bytes = block_6502([PUSH_1, BLOCK_RETURN]) + [RETURN_TOP]
    ctx = vm.start(vm.method(bytes))
    for _ in range(3):
        ctx = vm.interp.step(ctx)
    w_block = ctx.top()
    space = vm.space
    assert isinstance(w_block, W_Context) and w_block.is_block_context
    assert w_block.getclass(space) is space.w_BlockContext
    assert w_block.w_home is ctx
    assert w_block.fetch(space, constants.BCTX_NARGS).value == 0
    startpc = w_block.fetch(space, constants.BCTX_STARTPC).value
    assert startpc == 5 + ctx.w_method.literal_bytes() + 1
    assert ctx.pc == 3   # at the jump over the block's body
    assert w_block.w_sender is space.w_nil


def test_block_copy_sets_the_initial_pc(vm):
    # Squeak's blockCopy: sets the new BlockContext's pc to its startpc (with stackp 0),
    # so that a Process made on the block before it is ever sent value can run it
    # (BlockContext>>newProcess / fork in Squeak 2.2).
    bytes = block_6502([PUSH_1, BLOCK_RETURN]) + [RETURN_TOP]
    ctx = vm.start(vm.method(bytes))
    for _ in range(3):
        ctx = vm.interp.step(ctx)
    w_block = ctx.top()
    space = vm.space
    assert w_block.fetch(space, constants.CTX_PC) is not space.w_nil, \
        "a fresh BlockContext has pc nil: it looks dead to the scheduler"
    assert w_block.fetch(space, constants.CTX_PC).value == \
        w_block.fetch(space, constants.BCTX_STARTPC).value
    assert w_block.fetch(space, constants.CTX_STACKP).value == 0


def test_block_value_and_local_return(vm):
    # [3] value + 4
    bytes = block_6502([push_lit(0), BLOCK_RETURN]) + [SEND_VALUE, push_lit(1), SEND_PLUS,
                                                        RETURN_TOP]
    assert vm.value(vm.execute(bytes, ints(vm, [3, 4]))) == 7


def test_block_with_argument(vm):
    # | x | [:x | x + 1] value: 41  (Squeak 2.2: block args are method temps)
    body = [pop_temp(0), push_temp(0), PUSH_1, SEND_PLUS, BLOCK_RETURN]
    bytes = block_6502(body, nargs=1) + [push_lit(0), SEND_VALUE_1, RETURN_TOP]
    ctx = vm.start(vm.method(bytes, ints(vm, [41]), num_temps=1))
    home = ctx
    assert vm.value(vm.run(ctx)) == 42
    assert home.slots()[0].value == 41


def test_a_method_that_makes_block_contexts_keeps_its_slots_on_the_heap(vm):
    # Its blocks use its temporaries from their own activations (see W_Context).
    body = [pop_temp(0), push_temp(0), PUSH_1, SEND_PLUS, BLOCK_RETURN]
    bytes = block_6502(body, nargs=1) + [push_lit(0), SEND_VALUE_1, RETURN_TOP]
    ctx = vm.start(vm.method(bytes, ints(vm, [41]), num_temps=1))
    assert ctx.w_method.heap_frame
    assert ctx.stack == [] and ctx.slot_count() == ctx.w_method.stack_size()
    plain = vm.start(vm.method([PUSH_1, RETURN_TOP]))
    assert not plain.w_method.heap_frame
    assert len(plain.stack) == plain.slot_count() == plain.w_method.stack_size()
    # A context given the other kind of method is laid out again, keeping its slots.
    plain.push(vm.space.wrap_int(7))
    plain.set_method(vm.space, ctx.w_method)
    assert plain.stack == [] and plain.slots()[0].value == 7 and plain.fits_method()


def test_block_value_with_wrong_argument_count_fails_the_primitive(vm):
    # BlockContext>>value: on a 0-argument block: primitive 81 fails, the image's body runs.
    bytes = block_6502([PUSH_1, BLOCK_RETURN]) + [PUSH_2, SEND_VALUE_1, RETURN_TOP]
    ctx = vm.start(vm.method(bytes))
    for _ in range(5):
        ctx = vm.interp.step(ctx)
    called = vm.interp.step(ctx)
    assert called is not ctx and not called.is_block_context
    assert called.w_method is vm.lookup(vm.space.w_BlockContext, "value:")


def test_non_local_return_from_a_block_context(vm, probe):
    # m  [^42] value. ^7      n  ^self m + 1
    w_m = vm.define(probe, "m", block_6502([push_lit(0), RETURN_TOP]) +
                    [SEND_VALUE, POP, push_lit(1), RETURN_TOP], ints(vm, [42, 7]))
    vm.define(probe, "n", [PUSH_SELF, send0(0), PUSH_1, SEND_PLUS, RETURN_TOP],
              [vm.sym("m")])
    assert vm.value(vm.send(vm.new(probe), "n")) == 43


def test_non_local_return_goes_to_the_home_sender(vm, probe):
    w_m = vm.define(probe, "m", block_6502([push_lit(0), RETURN_TOP]) +
                    [SEND_VALUE, POP, push_lit(1), RETURN_TOP], ints(vm, [42, 7]))
    ctx = vm.start(w_m, vm.new(probe))
    home, base = ctx, ctx.w_sender
    vm.interp.top_context = None    # step into base like any sender
    ctx = vm.run_until(ctx, lambda c: c.is_block_context)
    block = ctx
    assert block.w_sender is home
    ctx = vm.interp.step(vm.interp.step(ctx))
    assert ctx is base and ctx.top().value == 42
    assert block.is_dead() and home.is_dead()
    assert home.w_sender is vm.space.w_nil


def test_non_local_return_unwinds_the_contexts_in_between(vm, probe):
    # call: aBlock  ^aBlock value + 1      m  ^(self call: [^42]) + 100
    w_call = vm.define(probe, "call:", [push_temp(0), SEND_VALUE, PUSH_1, SEND_PLUS,
                                        RETURN_TOP])
    w_m = vm.define(probe, "m", [PUSH_SELF] + block_6502([push_lit(1), RETURN_TOP]) +
                    [send1(0), push_lit(2), SEND_PLUS, RETURN_TOP],
                    [vm.sym("call:"), vm.int(42), vm.int(100)])
    assert vm.value(vm.send(vm.new(probe), "m")) == 42
    ctx = vm.start(w_m, vm.new(probe))
    home, base = ctx, ctx.w_sender
    vm.interp.top_context = None    # step into base like any sender
    ctx = vm.run_until(ctx, lambda c: c.is_block_context)
    middle = ctx.w_sender
    assert middle.w_method is w_call and middle.w_sender is home
    ctx = vm.interp.step(vm.interp.step(ctx))
    assert ctx is base and ctx.top().value == 42
    assert middle.is_dead() and home.is_dead()
    assert middle.w_sender is vm.space.w_nil


def test_block_local_return_after_its_home_returned(vm, probe):
    # makeBlock  ^[42]     n  ^self makeBlock value
    vm.define(probe, "makeBlock", block_6502([push_lit(0), BLOCK_RETURN]) + [RETURN_TOP],
              ints(vm, [42]))
    vm.define(probe, "n", [PUSH_SELF, send0(0), SEND_VALUE, RETURN_TOP],
              [vm.sym("makeBlock")])
    assert vm.value(vm.send(vm.new(probe), "n")) == 42


def message_of_dnu(vm, ctx):
    """ctx runs doesNotUnderstand:: its Message's selector name and argument values."""
    w_message = ctx.slots()[0]
    w_selector = w_message.fetch(vm.space, constants.MESSAGE_SELECTOR)
    w_args = w_message.fetch(vm.space, constants.MESSAGE_ARGUMENTS)
    return w_selector.as_string(), [vm.value(w) for w in w_args.slots]


def test_non_local_return_with_a_dead_home_sends_cannot_return(vm, probe):
    # makeBlock  ^[^42]     n  ^self makeBlock value
    vm.define(probe, "makeBlock", block_6502([push_lit(0), RETURN_TOP]) + [RETURN_TOP],
              ints(vm, [42]))
    vm.define(probe, "n", [PUSH_SELF, send0(0), SEND_VALUE, RETURN_TOP],
              [vm.sym("makeBlock")])
    base = vm.interp.base_context(vm.new(probe), [])
    vm.interp.top_context = base
    ctx = vm.interp.send(base, vm.sym("n"), 0)
    ctx = vm.run_until(ctx, lambda c: c.is_block_context)
    block = ctx
    ctx = vm.interp.step(vm.interp.step(ctx))
    # Squeak 2.2 has no cannotReturn: method: the send ends in doesNotUnderstand:.
    w_dnu = vm.lookup(vm.w_Object, "doesNotUnderstand:")
    assert ctx.w_method is w_dnu
    assert ctx.w_receiver is block
    assert message_of_dnu(vm, ctx) == ("cannotReturn:", [42])


# --- BlockClosures (bootstrapped.image) ---------------------------------------------------

def test_push_closure(cvm):
    # push 5 (copied), [:a | ...] with 1 copied value and 1 argument.
    body = [push_temp(0), push_temp(1), SEND_PLUS, BLOCK_RETURN]
    bytes = [push_lit(0)] + closure(body, nargs=1, ncopied=1) + [RETURN_TOP]
    ctx = cvm.start(cvm.method(bytes, [cvm.int(5)]))
    ctx = cvm.interp.step(cvm.interp.step(ctx))
    space = cvm.space
    w_closure = ctx.top()
    assert ctx.sp == 1
    assert w_closure.getclass(space) is space.w_BlockClosure
    assert w_closure.fetch(space, constants.CLOSURE_OUTER_CONTEXT) is ctx
    assert w_closure.fetch(space, constants.CLOSURE_NUMARGS).value == 1
    assert w_closure.fetch(space, constants.CLOSURE_STARTPC).value == \
        5 + ctx.w_method.literal_bytes() + 1
    assert w_closure.fetch(space, constants.CLOSURE_FIXED_SIZE).value == 5
    assert ctx.pc == 5 + len(body)    # the body was jumped over


def test_closure_value(cvm):
    # [1] value
    bytes = closure([PUSH_1, BLOCK_RETURN]) + [SEND_VALUE, RETURN_TOP]
    ctx = cvm.start(cvm.method(bytes))
    ctx = cvm.interp.step(ctx)
    top = ctx
    ctx = cvm.interp.step(ctx)
    # Primitive 201 activates the closure directly: a MethodContext with closureOrNil.
    assert ctx is not top and ctx.w_sender is top
    assert ctx.w_closure.getclass(cvm.space) is cvm.space.w_BlockClosure
    assert ctx.getclass(cvm.space) is cvm.space.w_MethodContext
    assert ctx.pc == 4
    assert cvm.value(cvm.run(ctx)) == 1


def test_closure_with_argument_and_copied_value(cvm):
    # | c | c := 5. [:a | a + c] value: 10
    body = [push_temp(0), push_temp(1), SEND_PLUS, BLOCK_RETURN]
    bytes = [push_lit(0)] + closure(body, nargs=1, ncopied=1) + \
        [push_lit(1), SEND_VALUE_1, RETURN_TOP]
    assert cvm.value(cvm.execute(bytes, ints(cvm, [5, 10]))) == 15


def test_closure_with_remote_temps(cvm):
    # | v | v := Array new: 1 (a temp vector). [v at: 1 put: 7] value. ^v at: 1
    body = [push_lit(0), POP_REMOTE, 0, 0, PUSH_NIL, BLOCK_RETURN]
    bytes = [PUSH_ARRAY, 1, pop_temp(0), push_temp(0)] + closure(body, ncopied=1) + \
        [SEND_VALUE, POP, PUSH_REMOTE, 0, 0, RETURN_TOP]
    assert cvm.value(cvm.execute(bytes, [cvm.int(7)], num_temps=1)) == 7


def test_non_local_return_from_a_closure(cvm):
    w_probe = cvm.make_class("Probe")
    # m  [^42] value. ^7      n  ^self m + 1
    cvm.define(w_probe, "m", closure([push_lit(0), RETURN_TOP]) +
               [SEND_VALUE, POP, push_lit(1), RETURN_TOP], ints(cvm, [42, 7]))
    cvm.define(w_probe, "n", [PUSH_SELF, send0(0), PUSH_1, SEND_PLUS, RETURN_TOP],
               [cvm.sym("m")])
    assert cvm.value(cvm.send(cvm.new(w_probe), "n")) == 43


def test_non_local_return_from_a_nested_closure(cvm):
    w_probe = cvm.make_class("Probe")
    # m  [[^42] value. ^1] value. ^7
    inner = closure([push_lit(0), RETURN_TOP]) + [SEND_VALUE, POP, PUSH_1, RETURN_TOP]
    w_m = cvm.define(w_probe, "m", closure(inner) + [SEND_VALUE, POP, push_lit(1),
                                                     RETURN_TOP], ints(cvm, [42, 7]))
    ctx = cvm.start(w_m, cvm.new(w_probe))
    home, base = ctx, ctx.w_sender
    cvm.interp.top_context = None   # step into base like any sender
    ctx = cvm.run_until(ctx, lambda c: c.w_closure is not cvm.space.w_nil)
    outer = ctx
    ctx = cvm.run_until(ctx, lambda c: c is not outer and c.w_closure is not cvm.space.w_nil)
    inner = ctx
    assert inner.w_sender is outer
    assert inner.w_closure.fetch(cvm.space, constants.CLOSURE_OUTER_CONTEXT) is outer
    ctx = cvm.interp.step(cvm.interp.step(ctx))
    assert ctx is base and ctx.top().value == 42
    assert home.is_dead() and outer.is_dead() and inner.is_dead()


def test_closure_local_return_goes_to_the_caller(cvm):
    # [^42] is not used: [3] value + 4 from a closure activation's blockReturn.
    bytes = closure([push_lit(0), BLOCK_RETURN]) + [SEND_VALUE, push_lit(1), SEND_PLUS,
                                                     RETURN_TOP]
    assert cvm.value(cvm.execute(bytes, ints(cvm, [3, 4]))) == 7


def test_closure_non_local_return_with_a_dead_home_sends_cannot_return(cvm):
    w_probe = cvm.make_class("Probe")
    # makeBlock  ^[^42]     n  ^self makeBlock value
    cvm.define(w_probe, "makeBlock", closure([push_lit(0), RETURN_TOP]) + [RETURN_TOP],
               ints(cvm, [42]))
    cvm.define(w_probe, "n", [PUSH_SELF, send0(0), SEND_VALUE, RETURN_TOP],
               [cvm.sym("makeBlock")])
    base = cvm.interp.base_context(cvm.new(w_probe), [])
    cvm.interp.top_context = base
    ctx = cvm.interp.send(base, cvm.sym("n"), 0)
    ctx = cvm.run_until(ctx, lambda c: c.w_closure is not cvm.space.w_nil)
    block = ctx
    ctx = cvm.interp.step(cvm.interp.step(ctx))
    # The image has no cannotReturn: method: the send ends in doesNotUnderstand:.
    assert ctx.w_method is cvm.lookup(cvm.w_Object, "doesNotUnderstand:")
    assert ctx.w_receiver is block
    assert message_of_dnu(cvm, ctx) == ("cannotReturn:", [42])


def test_non_local_return_through_an_unwind_context_sends_about_to_return(cvm):
    w_probe = cvm.make_class("Probe")
    # ensure: aBlock  <primitive: 198>  ^aBlock value      m  self ensure: [^42]. ^7
    w_ensure = cvm.define(w_probe, "ensure:", [push_temp(0), SEND_VALUE, RETURN_TOP],
                          primitive=198)
    cvm.define(w_probe, "m", [PUSH_SELF] + closure([push_lit(1), RETURN_TOP]) +
               [send1(0), POP, push_lit(2), RETURN_TOP],
               [cvm.sym("ensure:"), cvm.int(42), cvm.int(7)])
    base = cvm.interp.base_context(cvm.new(w_probe), [])
    cvm.interp.top_context = base
    ctx = cvm.interp.send(base, cvm.sym("m"), 0)
    ctx = cvm.run_until(ctx, lambda c: c.w_closure is not cvm.space.w_nil)
    block = ctx
    unwind = block.w_sender
    assert unwind.w_method is w_ensure
    ctx = cvm.interp.step(cvm.interp.step(ctx))
    assert ctx.w_receiver is block
    assert ctx.w_method is cvm.lookup(cvm.w_Object, "doesNotUnderstand:")
    selector, args = message_of_dnu(cvm, ctx)
    assert selector == "aboutToReturn:through:"
    assert args == [42, unwind]
    assert not unwind.is_dead()


def test_closure_value_with_wrong_argument_count_runs_the_fallback(cvm):
    bytes = closure([PUSH_1, BLOCK_RETURN], nargs=1) + [SEND_VALUE, RETURN_TOP]
    ctx = cvm.start(cvm.method(bytes))
    ctx = cvm.interp.step(ctx)
    called = cvm.interp.step(ctx)
    assert called.w_closure is cvm.space.w_nil
    assert called.w_method is cvm.lookup(cvm.space.w_BlockClosure, "value")


# --- objects as methods ---------------------------------------------------------------

def test_object_as_method_sends_run_with_in(cvm):
    w_probe = cvm.make_class("Probe")
    cvm.define(w_probe, "run:with:in:", [push_temp(0), push_temp(1), push_temp(2),
                                         PUSH_ARRAY, 0x80 | 3, RETURN_TOP])
    w_runner = cvm.new(w_probe)
    cvm.install(w_probe, "frob:", w_runner)
    w_rcvr = cvm.new(w_probe)
    w_result = cvm.send(w_rcvr, "frob:", cvm.int(9))
    w_selector, w_args, w_in = w_result.slots
    assert w_selector is cvm.sym("frob:")
    assert [w.value for w in w_args.slots] == [9]
    assert w_in is w_rcvr


# --- whole programs through the image's compiler -----------------------------------------

def test_brace_array_in_squeak_2_2(mini_image):
    # Squeak 2.2 compiles {1. 2. 3} into `Array fromBraceStack: 3`, whose
    # ContextPart>>pop:toIndexable: lowers the sender's stackp first and then reads the
    # popped slots with `self at: i` (Object>>at:, primitive 60): the VM of that time
    # indexes a context's whole frame, not just up to stackp.
    from spyvm.headless import HeadlessVM
    vm = HeadlessVM(mini_image, "mini.image", "cogxen", [])
    assert vm.evaluate_and_print("3 + 4") == "7"
    assert vm.evaluate_and_print("{1. 2. 3}") == "(1 2 3 )"


@pytest.mark.parametrize("nesting", [1, 3, interpreter.MAX_NESTING])
def test_recursion_deeper_than_the_nested_loops(vm, monkeypatch, nesting):
    # Activations past MAX_NESTING are handed to the outermost loop; answers and
    # returns are the same at any bound.
    monkeypatch.setattr(interpreter, "MAX_NESTING", nesting)
    assert vm.value(vm.send(vm.int(12), "factorial")) == 479001600
    assert vm.value(vm.send(vm.int(5), "factorial")) == 120


def test_an_answer_with_no_room_on_a_full_frame_is_a_fatal_error(vm):
    # Contexts never grow (the JIT's frames have fixed sizes): a malformed method
    # whose frame is full when an answer comes back stops the VM with a message.
    ctx = vm.start(vm.method([PUSH_1, RETURN_TOP]))
    while ctx.sp < ctx.slot_count():
        ctx.push(vm.int(0))
    with pytest.raises(VMFatal) as info:
        interpreter.push_answer(ctx, vm.int(1))
    assert "no room on the stack" in info.value.message


def test_activation_leaves_operand_slots_empty_and_reflection_reads_nil(vm):
    # Compiled code that allocates a context stores nothing above its temporaries:
    # those slots start empty (None) and are pushed before they are read.
    w_method = vm.method([PUSH_1, PUSH_2, RETURN_TOP], num_args=1, num_temps=3)
    ctx = vm.start(w_method, args_w=[vm.int(7)])
    assert ctx.slot_count() == 3 + 2 + constants.FRAME_SLACK
    assert ctx.sp == 3
    assert ctx.get_slot(0).value == 7
    assert ctx.get_slot(1) is vm.space.w_nil and ctx.get_slot(2) is vm.space.w_nil
    assert [ctx.get_slot(i) for i in range(3, ctx.slot_count())] == \
        [None] * (ctx.slot_count() - 3)
    # The image sees nil there, through instVarAt: and at:.
    assert ctx.fetch(vm.space, constants.CTX_FIXED_SIZE + 4) is vm.space.w_nil
    from spyvm.primitives.objects import basic_at
    assert basic_at(vm.space, ctx, 5) is vm.space.w_nil
    # A temporary index past the temporaries (a malformed method) is a clean error.
    with pytest.raises(model.StackUnderflow):
        ctx.stack_at(4)
    assert vm.run(ctx).value == 2


def test_a_malformed_temp_read_of_an_empty_slot_is_a_fatal_error(vm):
    ctx = vm.start(vm.method([PUSH_SELF, PUSH_SELF, POP, push_temp(3), RETURN_TOP],
                             num_temps=1))
    with pytest.raises(VMFatal) as info:
        vm.run(ctx)
    assert "malformed method" in info.value.message


def test_a_context_deeper_than_its_method_allows_is_a_fatal_error(vm):
    # Frames are sized from the bytecodes; a context built by hand with more live
    # slots than its method can make is refused instead of losing slots.
    w_method = vm.method([PUSH_1, RETURN_TOP])
    ctx = W_Context(vm.space, vm.space.w_MethodContext, False, 16)
    ctx.w_method = w_method
    ctx.w_slot_method = w_method
    ctx.start_at(0)
    ctx.sp = w_method.stack_size() + 1
    with pytest.raises(VMFatal) as info:
        vm.interp.loop(ctx, None, 0)
    assert "malformed context: stack pointer" in info.value.message
    # Within its method's slots it is laid out and runs.
    ctx.sp = 0
    ctx.w_sender = vm.interp.base_context(vm.space.w_nil, [])
    vm.interp.top_context = ctx.w_sender
    assert vm.run(ctx).value == 1



@pytest.mark.parametrize("pc, has_method", [(2, True), (-1, True), (0, False)],
                         ids=["past-the-end", "nil-pc", "no-method"])
def test_a_context_with_no_bytecode_at_its_pc_is_a_fatal_error(vm, pc, has_method):
    # A context the image edited by hand: a VM error, not a crash.
    ctx = vm.start(vm.method([PUSH_1, RETURN_TOP]))
    ctx.pc = pc
    if not has_method:
        ctx.w_method = None
    with pytest.raises(VMFatal) as info:
        vm.interp.step(ctx)
    assert "no bytecode to run (pc %d)" % pc in info.value.message


def test_the_loop_runs_the_bytecodes_a_method_has_now(vm):
    # The loop reads bytes and bytecode set through one field (MethodCode): new
    # bytes, a new header and become: must all reach it.
    w_method = vm.method([PUSH_1, RETURN_TOP])
    assert vm.run(vm.start(w_method)).value == 1
    w_method.set_bytes(chr(PUSH_2) + chr(RETURN_TOP))
    assert w_method.code.bytes == w_method.bytes
    assert vm.run(vm.start(w_method)).value == 2
    w_method.set_header(w_method.header)
    assert w_method.code.bytes == w_method.bytes and not w_method.code.sista
    w_other = vm.method([PUSH_1, RETURN_TOP])
    from spyvm import heap
    heap.become(vm.interp, [w_method], [w_other], True)
    assert vm.run(vm.start(w_method)).value == 1
    assert vm.run(vm.start(w_other)).value == 2

# --- linked senders (the JIT's virtual references) ---------------------------------------

@pytest.fixture
def loop_vm(mini_image):
    """Linked senders exist only in the nested loops."""
    return Machine(mini_image, "loop")


def spy_on(vm, w_method, seen, action=None):
    """Record (context, linked?) at each bytecode of w_method the loops run."""
    step_at = vm.interp.step_at

    def spying_step_at(c, pc, w_running):
        if w_running is w_method:
            if action is not None:
                action(c)
            seen.append((c, c.is_linked()))
        return step_at(c, pc, w_running)
    vm.interp.step_at = spying_step_at


def caller_and_callee(vm, callee_bytes, caller_prefix=(), callee_literals=()):
    """A class with #callee; a caller method that sends it to a fresh instance."""
    w_class = vm.make_class("Linked")
    w_callee = vm.define(w_class, "callee", callee_bytes, literals=callee_literals)
    w_caller = vm.method(list(caller_prefix) + [PUSH_SELF, send0(0), RETURN_TOP],
                         literals=[vm.sym("callee")])
    return vm.start(w_caller, vm.new(w_class)), w_callee


def test_a_callee_holds_its_sender_by_a_link_while_its_loop_runs(loop_vm):
    vm = loop_vm
    ctx, w_callee = caller_and_callee(vm, [PUSH_1, PUSH_2, SEND_PLUS, RETURN_TOP])
    seen = []
    spy_on(vm, w_callee, seen)
    assert vm.value(vm.run(ctx)) == 3
    assert len(seen) == 4 and all(linked for _, linked in seen)
    w_callee_ctx = seen[0][0]
    # It returned without reading its sender: dead, nil sender, no link left.
    assert w_callee_ctx.is_dead() and not w_callee_ctx.is_linked()
    assert w_callee_ctx.w_sender is vm.space.w_nil
    assert not ctx.escaped


def test_reading_a_linked_sender_answers_the_calling_context(vm):
    # `thisContext sender` in the callee (ContextPart>>sender, a quick primitive).
    ctx, _ = caller_and_callee(vm, [PUSH_CONTEXT, send0(0), RETURN_TOP],
                               callee_literals=[vm.sym("sender")])
    assert vm.run(ctx) is ctx
    # The image holds the caller now: its later callees are not linked.
    assert ctx.escaped


def test_callees_of_a_context_the_image_holds_are_not_linked(loop_vm):
    vm = loop_vm
    ctx, w_callee = caller_and_callee(vm, [PUSH_1, RETURN_TOP],
                                      caller_prefix=[PUSH_CONTEXT, POP])
    seen = []
    spy_on(vm, w_callee, seen)
    assert vm.value(vm.run(ctx)) == 1
    assert seen and not any(linked for _, linked in seen)


def test_block_copy_marks_the_home_escaped(vm):
    ctx = vm.start(vm.method(block_6502([PUSH_1, BLOCK_RETURN]) + [RETURN_TOP]))
    w_block = vm.run(ctx)
    assert w_block.w_home is ctx and ctx.escaped


def test_a_closure_marks_its_outer_context_escaped(cvm):
    # [1] as a BlockClosure: pushClosure (no copied values, no arguments, 2 bytes).
    ctx = cvm.start(cvm.method([PUSH_CLOSURE, 0x00, 0, 2, PUSH_1, BLOCK_RETURN,
                                RETURN_TOP]))
    w_closure = cvm.run(ctx)
    assert w_closure.fetch(cvm.space, constants.CLOSURE_OUTER_CONTEXT) is ctx
    assert ctx.escaped


def test_a_loop_left_without_a_return_leaves_an_ordinary_sender(loop_vm, monkeypatch):
    # With one level of nesting the callee's own send is handed to the outermost
    # loop: the callee's loop ends by an Unwind while it is still alive, and from
    # then on holds its sender (the caller) directly.
    vm = loop_vm
    monkeypatch.setattr(interpreter, "MAX_NESTING", 1)
    w_class = vm.make_class("Linked")
    w_inner = vm.define(w_class, "inner", [PUSH_2, RETURN_TOP])
    w_callee = vm.define(w_class, "callee", [PUSH_SELF, send0(0), RETURN_TOP],
                         literals=[vm.sym("inner")])
    w_caller = vm.method([PUSH_SELF, send0(0), RETURN_TOP], literals=[vm.sym("callee")])
    ctx = vm.start(w_caller, vm.new(w_class))
    callee_seen, inner_seen = [], []
    spy_on(vm, w_callee, callee_seen)
    step_at = vm.interp.step_at

    def at_inner(c, pc, w_running):
        if w_running is w_inner:
            w_callee_ctx = c.w_sender
            inner_seen.append((w_callee_ctx.is_linked(), w_callee_ctx.w_sender))
        return step_at(c, pc, w_running)
    vm.interp.step_at = at_inner
    assert vm.value(vm.run(ctx)) == 2
    assert callee_seen[0][1]                      # linked while nested
    assert inner_seen and all(not linked and w_sender is ctx
                              for linked, w_sender in inner_seen)


def test_walking_the_heap_turns_links_into_ordinary_senders(loop_vm):
    from spyvm import heap
    vm = loop_vm
    ctx, w_callee = caller_and_callee(vm, [PUSH_1, RETURN_TOP])
    seen = []
    spy_on(vm, w_callee, seen,
           action=lambda c: c.is_linked() and heap.all_objects(vm.interp))
    assert vm.value(vm.run(ctx)) == 1
    assert [linked for _, linked in seen] == [False, False]
    assert ctx.escaped


def test_only_activations_start_unescaped(vm, mini_image):
    # Contexts made any other way are the image's from the start: loaded ones,
    # `MethodContext new:`, clones, the VM's base context, a BlockContext from
    # blockCopy:. Their callees hold them directly.
    ctx = vm.start(vm.method([PUSH_1, RETURN_TOP]))
    assert not ctx.escaped
    assert vm.interp.top_context.escaped
    loaded = [w for w in mini_image.objects_w if isinstance(w, W_Context)]
    assert loaded and all(w.escaped for w in loaded)
    w_new = vm.send(vm.space.w_MethodContext, "new:", vm.int(4))
    assert isinstance(w_new, W_Context) and w_new.escaped
    assert vm.send(ctx, "shallowCopy").escaped
    w_block = vm.run(vm.start(vm.method(block_6502([PUSH_1, BLOCK_RETURN]) +
                                        [RETURN_TOP])))
    assert w_block.escaped


# --- interrupt checks: at sends, block activations and backward jumps ---------------------

@pytest.fixture
def checks(vm, monkeypatch):
    """Record where interrupts are looked at, (context, its pc then); the check itself
    still runs."""
    from spyvm.platform import alarm
    alarm.clear()
    seen = []
    real = vm.interp.check_interrupts

    def recording(ctx):
        seen.append((ctx, ctx.pc))
        return real(ctx)
    monkeypatch.setattr(vm.interp, "check_interrupts", recording)
    yield seen
    alarm.clear()


def counting_loop(vm, n):
    # t0 := 0. [t0 := t0 + 1. t0 < n] whileTrue. ^t0
    bytes = [push_temp(0), PUSH_1, SEND_PLUS, pop_temp(0), push_temp(0), push_lit(0),
             SEND_LESS, 153]
    bytes += long_jump(-(len(bytes) + 2))
    bytes += [push_temp(0), RETURN_TOP]
    return vm.start(vm.method(bytes, [vm.int(n)], num_temps=1), temps_w=[vm.int(0)])


def test_without_the_alarm_backward_jumps_count_down(vm, checks):
    assert not vm.interp.alarm_works       # untranslated: no SIGALRM
    n = 3 * interpreter.INTERRUPT_CHECK_COUNT + 10
    assert vm.value(vm.run(counting_loop(vm, n), limit=20 * n)) == n
    assert len(checks) == 3


def test_without_the_alarm_sends_count_down(vm, probe, checks):
    w_leaf = vm.define(probe, "leaf", [RETURN_SELF])
    w_rcvr = vm.new(probe)
    for _ in range(interpreter.INTERRUPT_CHECK_COUNT):
        vm.send(w_rcvr, "leaf")
    assert len(checks) == 1
    # Looked at on entry: the new context, before its first bytecode.
    assert checks[0][0].w_method is w_leaf and checks[0][1] == 0


def test_with_the_alarm_only_its_flag_makes_a_check(vm, probe, checks):
    from spyvm.platform import alarm
    vm.interp.alarm_works = True
    n = 3 * interpreter.INTERRUPT_CHECK_COUNT
    assert vm.value(vm.run(counting_loop(vm, n), limit=20 * n)) == n
    w_leaf = vm.define(probe, "leaf", [RETURN_SELF])
    w_rcvr = vm.new(probe)
    for _ in range(n):
        vm.send(w_rcvr, "leaf")
    assert checks == []
    # Raised (by SIGALRM, or the VM itself): the next send looks, and lowers it.
    alarm.raise_flag()
    vm.send(w_rcvr, "leaf")
    assert [(c.w_method, pc) for c, pc in checks] == [(w_leaf, 0)]
    assert not alarm.raised()
    # The next backward jump looks too.
    alarm.raise_flag()
    assert vm.value(vm.run(counting_loop(vm, 3), limit=100)) == 3
    assert len(checks) == 2 and checks[1][1] == 0


def test_with_the_alarm_a_block_activation_looks_at_the_flag(vm, checks):
    from spyvm.platform import alarm
    vm.interp.alarm_works = True
    # [7] value: the block context is looked at as it starts.
    bytes = [PUSH_CONTEXT, PUSH_0, SEND_BLOCK_COPY] + [164, 2] + [push_lit(0), BLOCK_RETURN] \
        + [SEND_VALUE, RETURN_TOP]
    ctx = vm.start(vm.method(bytes, [vm.int(7)]))
    alarm.raise_flag()
    assert vm.value(vm.run(ctx)) == 7
    assert len(checks) == 1 and checks[0][0].is_block_context


def test_the_alarm_signals_the_timer_semaphore_when_due(vm, probe, checks):
    from spyvm.platform import alarm
    interp = vm.interp
    interp.alarm_works = True
    space = vm.space
    w_sema = W_PointersObject(space.w_Semaphore, 3, space.w_nil)
    w_sema.store(space, constants.SEMAPHORE_EXCESS_SIGNALS, vm.int(0))
    space.w_special_objects.store(space, constants.SO_TIMER_SEMAPHORE, w_sema)
    interp.set_wakeup(interp.now_usecs() - 1)
    alarm.raise_flag()
    vm.define(probe, "leaf", [RETURN_SELF])
    vm.send(vm.new(probe), "leaf")
    assert vm.value(w_sema.fetch(space, constants.SEMAPHORE_EXCESS_SIGNALS)) == 1
    assert interp.next_wakeup_usecs == 0


def test_an_early_alarm_is_armed_again_for_the_rest(vm, monkeypatch):
    from spyvm.platform import alarm
    armed = []
    monkeypatch.setattr(alarm, "arm", armed.append)
    interp = vm.interp
    deadline = interp.now_usecs() + 10 * 1000000
    interp.set_wakeup(deadline)
    assert 9 * 1000000 < armed[-1] <= 10 * 1000000
    ctx = vm.start(vm.method([PUSH_1, RETURN_TOP]))
    assert interp.check_interrupts(ctx) is ctx
    assert interp.next_wakeup_usecs == deadline
    assert 9 * 1000000 < armed[-1] <= 10 * 1000000
    interp.set_wakeup(0)
    assert armed[-1] == 0


# --- the host asks the VM to stop (SIGTERM; xl shutdown in the guest) ----------------

@pytest.fixture
def hook(vm, checks):
    """The image's shutdown semaphore, registered; unregistered afterwards."""
    space = vm.space
    w_sema = W_PointersObject(space.w_Semaphore, 3, space.w_nil)
    w_sema.store(space, constants.SEMAPHORE_EXCESS_SIGNALS, vm.int(0))
    vm.interp.set_shutdown_semaphore(w_sema)
    yield w_sema
    vm.interp.set_shutdown_semaphore(None)


def excess_signals(vm, w_sema):
    return vm.value(w_sema.fetch(vm.space, constants.SEMAPHORE_EXCESS_SIGNALS))


def test_a_stop_request_signals_the_images_hook_once(vm, probe, hook, checks):
    from rpython.rlib import rsignal
    from spyvm.platform import alarm
    interp = vm.interp
    interp.alarm_works = True
    vm.define(probe, "leaf", [RETURN_SELF])
    w_rcvr = vm.new(probe)
    alarm.deliver(rsignal.SIGTERM)
    before = interp.now_usecs()
    vm.send(w_rcvr, "leaf")
    after = interp.now_usecs()
    assert excess_signals(vm, hook) == 1
    # The hook has its grace period; the VM looks at the clock again.
    grace = interpreter.SHUTDOWN_GRACE_USECS
    assert before + grace <= interp.shutdown_deadline_usecs <= after + grace
    assert interp.next_deadline_usecs() == interp.shutdown_deadline_usecs
    vm.send(w_rcvr, "leaf")
    assert excess_signals(vm, hook) == 1


def test_a_second_stop_request_stops_the_vm(vm, probe, hook, capfd):
    from rpython.rlib import rsignal
    from spyvm.errors import Exit
    from spyvm.platform import alarm
    vm.define(probe, "leaf", [RETURN_SELF])
    w_rcvr = vm.new(probe)
    ctx = vm.start(vm.method([PUSH_1, RETURN_TOP]))
    alarm.deliver(rsignal.SIGTERM)
    vm.interp.check_interrupts(ctx)
    alarm.deliver(rsignal.SIGTERM)
    with pytest.raises(Exit) as e:
        vm.interp.check_interrupts(ctx)
    assert e.value.status == 0
    assert "asked to stop (SIGTERM): asked again" in capfd.readouterr().err


def test_a_hook_out_of_time_stops_the_vm(vm, hook, capfd):
    from rpython.rlib import rsignal
    from spyvm.errors import Exit
    from spyvm.platform import alarm
    interp = vm.interp
    ctx = vm.start(vm.method([PUSH_1, RETURN_TOP]))
    alarm.deliver(rsignal.SIGTERM)
    interp.check_interrupts(ctx)
    assert interp.check_interrupts(ctx) is not None      # within its time: runs on
    interp.shutdown_deadline_usecs = interp.now_usecs() - 1
    with pytest.raises(Exit) as e:
        interp.check_interrupts(ctx)
    assert e.value.status == 0
    assert "did not finish in time" in capfd.readouterr().err


def test_without_a_hook_a_stop_request_is_the_hosts_business(vm, checks):
    # No hook: SIGTERM keeps the host's default (the process ends); the flag
    # machinery never answers a request the VM did not ask for.
    from rpython.rlib import rsignal
    from spyvm.platform import alarm
    ctx = vm.start(vm.method([PUSH_1, RETURN_TOP]))
    assert not alarm.state.catching
    alarm.deliver(rsignal.SIGTERM)
    assert vm.interp.check_interrupts(ctx) is ctx
    assert vm.interp.shutdown_deadline_usecs == 0


def test_jit_logs_name_a_method_by_its_lookup(vm, probe):
    # Squeak 2.2's methods carry neither selector nor class among their literals:
    # the class and selector a lookup found the method under name it, then.
    w_method = vm.method([push_lit(0), RETURN_TOP], [vm.int(3)])
    vm.install(probe, "answer", w_method)
    assert w_method.printable_name() == "?>>?"
    assert vm.lookup(vm.make_class("SubProbe", probe), "answer") is w_method
    assert interpreter.get_printable_location(1, w_method) == \
        "Probe>>answer @ 1: returnSpecial"
