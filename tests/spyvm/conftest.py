"""Shared fakes for primitive tests: an object space without an image, and helpers
that run a primitive on a context the way the interpreter does.

Fixtures:
- fake_space: a fresh 32-bit V3 ObjSpace (31-bit SmallIntegers) whose special
  objects array holds nil/false/true, stand-ins for the kernel classes and a
  Character table; fake_space64 is the same with 61-bit SmallIntegers;
  fake_space_spur is a 32-bit Spur space (immediate Characters);
- call_primitive(space, number, w_rcvr, *args_w): run numbered primitive
  `number`, check the stack contract, answer the result object;
- call_named_primitive(space, module, name, w_rcvr, *args_w): same for a named one;
- run_primitive(space, fn, w_rcvr, args_w): lower level, for raw primitives that
  answer another context: returns (ctx, answered_ctx);
- all three take interp= (default: a FakeInterp holding only the space), w_method=
  (the method whose primitive runs) and ctx= (the context to run in, e.g. one with a
  method and pc, as blockCopy: needs; default: a fresh method-less MethodContext);
- interp: a real spyvm.interpreter.Interpreter on fake_space (scheduler, method cache,
  lookup/send/activate, image_name, ...); make_interp(space) builds one;
- env: an Env on fake_space and interp: env.call/fails/run/run_fails/call_named/
  named_fails run primitives with the real interpreter, env.cls/obj/array/string/
  bytearray/words/char/method/context build objects (V3 method headers).

A primitive that fails must raise PrimitiveFailed with the stack untouched; the
helpers assert that and re-raise, so tests write `with pytest.raises(PrimitiveFailed)`.

The helpers look primitives up in spyvm.primitives._TABLE / _NAMED: a test module
must import the primitive module it tests (spyvm.primitives.table() would import
every module).
"""

import pytest
from rpython.rlib.rbigint import rbigint

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
    return ctx.sp, list(ctx.slots()[:ctx.sp])


def make_interp(space):
    """A real interpreter on space (no image)."""
    from spyvm.interpreter import Interpreter
    return Interpreter(space)


def run_primitive(space, fn, w_rcvr, args_w, interp=None, w_method=None, ctx=None):
    """Call fn(interp, ctx, argcount, w_method) on a context holding a marker, the
    receiver and the arguments. Returns (ctx, answered context). On failure checks
    the stack is untouched and re-raises. A given ctx gets marker, receiver and
    arguments pushed onto whatever it already holds."""
    if interp is None:
        interp = FakeInterp(space)
    if ctx is None:
        ctx = model.W_Context(space, space.w_MethodContext, False, 16)
        ctx.w_receiver = space.w_nil
    base_sp = ctx.sp
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
        assert ctx.sp >= base_sp + 1 and ctx.slots()[base_sp] is w_marker, \
            "the primitive popped more than its receiver and arguments"
    return ctx, new_ctx


def _simple_result(ctx, new_ctx, base_sp=0):
    assert new_ctx is ctx, "a simple primitive must answer the calling context"
    assert ctx.sp == base_sp + 2, \
        "the primitive left %d stack entries instead of 2" % (ctx.sp - base_sp)
    return ctx.top()


def call_primitive(space, number, w_rcvr, *args_w, **kwargs):
    """Run numbered primitive `number`; answer what it left in place of receiver and args."""
    from spyvm import primitives
    fn = primitives._TABLE[number]
    assert fn is not None, "primitive %d is not defined (module not imported?)" % number
    w_ctx = kwargs.get("ctx")
    base_sp = w_ctx.sp if w_ctx is not None else 0
    ctx, new_ctx = run_primitive(space, fn, w_rcvr, args_w, kwargs.get("interp"),
                                 kwargs.get("w_method"), w_ctx)
    return _simple_result(ctx, new_ctx, base_sp)


