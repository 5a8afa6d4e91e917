"""Object primitives: indexing, instantiation, identity, copying, become, changeClass."""

import gc

import pytest
from rpython.rlib.rarithmetic import r_uint

from spyvm import constants, memory, model
from spyvm.errors import PrimitiveFailed
from spyvm.model import (W_PointersObject, W_BytesObject, W_WordsObject, W_Float,
                         W_CompiledMethod, W_Context, W_SmallInteger)
from spyvm.primitives import objects, _TABLE

MAXINT = 2 ** 30 - 1


# --- helpers ------------------------------------------------------------------------

def i(n):
    return W_SmallInteger(n)


def ints(w_obj):
    return [w.value for w in w_obj.slots]


@pytest.fixture
def thing_class(env):
    """Two named instance variables, then indexable pointers."""
    return env.cls("Thing", 2, constants.FMT_FIXED_VARIABLE)


def int_value(space, w_int):
    return space.unwrap_bigint(w_int).tolong()


def large(space, n):
    return space.wrap_int(n) if n <= MAXINT else space.wrap_uint(r_uint(n))


# --- registration and argument counts -----------------------------------------------

OBJECT_ARITIES = {60: 1, 61: 2, 62: 0, 63: 1, 64: 2, 68: 1, 69: 2, 70: 0, 71: 1,
                  72: 1, 73: 1, 74: 2, 75: 0, 77: 0, 78: 0, 79: 2, 105: 4, 110: 1,
                  111: 0, 115: 1, 128: 1, 145: 1, 148: 0, 160: 1, 170: 1, 171: 0,
                  173: 1, 174: 2, 175: 0, 176: 0}


def test_all_object_primitives_registered():
    for number in OBJECT_ARITIES:
        assert _TABLE[number] is not None, number
    assert _TABLE[75] is _TABLE[171]


# 110 and 111 also have mirror forms with one more argument (object:eqeq:, objectClass:).
MIRROR_FORMS = (110, 111)


@pytest.mark.parametrize("number", sorted(OBJECT_ARITIES))
def test_wrong_argument_count_fails(env, number):
    nargs = OBJECT_ARITIES[number]
    w_rcvr = env.array(i(1), i(2), i(3))
    extra = 2 if number in MIRROR_FORMS else 1
    env.run_fails(number, w_rcvr, [i(1)] * (nargs + extra))
    if nargs > 0:
        env.run_fails(number, w_rcvr, [i(1)] * (nargs - 1))


def test_mirror_forms(env):
    """Context>>object:eqeq: and objectClass: ask about the argument, not the receiver."""
    space = env.space
    w_ctx, w_a = env.array(), env.array()
    for args_w, w_expected in [([w_a, w_a], space.w_true), ([w_a, i(3)], space.w_false)]:
        ctx, answered = env.run(110, w_ctx, args_w)
        assert answered is ctx and ctx.top() is w_expected
    ctx, answered = env.run(111, w_ctx, [i(3)])
    assert ctx.top() is space.w_SmallInteger


# --- at: / at:put: (60, 61) ---------------------------------------------------------

def test_at_array(env):
    w_a, w_b = env.string("a"), env.string("b")
    w_array = env.array(w_a, w_b, i(7))
    assert env.call(60, w_array, i(1)) is w_a
    assert env.call(60, w_array, i(2)) is w_b
    assert env.call(60, w_array, i(3)).value == 7


@pytest.mark.parametrize("index", [0, -1, 4, 1 << 29])
def test_at_array_bad_index(env, index):
    env.fails(60, env.array(i(1), i(2), i(3)), i(index))


def test_at_non_integer_index(env):
    w_array = env.array(i(1), i(2))
    env.fails(60, w_array, env.nil)
    env.fails(60, w_array, env.space.wrap_float(1.0))
    env.fails(60, w_array, env.char(1))
    env.fails(60, w_array, large(env.space, 2 ** 31))


def test_at_skips_named_instance_variables(env, thing_class):
    w_obj = env.obj(thing_class, i(10), i(11), i(20), i(21), i(22))
    assert env.call(60, w_obj, i(1)).value == 20
    assert env.call(60, w_obj, i(3)).value == 22
    env.fails(60, w_obj, i(4))
    env.fails(60, w_obj, i(0))


def test_at_fixed_object_has_no_indexable_fields(env):
    w_point = env.obj(env.space.w_Point, i(1), i(2))
    env.fails(60, w_point, i(1))
    env.fails(61, w_point, i(1), i(5))
    assert ints(w_point) == [1, 2]


def test_at_bad_receivers(env):
    env.fails(60, i(5), i(1))
    env.fails(60, env.nil, i(1))
    env.fails(61, i(5), i(1), i(1))
    env.fails(61, env.nil, i(1), i(1))


def test_at_bytes(env):
    w_str = env.string("a\xffz")
    assert env.call(60, w_str, i(1)).value == 97
    assert env.call(60, w_str, i(2)).value == 255
    assert env.call(60, w_str, i(3)).value == 122
    env.fails(60, w_str, i(4))
    env.fails(60, w_str, i(0))


def test_at_words(env):
    w_words = env.words(5, 0xffffffff)
    assert env.call(60, w_words, i(1)).value == 5
    w_big = env.call(60, w_words, i(2))
    assert env.space.unwrap_bigint(w_big).tolong() == 0xffffffff
    assert w_big.getclass(env.space) is env.space.w_LargePositiveInteger
    env.fails(60, w_words, i(3))


def test_at_words_64bit_space_answers_smallinteger(fake_space64, call_primitive):
    w_words = W_WordsObject(fake_space64.special(constants.SO_BITMAP_CLASS), 1)
    w_words.setword(0, 0xffffffff)
    w_result = call_primitive(fake_space64, 60, w_words, i(1))
    assert isinstance(w_result, W_SmallInteger) and w_result.value == 0xffffffff


def test_words_64bit_space_reject_values_over_32_bits(fake_space64, call_primitive):
    """In a 64-bit image a SmallInteger can exceed 2^32-1: storing one into a word
    must fail, not keep the low 32 bits (objspace.unwrap_uint32)."""
    space = fake_space64
    w_words = W_WordsObject(space.special(constants.SO_BITMAP_CLASS), 2)
    w_float = space.wrap_float(1.0)
    assert call_primitive(space, 61, w_words, i(1), i(0xffffffff)).value == 0xffffffff
    for value in [2 ** 32, 2 ** 32 + 5, 2 ** 40]:
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, 61, w_words, i(2), i(value))
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, 145, w_words, i(value))
        with pytest.raises(PrimitiveFailed):
            call_primitive(space, 61, w_float, i(2), i(value))
    assert list(w_words.words) == [0xffffffff, 0]
    assert w_float.value == 1.0


def test_at_float_high_word_first(env):
    w_float = env.space.wrap_float(-2.5)       # 0xC004000000000000
    assert int_value(env.space, env.call(60, w_float, i(1))) == 0xc0040000
    assert env.call(60, w_float, i(2)).value == 0
    w_one = env.space.wrap_float(1.0 + 2 ** -52)   # 0x3FF0000000000001
    assert env.call(60, w_one, i(1)).value == 0x3ff00000
    assert env.call(60, w_one, i(2)).value == 1
    env.fails(60, w_one, i(3))
    env.fails(60, w_one, i(0))


def test_at_compiled_method_reads_the_whole_frame(env):
    """at: spans the header and literal frame too, as in the C VM (CompiledMethod>>endPC
    of a method without bytecodes reads there); only bytecodes can be written."""
    w_method = env.method("\x10\x20\x7c", [env.nil, env.nil])
    first = 3 * 4 + 1     # header + 2 literals, then bytecodes
    assert env.call(60, w_method, i(first)).value == 0x10
    assert env.call(60, w_method, i(first + 2)).value == 0x7c
    tagged = (w_method.header << 1) | 1
    assert [env.call(60, w_method, i(k)).value for k in range(1, 5)] == \
        [(tagged >> (8 * k)) & 0xff for k in range(4)]     # the header, little-endian
    assert env.call(60, w_method, i(first - 1)).value == 0  # a literal pointer's byte
    env.fails(60, w_method, i(first + 3))     # past the end
    env.fails(61, w_method, i(first - 1), i(0))
    env.fails(61, w_method, i(1), i(0))


