"""Control primitives: blocks, closures, perform, processes and semaphores, caches,
context access."""

import pytest
from rpython.rlib import jit

from spyvm import constants, model
from spyvm.model import W_Context, W_PointersObject, W_SmallInteger
from spyvm.primitives import control, _TABLE   # noqa: control registers the primitives

FIXED = constants.FMT_FIXED


def i(n):
    return W_SmallInteger(n)


# --- registration and argument counts -----------------------------------------------

CONTROL_NUMBERS = [76, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 100, 116, 118, 119, 167, 188,
                   201, 202, 203, 204, 205, 206, 210, 211, 212, 221, 222]


def test_all_control_primitives_registered():
    for number in CONTROL_NUMBERS:
        assert _TABLE[number] is not None, number
    assert _TABLE[89] is _TABLE[116]


@pytest.mark.parametrize("number, bad_counts", [
    (80, [0, 2]), (82, [0, 2]), (84, [0, 1, 3]), (100, [2, 4]), (188, [1, 3]),
    (85, [1]), (86, [1]), (87, [1]), (88, [1]), (167, [1]), (206, [0, 2]),
    (89, [1]), (116, [1]), (119, [1]), (210, [0, 2]), (211, [1, 3]), (212, [1]),
    (76, [0, 2]), (118, [1, 3]),
])
def test_wrong_argument_count_fails(env, number, bad_counts):
    w_rcvr = env.context(i(1), i(2), method=env.method("\x00" * 8), pc=2)
    for count in bad_counts:
        env.run_fails(number, w_rcvr, [env.array()] * count)


def test_perform_without_selector_fails(env):
    env.run_fails(83, env.array(), [])


# --- BlockContext: blockCopy: (80), value (81), valueWithArguments: (82) -------------

BLOCK_BYTES = "\x00" * 24
LIT_BYTES = 2 * 4       # header + one literal


@pytest.fixture
def home(env):
    w_method = env.method(BLOCK_BYTES, [env.nil])
    return env.context(method=w_method, pc=5, receiver=env.string("me"), size=16)


def test_block_copy(env, home):
    ctx, new_ctx = env.run(80, home, [i(2)], ctx=home)
    assert new_ctx is home
    w_block = home.top()
    assert home.sp == 2            # marker, then the block in place of rcvr and arg
    assert isinstance(w_block, W_Context) and w_block.is_block_context
    assert w_block.getclass(env.space) is env.space.w_BlockContext
    assert w_block.w_home is home
    assert w_block.w_method is home.w_method
    assert w_block.w_receiver is home.w_receiver
    assert w_block.block_nargs == 2
    # The block's code starts after the 2-byte jump that follows the send.
    assert w_block.block_startpc == 5 + 2 + LIT_BYTES + 1
    # ready to run from its start (as Squeak's blockCopy sets pc = initialIP), empty stack
    assert w_block.pc == 5 + 2 and w_block.sp == 0
    assert env.call(73, w_block, i(2)).value == 5 + 2 + LIT_BYTES + 1
    assert w_block.slot_count() == home.slot_count()
    # what the image sees through instVarAt:
    assert env.call(73, w_block, i(4)).value == 2
    assert env.call(73, w_block, i(5)).value == 5 + 2 + LIT_BYTES + 1
    assert env.call(73, w_block, i(6)) is home


def test_block_copy_inside_a_block_uses_the_home(env, home):
    ctx, _ = env.run(80, home, [i(0)], ctx=home)
    w_outer = ctx.top()
    w_running = model.W_Context(env.space, env.space.w_BlockContext, True, 16)
    w_running.w_home = home
    w_running.w_method = home.w_method
    w_running.start_at(9)
    ctx2, _ = env.run(80, w_outer, [i(1)], ctx=w_running)
    w_inner = ctx2.top()
    assert w_inner.w_home is home
    assert w_inner.block_startpc == 9 + 2 + LIT_BYTES + 1


def test_block_copy_failures(env, home):
    def fails(w_rcvr, w_arg):
        home.sp = 0              # each call leaves its operands on home's stack
        env.run_fails(80, w_rcvr, [w_arg], ctx=home)
    fails(home, env.nil)
    fails(home, env.space.wrap_float(1.0))
    fails(env.array(), i(1))
    fails(i(3), i(1))
    fails(env.context(), i(1))                                # no method
    w_orphan = model.W_Context(env.space, env.space.w_BlockContext, True, 4)
    w_orphan.w_method = home.w_method                         # a block without home
    fails(w_orphan, i(1))


def _block(env, home, nargs, start=7):
    w_block = model.W_Context(env.space, env.space.w_BlockContext, True, 8)
    w_block.w_home = home
    w_block.w_method = home.w_method
    w_block.w_receiver = home.w_receiver
    w_block.block_nargs = nargs
    w_block.block_startpc = start + LIT_BYTES + 1
    return w_block


@pytest.mark.parametrize("nargs", [0, 1, 3])
def test_block_value(env, home, nargs):
    w_block = _block(env, home, nargs)
    args = [env.string("arg%d" % n) for n in range(nargs)]
    ctx, new_ctx = env.run(81, w_block, args)
    assert new_ctx is w_block
    assert w_block.w_sender is ctx
    assert w_block.pc == 7
    assert w_block.sp == nargs
    assert all(w_block.slots()[n] is args[n] for n in range(nargs))
    assert ctx.sp == 1             # receiver and arguments are gone; marker remains