def call_named_primitive(space, module, name, w_rcvr, *args_w, **kwargs):
    """Run named primitive module.name; answer what it left on the stack."""
    from spyvm import primitives
    fn = primitives.lookup_named(module, name)
    assert fn is not None, "named primitive %s.%s is not defined" % (module, name)
    w_ctx = kwargs.get("ctx")
    base_sp = w_ctx.sp if w_ctx is not None else 0
    ctx, new_ctx = run_primitive(space, fn, w_rcvr, args_w, kwargs.get("interp"),
                                 kwargs.get("w_method"), w_ctx)
    return _simple_result(ctx, new_ctx, base_sp)


class Env(object):
    """A V3 fake space, a real interpreter on it, shortcuts to run primitives and
    builders for the objects tests need (the `env` fixture)."""

    def __init__(self, space, interp):
        self.space = space
        self.interp = interp
        self.nil = space.w_nil

    # running primitives (interp= defaults to the real interpreter)
    def call(self, number, w_rcvr, *args_w, **kwargs):
        kwargs.setdefault("interp", self.interp)
        return call_primitive(self.space, number, w_rcvr, *args_w, **kwargs)

    def fails(self, number, w_rcvr, *args_w, **kwargs):
        with pytest.raises(PrimitiveFailed):
            self.call(number, w_rcvr, *args_w, **kwargs)

    def call_named(self, module, name, w_rcvr, *args_w, **kwargs):
        kwargs.setdefault("interp", self.interp)
        return call_named_primitive(self.space, module, name, w_rcvr, *args_w, **kwargs)

    def named_fails(self, module, name, w_rcvr, *args_w, **kwargs):
        with pytest.raises(PrimitiveFailed):
            self.call_named(module, name, w_rcvr, *args_w, **kwargs)

    def run(self, number, w_rcvr, args_w, **kwargs):
        """Raw call of numbered primitive: (ctx, answered ctx)."""
        from spyvm import primitives
        kwargs.setdefault("interp", self.interp)
        fn = primitives._TABLE[number]
        assert fn is not None, "primitive %d is not defined" % number
        return run_primitive(self.space, fn, w_rcvr, args_w, **kwargs)

    def run_fails(self, number, w_rcvr, args_w, **kwargs):
        with pytest.raises(PrimitiveFailed):
            self.run(number, w_rcvr, args_w, **kwargs)

    # objects
    def cls(self, name, inst_size=0, spec=constants.FMT_EMPTY, w_super=None):
        if w_super is None:
            w_super = self.space.w_Object
        return make_class(self.space, name, inst_size, spec, w_super,
                          self.space.w_Metaclass)

    def obj(self, w_class, *values_w):
        w_obj = model.W_PointersObject(w_class, len(values_w), self.nil)
        for i, w_value in enumerate(values_w):
            w_obj.slots[i] = w_value
        return w_obj

    def array(self, *values_w):
        return self.obj(self.space.w_Array, *values_w)

    def string(self, s):
        return self.space.wrap_string(s)

    def new_semaphore(self):
        """A Semaphore with no process waiting and no excess signals."""
        w_sema = self.obj(self.space.w_Semaphore, self.nil, self.nil, model.W_SmallInteger(0))
        assert constants.SEMAPHORE_EXCESS_SIGNALS == 2
        return w_sema

    def bytearray(self, s):
        w_obj = model.W_BytesObject(self.space.w_ByteArray, len(s))
        w_obj.set_string(s)
        return w_obj

    def words(self, *values):
        w_obj = model.W_WordsObject(self.space.special(constants.SO_BITMAP_CLASS),
                                    len(values))
        for i, v in enumerate(values):
            w_obj.setword(i, v)
        return w_obj

    def char(self, code):
        return self.space.wrap_char(code)

    @staticmethod
    def header(nlits, num_args=0, num_temps=0, prim=0, large_frame=False):
        """A V3 CompiledMethod header value."""
        return (num_args << 24) | (num_temps << 18) | (int(large_frame) << 17) | \
            (nlits << 9) | (prim & 0x1ff) | ((prim >> 9) << 28)

    def method(self, bytes="\x7c", literals_w=(), num_args=0, num_temps=0, prim=0,
               large_frame=False):
        space = self.space
        w_method = model.W_CompiledMethod(space.w_CompiledMethod, space.word_size,
                                          space.new_method_header)
        w_method.literals = list(literals_w)
        w_method.set_bytes(bytes)
        w_method.set_header(self.header(len(w_method.literals), num_args, num_temps,
                                        prim, large_frame))
        return w_method

    def context(self, *stack_w, **kwargs):
        """A MethodContext (no method unless method= is given) holding stack_w."""
        w_ctx = model.W_Context(self.space, self.space.w_MethodContext, False,
                                kwargs.get("size", 8))
        w_method = kwargs.get("method")
        if w_method is not None:
            w_ctx.w_method = w_method
            w_ctx.w_slot_method = w_method
            w_ctx.start_at(kwargs.get("pc", 0))
        w_ctx.w_receiver = kwargs.get("receiver", self.nil)
        for w_value in stack_w:
            w_ctx.push(w_value)
        return w_ctx