def test_at_put_compiled_method_bytecode(env):
    w_method = env.method("\x10\x20\x7c", [env.nil])
    first = 2 * 4 + 1
    assert env.call(61, w_method, i(first + 1), i(0x78)).value == 0x78
    assert w_method.bytes == "\x10\x78\x7c"
    env.fails(61, w_method, i(first), i(256))
    env.fails(61, w_method, i(first), env.nil)
    assert w_method.bytes == "\x10\x78\x7c"


def test_at_context_reads_stack_up_to_stackp(env):
    w_ctx = env.context(i(4), i(5))
    assert env.call(60, w_ctx, i(1)).value == 4
    assert env.call(60, w_ctx, i(2)).value == 5
    env.fails(60, w_ctx, i(3))
    env.fails(60, w_ctx, i(0))
    assert env.call(61, w_ctx, i(2), i(9)).value == 9
    assert w_ctx.slots()[1].value == 9
    env.fails(61, w_ctx, i(3), i(9))


def test_at_put_array(env):
    w_array = env.array(i(1), i(2), i(3))
    w_value = env.string("x")
    assert env.call(61, w_array, i(2), w_value) is w_value
    assert w_array.slots[1] is w_value
    for index in [0, -1, 4]:
        env.fails(61, w_array, i(index), w_value)
    env.fails(61, w_array, env.nil, w_value)
    assert w_array.slots[0].value == 1 and w_array.slots[2].value == 3


def test_at_put_skips_named_instance_variables(env, thing_class):
    w_obj = env.obj(thing_class, i(10), i(11), i(20))
    env.call(61, w_obj, i(1), i(99))
    assert ints(w_obj) == [10, 11, 99]
    env.fails(61, w_obj, i(2), i(5))


def test_at_put_bytes(env):
    w_str = env.string("abc")
    assert env.call(61, w_str, i(1), i(255)).value == 255
    assert env.call(61, w_str, i(3), i(0)).value == 0
    assert w_str.as_string() == "\xffb\x00"
    for w_bad in [i(256), i(-1), env.nil, env.char(65), large(env.space, 2 ** 40)]:
        env.fails(61, w_str, i(2), w_bad)
    env.fails(61, w_str, i(4), i(1))
    env.fails(61, w_str, i(0), i(1))
    assert w_str.as_string() == "\xffb\x00"


def test_at_put_words(env):
    w_words = env.words(0, 0)
    w_max = large(env.space, 0xffffffff)
    assert env.call(61, w_words, i(1), w_max) is w_max
    assert w_words.getword(0) == 0xffffffff
    env.call(61, w_words, i(2), i(12345))
    assert w_words.getword(1) == 12345
    for w_bad in [i(-1), large(env.space, 2 ** 32), env.space.wrap_int(-2 ** 31 - 7),
                  env.nil, env.space.wrap_float(1.0)]:
        env.fails(61, w_words, i(1), w_bad)
    env.fails(61, w_words, i(3), i(1))
    assert list(w_words.words) == [0xffffffff, 12345]


def test_at_put_float_words(env):
    w_float = env.space.wrap_float(0.0)
    env.call(61, w_float, i(1), i(0x3ff00000))
    assert w_float.value == 1.0
    env.call(61, w_float, i(2), i(1))
    assert w_float.value == 1.0 + 2 ** -52
    env.call(61, w_float, i(1), large(env.space, 0xc0040000))
    env.call(61, w_float, i(2), i(0))
    assert w_float.value == -2.5
    env.fails(61, w_float, i(3), i(0))
    env.fails(61, w_float, i(1), i(-1))
    assert w_float.value == -2.5


# --- size (62) ----------------------------------------------------------------------

def test_size(env, thing_class):
    space = env.space
    assert env.call(62, env.array(i(1), i(2), i(3))).value == 3
    assert env.call(62, env.array()).value == 0
    assert env.call(62, env.obj(thing_class, i(1), i(2), i(3))).value == 1
    assert env.call(62, env.obj(space.w_Point, i(1), i(2))).value == 0
    assert env.call(62, env.string("hello")).value == 5
    assert env.call(62, env.words(1, 2, 3, 4)).value == 4
    assert env.call(62, space.wrap_float(3.5)).value == 2
    assert env.call(62, env.method("\x10\x7c", [env.nil] * 3)).value == 4 * 4 + 2
    assert env.call(62, env.context(i(1), i(2), i(3))).value == 3
    assert env.call(62, i(42)).value == 0
    assert env.call(62, env.nil).value == 0


# --- stringAt: / stringAt:put: (63, 64) ---------------------------------------------

def test_string_at_answers_table_characters(env):
    w_str = env.string("Az\x00\xff")
    w_table = env.space.w_character_table
    assert env.call(63, w_str, i(1)) is w_table.slots[65]
    assert env.call(63, w_str, i(2)) is w_table.slots[122]
    assert env.call(63, w_str, i(3)) is w_table.slots[0]
    assert env.call(63, w_str, i(4)) is w_table.slots[255]
    assert env.call(63, env.bytearray("\x07"), i(1)) is w_table.slots[7]


def test_string_at_failures(env):
    w_str = env.string("abc")
    for index in [0, -1, 4]:
        env.fails(63, w_str, i(index))
    env.fails(63, w_str, env.nil)
    env.fails(63, env.array(i(97)), i(1))
    env.fails(63, env.words(97), i(1))
    env.fails(63, i(3), i(1))
    env.fails(63, env.nil, i(1))


def test_string_at_put(env):
    w_str = env.string("abc")
    w_char = env.char(ord("X"))
    assert env.call(64, w_str, i(2), w_char) is w_char
    assert w_str.as_string() == "aXc"
    env.call(64, w_str, i(3), env.char(255))
    assert w_str.as_string() == "aX\xff"


def test_string_at_put_failures(env):
    w_str = env.string("abc")
    w_char = env.char(ord("X"))
    for index in [0, -1, 4]:
        env.fails(64, w_str, i(index), w_char)
    env.fails(64, w_str, i(1), i(88))                    # an Integer is no Character
    env.fails(64, w_str, i(1), env.string("X"))
    w_wide = env.obj(env.space.w_Character, i(300))      # a Character beyond a byte
    env.fails(64, w_str, i(1), w_wide)
    w_fake = env.obj(env.space.w_Point, i(65))           # right shape, wrong class
    env.fails(64, w_str, i(1), w_fake)
    env.fails(64, env.array(i(1)), i(1), w_char)
    env.fails(64, i(3), i(1), w_char)
    assert w_str.as_string() == "abc"


def test_string_at_spur(fake_space_spur, call_primitive):
    spur = fake_space_spur
    w_str = spur.wrap_string("ab")
    w_char = call_primitive(spur, 63, w_str, i(2))
    assert isinstance(w_char, model.W_Character) and w_char.value == 98
    assert call_primitive(spur, 64, w_str, i(1), model.W_Character(0x41)).value == 0x41
    assert w_str.as_string() == "Ab"
    with pytest.raises(PrimitiveFailed):
        call_primitive(spur, 64, w_str, i(1), model.W_Character(0x100))
    assert w_str.as_string() == "Ab"


# --- objectAt: / objectAt:put: (68, 69) ---------------------------------------------

def test_object_at(env):
    w_lit0, w_lit1 = env.string("lit"), i(7)
    w_method = env.method("\x7c", [w_lit0, w_lit1], num_args=1)
    w_header = env.call(68, w_method, i(1))
    assert w_header.value == env.header(2, 1)
    assert env.call(68, w_method, i(2)) is w_lit0
    assert env.call(68, w_method, i(3)) is w_lit1
    for index in [0, -1, 4]:
        env.fails(68, w_method, i(index))
    env.fails(68, w_method, env.nil)
    env.fails(68, env.array(i(1), i(2)), i(1))
    env.fails(68, i(1), i(1))


def test_object_at_put_literal_flushes_cache(env):
    w_method = env.method("\x7c", [env.nil, env.nil])
    cache = env.interp.method_cache
    cache.by_selector[env.string("sel")] = {}
    old_literals = w_method.literals
    w_value = env.string("new")
    assert env.call(69, w_method, i(3), w_value) is w_value
    assert w_method.literals[1] is w_value
    assert cache.by_selector == {}
    # A new list, not changed in place: traces fold the old one (quasi-immutable).
    assert old_literals[1] is env.nil and w_method.literals is not old_literals


def test_object_at_put_header(env):
    w_method = env.method("\x7c", [env.nil, env.nil])
    env.call(69, w_method, i(1), i(env.header(2, num_args=3, num_temps=4)))
    assert w_method.num_args == 3 and w_method.num_temps == 4
    assert w_method.num_literals() == 2


