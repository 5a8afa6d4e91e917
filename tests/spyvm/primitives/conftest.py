"""Shared fakes for primitive tests: an object space without an image, and helpers
that run a primitive on a context the way the interpreter does.

Fixtures:
- fake_space: a fresh 32-bit V3 ObjSpace (31-bit SmallIntegers) whose special
  objects array holds nil/false/true, stand-ins for the kernel classes and a
  Character table; fake_space64 is the same with 61-bit SmallIntegers;
- call_primitive(space, number, w_rcvr, *args_w): run numbered primitive
  `number`, check the stack contract, answer the result object;
- call_named_primitive(space, module, name, w_rcvr, *args_w): same for a named one;
- run_primitive(space, fn, w_rcvr, args_w): lower level, for raw primitives that
  answer another context: returns (ctx, answered_ctx).

A primitive that fails must raise PrimitiveFailed with the stack untouched; the
helpers assert that and re-raise, so tests write `with pytest.raises(PrimitiveFailed)`.

The helpers look primitives up in spyvm.primitives._TABLE / _NAMED: a test module
must import the primitive module it tests (spyvm.primitives.table() would import
every module).
"""

import pytest

from spyvm import constants, model
from spyvm.errors import PrimitiveFailed
from spyvm.objspace import ObjSpace


SPECIAL_OBJECTS_SIZE = 60

_SPUR_SPECS = {constants.FMT_EMPTY: 0, constants.FMT_FIXED: 1, constants.FMT_VARIABLE: 2,
               constants.FMT_FIXED_VARIABLE: 3, constants.FMT_WEAK: 4,
               constants.FMT_WORDS: 10, constants.FMT_BYTES: 16,
               constants.FMT_COMPILED_METHOD: 24}


def format_word(space, inst_size, spec):
    """A class format SmallInteger value that space.class_format decodes to (inst_size, spec)."""
    if space.is_spur:
        return inst_size | (_SPUR_SPECS[spec] << 16)
    n = inst_size + 1
    return ((n & 0xc0) << 10) | ((n & 0x3f) << 1) | (spec << 7)


def make_class(space, name, inst_size=0, spec=constants.FMT_EMPTY, w_superclass=None,
               w_metaclass=None):
    """A class stand-in: superclass, (nil) method dictionary, format and name slots."""
    w_class = model.W_PointersObject(w_metaclass, constants.CLASS_NAME + 1, space.w_nil)
    if w_superclass is None:
        w_superclass = space.w_nil
    w_class.store(space, constants.CLASS_SUPERCLASS, w_superclass)
    w_class.store(space, constants.CLASS_FORMAT,
                  model.W_SmallInteger(format_word(space, inst_size, spec)))
    w_name = model.W_BytesObject(space.w_String, len(name))
    w_name.set_string(name)
    w_class.store(space, constants.CLASS_NAME, w_name)
    return w_class


def make_fake_space(word_size=4, is_spur=False, version=None):
    """An ObjSpace with the special objects a primitive may ask for, and no image."""
    if version is None:
        if is_spur:
            version = constants.FORMAT_SPUR_32 if word_size == 4 else constants.FORMAT_SPUR_64
        else:
            version = constants.FORMAT_V3_CLOSURES
    space = ObjSpace(word_size=word_size, is_spur=is_spur, version=version)
    w_nil = model.W_PointersObject(None, 0, None)
    space.w_nil = w_nil
    # String first: every class's name is a String.
    w_metaclass = model.W_PointersObject(None, constants.CLASS_NAME + 1, w_nil)
    w_string_class = model.W_PointersObject(w_metaclass, constants.CLASS_NAME + 1, w_nil)
    space.w_String = w_string_class

    def cls(name, inst_size=0, spec=constants.FMT_EMPTY, w_super=None):
        return make_class(space, name, inst_size, spec, w_super, w_metaclass)

    w_object = cls("Object")
    w_magnitude = cls("Magnitude", w_super=w_object)
    w_number = cls("Number", w_super=w_magnitude)
    w_integer = cls("Integer", w_super=w_number)
    w_string_tmp = cls("String", spec=constants.FMT_BYTES, w_super=w_object)
    w_string_class.slots = w_string_tmp.slots
    w_undefined = cls("UndefinedObject", w_super=w_object)
    w_nil.change_class(w_undefined)
    w_metaclass.slots = cls("Metaclass", 6, constants.FMT_FIXED, w_object).slots
    w_metaclass.change_class(w_metaclass)

    classes = {
        constants.SO_BITMAP_CLASS: cls("Bitmap", 0, constants.FMT_WORDS, w_object),
        constants.SO_SMALLINTEGER_CLASS: cls("SmallInteger", 0, constants.FMT_EMPTY, w_integer),
        constants.SO_STRING_CLASS: w_string_class,
        constants.SO_ARRAY_CLASS: cls("Array", 0, constants.FMT_VARIABLE, w_object),
        constants.SO_FLOAT_CLASS: cls("Float", 0, constants.FMT_WORDS, w_number),
        constants.SO_METHODCONTEXT_CLASS: cls("MethodContext", constants.CTX_FIXED_SIZE,
                                              constants.FMT_FIXED_VARIABLE, w_object),
        constants.SO_BLOCKCONTEXT_CLASS: cls("BlockContext", constants.CTX_FIXED_SIZE,
                                             constants.FMT_FIXED_VARIABLE, w_object),
        constants.SO_POINT_CLASS: cls("Point", 2, constants.FMT_FIXED, w_object),
        constants.SO_LARGEPOSITIVEINTEGER_CLASS: cls("LargePositiveInteger", 0,
                                                     constants.FMT_BYTES, w_integer),
        constants.SO_MESSAGE_CLASS: cls("Message", 3, constants.FMT_FIXED, w_object),
        constants.SO_COMPILEDMETHOD_CLASS: cls("CompiledMethod", 0,
                                               constants.FMT_COMPILED_METHOD, w_object),
        constants.SO_SEMAPHORE_CLASS: cls("Semaphore", 3, constants.FMT_FIXED, w_object),
        constants.SO_CHARACTER_CLASS: cls("Character", 1, constants.FMT_FIXED, w_magnitude),
        constants.SO_BYTEARRAY_CLASS: cls("ByteArray", 0, constants.FMT_BYTES, w_object),
        constants.SO_PROCESS_CLASS: cls("Process", 4, constants.FMT_FIXED, w_object),
        constants.SO_BLOCKCLOSURE_CLASS: cls("BlockClosure", constants.CLOSURE_FIXED_SIZE,
                                             constants.FMT_FIXED_VARIABLE, w_object),
        constants.SO_LARGENEGATIVEINTEGER_CLASS: cls("LargeNegativeInteger", 0,
                                                     constants.FMT_BYTES, w_integer),
    }
    w_false = model.W_PointersObject(cls("False", w_super=w_object), 0, w_nil)
    w_true = model.W_PointersObject(cls("True", w_super=w_object), 0, w_nil)

    w_specials = model.W_PointersObject(classes[constants.SO_ARRAY_CLASS],
                                        SPECIAL_OBJECTS_SIZE, w_nil)
    w_specials.store(space, constants.SO_NIL, w_nil)
    w_specials.store(space, constants.SO_FALSE, w_false)
    w_specials.store(space, constants.SO_TRUE, w_true)
    for index, w_class in classes.items():
        w_specials.store(space, index, w_class)
    w_char_class = classes[constants.SO_CHARACTER_CLASS]
    w_table = model.W_PointersObject(classes[constants.SO_ARRAY_CLASS], 256, w_nil)
    for code in range(256):
        w_char = model.W_PointersObject(w_char_class, 1, w_nil)
        w_char.store(space, constants.CHARACTER_VALUE, model.W_SmallInteger(code))
        w_table.store(space, code, w_char)
    w_specials.store(space, constants.SO_CHARACTER_TABLE, w_table)
    space.install_special_objects(w_specials)
    space.w_Object = w_object      # not an ObjSpace attribute: for tests only
    space.w_Metaclass = w_metaclass
    return space