def test_block_copy_then_value(env, home):
    ctx, _ = env.run(80, home, [i(1)], ctx=home)
    w_block = ctx.top()
    w_arg = env.string("x")
    _, new_ctx = env.run(81, w_block, [w_arg])
    assert new_ctx is w_block and w_block.pc == 5 + 2
    assert w_block.slots()[0] is w_arg


def test_block_value_failures(env, home):
    w_block = _block(env, home, 1)
    env.run_fails(81, w_block, [])
    env.run_fails(81, w_block, [i(1), i(2)])
    env.run_fails(81, home, [i(1)])                              # a MethodContext
    env.run_fails(81, env.array(), [i(1)])
    env.run_fails(81, i(3), [])
    env.run_fails(81, _block(env, home, 0, start=len(BLOCK_BYTES)), [])   # pc past end
    env.run_fails(81, _block(env, home, 0, start=-3), [])
    w_no_method = _block(env, home, 0)
    w_no_method.w_method = None
    env.run_fails(81, w_no_method, [])
    assert w_block.is_dead()


def test_block_value_with_arguments(env, home):
    w_block = _block(env, home, 2)
    w_a, w_b = env.string("a"), env.string("b")
    ctx, new_ctx = env.run(82, w_block, [env.array(w_a, w_b)])
    assert new_ctx is w_block
    assert w_block.slots()[0] is w_a and w_block.slots()[1] is w_b and w_block.sp == 2
    assert w_block.w_sender is ctx and ctx.sp == 1


def test_block_value_with_arguments_failures(env, home):
    w_block = _block(env, home, 2)
    env.run_fails(82, w_block, [env.array(i(1))])
    env.run_fails(82, w_block, [env.array(i(1), i(2), i(3))])
    env.run_fails(82, w_block, [env.string("ab")])
    env.run_fails(82, w_block, [env.obj(env.space.w_Point, i(1), i(2))])  # not an Array
    env.run_fails(82, w_block, [env.nil])
    env.run_fails(82, home, [env.array(i(1), i(2))])
    env.run_fails(82, i(1), [env.array(i(1), i(2))])
    assert w_block.is_dead()


def test_block_value_fails_while_the_block_runs(env, home):
    # A BlockContext is its own activation: entering it again (recursion) fails,
    # as in the OpenSmalltalk VM, whether 81 or 82 entered it first.
    for first, args in [(81, [i(1)]), (82, [env.array(i(1))])]:
        w_block = _block(env, home, 1)
        ctx, _ = env.run(first, w_block, args)
        assert w_block.w_sender is ctx
        env.run_fails(81, w_block, [i(2)])
        env.run_fails(82, w_block, [env.array(i(2))])
        assert w_block.w_sender is ctx and w_block.slots()[0].value == 1


def test_block_value_fails_on_a_linked_block(env, home):
    w_block = _block(env, home, 0)
    w_block.link_sender(jit.virtual_ref(home))
    env.run_fails(81, w_block, [])
    env.run_fails(82, w_block, [env.array()])


def test_block_value_again_after_it_returned(env, home):
    w_block = _block(env, home, 1)
    env.run(81, w_block, [i(1)])
    w_block.mark_dead(env.space)                 # what a return from the block does
    ctx, new_ctx = env.run(81, w_block, [i(2)])
    assert new_ctx is w_block and w_block.w_sender is ctx
    assert w_block.slots()[0].value == 2


# --- BlockClosure value (201-206, 221, 222) -----------------------------------------

CLOSURE_BYTES = "\x00" * 12


@pytest.fixture
def outer(env):
    w_method = env.method(CLOSURE_BYTES, [env.nil, env.nil])
    return env.context(method=w_method, pc=0, receiver=env.string("self"))


def _closure(env, outer, nargs, copied=(), start=4):
    space = env.space
    w_closure = W_PointersObject(space.w_BlockClosure,
                                 constants.CLOSURE_FIXED_SIZE + len(copied), env.nil)
    w_closure.slots[constants.CLOSURE_OUTER_CONTEXT] = outer
    w_closure.slots[constants.CLOSURE_STARTPC] = i(start + 3 * 4 + 1)
    w_closure.slots[constants.CLOSURE_NUMARGS] = i(nargs)
    for n, w_value in enumerate(copied):
        w_closure.slots[constants.CLOSURE_FIXED_SIZE + n] = w_value
    return w_closure


@pytest.mark.parametrize("number, nargs", [(201, 0), (202, 1), (203, 2), (204, 3),
                                           (205, 4), (221, 0), (222, 1)])
def test_closure_value(env, outer, number, nargs):
    space = env.space
    copied = [env.string("c1"), env.string("c2")]
    w_closure = _closure(env, outer, nargs, copied)
    args = [env.string("a%d" % n) for n in range(nargs)]
    ctx, new_ctx = env.run(number, w_closure, args)
    assert new_ctx is not ctx
    assert isinstance(new_ctx, W_Context) and not new_ctx.is_block_context
    assert new_ctx.getclass(space) is space.w_MethodContext
    assert new_ctx.w_method is outer.w_method
    assert new_ctx.w_receiver is outer.w_receiver
    assert new_ctx.w_closure is w_closure
    assert new_ctx.w_sender is ctx
    assert new_ctx.pc == 4
    # arguments first, then the copied values
    assert new_ctx.sp == nargs + 2
    assert new_ctx.slots()[:nargs] == args
    assert new_ctx.slots()[nargs] is copied[0] and new_ctx.slots()[nargs + 1] is copied[1]
    assert ctx.sp == 1
    # the image's view of the activation
    assert env.call(73, new_ctx, i(4)) is outer.w_method
    assert env.call(73, new_ctx, i(5)) is w_closure
    assert env.call(73, new_ctx, i(2)).value == 4 + 3 * 4 + 1