def test_object_at_put_failures(env):
    w_method = env.method("\x7c", [env.nil, env.nil], num_args=1)
    env.fails(69, w_method, i(1), i(env.header(3)))     # literal count must not change
    env.fails(69, w_method, i(1), env.nil)
    for index in [0, -1, 4]:
        env.fails(69, w_method, i(index), i(1))
    env.fails(69, env.array(i(1), i(2)), i(1), i(1))
    assert w_method.num_args == 1 and w_method.literals == [env.nil, env.nil]


# --- basicNew / basicNew: (70, 71) --------------------------------------------------

def test_basic_new_fixed(env):
    space = env.space
    w_point = env.call(70, space.w_Point)
    assert isinstance(w_point, W_PointersObject)
    assert w_point.getclass(space) is space.w_Point
    assert w_point.slots == [env.nil, env.nil]
    w_obj = env.call(70, space.w_Object)
    assert isinstance(w_obj, W_PointersObject) and w_obj.size() == 0
    assert w_obj is not env.call(70, space.w_Object)


def test_basic_new_fails_for_indexable_and_non_classes(env, thing_class):
    space = env.space
    for w_class in [space.w_Array, space.w_String, space.special(constants.SO_BITMAP_CLASS),
                    space.w_Float, space.w_CompiledMethod, space.w_MethodContext,
                    thing_class]:
        env.fails(70, w_class)
    env.fails(70, i(3))
    env.fails(70, env.nil)
    env.fails(70, env.array(i(1), i(2), env.nil))        # no format word
    env.fails(70, env.array(i(1), i(2)))                 # too small for a class
    env.fails(70, env.string("Point"))


def test_basic_new_size_pointers(env, thing_class):
    space = env.space
    w_array = env.call(71, space.w_Array, i(3))
    assert isinstance(w_array, W_PointersObject) and w_array.slots == [env.nil] * 3
    assert w_array.getclass(space) is space.w_Array and not w_array.weak
    assert env.call(71, space.w_Array, i(0)).size() == 0
    w_thing = env.call(71, thing_class, i(4))
    assert w_thing.size() == 6
    assert env.call(62, w_thing).value == 4


def test_basic_new_size_weak(env):
    w_weak_class = env.cls("WeakArray", 0, constants.FMT_WEAK)
    w_weak = env.call(71, w_weak_class, i(2))
    assert isinstance(w_weak, W_PointersObject) and w_weak.weak and w_weak.size() == 2


def test_basic_new_size_words_bytes_float(env):
    space = env.space
    w_bitmap_class = space.special(constants.SO_BITMAP_CLASS)
    w_words = env.call(71, w_bitmap_class, i(4))
    assert isinstance(w_words, W_WordsObject) and list(w_words.words) == [0] * 4
    assert w_words.getclass(space) is w_bitmap_class
    w_bytes = env.call(71, space.w_String, i(5))
    assert isinstance(w_bytes, W_BytesObject) and w_bytes.as_string() == "\x00" * 5
    assert w_bytes.getclass(space) is space.w_String
    w_float = env.call(71, space.w_Float, i(2))
    assert isinstance(w_float, W_Float) and w_float.value == 0.0
    assert w_float.getclass(space) is space.w_Float
    w_lpi = env.call(71, space.w_LargePositiveInteger, i(8))
    assert isinstance(w_lpi, W_BytesObject) and w_lpi.size() == 8


def test_basic_new_size_zero_of_a_fixed_class(env):
    # V3 VMs answer a plain instance; Squeak 2.2's DirectoryEntry new depends on it.
    space = env.space
    w_A = env.cls("A", 2, constants.FMT_FIXED)
    w_a = env.call(71, w_A, i(0))
    assert w_a.getclass(space) is w_A and w_a.size() == 2
    env.fails(71, w_A, i(1))
    env.fails(71, env.array(), i(0))
    space.is_spur = True
    try:
        env.fails(71, w_A, i(0))
    finally:
        space.is_spur = False


def test_basic_new_size_contexts(env):
    space = env.space
    w_ctx = env.call(71, space.w_MethodContext, i(10))
    assert isinstance(w_ctx, W_Context) and not w_ctx.is_block_context
    assert w_ctx.getclass(space) is space.w_MethodContext
    assert w_ctx.slot_count() == 10 and w_ctx.sp == 0 and w_ctx.is_dead()
    assert w_ctx.w_sender is env.nil
    w_block = env.call(71, space.w_BlockContext, i(3))
    assert isinstance(w_block, W_Context) and w_block.is_block_context
    assert w_block.getclass(space) is space.w_BlockContext
    assert env.call(62, w_block).value == 0


@pytest.fixture
def memory_limit(monkeypatch):
    """A heap limit of 64 MB: new: makes objects of at most 32 MB."""
    policy = memory.Policy()
    monkeypatch.setattr(memory, "policy", policy)
    policy.limit = 64 * 1024 * 1024
    return policy


@pytest.mark.parametrize("size", [-1, -MAXINT - 1, 32 * 1024 * 1024 + 1, MAXINT])
def test_basic_new_size_huge_or_negative_fails(env, memory_limit, size):
    space = env.space
    for w_class in [space.w_Array, space.w_String, space.special(constants.SO_BITMAP_CLASS),
                    space.w_MethodContext]:
        env.fails(71, w_class, i(size))


def test_basic_new_limit_follows_the_memory_policy(env, memory_limit):
    space = env.space
    assert env.call(71, space.w_Array, i(4 * 1024 * 1024)).size() == 4 * 1024 * 1024
    assert env.call(71, space.w_String, i(32 * 1024 * 1024)).size() == 32 * 1024 * 1024
    memory_limit.limit = 1024 * 1024 * 1024
    # Beyond the old fixed 16M-element limit.
    assert env.call(71, space.w_Array, i(20000000)).size() == 20000000


def test_basic_new_size_other_failures(env):
    space = env.space
    env.fails(71, space.w_Array, large(space, 2 ** 40))   # a LargeInteger size
    env.fails(71, space.w_Array, env.nil)
    env.fails(71, space.w_Point, i(2))                    # fixed classes are not indexable
    env.fails(71, space.w_Object, i(3))
    env.fails(71, space.w_CompiledMethod, i(10))          # methods come from newMethod:header:
    env.fails(71, i(7), i(3))
    env.fails(71, env.nil, i(3))


# --- instVarAt: / instVarAt:put: (73, 74) -------------------------------------------

def test_inst_var_at(env, thing_class):
    w_point = env.obj(env.space.w_Point, i(3), i(4))
    assert env.call(73, w_point, i(1)).value == 3
    assert env.call(73, w_point, i(2)).value == 4
    for index in [0, -1, 3]:
        env.fails(73, w_point, i(index))
    env.fails(73, w_point, env.nil)
    w_thing = env.obj(thing_class, i(1), i(2), i(3))
    assert env.call(73, w_thing, i(3)).value == 3     # indexable fields follow
    env.fails(73, w_thing, i(4))


def test_slot_at_is_inst_var_at_for_pointers(env, thing_class):
    # Spur images (Cuis 5) name their instVarAt:/instVarAt:put: by 173/174
    # (primitiveSlotAt:, primitiveSlotAtPut:).
    w_thing = env.obj(thing_class, i(1), i(2), i(3))
    assert [env.call(173, w_thing, i(n)).value for n in (1, 2, 3)] == [1, 2, 3]
    env.fails(173, w_thing, i(4))
    assert env.call(174, w_thing, i(2), i(9)).value == 9
    assert env.call(73, w_thing, i(2)).value == 9
    env.fails(174, w_thing, i(0), i(9))


def test_inst_var_at_bad_receivers(env):
    env.fails(73, env.string("abc"), i(1))
    env.fails(73, env.words(1), i(1))
    env.fails(73, i(5), i(1))
    env.fails(73, env.space.wrap_float(1.0), i(1))
    env.fails(74, env.string("abc"), i(1), i(1))
    env.fails(74, i(5), i(1), i(1))