@pytest.fixture
def fake_space():
    return make_fake_space()


@pytest.fixture
def fake_space64():
    return make_fake_space(word_size=8)


@pytest.fixture
def fake_space_spur():
    return make_fake_space(is_spur=True)


@pytest.fixture
def interp(fake_space):
    return make_interp(fake_space)


@pytest.fixture
def env(fake_space, interp):
    return Env(fake_space, interp)


@pytest.fixture(name="call_primitive")
def call_primitive_fixture():
    return call_primitive


@pytest.fixture(name="call_named_primitive")
def call_named_primitive_fixture():
    return call_named_primitive


@pytest.fixture(name="run_primitive")
def run_primitive_fixture():
    return run_primitive


class Ints(object):
    """Integers of any size as the image holds them; the `ints` fixture."""

    @staticmethod
    def w_int(space, n):
        """The normalised Integer for Python int/long n."""
        return space.wrap_bigint(rbigint.fromlong(n))


    @staticmethod
    def w_large(space, n, extra_bytes=0):
        """A LargeInteger object for n even when n fits a SmallInteger, with optional
        leading zero bytes (an unnormalised LargeInteger)."""
        if n < 0:
            w_class = space.w_LargeNegativeInteger
            n = -n
        else:
            w_class = space.w_LargePositiveInteger
        digits = []
        while n:
            digits.append(chr(n & 0xff))
            n >>= 8
        digits.extend(["\x00"] * extra_bytes)
        w_obj = model.W_BytesObject(w_class, len(digits))
        w_obj.set_string("".join(digits))
        return w_obj


    @staticmethod
    def w_float(space, x):
        return space.wrap_float(x)


    @staticmethod
    def int_value(space, w_obj):
        return space.unwrap_bigint(w_obj).tolong()


    @staticmethod
    def assert_int(space, w_obj, expected):
        """w_obj is the normalised Integer for expected."""
        if space.minint <= expected <= space.maxint:
            assert isinstance(w_obj, model.W_SmallInteger), repr(w_obj)
            assert w_obj.value == expected
            return
        assert isinstance(w_obj, model.W_BytesObject)
        if expected < 0:
            assert w_obj.getclass(space) is space.w_LargeNegativeInteger
        else:
            assert w_obj.getclass(space) is space.w_LargePositiveInteger
        assert w_obj.size() > 0 and w_obj.getbyte(w_obj.size() - 1) != 0, "not normalised"
        assert Ints.int_value(space, w_obj) == expected


    @staticmethod
    def assert_bool(space, w_obj, expected):
        assert w_obj is space.wrap_bool(expected)


@pytest.fixture
def ints():
    return Ints