def test_closure_with_more_copied_values_than_its_frame_fails(env, outer):
    # Every context of a method has the method's frame size (the JIT relies on it).
    copied = [i(n) for n in range(constants.FRAME_SMALL)]
    env.run_fails(202, _closure(env, outer, 1, copied), [i(-1)])
    _, new_ctx = env.run(202, _closure(env, outer, 1, copied[1:]), [i(-1)])
    assert new_ctx.slot_count() == constants.FRAME_SMALL
    assert [w.value for w in new_ctx.slots()] == [-1] + range(1, constants.FRAME_SMALL)


@pytest.mark.parametrize("number, nargs", [(201, 0), (202, 1), (203, 2), (204, 3),
                                           (205, 4), (221, 0), (222, 1)])
def test_closure_value_wrong_argument_count_fails(env, outer, number, nargs):
    w_closure = _closure(env, outer, nargs + 1, [i(5)])
    env.run_fails(number, w_closure, [i(0)] * nargs)


def test_closure_value_failures(env, outer):
    space = env.space
    w_closure = _closure(env, outer, 0)
    w_array = env.array(outer, i(4 + 13), i(0))                  # right shape, not a closure
    env.run_fails(201, w_array, [])
    env.run_fails(201, i(3), [])
    env.run_fails(201, env.nil, [])
    w_short = W_PointersObject(space.w_BlockClosure, 2, env.nil)
    env.run_fails(201, w_short, [])
    w_bad_outer = _closure(env, outer, 0)
    w_bad_outer.slots[0] = env.nil
    env.run_fails(201, w_bad_outer, [])
    w_no_method = _closure(env, env.context(), 0)
    env.run_fails(201, w_no_method, [])
    env.run_fails(201, _closure(env, outer, 0, start=len(CLOSURE_BYTES)), [])
    env.run_fails(201, _closure(env, outer, 0, start=-1), [])
    w_nil_args = _closure(env, outer, 0)
    w_nil_args.slots[constants.CLOSURE_NUMARGS] = env.nil
    env.run_fails(201, w_nil_args, [])
    w_nil_pc = _closure(env, outer, 0)
    w_nil_pc.slots[constants.CLOSURE_STARTPC] = env.nil
    env.run_fails(201, w_nil_pc, [])
    assert env.run(201, w_closure, [])[1] is not None


def test_closure_value_with_arguments(env, outer):
    w_closure = _closure(env, outer, 2, [i(9)])
    w_a, w_b = env.string("a"), env.string("b")
    ctx, new_ctx = env.run(206, w_closure, [env.array(w_a, w_b)])
    assert new_ctx.slots()[0] is w_a and new_ctx.slots()[1] is w_b
    assert new_ctx.slots()[2].value == 9 and new_ctx.sp == 3
    assert new_ctx.w_sender is ctx and ctx.sp == 1


def test_closure_value_with_arguments_failures(env, outer):
    w_closure = _closure(env, outer, 2)
    env.run_fails(206, w_closure, [env.array(i(1))])
    env.run_fails(206, w_closure, [env.array()])
    env.run_fails(206, w_closure, [env.string("ab")])
    env.run_fails(206, w_closure, [env.obj(env.space.w_Point, i(1), i(2))])
    env.run_fails(206, w_closure, [env.nil])
    env.run_fails(206, env.array(), [env.array(i(1), i(2))])


# --- perform (83, 84, 100) and executeMethod (188) ----------------------------------

class World(object):
    """Classes Super and Sub (a subclass) with method dictionaries."""

    def __init__(self, env):
        self.env = env
        space = env.space
        self.w_dict_class = env.cls("MethodDictionary", 2, constants.FMT_VARIABLE)
        self.w_Super = env.cls("Super", 0, FIXED)
        self.w_Sub = env.cls("Sub", 0, FIXED, w_super=self.w_Super)
        self.sel = {}
        for name in ["foo:", "bar", "with:with:", "size", "doesNotUnderstand:", "nope",
                     "nope:"]:
            self.sel[name] = env.string(name)
        space.w_special_objects.store(space, constants.SO_DOES_NOT_UNDERSTAND,
                                      self.sel["doesNotUnderstand:"])
        self.super_foo = env.method("\x10\x7c", [env.nil, env.nil], num_args=1, num_temps=1)
        self.sub_foo = env.method("\x10\x7c", [env.nil, env.nil], num_args=1, num_temps=2)
        self.bar = env.method("\x78", [env.nil, env.nil])
        self.with_with = env.method("\x78", [env.nil, env.nil], num_args=2, num_temps=2)
        self.size = env.method("\x78", [env.nil, env.nil], prim=62)
        self.dnu = env.method("\x78", [env.nil, env.nil], num_args=1, num_temps=1)
        self.install(self.w_Super, [("foo:", self.super_foo), ("bar", self.bar),
                                    ("with:with:", self.with_with), ("size", self.size),
                                    ("doesNotUnderstand:", self.dnu)])
        self.install(self.w_Sub, [("foo:", self.sub_foo)])

    def install(self, w_class, pairs):
        env = self.env
        w_values = env.array(*[w_method for _, w_method in pairs])
        w_dict = env.obj(self.w_dict_class, i(len(pairs)), w_values,
                         *[self.sel[name] for name, _ in pairs])
        w_class.store(env.space, constants.CLASS_METHODDICT, w_dict)

    def sub(self):
        return self.env.obj(self.w_Sub)