def test_inst_var_at_context(env):
    space = env.space
    w_method = env.method("\x70\x7c", [env.nil])
    w_sender = env.context()
    w_ctx = env.context(i(11), i(12))
    w_ctx.w_sender = w_sender
    w_ctx.w_method = w_method
    w_ctx.w_slot_method = w_method
    w_ctx.start_at(1)
    w_ctx.w_receiver = env.string("rcvr")
    assert env.call(73, w_ctx, i(1)) is w_sender
    assert env.call(73, w_ctx, i(2)).value == 2 * 4 + 1 + 1
    assert env.call(73, w_ctx, i(3)).value == 2
    assert env.call(73, w_ctx, i(4)) is w_method
    assert env.call(73, w_ctx, i(5)) is env.nil
    assert env.call(73, w_ctx, i(6)) is w_ctx.w_receiver
    assert env.call(73, w_ctx, i(7)).value == 11
    assert env.call(73, w_ctx, i(8)).value == 12
    env.fails(73, w_ctx, i(constants.CTX_FIXED_SIZE + w_ctx.slot_count() + 1))
    env.fails(73, w_ctx, i(0))


def test_inst_var_at_put(env):
    w_point = env.obj(env.space.w_Point, i(3), i(4))
    w_value = env.string("v")
    assert env.call(74, w_point, i(2), w_value) is w_value
    assert w_point.slots[1] is w_value
    for index in [0, -1, 3]:
        env.fails(74, w_point, i(index), i(0))
    assert w_point.slots[0].value == 3


def test_inst_var_at_put_context(env):
    w_ctx = env.context(i(1), i(2), i(3), size=4)
    env.call(74, w_ctx, i(3), i(1))              # stackp
    assert w_ctx.sp == 1
    env.call(74, w_ctx, i(7), i(42))             # first stack slot
    assert w_ctx.slots()[0].value == 42
    env.fails(74, w_ctx, i(3), env.nil)          # stackp must be an integer in range
    env.fails(74, w_ctx, i(3), i(5))
    env.fails(74, w_ctx, i(3), i(-1))
    assert w_ctx.sp == 1
    env.fails(74, w_ctx, i(constants.CTX_FIXED_SIZE + 5), i(0))


# --- identityHash (75, 171), Character value: (170) ---------------------------------

def test_identity_hash_stable(env):
    objs = [env.array(), env.string("x"), env.words(1), env.space.wrap_float(1.5),
            env.method(), env.context()]
    for w_obj in objs:
        h1 = env.call(75, w_obj)
        h2 = env.call(75, w_obj)
        assert isinstance(h1, W_SmallInteger)
        assert h1.value == h2.value == w_obj.gethash(env.space)
        assert 0 <= h1.value <= env.space.maxint
        assert env.call(171, w_obj).value == h1.value
    hashes = set(env.call(75, env.array()).value for _ in range(20))
    assert len(hashes) > 1


def test_identity_hash_immediates_and_characters(env):
    assert env.call(75, i(42)).value == 42
    assert env.call(75, i(-3)).value == -3
    assert env.call(171, env.char(65)).value == 65


def test_behavior_hash_is_a_classs_identity_hash(env):
    w_class = env.cls("Hashed", 0, constants.FMT_FIXED)
    w_hash = env.call(175, w_class)
    assert w_hash.value == w_class.gethash(env.space) == env.call(75, w_class).value
    assert w_hash.value != 0
    w_meta = w_class.getclass(env.space)
    assert env.call(175, w_meta).value == env.call(75, w_meta).value
    for w_bad in [env.array(), env.string("x"), i(3), env.nil]:
        env.fails(175, w_bad)


def test_max_identity_hash(env):
    expected = 0x3fffff if env.space.is_spur else 0xfff
    assert env.call(176, env.nil).value == expected
    for _ in range(50):
        assert env.call(75, env.array()).value <= expected


def test_character_value(env):
    w_table = env.space.w_character_table
    assert env.call(170, env.space.w_Character, i(65)) is w_table.slots[65]
    assert env.call(170, env.space.w_Character, i(0)) is w_table.slots[0]
    for w_bad in [i(256), i(-1), env.nil, env.char(65)]:
        env.fails(170, env.space.w_Character, w_bad)
    # Without an argument the receiver is the code (Pharo's SmallInteger>>asCharacter).
    assert env.call(170, i(66)) is w_table.slots[66]
    for w_bad in [i(256), i(-1), env.nil]:
        env.fails(170, w_bad)


# --- someInstance / nextInstance (77, 78): loops linear overall -------------------------------------------

def test_some_instance_and_next_instance(env):
    w_class = env.cls("Lonely", 1, constants.FMT_FIXED)
    instances = [env.obj(w_class, i(n)) for n in range(3)]
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()      # keep the host's enumeration order stable during the walk
    try:
        w_first = env.call(77, w_class)
        assert any(w_first is w for w in instances)
        seen = [w_first]
        w_cur = w_first
        while True:
            try:
                w_cur = env.call(78, w_cur)
            except PrimitiveFailed:
                break
            assert w_cur.getclass(env.space) is w_class
            seen.append(w_cur)
            assert len(seen) <= 3
    finally:
        if was_enabled:
            gc.enable()
    assert sorted(id(w) for w in seen) == sorted(id(w) for w in instances)


def test_some_instance_none(env):
    w_class = env.cls("Nobody", 0, constants.FMT_FIXED)
    env.fails(77, w_class)


def test_some_instance_finds_other_representations(env):
    w_class = env.cls("Blob", 0, constants.FMT_BYTES)
    w_blob = W_BytesObject(w_class, 3)
    assert env.call(77, w_class) is w_blob


def test_next_instance_immediates_fail(env):
    env.fails(78, i(3))


# --- someObject / nextObject (138, 139), allInstances / allObjects (177, 178) --------

@pytest.fixture
def counted_walks(monkeypatch):
    """Counts the walks of the whole heap (heap.all_objects calls)."""
    from spyvm import heap
    calls = []
    real = heap.all_objects

    def counting(interp):
        calls.append(1)
        return real(interp)
    monkeypatch.setattr(heap, "all_objects", counting)
    return calls


@pytest.fixture
def gc_off():
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()      # keep the host's enumeration order stable between snapshots
    yield
    if was_enabled:
        gc.enable()


def _instances_loop(env, w_class, each=None):
    """allInstancesDo: as the image writes it: someInstance, then nextInstance."""
    seen = []
    try:
        w_cur = env.call(77, w_class)
    except PrimitiveFailed:
        return seen
    while True:
        seen.append(w_cur)
        if each is not None:
            each(w_cur)
        try:
            w_cur = env.call(78, w_cur)
        except PrimitiveFailed:
            return seen


def test_instance_loop_walks_the_heap_a_bounded_number_of_times(env, counted_walks, gc_off):
    # Linear overall: one snapshot for the whole loop, one more at its end for
    # the instances made since, however many instances there are.
    w_class = env.cls("Many", 1, constants.FMT_FIXED)
    instances = [env.obj(w_class, i(n)) for n in range(200)]
    seen = _instances_loop(env, w_class)
    assert sorted(id(w) for w in seen) == sorted(id(w) for w in instances)
    assert len(counted_walks) <= 2
    assert env.interp.heap_walks.count() == 0       # a finished walk is dropped


def test_instance_loop_that_creates_instances_ends(env, gc_off):
    w_class = env.cls("Breeder", 1, constants.FMT_FIXED)
    instances = [env.obj(w_class, i(n)) for n in range(5)]
    made = []
    seen = _instances_loop(env, w_class,
                           lambda w: made.append(env.obj(w_class, i(-1))))
    assert len(made) == len(seen)
    # Every instance that existed when the walk began is seen exactly once;
    # some of those made during it may be (one extension), and the loop ends.
    ids = [id(w) for w in seen]
    assert len(set(ids)) == len(ids)
    assert set(id(w) for w in instances) <= set(ids)
    assert len(seen) <= len(instances) * 2


def test_nested_instance_loops_over_other_classes(env, counted_walks, gc_off):
    w_outer = env.cls("Outer", 1, constants.FMT_FIXED)
    w_inner = env.cls("Inner", 1, constants.FMT_FIXED)
    outers = [env.obj(w_outer, i(n)) for n in range(4)]
    inners = [env.obj(w_inner, i(n)) for n in range(3)]
    inner_counts = []
    seen = _instances_loop(env, w_outer,
                           lambda w: inner_counts.append(len(_instances_loop(env, w_inner))))
    assert sorted(id(w) for w in seen) == sorted(id(w) for w in outers)
    assert inner_counts == [len(inners)] * len(outers)


def test_instance_loop_goes_on_after_the_walks_are_forgotten(env, gc_off):
    # A collection (primitive 130) forgets the walks: the next step takes a new
    # snapshot and continues after the object it names.
    w_class = env.cls("Forgotten", 1, constants.FMT_FIXED)
    instances = [env.obj(w_class, i(n)) for n in range(6)]
    seen = _instances_loop(env, w_class, lambda w: env.call(130, env.nil))
    assert sorted(id(w) for w in seen) == sorted(id(w) for w in instances)