class FakeInterp(object):
    """What simple primitives need from the interpreter: its space."""

    def __init__(self, space):
        self.space = space


def _stack_snapshot(ctx):
    return ctx.sp, list(ctx.stack[:ctx.sp])


def run_primitive(space, fn, w_rcvr, args_w, interp=None, w_method=None):
    """Call fn(interp, ctx, argcount, w_method) on a context holding a marker, the
    receiver and the arguments. Returns (ctx, answered context). On failure checks
    the stack is untouched and re-raises."""
    if interp is None:
        interp = FakeInterp(space)
    ctx = model.W_Context(space, space.w_MethodContext, False, 16)
    ctx.w_receiver = space.w_nil
    w_marker = model.W_PointersObject(space.w_nil.getclass(space), 0, space.w_nil)
    ctx.push(w_marker)
    ctx.push(w_rcvr)
    for w_arg in args_w:
        ctx.push(w_arg)
    sp, before = _stack_snapshot(ctx)
    try:
        new_ctx = fn(interp, ctx, len(args_w), w_method)
    except PrimitiveFailed:
        after_sp, after = _stack_snapshot(ctx)
        assert after_sp == sp, "a failing primitive changed the stack pointer"
        assert all(a is b for a, b in zip(before, after)), \
            "a failing primitive changed the stack"
        raise
    if new_ctx is ctx:
        assert ctx.sp >= 1 and ctx.stack[0] is w_marker, \
            "the primitive popped more than its receiver and arguments"
    return ctx, new_ctx


def _simple_result(ctx, new_ctx):
    assert new_ctx is ctx, "a simple primitive must answer the calling context"
    assert ctx.sp == 2, "the primitive left %d stack entries instead of 2" % ctx.sp
    return ctx.top()


def call_primitive(space, number, w_rcvr, *args_w, **kwargs):
    """Run numbered primitive `number`; answer what it left in place of receiver and args."""
    from spyvm import primitives
    fn = primitives._TABLE[number]
    assert fn is not None, "primitive %d is not defined (module not imported?)" % number
    ctx, new_ctx = run_primitive(space, fn, w_rcvr, args_w, kwargs.get("interp"),
                                 kwargs.get("w_method"))
    return _simple_result(ctx, new_ctx)


def call_named_primitive(space, module, name, w_rcvr, *args_w, **kwargs):
    """Run named primitive module.name; answer what it left on the stack."""
    from spyvm import primitives
    fn = primitives.lookup_named(module, name)
    assert fn is not None, "named primitive %s.%s is not defined" % (module, name)
    ctx, new_ctx = run_primitive(space, fn, w_rcvr, args_w, kwargs.get("interp"),
                                 kwargs.get("w_method"))
    return _simple_result(ctx, new_ctx)


@pytest.fixture
def fake_space():
    return make_fake_space()


@pytest.fixture
def fake_space64():
    return make_fake_space(word_size=8)


@pytest.fixture(name="call_primitive")
def call_primitive_fixture():
    return call_primitive


@pytest.fixture(name="call_named_primitive")
def call_named_primitive_fixture():
    return call_named_primitive


@pytest.fixture(name="run_primitive")
def run_primitive_fixture():
    return run_primitive