@pytest.fixture
def world(env):
    return World(env)


def _assert_activation(ctx, new_ctx, w_method, w_rcvr, args_w):
    assert isinstance(new_ctx, W_Context) and new_ctx is not ctx
    assert new_ctx.w_method is w_method
    assert new_ctx.w_receiver is w_rcvr
    assert new_ctx.w_sender is ctx
    assert new_ctx.pc == 0
    assert new_ctx.slots()[:len(args_w)] == list(args_w)
    assert new_ctx.sp == max(w_method.num_temps, len(args_w))
    assert ctx.sp == 1, "receiver, selector and arguments must be gone from the sender"


def test_perform_shifts_arguments(env, world):
    w_rcvr = world.sub()
    w_arg = env.string("arg")
    ctx, new_ctx = env.run(83, w_rcvr, [world.sel["foo:"], w_arg])
    _assert_activation(ctx, new_ctx, world.sub_foo, w_rcvr, [w_arg])


def test_perform_two_arguments_and_inherited(env, world):
    w_rcvr = world.sub()
    w_a, w_b = env.string("a"), env.string("b")
    ctx, new_ctx = env.run(83, w_rcvr, [world.sel["with:with:"], w_a, w_b])
    _assert_activation(ctx, new_ctx, world.with_with, w_rcvr, [w_a, w_b])


def test_perform_unary(env, world):
    w_rcvr = world.sub()
    ctx, new_ctx = env.run(83, w_rcvr, [world.sel["bar"]])
    _assert_activation(ctx, new_ctx, world.bar, w_rcvr, [])


def test_perform_runs_the_found_methods_primitive(env, world):
    w_rcvr = world.sub()
    ctx, new_ctx = env.run(83, w_rcvr, [world.sel["size"]])
    assert new_ctx is ctx
    assert ctx.sp == 2 and ctx.top().value == 0     # primitive 62 answered Sub's size


def test_perform_wrong_arity_fails(env, world):
    w_rcvr = world.sub()
    env.run_fails(83, w_rcvr, [world.sel["foo:"]])
    env.run_fails(83, w_rcvr, [world.sel["foo:"], i(1), i(2)])
    env.run_fails(83, w_rcvr, [world.sel["bar"], i(1)])


def test_perform_not_understood(env, world):
    w_rcvr = world.sub()
    w_arg = env.string("x")
    ctx, new_ctx = env.run(83, w_rcvr, [world.sel["nope:"], w_arg])
    assert new_ctx.w_method is world.dnu and new_ctx.w_receiver is w_rcvr
    w_message = new_ctx.slots()[0]
    assert w_message.getclass(env.space) is env.space.w_Message
    assert w_message.slots[constants.MESSAGE_SELECTOR] is world.sel["nope:"]
    assert w_message.slots[constants.MESSAGE_ARGUMENTS].slots == [w_arg]
    assert ctx.sp == 1


def test_perform_with_arguments(env, world):
    w_rcvr = world.sub()
    w_a, w_b = env.string("a"), env.string("b")
    ctx, new_ctx = env.run(84, w_rcvr, [world.sel["with:with:"], env.array(w_a, w_b)])
    _assert_activation(ctx, new_ctx, world.with_with, w_rcvr, [w_a, w_b])
    ctx, new_ctx = env.run(84, w_rcvr, [world.sel["bar"], env.array()])
    _assert_activation(ctx, new_ctx, world.bar, w_rcvr, [])


def test_perform_with_arguments_failures(env, world):
    w_rcvr = world.sub()
    env.run_fails(84, w_rcvr, [world.sel["foo:"], env.array()])
    env.run_fails(84, w_rcvr, [world.sel["foo:"], env.array(i(1), i(2))])
    env.run_fails(84, w_rcvr, [world.sel["foo:"], env.string("a")])
    env.run_fails(84, w_rcvr, [world.sel["foo:"], env.nil])
    env.run_fails(84, w_rcvr, [world.sel["foo:"], env.obj(env.space.w_Point, i(1), i(2))])
    # More arguments than the sender's frame holds: a failure, not a crash (fuzz).
    env.run_fails(84, env.nil, [env.array(), env.array(*[i(n) for n in range(20)])])


def test_perform_in_superclass(env, world):
    w_rcvr = world.sub()
    w_arg = env.string("a")
    ctx, new_ctx = env.run(100, w_rcvr, [world.sel["foo:"], env.array(w_arg), world.w_Super])
    _assert_activation(ctx, new_ctx, world.super_foo, w_rcvr, [w_arg])
    ctx, new_ctx = env.run(100, w_rcvr, [world.sel["foo:"], env.array(w_arg), world.w_Sub])
    _assert_activation(ctx, new_ctx, world.sub_foo, w_rcvr, [w_arg])