def test_next_instance_of_an_object_made_after_the_walk_began(env, gc_off):
    w_class = env.cls("Late", 1, constants.FMT_FIXED)
    w_first = env.obj(w_class, i(1))
    assert env.call(77, w_class) is w_first
    w_late = env.obj(w_class, i(2))
    with pytest.raises(PrimitiveFailed):
        env.call(78, w_late)           # the only instances are w_first and w_late ...
    assert env.call(78, w_first) is w_late      # ... and the walk finds the late one


def _objects_loop(env, end_marker=False, each=None):
    """allObjectsDo: in both of Squeak's forms: until nextObject answers 0, or
    until it reaches an end marker made after someObject."""
    seen = []
    w_cur = env.call(138, env.nil)
    w_end = None
    if end_marker:
        w_end = env.obj(env.space.w_Point, i(0), i(0))
    while True:
        if w_end is not None and w_cur is w_end:
            return seen, w_end
        if isinstance(w_cur, W_SmallInteger):
            assert w_cur.value == 0
            return seen, None
        seen.append(w_cur)
        if each is not None:
            each(w_cur)
        w_cur = env.call(139, w_cur)


def test_object_loop_sees_every_object_once(env, counted_walks, gc_off):
    w_class = env.cls("Counted", 1, constants.FMT_FIXED)
    mine = [env.obj(w_class, i(n)) for n in range(50)]
    seen, _ = _objects_loop(env)
    ids = [id(w) for w in seen]
    assert len(set(ids)) == len(ids)
    assert set(id(w) for w in mine) <= set(ids)
    assert any(w is env.space.w_nil for w in seen)
    assert len(counted_walks) <= 2
    assert env.interp.heap_walks.count() == 0


def test_object_loop_reaches_its_end_marker(env, gc_off):
    seen, w_end = _objects_loop(env, end_marker=True,
                                each=lambda w: env.obj(env.space.w_Point, i(1), i(1)))
    assert w_end is not None and len(seen) > 0


def test_next_object_of_immediates_fails(env):
    env.fails(139, i(3))
    env.fails(78, i(3))


def test_walks_are_bounded(env, gc_off):
    from spyvm import heap
    classes = [env.cls("C%d" % n, 0, constants.FMT_FIXED) for n in range(heap.MAX_WALKS + 3)]
    keep = [env.obj(w_class) for w_class in classes for _ in range(2)]
    for w_class in classes:
        env.call(77, w_class)             # started and abandoned
    assert 0 < env.interp.heap_walks.count() <= heap.MAX_WALKS
    assert len(keep) == 2 * len(classes)


def test_all_instances_and_all_objects(env, counted_walks):
    w_class = env.cls("Listed", 1, constants.FMT_FIXED)
    instances = [env.obj(w_class, i(n)) for n in range(7)]
    w_array = env.call(177, w_class)
    assert w_array.getclass(env.space) is env.space.w_Array
    assert sorted(id(w) for w in w_array.slots) == sorted(id(w) for w in instances)
    assert len(counted_walks) == 1
    w_all = env.call(178, env.nil)
    ids = set(id(w) for w in w_all.slots)
    assert set(id(w) for w in instances) <= ids and id(w_class) in ids
    assert len(counted_walks) == 2


# --- newMethod:header: (79) ---------------------------------------------------------

def test_new_method(env):
    space = env.space
    header = env.header(2, num_args=1, num_temps=3, prim=60)
    w_method = env.call(79, space.w_CompiledMethod, i(5), i(header))
    assert isinstance(w_method, W_CompiledMethod)
    assert w_method.getclass(space) is space.w_CompiledMethod
    assert w_method.literals == [env.nil, env.nil]
    assert w_method.bytes == "\x00" * 5
    assert w_method.num_args == 1 and w_method.num_temps == 3 and w_method.primitive == 60
    assert env.call(62, w_method).value == 3 * 4 + 5
    assert env.call(68, w_method, i(1)).value == header
    w_empty = env.call(79, space.w_CompiledMethod, i(0), i(env.header(0)))
    assert w_empty.bytes == "" and w_empty.literals == []


def test_new_method_failures(env):
    space = env.space
    w_cm = space.w_CompiledMethod
    header = i(env.header(1))
    env.fails(79, space.w_Array, i(5), header)
    env.fails(79, space.w_String, i(5), header)
    env.fails(79, w_cm, i(-1), header)
    env.fails(79, w_cm, i(memory.max_new_bytes() + 1), header)
    env.fails(79, w_cm, i(MAXINT), header)
    env.fails(79, w_cm, env.nil, header)
    env.fails(79, w_cm, i(5), env.nil)
    env.fails(79, i(3), i(5), header)


# --- replaceFrom:to:with:startingAt: (105) ------------------------------------------

def test_replace_bytes(env):
    w_str = env.string("hello world")
    w_src = env.string("xxHELLOxx")
    assert env.call(105, w_str, i(1), i(5), w_src, i(3)) is w_str
    assert w_str.as_string() == "HELLO world"
    env.call(105, w_str, i(7), i(11), env.bytearray("WORLD"), i(1))
    assert w_str.as_string() == "HELLO WORLD"
    assert w_src.as_string() == "xxHELLOxx"


def test_replace_pointers_skip_named_fields(env, thing_class):
    w_rcvr = env.obj(thing_class, i(-1), i(-2), i(0), i(0), i(0))
    w_src = env.array(i(1), i(2), i(3), i(4))
    env.call(105, w_rcvr, i(2), i(3), w_src, i(3))
    assert ints(w_rcvr) == [-1, -2, 0, 3, 4]
    w_src2 = env.obj(thing_class, i(-5), i(-6), i(7), i(8))
    env.call(105, w_rcvr, i(1), i(2), w_src2, i(1))
    assert ints(w_rcvr) == [-1, -2, 7, 8, 4]


def test_replace_words(env):
    w_words = env.words(1, 2, 3, 4)
    env.call(105, w_words, i(2), i(3), env.words(7, 8, 9), i(2))
    assert list(w_words.words) == [1, 8, 9, 4]


def test_replace_empty_range(env):
    w_str = env.string("abc")
    env.call(105, w_str, i(1), i(0), env.string(""), i(1))
    env.call(105, w_str, i(4), i(3), env.string("z"), i(2))
    assert w_str.as_string() == "abc"


def test_replace_overlapping_same_object(env):
    # Like the Smalltalk fallback (which copies backwards when needed): memmove.
    w_str = env.string("abcdef")
    env.call(105, w_str, i(2), i(4), w_str, i(1))
    assert w_str.as_string() == "aabcef"
    w_str = env.string("abcdef")
    env.call(105, w_str, i(1), i(3), w_str, i(2))
    assert w_str.as_string() == "bcddef"
    w_array = env.array(i(1), i(2), i(3), i(4), i(5))
    env.call(105, w_array, i(2), i(5), w_array, i(1))
    assert ints(w_array) == [1, 1, 2, 3, 4]
    w_words = env.words(1, 2, 3, 4)
    env.call(105, w_words, i(1), i(3), w_words, i(2))
    assert list(w_words.words) == [2, 3, 4, 4]


def test_replace_failures(env):
    w_str = env.string("hello")
    w_src = env.string("abcde")
    bad = [
        (i(0), i(2), w_src, i(1)),         # start 0
        (i(-1), i(2), w_src, i(1)),
        (i(1), i(6), w_src, i(1)),         # stop past the end
        (i(3), i(1), w_src, i(1)),         # stop < start - 1
        (i(1), i(3), w_src, i(4)),         # replacement too short
        (i(1), i(3), w_src, i(0)),         # replacement start 0
        (i(1), i(3), w_src, i(-2)),
        (env.nil, i(3), w_src, i(1)),
        (i(1), env.nil, w_src, i(1)),
        (i(1), i(3), w_src, env.nil),
        (i(1), i(3), env.array(i(97), i(98), i(99)), i(1)),   # mixed kinds
        (i(1), i(1), env.words(97), i(1)),
        (i(1), i(3), i(5), i(1)),
    ]
    for args in bad:
        env.fails(105, w_str, *args)
    assert w_str.as_string() == "hello"
    w_array = env.array(i(1), i(2))
    env.fails(105, w_array, i(1), i(2), env.string("ab"), i(1))
    env.fails(105, env.words(1, 2), i(1), i(2), env.string("abcdefgh"), i(1))
    env.fails(105, env.words(1, 2), i(1), i(2), env.string("ab"), i(1))
    env.fails(105, env.method("\x00\x00"), i(9), i(10), env.string("ab"), i(1))
    env.fails(105, i(5), i(1), i(0), w_src, i(1))
    assert ints(w_array) == [1, 2]


# --- == and class (110, 111) --------------------------------------------------------

def test_identical(env):
    space = env.space
    w_a, w_b = env.array(), env.array()
    assert env.call(110, w_a, w_a) is space.w_true
    assert env.call(110, w_a, w_b) is space.w_false
    assert env.call(110, i(3), i(3)) is space.w_true
    assert env.call(110, i(3), i(4)) is space.w_false
    assert env.call(110, i(3), w_a) is space.w_false
    assert env.call(110, env.nil, env.nil) is space.w_true
    assert env.call(110, env.string("a"), env.string("a")) is space.w_false
    assert env.call(110, env.char(65), env.char(65)) is space.w_true


def test_class(env, thing_class):
    space = env.space
    assert env.call(111, env.array()) is space.w_Array
    assert env.call(111, i(3)) is space.w_SmallInteger
    assert env.call(111, space.wrap_float(1.0)) is space.w_Float
    assert env.call(111, env.string("")) is space.w_String
    assert env.call(111, env.context()) is space.w_MethodContext
    assert env.call(111, env.method()) is space.w_CompiledMethod
    assert env.call(111, env.obj(thing_class)) is thing_class
    assert env.call(111, env.nil) is env.nil.getclass(space)
    assert env.call(111, space.w_Point) is space.w_Metaclass


# --- constantFill: (145) ------------------------------------------------------------

def test_constant_fill(env):
    w_str = env.string("abcd")
    assert env.call(145, w_str, i(7)) is w_str
    assert w_str.as_string() == "\x07" * 4
    w_words = env.words(1, 2, 3)
    env.call(145, w_words, large(env.space, 0xffffffff))
    assert list(w_words.words) == [0xffffffff] * 3
    env.call(145, env.string(""), i(0))


def test_constant_fill_failures(env):
    w_str = env.string("ab")
    for w_bad in [i(256), i(-1), env.nil, env.char(65)]:
        env.fails(145, w_str, w_bad)
    assert w_str.as_string() == "ab"
    w_words = env.words(1)
    for w_bad in [i(-1), large(env.space, 2 ** 32), env.nil]:
        env.fails(145, w_words, w_bad)
    assert list(w_words.words) == [1]
    env.fails(145, env.array(i(1)), i(1))
    env.fails(145, env.space.wrap_float(1.0), i(0))
    env.fails(145, i(1), i(1))


# --- shallowCopy (148) --------------------------------------------------------------

def _copy_check(env, w_obj, mutate, contents):
    w_copy = env.call(148, w_obj)
    assert w_copy is not w_obj
    assert type(w_copy) is type(w_obj)
    assert w_copy.getclass(env.space) is w_obj.getclass(env.space)
    assert contents(w_copy) == contents(w_obj)
    before = contents(w_obj)
    mutate(w_copy)
    assert contents(w_obj) == before
    assert contents(w_copy) != before
    return w_copy


def test_shallow_copy_pointers(env, thing_class):
    w_elem = env.string("shared")
    w_obj = env.obj(thing_class, i(1), w_elem, i(3))
    w_copy = _copy_check(env, w_obj, lambda w: env.call(61, w, i(1), i(9)),
                         lambda w: list(w.slots))
    assert w_copy.slots[1] is w_elem     # shallow: elements are shared


def test_shallow_copy_weak(env):
    w_weak = env.call(71, env.cls("WeakArray", 0, constants.FMT_WEAK), i(2))
    w_copy = env.call(148, w_weak)
    assert w_copy.weak and w_copy is not w_weak


def test_shallow_copy_bytes(env):
    _copy_check(env, env.string("abc"), lambda w: env.call(61, w, i(1), i(0)),
                lambda w: w.as_string())


def test_shallow_copy_words(env):
    _copy_check(env, env.words(1, 2), lambda w: env.call(61, w, i(2), i(5)),
                lambda w: list(w.words))


def test_shallow_copy_float(env):
    _copy_check(env, env.space.wrap_float(1.5), lambda w: env.call(61, w, i(2), i(1)),
                lambda w: w.value)


def test_shallow_copy_method(env):
    w_lit = env.string("lit")
    w_method = env.method("\x10\x7c", [w_lit, env.nil], num_args=2, num_temps=3, prim=62)
    w_copy = _copy_check(
        env, w_method,
        lambda w: (env.call(61, w, i(13), i(0x11)), env.call(69, w, i(3), i(4))),
        lambda w: (w.header, list(w.literals), w.bytes))
    assert w_copy.num_args == 2 and w_copy.num_temps == 3 and w_copy.primitive == 62
    assert w_copy.literals[0] is w_lit


def test_shallow_copy_context(env):
    w_ctx = env.context(i(1), i(2))
    w_ctx.w_method = env.method()
    w_ctx.start_at(0)
    w_ctx.w_sender = env.context()
    w_copy = _copy_check(env, w_ctx, lambda w: env.call(61, w, i(1), i(9)),
                         lambda w: (w.sp, w.slots(), w.pc, w.w_method))
    assert w_copy.w_sender is w_ctx.w_sender
    assert not w_copy.is_block_context


def test_shallow_copy_block_context(env):
    w_block = W_Context(env.space, env.space.w_BlockContext, True, 4)
    w_block.block_nargs = 2
    w_block.w_home = env.context()
    w_copy = env.call(148, w_block)
    assert isinstance(w_copy, W_Context) and w_copy is not w_block
    assert w_copy.is_block_context and w_copy.block_nargs == 2
    assert w_copy.w_home is w_block.w_home


def test_shallow_copy_immediates(env):
    assert env.call(148, i(5)).value == 5


# --- become (128 two-way, 72 one-way) -----------------------------------------------

def _two_classes(env):
    return (env.cls("A", 2, constants.FMT_FIXED), env.cls("B", 2, constants.FMT_FIXED))


def test_become_two_way(env):
    space = env.space
    w_A, w_B = _two_classes(env)
    w_a = env.obj(w_A, i(1), i(2))
    w_b = env.obj(w_B, i(3), i(4))
    w_holder = env.array(w_a, w_b, w_a)
    w_ctx = env.context(w_b)
    w_rcvr, w_arg = env.array(w_a), env.array(w_b)
    env.interp.method_cache.by_selector[env.string("sel")] = {}
    assert env.call(128, w_rcvr, w_arg) is w_rcvr
    # references that saw a now see b and the other way round
    seen0 = env.call(60, w_holder, i(1))
    seen1 = env.call(60, w_holder, i(2))
    assert env.call(111, seen0) is w_B and ints(seen0) == [3, 4]
    assert env.call(111, seen1) is w_A and ints(seen1) == [1, 2]
    assert env.call(110, seen0, env.call(60, w_holder, i(3))) is space.w_true
    assert env.call(111, w_ctx.slots()[0]) is w_A
    # the arrays themselves hold the exchanged objects
    assert env.call(111, env.call(60, w_rcvr, i(1))) is w_B
    assert env.call(111, env.call(60, w_arg, i(1))) is w_A


def test_become_two_way_mixed_representations(env):
    w_A, _ = _two_classes(env)
    w_a = env.obj(w_A, i(1), i(2))
    w_s = env.string("text")
    w_holder = env.array(w_a, w_s)
    w_ctx = env.context(w_a)
    env.call(128, env.array(w_a), env.array(w_s))
    assert env.call(111, env.call(60, w_holder, i(1))) is env.space.w_String
    assert env.call(60, w_holder, i(1)).as_string() == "text"
    assert env.call(111, env.call(60, w_holder, i(2))) is w_A
    assert env.call(111, w_ctx.slots()[0]) is env.space.w_String