def test_perform_in_superclass_failures(env, world):
    w_rcvr = world.sub()
    w_super_rcvr = env.obj(world.w_Super)
    w_args = env.array(i(1))
    env.run_fails(100, w_super_rcvr, [world.sel["foo:"], w_args, world.w_Sub])  # not a kind
    env.run_fails(100, w_rcvr, [world.sel["foo:"], w_args, env.space.w_Point])
    env.run_fails(100, i(3), [world.sel["foo:"], w_args, world.w_Super])
    env.run_fails(100, w_rcvr, [world.sel["foo:"], env.array(), world.w_Super])
    env.run_fails(100, w_rcvr, [world.sel["foo:"], env.string("x"), world.w_Super])


def test_perform_in_superclass_nil_class_fails(env, world):
    """nil is no superclass of the receiver's class: the walk up the hierarchy reaches
    nil and must fail, not take nil for the class it was looking for (which ends in a
    lookup in nil and VMFatal from doesNotUnderstand:)."""
    w_rcvr = world.sub()
    env.run_fails(100, w_rcvr, [world.sel["foo:"], env.array(i(1)), env.nil])


def test_execute_method(env, world):
    w_rcvr = env.string("anything")
    w_a, w_b = i(1), i(2)
    ctx, new_ctx = env.run(188, w_rcvr, [env.array(w_a, w_b), world.with_with])
    _assert_activation(ctx, new_ctx, world.with_with, w_rcvr, [w_a, w_b])
    ctx, new_ctx = env.run(188, w_rcvr, [env.array(), world.bar])
    _assert_activation(ctx, new_ctx, world.bar, w_rcvr, [])


def test_execute_method_runs_its_primitive(env, world):
    """Like a send, executing a method with a primitive runs the primitive first
    (the C VM's primitiveExecuteMethodArgsArray ends in executeNewMethod)."""
    w_rcvr = env.array(i(1), i(2), i(3))
    ctx, new_ctx = env.run(188, w_rcvr, [env.array(), world.size])
    assert new_ctx is ctx, "primitive 62 should have answered in the sender"
    assert ctx.sp == 2 and ctx.top().value == 3


def test_execute_method_failures(env, world):
    w_rcvr = env.string("anything")
    env.run_fails(188, w_rcvr, [env.array(i(1)), world.with_with])
    env.run_fails(188, w_rcvr, [env.array(i(1)), world.bar])
    env.run_fails(188, w_rcvr, [env.array(), env.string("not a method")])
    env.run_fails(188, w_rcvr, [env.array(), env.nil])
    env.run_fails(188, w_rcvr, [env.string(""), world.bar])
    env.run_fails(188, w_rcvr, [env.nil, world.bar])


# --- processes and semaphores (85-88, 167) ------------------------------------------

class Processes(object):
    """A minimal ProcessorScheduler installed as special object 3's value."""

    def __init__(self, env, priorities=4):
        self.env = env
        space = env.space
        nil = env.nil
        self.w_list_class = env.cls("LinkedList", 2, FIXED)
        self.lists = [env.obj(self.w_list_class, nil, nil) for _ in range(priorities)]
        self.w_processor = env.obj(env.cls("ProcessorScheduler", 2, FIXED),
                                   env.array(*self.lists), nil)
        w_assoc = env.obj(env.cls("Association", 2, FIXED), env.string("Processor"),
                          self.w_processor)
        space.w_special_objects.store(space, constants.SO_SCHEDULER_ASSOCIATION, w_assoc)

    def process(self, priority, suspended=True):
        env = self.env
        w_ctx = env.nil
        if suspended:
            w_ctx = env.context(method=env.method("\x70\x7c"), pc=0)
        return env.obj(env.space.w_Process, env.nil, w_ctx, i(priority), env.nil)

    def make_active(self, priority):
        w_process = self.process(priority, suspended=False)
        self.w_processor.slots[constants.SCHEDULER_ACTIVE_PROCESS] = w_process
        return w_process

    def active(self):
        return self.w_processor.slots[constants.SCHEDULER_ACTIVE_PROCESS]

    def semaphore(self, excess=0):
        return self.env.obj(self.env.space.w_Semaphore, self.env.nil, self.env.nil,
                            i(excess))

    def append(self, w_list, *processes):
        nil = self.env.nil
        for w_process in processes:
            w_last = w_list.slots[constants.LINKEDLIST_LAST]
            if w_last is nil:
                w_list.slots[constants.LINKEDLIST_FIRST] = w_process
            else:
                w_last.slots[constants.LINK_NEXT] = w_process
            w_list.slots[constants.LINKEDLIST_LAST] = w_process
            w_process.slots[constants.PROCESS_MY_LIST] = w_list

    def ready(self, *processes):
        for w_process in processes:
            priority = w_process.slots[constants.PROCESS_PRIORITY].value
            self.append(self.lists[priority - 1], w_process)

    def contents(self, w_list):
        nil = self.env.nil
        result = []
        w_cur = w_list.slots[constants.LINKEDLIST_FIRST]
        while w_cur is not nil:
            result.append(w_cur)
            assert w_cur.slots[constants.PROCESS_MY_LIST] is w_list
            w_cur = w_cur.slots[constants.LINK_NEXT]
            assert len(result) < 100
        expected_last = result[-1] if result else nil
        assert w_list.slots[constants.LINKEDLIST_LAST] is expected_last
        return result

    def suspended_context(self, w_process):
        return w_process.slots[constants.PROCESS_SUSPENDED_CONTEXT]

    def my_list(self, w_process):
        return w_process.slots[constants.PROCESS_MY_LIST]