def test_become_walks_the_heap_only_for_what_it_cannot_swap(env, counted_walks):
    w_A, _ = _two_classes(env)
    w_a, w_b = env.obj(w_A, i(1), i(2)), env.obj(w_A, i(3), i(4))
    w_c, w_d = env.obj(w_A, i(5), i(6)), env.obj(w_A, i(7), i(8))
    w_s = env.string("text")
    w_holder = env.array(w_a, w_c, w_s)
    env.call(128, env.array(w_a, w_b), env.array(w_c, w_d))     # same representations
    assert counted_walks == []
    assert ints(env.call(60, w_holder, i(1))) == [5, 6]
    assert ints(env.call(60, w_holder, i(2))) == [1, 2]
    # a mixed pair beside a swappable one: one walk, both exchanged
    env.call(128, env.array(w_a, w_b), env.array(w_s, w_d))
    assert len(counted_walks) == 1
    assert env.call(60, w_holder, i(1)).as_string() == "text"
    assert ints(env.call(60, w_holder, i(3))) == [5, 6]
    assert ints(w_b) == [3, 4] and ints(w_d) == [7, 8]      # swapped: contents exchanged
    env.call(72, env.array(w_c), env.array(w_d))                # one-way: always a walk
    assert len(counted_walks) == 2
    assert env.call(60, w_holder, i(2)) is w_d


def test_become_an_object_named_twice(env):
    # a in two pairs: references are remapped (the later pair wins for a), no
    # contents swapped, so no object ends up with another one's contents twice.
    w_A, _ = _two_classes(env)
    w_a, w_b, w_c = env.obj(w_A, i(1), i(0)), env.obj(w_A, i(2), i(0)), env.obj(w_A, i(3), i(0))
    w_holder = env.array(w_a, w_b, w_c)
    env.call(128, env.array(w_a, w_a), env.array(w_b, w_c))
    assert w_holder.slots[0] is w_c and w_holder.slots[1] is w_a and w_holder.slots[2] is w_a
    assert ints(w_a) == [1, 0] and ints(w_b) == [2, 0] and ints(w_c) == [3, 0]


def test_become_forgets_heap_walks(env):
    w_A, _ = _two_classes(env)
    w_a, w_b = env.obj(w_A, i(1), i(2)), env.obj(w_A, i(3), i(4))
    env.call(77, w_A)
    assert env.interp.heap_walks.count() == 1
    env.call(72, env.array(w_a), env.array(w_b))
    assert env.interp.heap_walks.count() == 0


def test_become_two_way_identity_hashes_stay_with_references(env):
    """Squeak: "The identityHashes remain with the pointers rather than with the
    objects so that objects in hashed structures should still be properly indexed
    after the mutation" (Array>>elementsExchangeIdentityWith:, primitive 128)."""
    w_A, w_B = _two_classes(env)
    w_a = env.obj(w_A, i(1), i(2))
    w_b = env.obj(w_B, i(3), i(4))
    w_holder = env.array(w_a, w_b)
    h_a = env.call(75, w_a).value
    h_b = env.call(75, w_b).value
    assert h_a != h_b
    env.call(128, env.array(w_a), env.array(w_b))
    seen0 = env.call(60, w_holder, i(1))
    seen1 = env.call(60, w_holder, i(2))
    assert env.call(111, seen0) is w_B             # the exchange happened
    assert env.call(75, seen0).value == h_a        # ... the hash did not move
    assert env.call(75, seen1).value == h_b


def test_become_two_way_mixed_identity_hashes_stay_with_references(env):
    w_A, _ = _two_classes(env)
    w_a = env.obj(w_A, i(1), i(2))
    w_s = env.string("text")
    w_holder = env.array(w_a, w_s)
    h_a = env.call(75, w_a).value
    h_s = env.call(75, w_s).value
    assert h_a != h_s
    env.call(128, env.array(w_a), env.array(w_s))
    assert env.call(75, env.call(60, w_holder, i(1))).value == h_a
    assert env.call(75, env.call(60, w_holder, i(2))).value == h_s


def test_become_one_way(env):
    space = env.space
    w_A, w_B = _two_classes(env)
    w_a = env.obj(w_A, i(1), i(2))
    w_b = env.obj(w_B, i(3), i(4))
    w_holder = env.array(w_a, w_b)
    w_ctx = env.context(w_a)
    w_rcvr = env.array(w_a)
    assert env.call(72, w_rcvr, env.array(w_b)) is w_rcvr
    assert env.call(60, w_holder, i(1)) is w_b
    assert env.call(60, w_holder, i(2)) is w_b
    assert w_ctx.slots()[0] is w_b
    assert env.call(60, w_rcvr, i(1)) is w_b
    assert ints(w_b) == [3, 4] and env.call(111, w_b) is w_B


def test_become_one_way_class_references(env):
    w_Old = env.cls("Old", 1, constants.FMT_FIXED)
    w_New = env.cls("New", 1, constants.FMT_FIXED)
    w_inst = env.obj(w_Old, i(1))
    env.call(72, env.array(w_Old), env.array(w_New))
    assert env.call(111, w_inst) is w_New


def test_become_one_way_target_takes_source_hash(env):
    """Squeak (Array>>elementsForwardIdentityTo:, primitive 72): "The identityHashes
    remain with the pointers rather than with the objects"."""
    w_A, w_B = _two_classes(env)
    w_a = env.obj(w_A, i(1), i(2))
    w_b = env.obj(w_B, i(3), i(4))
    w_holder = env.array(w_a)
    h_a = env.call(75, w_a).value
    assert env.call(75, w_b).value != h_a
    env.call(72, env.array(w_a), env.array(w_b))
    assert env.call(60, w_holder, i(1)) is w_b
    assert env.call(75, w_b).value == h_a


def test_become_special_objects_array_one_way(env):
    space = env.space
    w_old = space.w_special_objects
    w_new = env.array(*w_old.slots)
    env.call(72, env.array(w_old), env.array(w_new))
    assert space.w_special_objects is w_new
    assert env.call(129, env.nil) is w_new


@pytest.mark.parametrize("number", [72, 128])
def test_become_failures(env, number):
    w_A, w_B = _two_classes(env)
    w_a = env.obj(w_A, i(1), i(2))
    w_b = env.obj(w_B, i(3), i(4))
    w_holder = env.array(w_a, w_b)
    env.fails(number, env.array(w_a, w_b), env.array(w_b))           # sizes differ
    env.fails(number, env.array(w_a), env.string("x"))               # not an Array
    env.fails(number, env.string("x"), env.array(w_a))
    env.fails(number, i(3), env.array(w_a))
    env.fails(number, env.array(w_a), i(3))
    env.fails(number, env.array(w_a), env.array(i(3)))               # immediates
    env.fails(number, env.array(i(3)), env.array(w_a))
    env.fails(number, env.array(w_a, w_b), env.array(w_b, i(1)))     # checked first
    assert w_holder.slots[0] is w_a and w_holder.slots[1] is w_b
    assert ints(w_a) == [1, 2] and w_a.getclass(env.space) is w_A


# --- changeClass (115), adoptInstance (160) ------------------------------------------

def _change(env, how, w_obj, w_class, w_instance):
    if how == "change":
        return env.call(115, w_obj, w_instance)
    return env.call(160, w_class, w_obj)


def _change_fails(env, how, w_obj, w_class, w_instance):
    before = w_obj.getclass(env.space)
    if how == "change":
        env.fails(115, w_obj, w_instance)
    else:
        env.fails(160, w_class, w_obj)
    assert w_obj.getclass(env.space) is before


HOW = ["change", "adopt"]


@pytest.mark.parametrize("how", HOW)
def test_change_class_pointers(env, how):
    w_A, w_B = _two_classes(env)
    w_obj = env.obj(w_A, i(1), i(2))
    assert _change(env, how, w_obj, w_B, env.obj(w_B, i(0), i(0))) is w_obj
    assert w_obj.getclass(env.space) is w_B and ints(w_obj) == [1, 2]


@pytest.mark.parametrize("how", HOW)
def test_change_class_bytes_and_words(env, how):
    space = env.space
    w_str = env.string("ab")
    w_bytearray = env.bytearray("")
    _change(env, how, w_str, space.w_ByteArray, w_bytearray)
    assert w_str.getclass(space) is space.w_ByteArray and w_str.as_string() == "ab"
    w_words_class = env.cls("WordArray", 0, constants.FMT_WORDS)
    w_words = env.words(1, 2)
    _change(env, how, w_words, w_words_class, W_WordsObject(w_words_class, 0))
    assert w_words.getclass(space) is w_words_class