@pytest.fixture
def procs(env):
    return Processes(env)


def test_signal_without_waiters_counts(env, procs):
    procs.make_active(3)
    w_sema = procs.semaphore(0)
    ctx, new_ctx = env.run(85, w_sema, [])
    assert new_ctx is ctx and ctx.top() is w_sema and ctx.sp == 2
    assert w_sema.slots[constants.SEMAPHORE_EXCESS_SIGNALS].value == 1
    env.run(85, w_sema, [])
    assert w_sema.slots[constants.SEMAPHORE_EXCESS_SIGNALS].value == 2


@pytest.mark.parametrize("waiter_priority", [2, 3])
def test_signal_readies_a_waiter_without_preempting(env, procs, waiter_priority):
    w_active = procs.make_active(3)
    w_sema = procs.semaphore()
    w_waiter = procs.process(waiter_priority)
    procs.append(w_sema, w_waiter)
    ctx, new_ctx = env.run(85, w_sema, [])
    assert new_ctx is ctx
    assert procs.contents(w_sema) == []
    assert procs.contents(procs.lists[waiter_priority - 1]) == [w_waiter]
    assert procs.active() is w_active
    assert w_sema.slots[constants.SEMAPHORE_EXCESS_SIGNALS].value == 0


def test_signal_preempts_for_a_higher_priority_waiter(env, procs):
    w_active = procs.make_active(3)
    w_sema = procs.semaphore()
    w_waiter = procs.process(4)
    w_waiter_ctx = procs.suspended_context(w_waiter)
    procs.append(w_sema, w_waiter)
    ctx, new_ctx = env.run(85, w_sema, [])
    assert new_ctx is w_waiter_ctx
    assert procs.active() is w_waiter
    assert procs.suspended_context(w_waiter) is env.nil
    assert procs.my_list(w_waiter) is env.nil
    assert procs.contents(procs.lists[2]) == [w_active]
    assert procs.suspended_context(w_active) is ctx
    assert ctx.top() is w_sema           # what signal answers when ctx resumes
    assert procs.contents(w_sema) == []


def test_signal_wakes_the_first_waiter(env, procs):
    procs.make_active(3)
    w_sema = procs.semaphore()
    w_first, w_second = procs.process(1), procs.process(1)
    procs.append(w_sema, w_first, w_second)
    env.run(85, w_sema, [])
    assert procs.contents(w_sema) == [w_second]
    assert procs.contents(procs.lists[0]) == [w_first]


def test_wait_with_excess_signals(env, procs):
    w_active = procs.make_active(3)
    w_sema = procs.semaphore(2)
    ctx, new_ctx = env.run(86, w_sema, [])
    assert new_ctx is ctx and ctx.sp == 2
    assert w_sema.slots[constants.SEMAPHORE_EXCESS_SIGNALS].value == 1
    assert procs.active() is w_active


def test_wait_blocks_and_switches(env, procs):
    w_active = procs.make_active(3)
    w_low = procs.process(1)
    w_other = procs.process(2)
    w_other_ctx = procs.suspended_context(w_other)
    procs.ready(w_low, w_other)
    w_sema = procs.semaphore(0)
    ctx, new_ctx = env.run(86, w_sema, [])
    assert new_ctx is w_other_ctx              # the highest priority ready process
    assert procs.active() is w_other
    assert procs.contents(w_sema) == [w_active]
    assert procs.my_list(w_active) is w_sema
    assert procs.suspended_context(w_active) is ctx
    assert procs.contents(procs.lists[1]) == []
    assert procs.contents(procs.lists[0]) == [w_low]
    assert w_sema.slots[constants.SEMAPHORE_EXCESS_SIGNALS].value == 0


def test_wait_then_signal_round_trip(env, procs):
    w_active = procs.make_active(3)
    w_idle = procs.process(1)
    procs.ready(w_idle)
    w_sema = procs.semaphore(0)
    w_running = env.context(method=env.method("\x70\x7c"), pc=1, size=8)
    ctx, idle_ctx = env.run(86, w_sema, [], ctx=w_running)
    # the idle process signals: the waiter has the higher priority and runs again
    idle_ctx.push(w_sema)
    w_answer = _TABLE[85](env.interp, idle_ctx, 0, None)
    assert w_answer is ctx
    assert procs.active() is w_active
    assert procs.contents(procs.lists[0]) == [w_idle]
    assert procs.suspended_context(w_idle) is idle_ctx


@pytest.mark.parametrize("number", [85, 86])
def test_semaphore_primitives_bad_receivers(env, procs, number):
    procs.make_active(3)
    env.run_fails(number, i(3), [])
    env.run_fails(number, env.nil, [])
    env.run_fails(number, env.array(env.nil, env.nil), [])     # too small
    env.run_fails(number, env.string("sema"), [])


def test_resume_lower_priority(env, procs):
    w_active = procs.make_active(3)
    w_process = procs.process(2)
    ctx, new_ctx = env.run(87, w_process, [])
    assert new_ctx is ctx and ctx.top() is w_process
    assert procs.contents(procs.lists[1]) == [w_process]
    assert procs.active() is w_active


def test_resume_higher_priority_preempts(env, procs):
    w_active = procs.make_active(3)
    w_process = procs.process(4)
    w_process_ctx = procs.suspended_context(w_process)
    ctx, new_ctx = env.run(87, w_process, [])
    assert new_ctx is w_process_ctx
    assert procs.active() is w_process
    assert procs.suspended_context(w_process) is env.nil
    assert procs.contents(procs.lists[2]) == [w_active]
    assert procs.suspended_context(w_active) is ctx
    assert ctx.top() is w_process


def test_resume_failures(env, procs):
    w_active = procs.make_active(3)
    w_listed = procs.process(2)
    procs.ready(w_listed)
    env.run_fails(87, w_listed, [])                          # already runnable
    w_waiting = procs.process(2)
    procs.append(procs.semaphore(), w_waiting)
    env.run_fails(87, w_waiting, [])                         # waiting on a semaphore
    env.run_fails(87, procs.process(2, suspended=False), [])  # nothing to run
    w_dead = procs.process(2)
    procs.suspended_context(w_dead).start_at(-1)
    env.run_fails(87, w_dead, [])
    env.run_fails(87, w_active, [])
    env.run_fails(87, i(3), [])
    env.run_fails(87, env.array(env.nil, env.nil), [])
    assert procs.contents(procs.lists[1]) == [w_listed]


@pytest.mark.parametrize("priority", [0, -1, None])
def test_resume_with_invalid_priority_fails(env, procs, priority):
    """A process whose priority names no process list cannot be made runnable: the
    primitive must fail (nothing an image passes may crash the VM), not raise
    VMFatal from the scheduler after half-updating it."""
    w_active = procs.make_active(3)
    w_process = procs.process(1)
    w_process.slots[constants.PROCESS_PRIORITY] = env.nil if priority is None else i(priority)
    env.run_fails(87, w_process, [])
    assert procs.active() is w_active
    assert all(procs.contents(w_list) == [] for w_list in procs.lists)


def test_suspend_active_process(env, procs):
    w_active = procs.make_active(3)
    w_next = procs.process(2)
    w_next_ctx = procs.suspended_context(w_next)
    procs.ready(procs.process(1), w_next)
    ctx, new_ctx = env.run(88, w_active, [])
    assert new_ctx is w_next_ctx
    assert procs.active() is w_next
    assert procs.suspended_context(w_active) is ctx
    assert procs.my_list(w_active) is env.nil
    assert ctx.top() is env.nil and ctx.sp == 2
    assert procs.contents(procs.lists[1]) == []
    assert len(procs.contents(procs.lists[0])) == 1


@pytest.mark.parametrize("which", [0, 1, 2])
def test_suspend_ready_process(env, procs, which):
    procs.make_active(3)
    listed = [procs.process(2) for _ in range(3)]
    procs.ready(*listed)
    w_victim = listed[which]
    ctx, new_ctx = env.run(88, w_victim, [])
    assert new_ctx is ctx
    assert ctx.top() is procs.lists[1]          # suspend answers the list it left
    assert procs.contents(procs.lists[1]) == [p for p in listed if p is not w_victim]
    assert procs.my_list(w_victim) is env.nil
    assert w_victim.slots[constants.LINK_NEXT] is env.nil


def test_suspend_waiting_process(env, procs):
    procs.make_active(3)
    w_sema = procs.semaphore()
    w_waiter = procs.process(2)
    procs.append(w_sema, w_waiter)
    ctx, new_ctx = env.run(88, w_waiter, [])
    assert new_ctx is ctx and ctx.top() is w_sema
    assert procs.contents(w_sema) == []


def test_suspend_failures(env, procs):
    procs.make_active(3)
    env.run_fails(88, procs.process(2), [])                  # in no list
    w_fake_listed = procs.process(2)
    w_fake_listed.slots[constants.PROCESS_MY_LIST] = procs.lists[1]   # not really in it
    env.run_fails(88, w_fake_listed, [])
    env.run_fails(88, i(3), [])
    env.run_fails(88, env.array(env.nil), [])


def test_yield_to_same_priority(env, procs):
    w_active = procs.make_active(3)
    w_peer = procs.process(3)
    w_peer_ctx = procs.suspended_context(w_peer)
    procs.ready(w_peer)
    ctx, new_ctx = env.run(167, env.nil, [])
    assert new_ctx is w_peer_ctx
    assert procs.active() is w_peer
    assert procs.contents(procs.lists[2]) == [w_active]
    assert procs.suspended_context(w_active) is ctx


@pytest.mark.parametrize("ready_priorities", [[], [1, 2]])
def test_yield_without_peers_continues(env, procs, ready_priorities):
    w_active = procs.make_active(3)
    ready = [procs.process(p) for p in ready_priorities]
    procs.ready(*ready)
    ctx, new_ctx = env.run(167, env.nil, [])
    assert new_ctx is ctx and ctx.sp == 2
    assert procs.active() is w_active
    for w_process in ready:
        assert procs.my_list(w_process) is procs.lists[
            w_process.slots[constants.PROCESS_PRIORITY].value - 1]


# --- method cache (89, 116, 119) ----------------------------------------------------