@pytest.mark.parametrize("how", HOW)
def test_change_class_representation_mismatch_fails(env, how):
    space = env.space
    w_A, _ = _two_classes(env)
    w_bitmap = space.special(constants.SO_BITMAP_CLASS)
    _change_fails(env, how, env.obj(w_A, i(1), i(2)), space.w_String, env.string(""))
    _change_fails(env, how, env.string("ab"), w_A, env.obj(w_A, i(0), i(0)))
    _change_fails(env, how, env.string("ab"), w_bitmap, env.words())
    _change_fails(env, how, env.words(1), space.w_String, env.string(""))
    _change_fails(env, how, env.words(1), w_A, env.obj(w_A, i(0), i(0)))
    _change_fails(env, how, env.context(), w_A, env.obj(w_A, i(0), i(0)))
    _change_fails(env, how, env.method(), space.w_ByteArray, env.bytearray(""))


def test_change_class_immediates_fail(env):
    w_A, _ = _two_classes(env)
    env.fails(115, i(3), env.obj(w_A, i(0), i(0)))
    env.fails(115, env.obj(w_A, i(0), i(0)), i(3))
    env.fails(160, w_A, i(3))
    env.fails(160, i(3), env.obj(w_A, i(0), i(0)))
    env.fails(160, env.nil, env.obj(w_A, i(0), i(0)))


@pytest.mark.parametrize("how", HOW)
def test_change_class_fixed_size_must_match(env, how):
    """Squeak's primitiveChangeClass fails "when the argument's class is fixed and the
    receiver's size differs from the size that an instance of the argument's class
    should have"."""
    w_Three = env.cls("Three", 3, constants.FMT_FIXED)
    w_Two = env.cls("Two", 2, constants.FMT_FIXED)
    _change_fails(env, how, env.obj(w_Three, i(1), i(2), i(3)), w_Two,
                  env.obj(w_Two, i(0), i(0)))
    _change_fails(env, how, env.obj(w_Two, i(1), i(2)), w_Three,
                  env.obj(w_Three, i(0), i(0), i(0)))


@pytest.mark.parametrize("how", HOW)
def test_change_class_format_must_match(env, how):
    """Squeak fails "when the format of the receiver is different from the format of
    the argument's class": an Array (variable) must not turn into a Point (fixed)."""
    space = env.space
    _change_fails(env, how, env.array(i(1), i(2)), space.w_Point,
                  env.obj(space.w_Point, i(0), i(0)))


@pytest.mark.parametrize("how", HOW)
def test_change_class_words_to_compiled_method_fails(env, how):
    """A Bitmap (words) must not be relabelled a CompiledMethod."""
    space = env.space
    _change_fails(env, how, env.words(1, 2), space.w_CompiledMethod, env.method())


def test_become_refreshes_the_special_selectors(env):
    """Sends 176-207 use a cached copy of the special selectors (folded by the JIT):
    become: of the array that holds them must renew the copy."""
    space = env.space
    w_plus, w_minus = env.string("+"), env.string("-")
    w_old = env.array(*([w_plus, i(1)] * 32))
    w_new = env.array(*([w_minus, i(0)] * 32))
    space.w_special_objects.store(space, constants.SO_SPECIAL_SELECTORS, w_old)
    space.cache_special_selectors()
    assert (space.special_selectors[0], space.special_argcounts[0]) == (w_plus, 1)
    env.call(128, env.array(w_old), env.array(w_new))
    assert (space.special_selectors[0], space.special_argcounts[0]) == (w_minus, 0)
    assert space.special_selectors[31] is w_minus


def test_become_of_other_objects_keeps_the_special_selectors(env):
    """The cached copy is quasi-immutable: storing it again, even unchanged, would
    throw away every compiled trace with a special send at each become:."""
    w_A, w_B = _two_classes(env)
    before = env.space.special_selectors, env.space.special_argcounts
    env.call(128, env.array(env.obj(w_A, i(1), i(2))), env.array(env.obj(w_B, i(3), i(4))))
    env.call(72, env.array(env.obj(w_A, i(1), i(2))), env.array(env.string("x")))
    after = env.space.special_selectors, env.space.special_argcounts
    assert after[0] is before[0] and after[1] is before[1]


def _class_answering(env, name, w_selector, w_method):
    """A class whose method dictionary maps w_selector to w_method."""
    space = env.space
    w_class = env.cls(name, 0, constants.FMT_FIXED)
    w_dict = env.array(i(1), env.array(w_method), w_selector)
    w_class.store(space, constants.CLASS_METHODDICT, w_dict)
    return w_class


def _lookup_survives(env, how):
    """Cache a lookup, run how(); whether the cache (and the traces that folded its
    version) survived, and what the lookup answers afterwards."""
    w_sel = env.string("sel")
    w_m1, w_m2 = env.method(), env.method()
    w_C1 = _class_answering(env, "C1", w_sel, w_m1)
    w_C2 = _class_answering(env, "C2", w_sel, w_m2)
    interp = env.interp
    assert interp.lookup(w_C1, w_sel) is w_m1
    version = interp.method_cache.version
    how(w_C1, w_C2, w_m1, w_m2)
    return interp.method_cache.version is version, interp.lookup(w_C1, w_sel)


def test_become_of_ordinary_objects_keeps_the_method_cache(env):
    """The cache's version is quasi-immutable: flushing it at every become: would
    throw away every compiled trace."""
    w_A, w_B = _two_classes(env)
    def swap_plain(w_C1, w_C2, w_m1, w_m2):
        env.call(128, env.array(env.obj(w_A, i(1), i(2))), env.array(env.obj(w_B, i(3), i(4))))
    survived, w_found = _lookup_survives(env, swap_plain)
    assert survived


@pytest.mark.parametrize("what", ["class", "dictionary", "method"])
def test_become_of_what_a_lookup_read_flushes_the_method_cache(env, what):
    def swap(w_C1, w_C2, w_m1, w_m2):
        space = env.space
        if what == "class":
            env.call(128, env.array(w_C1), env.array(w_C2))
        elif what == "dictionary":
            env.call(128, env.array(w_C1.fetch(space, constants.CLASS_METHODDICT)),
                     env.array(w_C2.fetch(space, constants.CLASS_METHODDICT)))
        else:
            env.call(128, env.array(w_m1), env.array(w_m2))
    found = []
    def swap_and_remember(w_C1, w_C2, w_m1, w_m2):
        found.extend([w_m1, w_m2])
        swap(w_C1, w_C2, w_m1, w_m2)
    survived, w_found = _lookup_survives(env, swap_and_remember)
    assert not survived
    # C1 now has C2's dictionary; a swapped method keeps its identity
    assert w_found is (found[0] if what == "method" else found[1])


def test_one_way_become_flushes_the_method_cache(env):
    w_A, _ = _two_classes(env)
    def forward(w_C1, w_C2, w_m1, w_m2):
        env.call(72, env.array(env.obj(w_A, i(1), i(2))), env.array(env.obj(w_A, i(3), i(4))))
    survived, _ = _lookup_survives(env, forward)
    assert not survived


def test_replace_words_with_a_float_and_back(env):
    """A Float's words are word-format like a Bitmap's, in native order (low word
    first), as the C VM copies them: Float64Array>>floatAt: relies on it."""
    w_words = env.words(0, 0)
    assert env.call(105, w_words, i(1), i(2), env.space.wrap_float(1.0), i(1)) is w_words
    assert [int(w) for w in w_words.words] == [0, 0x3ff00000]
    w_float = env.space.wrap_float(0.0)
    w_source = env.words(0, 0x40000000)
    assert env.call(105, w_float, i(1), i(2), w_source, i(1)) is w_float
    assert w_float.value == 2.0
    env.fails(105, w_float, i(1), i(2), env.string("abcdefgh"), i(1))


def test_shallow_copy_of_a_smallfloat_is_itself(env):
    # Spur 64-bit's SmallFloat64 is an immediate: its copy is the same object.
    w_small = model.W_SmallFloat(env.space.w_Float, 2.5)
    assert env.call(148, w_small) is w_small


def test_a_smallfloat_reads_as_a_float_but_cannot_change(env):
    # Its words read as a boxed Float's (high word first); writing one would
    # change an immediate, whose value is its identity: primitive failure.
    w_small = model.W_SmallFloat(env.space.w_Float, 1.5)
    assert env.call(62, w_small).value == 2
    assert env.space.unwrap_uint32(env.call(60, w_small, i(1))) == 0x3ff80000
    assert env.space.unwrap_uint32(env.call(60, w_small, i(2))) == 0
    env.fails(61, w_small, i(1), i(0))
    env.fails(105, w_small, i(1), i(2), env.words(0, 0x40000000), i(1))
    assert w_small.value == 1.5