@pytest.mark.parametrize("number", [89, 116])
def test_flush_cache(env, world, number):
    w_rcvr = world.sub()
    assert env.interp.lookup(world.w_Sub, world.sel["bar"]) is world.bar
    cache = env.interp.method_cache
    assert cache.by_selector
    version = cache.version
    assert env.call(number, w_rcvr) is w_rcvr
    assert cache.by_selector == {}
    # A new version: JIT traces that folded lookups under the old one are invalid.
    assert cache.version is not version


def test_flush_selector(env, world):
    env.interp.lookup(world.w_Sub, world.sel["bar"])
    env.interp.lookup(world.w_Sub, world.sel["foo:"])
    cache = env.interp.method_cache
    version = cache.version
    assert env.call(119, world.sel["bar"]) is world.sel["bar"]
    assert world.sel["bar"] not in cache.by_selector
    assert world.sel["foo:"] in cache.by_selector
    assert cache.version is not version
    assert env.call(119, env.string("never looked up")).as_string() == "never looked up"


def test_flush_cache_makes_new_methods_visible(env, world):
    w_rcvr = world.sub()
    env.run(83, w_rcvr, [world.sel["bar"]])
    w_new_bar = env.method("\x79", [env.nil, env.nil])
    world.install(world.w_Sub, [("foo:", world.sub_foo), ("bar", w_new_bar)])
    env.call(119, world.sel["bar"])
    _, new_ctx = env.run(83, w_rcvr, [world.sel["bar"]])
    assert new_ctx.w_method is w_new_bar


# --- context at: / at:put: / size (210-212) -----------------------------------------

def test_context_at(env):
    w_ctx = env.context(i(10), i(20), size=6)
    assert env.call(210, w_ctx, i(1)).value == 10
    assert env.call(210, w_ctx, i(2)).value == 20
    for index in [0, -1, 3, 6]:
        env.fails(210, w_ctx, i(index))
    env.fails(210, w_ctx, env.nil)
    env.fails(210, env.array(i(1)), i(1))
    env.fails(210, i(1), i(1))


def test_context_at_put(env):
    w_ctx = env.context(i(10), i(20), size=6)
    w_value = env.string("v")
    assert env.call(211, w_ctx, i(2), w_value) is w_value
    assert w_ctx.slots()[1] is w_value
    for index in [0, -1, 3]:
        env.fails(211, w_ctx, i(index), i(0))
    env.fails(211, w_ctx, env.nil, i(0))
    env.fails(211, env.array(i(1)), i(1), i(0))
    assert w_ctx.slots()[0].value == 10 and w_ctx.sp == 2


def test_store_stackp(env):
    # primitiveStoreStackp (76): answers the context; slots it uncovers are nil.
    w_ctx = env.context(i(10), i(20), i(30), size=6)
    assert env.call(76, w_ctx, i(1)) is w_ctx
    assert w_ctx.sp == 1 and env.call(212, w_ctx).value == 1
    assert env.call(76, w_ctx, i(4)) is w_ctx
    assert w_ctx.sp == 4
    assert w_ctx.slots()[0].value == 10
    assert all(w is env.nil for w in w_ctx.slots()[1:4])
    assert env.call(76, w_ctx, i(6)) is w_ctx and w_ctx.sp == 6
    assert env.call(76, w_ctx, i(0)) is w_ctx and w_ctx.sp == 0


def test_store_stackp_failures(env):
    w_ctx = env.context(i(10), size=6)
    for w_bad in [i(-1), i(7), env.nil, env.space.wrap_float(1.0), env.string("1")]:
        env.fails(76, w_ctx, w_bad)
    assert w_ctx.sp == 1 and w_ctx.slots()[0].value == 10
    env.fails(76, env.array(i(1)), i(0))
    env.fails(76, i(3), i(0))


def test_do_primitive_with_args(env):
    # primitiveDoPrimitiveWithArgs (118): `rcvr tryPrimitive: index withArgs: args`.
    from spyvm.primitives import arithmetic   # noqa: registers primitive 1
    ctx, new_ctx = env.run(118, i(3), [i(1), env.array(i(4))])
    assert new_ctx is ctx and ctx.top().value == 7 and ctx.sp == 2
    w_point = env.obj(env.space.w_Point, i(5), i(6))
    ctx, _ = env.run(118, w_point, [i(265), env.array()])    # quick: second inst var
    assert ctx.top().value == 6
    ctx, _ = env.run(118, i(3), [i(257), env.array()])       # quick: true
    assert ctx.top() is env.space.w_true


def test_do_primitive_with_args_failures(env):
    from spyvm.primitives import arithmetic   # noqa: registers primitive 1
    for w_index, w_args in [(i(1), env.array(env.nil)),      # the primitive fails
                            (i(1), env.array()),             # wrong argument count
                            (i(265), env.array()),           # no inst var in 3
                            (i(117), env.array()), (i(118), env.array(i(1), env.array())),
                            (i(0), env.array()), (i(5000), env.array()), (i(-1), env.array()),
                            (env.nil, env.array()), (i(1), env.nil), (i(1), env.string("a"))]:
        env.run_fails(118, i(3), [w_index, w_args])


def test_context_size(env):
    assert env.call(212, env.context(i(1), i(2), i(3))).value == 3
    assert env.call(212, env.context()).value == 0
    w_block = model.W_Context(env.space, env.space.w_BlockContext, True, 4)
    w_block.push(i(1))
    assert env.call(212, w_block).value == 1
    env.fails(212, env.array(i(1)))
    env.fails(212, i(3))
