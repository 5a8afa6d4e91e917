"""Object access primitives: indexing, instantiation, identity, copying, become."""

from rpython.rlib import jit
from rpython.rlib.objectmodel import specialize

from spyvm import constants, model, heap, memory
from spyvm.errors import PrimitiveFailed
from spyvm.model import (W_PointersObject, W_BytesObject, W_WordsObject, W_Float,
                         W_CompiledMethod, W_Context, W_SmallInteger, W_Character,
                         W_HeapObject, W_SmallFloat)
from spyvm.objspace import WrappingError
from spyvm.primitives import expose, expose_raw

# A slot of a pointer or word object on the host (bytes objects take one a byte).
SLOT_BYTES = 8


def max_new_size(item_bytes):
    """The most items new: makes: an image may ask for any size, and what would
    exceed the memory policy's share for one object fails (the image sees low space)."""
    return memory.max_new_bytes() / item_bytes


def _index(w_index):
    if not isinstance(w_index, W_SmallInteger):
        raise PrimitiveFailed
    return w_index.value


def fixed_size(space, w_obj):
    """Number of named instance variables of a pointers object."""
    if isinstance(w_obj, W_Context):
        return constants.CTX_FIXED_SIZE
    try:
        return space.class_format(w_obj.getclass(space)).inst_size
    except WrappingError:
        raise PrimitiveFailed


def indexable_size(space, w_obj):
    if isinstance(w_obj, W_PointersObject):
        n = w_obj.size() - fixed_size(space, w_obj)
        if n < 0:
            raise PrimitiveFailed
        return n
    if isinstance(w_obj, W_Context):
        # Closure-era VMs index a context up to its stack pointer; older images
        # (ContextPart>>pop:toIndexable:) read popped slots past it.
        if space.uses_closures:
            return w_obj.sp
        return w_obj.slot_count()
    if isinstance(w_obj, W_BytesObject) or isinstance(w_obj, W_WordsObject) or \
            isinstance(w_obj, W_Float):
        return w_obj.size()
    if isinstance(w_obj, W_CompiledMethod):
        return w_obj.size()
    return 0


def basic_at(space, w_obj, index):
    """at: with a 1-based index over the indexable part."""
    if index < 1 or index > indexable_size(space, w_obj):
        raise PrimitiveFailed
    i = index - 1
    if isinstance(w_obj, W_PointersObject):
        return w_obj.fetch(space, fixed_size(space, w_obj) + i)
    if isinstance(w_obj, W_Context):
        return w_obj.fetch(space, constants.CTX_FIXED_SIZE + i)
    if isinstance(w_obj, W_BytesObject):
        return W_SmallInteger(w_obj.getbyte(i))
    if isinstance(w_obj, W_WordsObject) or isinstance(w_obj, W_Float):
        return space.wrap_uint(w_obj.getword(i))
    if isinstance(w_obj, W_CompiledMethod):
        j = i - w_obj.literal_bytes()
        if j < 0:
            return W_SmallInteger(_literal_frame_byte(w_obj, i))
        return W_SmallInteger(ord(w_obj.bytes[j]))
    raise PrimitiveFailed


def _literal_frame_byte(w_method, i):
    """Byte i of the header-and-literals frame, which at: also reaches (images read
    the end of short methods this way). The header is a tagged SmallInteger word;
    literal pointers have no stable bytes here, so they read as 0."""
    word_size = w_method.word_size
    if i < word_size:
        tagged = (w_method.header << 1) | 1
        return (tagged >> (8 * i)) & 0xff
    return 0


def basic_at_put(space, w_obj, index, w_value):
    if index < 1 or index > indexable_size(space, w_obj):
        raise PrimitiveFailed
    i = index - 1
    if isinstance(w_obj, W_PointersObject):
        w_obj.store(space, fixed_size(space, w_obj) + i, w_value)
    elif isinstance(w_obj, W_Context):
        w_obj.stack_at_put(i, w_value)
    elif isinstance(w_obj, W_BytesObject):
        value = _byte_value(space, w_value)
        w_obj.setbyte(i, value)
    elif isinstance(w_obj, W_SmallFloat):
        raise PrimitiveFailed           # an immediate: its value is its identity
    elif isinstance(w_obj, W_WordsObject) or isinstance(w_obj, W_Float):
        try:
            w_obj.setword(i, space.unwrap_uint32(w_value))
        except WrappingError:
            raise PrimitiveFailed
    elif isinstance(w_obj, W_CompiledMethod):
        j = i - w_obj.literal_bytes()
        if j < 0:
            raise PrimitiveFailed
        value = _byte_value(space, w_value)
        b = w_obj.bytes
        assert j >= 0
        w_obj.set_bytes(b[:j] + chr(value) + b[j + 1:])
    else:
        raise PrimitiveFailed
    return w_value


def _byte_value(space, w_value):
    if isinstance(w_value, W_SmallInteger) and 0 <= w_value.value <= 255:
        return w_value.value
    raise PrimitiveFailed


@expose(60, 1)
def prim_at(interp, w_rcvr, w_index):
    return basic_at(interp.space, w_rcvr, _index(w_index))


@expose(61, 2)
def prim_at_put(interp, w_rcvr, w_index, w_value):
    return basic_at_put(interp.space, w_rcvr, _index(w_index), w_value)


@expose(62, 0)
def prim_size(interp, w_rcvr):
    if isinstance(w_rcvr, W_SmallInteger) or isinstance(w_rcvr, W_Character):
        return W_SmallInteger(0)
    return W_SmallInteger(indexable_size(interp.space, w_rcvr))


@expose(63, 1)
def prim_string_at(interp, w_rcvr, w_index):
    space = interp.space
    if not isinstance(w_rcvr, W_BytesObject):
        raise PrimitiveFailed
    index = _index(w_index)
    if index < 1 or index > w_rcvr.size():
        raise PrimitiveFailed
    try:
        return space.wrap_char(w_rcvr.getbyte(index - 1))
    except WrappingError:
        raise PrimitiveFailed


@expose(64, 2)
def prim_string_at_put(interp, w_rcvr, w_index, w_char):
    space = interp.space
    if not isinstance(w_rcvr, W_BytesObject):
        raise PrimitiveFailed
    index = _index(w_index)
    if index < 1 or index > w_rcvr.size():
        raise PrimitiveFailed
    try:
        code = space.unwrap_char(w_char)
    except WrappingError:
        raise PrimitiveFailed
    if not 0 <= code <= 255:
        raise PrimitiveFailed
    w_rcvr.setbyte(index - 1, code)
    return w_char


@expose(68, 1)
def prim_object_at(interp, w_rcvr, w_index):
    if not isinstance(w_rcvr, W_CompiledMethod):
        raise PrimitiveFailed
    index = _index(w_index)
    if index < 1 or index > w_rcvr.num_literals() + 1:
        raise PrimitiveFailed
    return w_rcvr.fetch(interp.space, index - 1)


@expose(69, 2)
def prim_object_at_put(interp, w_rcvr, w_index, w_value):
    if not isinstance(w_rcvr, W_CompiledMethod):
        raise PrimitiveFailed
    index = _index(w_index)
    if index < 1 or index > w_rcvr.num_literals() + 1:
        raise PrimitiveFailed
    if index == 1:
        if not isinstance(w_value, W_SmallInteger) or \
                w_rcvr.header_num_literals(w_value.value) != w_rcvr.num_literals():
            raise PrimitiveFailed
        w_rcvr.set_header(w_value.value)
    else:
        w_rcvr.set_literal(index - 2, w_value)
    interp.flush_method_cache()
    return w_value


def _is_metaclass_class(space, w_obj):
    """Metaclass (or Metaclass class): the class whose class's class is itself."""
    if not isinstance(w_obj, W_PointersObject):
        return False
    w_meta = w_obj.getclass(space)
    return isinstance(w_meta, W_PointersObject) and w_meta.getclass(space) is w_obj


def _behavior_class(space):
    """The class Behavior: of the classes above Metaclass, the last that is not also
    above UndefinedObject (Metaclass, ClassDescription, Behavior | Object, ...)."""
    w_meta = space.w_SmallInteger.getclass(space)
    if not isinstance(w_meta, W_HeapObject):
        return None
    w_metaclass = w_meta.getclass(space)
    common = []
    w_c = space.w_nil.getclass(space)
    depth = 0
    while isinstance(w_c, W_PointersObject) and depth < 100:
        common.append(w_c)
        w_c = space.superclass(w_c)
        depth += 1
    w_c = w_metaclass
    w_behavior = None
    depth = 0
    while isinstance(w_c, W_PointersObject) and depth < 100:
        if w_c in common:
            return w_behavior
        w_behavior = w_c
        w_c = space.superclass(w_c)
        depth += 1
    return None


def is_class(space, w_obj):
    """Whether w_obj is a class, a metaclass or another instance of Behavior: what
    new, new:, adoptInstance: and newMethod:header: accept as a class. Anything else
    (an Array whose third slot happens to read as a format) must not get instances."""
    if not isinstance(w_obj, W_PointersObject) or w_obj.size() <= constants.CLASS_FORMAT:
        return False
    w_cls = w_obj.getclass(space)
    if not isinstance(w_cls, W_PointersObject):
        return False
    # The usual cases: a class (its class is a metaclass) or a metaclass. No loop
    # here, so traces of new and new: run it inline.
    if _is_metaclass_class(space, w_cls.getclass(space)) or _is_metaclass_class(space, w_cls):
        return True
    return _is_behavior_instance(space, w_cls)


def _is_behavior_instance(space, w_cls):
    """Whether w_cls is Behavior or a subclass of it (e.g. `Behavior new`)."""
    w_behavior = _behavior_class(space)
    depth = 0
    while isinstance(w_cls, W_PointersObject) and depth < 1000:
        if w_cls is w_behavior:
            return True
        w_cls = space.superclass(w_cls)
        depth += 1
    return False


def instantiate(space, w_class, size):
    """A new instance of w_class with size indexable slots (PrimitiveFailed if it can't)."""
    if not is_class(space, w_class):
        raise PrimitiveFailed
    try:
        fmt = space.class_format(w_class)
    except WrappingError:
        raise PrimitiveFailed
    spec = fmt.inst_spec
    item_bytes = 1 if spec >= constants.FMT_BYTES else SLOT_BYTES
    if size < 0 or size > max_new_size(item_bytes):
        raise PrimitiveFailed
    if spec in (constants.FMT_EMPTY, constants.FMT_FIXED) and size != 0:
        raise PrimitiveFailed
    if spec <= constants.FMT_WEAK:
        if w_class is space.w_MethodContext or w_class is space.w_BlockContext:
            return W_Context(space, w_class, w_class is space.w_BlockContext,
                             fmt.inst_size + size - constants.CTX_FIXED_SIZE)
        w_new = W_PointersObject(w_class, fmt.inst_size + size, space.w_nil)
        w_new.weak = spec == constants.FMT_WEAK
        return w_new
    if spec == constants.FMT_WORDS:
        if w_class is space.w_Float and size == 2:
            return W_Float(w_class, 0.0)
        return W_WordsObject(w_class, size)
    if constants.FMT_BYTES <= spec < constants.FMT_COMPILED_METHOD:
        return W_BytesObject(w_class, size)
    raise PrimitiveFailed


@expose(70, 0)
def prim_basic_new(interp, w_class):
    space = interp.space
    try:
        spec = space.class_format(w_class).inst_spec
    except WrappingError:
        raise PrimitiveFailed
    if spec >= constants.FMT_VARIABLE:
        raise PrimitiveFailed
    return instantiate(space, w_class, 0)


@expose(71, 1)
def prim_basic_new_size(interp, w_class, w_size):
    space = interp.space
    try:
        spec = space.class_format(w_class).inst_spec
    except WrappingError:
        raise PrimitiveFailed
    size = _index(w_size)
    if spec < constants.FMT_VARIABLE and size == 0 and not space.is_spur:
        # The V3 VMs make a fixed-size instance when asked for no indexed slots;
        # Squeak 2.2's `DirectoryEntry new` (an ArrayedCollection with named
        # fields only) relies on it.
        return instantiate(space, w_class, 0)
    if spec < constants.FMT_VARIABLE or spec >= constants.FMT_COMPILED_METHOD:
        raise PrimitiveFailed
    return instantiate(space, w_class, size)


@expose([73, 173], 1)
def prim_inst_var_at(interp, w_rcvr, w_index):
    space = interp.space
    index = _index(w_index)
    if isinstance(w_rcvr, W_PointersObject) or isinstance(w_rcvr, W_Context):
        if 1 <= index <= w_rcvr.size():
            try:
                return w_rcvr.fetch(space, index - 1)
            except IndexError:
                raise PrimitiveFailed
    raise PrimitiveFailed


@expose([74, 174], 2)
def prim_inst_var_at_put(interp, w_rcvr, w_index, w_value):
    space = interp.space
    index = _index(w_index)
    if isinstance(w_rcvr, W_PointersObject) or isinstance(w_rcvr, W_Context):
        if 1 <= index <= w_rcvr.size():
            try:
                w_rcvr.store(space, index - 1, w_value)
            except IndexError:
                raise PrimitiveFailed
            return w_value
    raise PrimitiveFailed


@expose([75, 171], 0)
def prim_identity_hash(interp, w_rcvr):
    if isinstance(w_rcvr, W_Character):
        return W_SmallInteger(w_rcvr.value)
    if isinstance(w_rcvr, W_SmallInteger):
        return w_rcvr
    space = interp.space
    if w_rcvr.getclass(space) is space.w_Character and isinstance(w_rcvr, W_PointersObject):
        # Character value (V3: primitive 171 answers the code).
        try:
            return W_SmallInteger(space.unwrap_char(w_rcvr))
        except WrappingError:
            raise PrimitiveFailed
    return W_SmallInteger(w_rcvr.gethash(space))


@expose(175, 0)
def prim_behavior_hash(interp, w_class):
    """primitiveBehaviorHash (Spur's Behavior>>identityHash): a class's identity
    hash, which Spur makes its index in the class table (the image writer enters
    classes at their hashes); anything but a class fails."""
    space = interp.space
    if not is_class(space, w_class):
        raise PrimitiveFailed
    return W_SmallInteger(w_class.gethash(space))


@expose(176, 0)
def prim_max_identity_hash(interp, w_rcvr):
    """primitiveMaxIdentityHash: the largest identity hash (22 bits in Spur, 12 in V3)."""
    return W_SmallInteger(0x3fffff if interp.space.is_spur else 0xfff)


@expose_raw(170)
def prim_character_value(interp, ctx, argcount, w_method):
    """primitiveImmediateAsCharacter: `Character value: code` (one argument) or
    `code asCharacter` (none: the receiver is the code; Pharo's SmallInteger)."""
    space = interp.space
    if argcount != 0 and argcount != 1:
        raise PrimitiveFailed
    w_code = ctx.peek(0)
    if not isinstance(w_code, W_SmallInteger):
        raise PrimitiveFailed
    try:
        w_char = space.wrap_char(w_code.value)
    except WrappingError:
        raise PrimitiveFailed
    ctx.pop_n(argcount)
    ctx.settop(w_char)
    return ctx


# Heap enumeration: each loop is linear overall (see heap.HeapWalks).

@expose(77, 0)
def prim_some_instance(interp, w_class):
    w_obj = interp.heap_walks.first(interp, w_class)
    if w_obj is None:
        raise PrimitiveFailed
    return w_obj


@expose(78, 0)
def prim_next_instance(interp, w_rcvr):
    if not isinstance(w_rcvr, model.W_HeapObject):
        raise PrimitiveFailed
    w_next = interp.heap_walks.next(interp, w_rcvr.getclass(interp.space), w_rcvr)
    if w_next is None:
        raise PrimitiveFailed
    return w_next


@expose(138, 0)
def prim_some_object(interp, w_rcvr):
    w_obj = interp.heap_walks.first(interp, None)
    if w_obj is None:
        raise PrimitiveFailed
    return w_obj


@expose(139, 0)
def prim_next_object(interp, w_rcvr):
    """The object after the receiver in the enumeration; 0 after the last one."""
    if not isinstance(w_rcvr, model.W_HeapObject):
        raise PrimitiveFailed
    w_next = interp.heap_walks.next(interp, None, w_rcvr)
    if w_next is None:
        return W_SmallInteger(0)
    return w_next


@expose(177, 0)
def prim_all_instances(interp, w_class):
    """primitiveAllInstances (Spur images): an Array of the receiver's instances."""
    return interp.space.wrap_list(heap.all_instances(interp, w_class))


@expose(178, 0)
def prim_all_objects(interp, w_rcvr):
    """primitiveAllObjects (Spur images): an Array of every object."""
    return interp.space.wrap_list(heap.all_objects(interp))


@expose(79, 2)
def prim_new_method(interp, w_class, w_bytecount, w_header):
    space = interp.space
    nbytes = _index(w_bytecount)
    if not isinstance(w_header, W_SmallInteger) or nbytes < 0 or nbytes > max_new_size(1):
        raise PrimitiveFailed
    try:
        spec = space.class_format(w_class).inst_spec
    except WrappingError:
        raise PrimitiveFailed
    if spec < constants.FMT_COMPILED_METHOD or not is_class(space, w_class):
        raise PrimitiveFailed
    w_method = W_CompiledMethod(w_class, space.word_size, space.new_method_header)
    nlits = w_method.header_num_literals(w_header.value)
    w_method.literals = [space.w_nil] * nlits
    w_method.set_bytes("\x00" * nbytes)
    w_method.set_header(w_header.value)
    return w_method


@specialize.call_location()
@jit.dont_look_inside
def _copy_items(dst, dst_start, src, src_start, count):
    """A residual call: traced, the copy would be unrolled item by item for the
    count seen while tracing. Overlapping ranges of one object copy as if through
    a buffer."""
    if dst is src and src_start < dst_start:
        for i in range(count - 1, -1, -1):
            dst[dst_start + i] = src[src_start + i]
    else:
        for i in range(count):
            dst[dst_start + i] = src[src_start + i]


@expose(105, 4)
def prim_replace_from_to_with_starting_at(interp, w_rcvr, w_start, w_stop, w_repl,
                                          w_repl_start):
    space = interp.space
    start = _index(w_start)
    stop = _index(w_stop)
    repl_start = _index(w_repl_start)
    if stop < start - 1 or start < 1 or repl_start < 1:
        raise PrimitiveFailed
    count = stop - start + 1
    if stop > indexable_size(space, w_rcvr) or \
            repl_start + count - 1 > indexable_size(space, w_repl):
        raise PrimitiveFailed
    src_start = repl_start - 1
    assert src_start >= 0
    if isinstance(w_rcvr, W_BytesObject) and isinstance(w_repl, W_BytesObject):
        _copy_items(w_rcvr.bytes, start - 1, w_repl.bytes, src_start, count)
        return w_rcvr
    if isinstance(w_rcvr, W_PointersObject) and isinstance(w_repl, W_PointersObject):
        off = fixed_size(space, w_rcvr)
        roff = fixed_size(space, w_repl)
        assert roff >= 0
        _copy_items(w_rcvr.slots, off + start - 1, w_repl.slots, roff + src_start, count)
        return w_rcvr
    if (isinstance(w_rcvr, W_WordsObject) and isinstance(w_repl, W_WordsObject)):
        _copy_items(w_rcvr.words, start - 1, w_repl.words, src_start, count)
        return w_rcvr
    if isinstance(w_rcvr, W_Float) or isinstance(w_repl, W_Float):
        if not _is_word_like(w_rcvr) or not _is_word_like(w_repl) or \
                isinstance(w_rcvr, W_SmallFloat):
            raise PrimitiveFailed
        _copy_float_words(w_rcvr, start - 1, w_repl, src_start, count)
        return w_rcvr
    # Mixed kinds (e.g. bytes into a method): only like with like is a primitive.
    raise PrimitiveFailed


def _copy_float_words(w_rcvr, start0, w_repl, src0, count):
    """A Float's two words as the C VM holds them: native order, low word first
    (Float64Array>>floatAt: copies a double's words into a BoxedFloat64). Its own
    function: a loop in the primitive would make the JIT call all of it."""
    words = [_raw_word(w_repl, src0 + k) for k in range(count)]
    for k in range(count):
        _set_raw_word(w_rcvr, start0 + k, words[k])


def _is_word_like(w_obj):
    return isinstance(w_obj, W_WordsObject) or isinstance(w_obj, W_Float)


def _raw_word(w_obj, index0):
    if isinstance(w_obj, W_Float):
        return w_obj.getword(1 - index0)
    assert isinstance(w_obj, W_WordsObject)
    return w_obj.getword(index0)


def _set_raw_word(w_obj, index0, word):
    if isinstance(w_obj, W_Float):
        w_obj.setword(1 - index0, word)
    else:
        assert isinstance(w_obj, W_WordsObject)
        w_obj.setword(index0, word)


@expose_raw(110)
def prim_identical(interp, ctx, argcount, w_method):
    """== (one argument), or the mirror form object:eqeq: (two) the debugger uses."""
    if argcount != 1 and argcount != 2:
        raise PrimitiveFailed
    w_result = interp.space.wrap_bool(ctx.peek(1).is_same_object(ctx.peek(0)))
    ctx.pop_n(argcount)
    ctx.settop(w_result)
    return ctx


@expose_raw(111)
def prim_class(interp, ctx, argcount, w_method):
    """class, or the mirror form objectClass: anObject."""
    if argcount != 0 and argcount != 1:
        raise PrimitiveFailed
    w_result = ctx.peek(0).getclass(interp.space)
    ctx.pop_n(argcount)
    ctx.settop(w_result)
    return ctx


@expose(145, 1)
def prim_constant_fill(interp, w_rcvr, w_value):
    space = interp.space
    if isinstance(w_rcvr, W_BytesObject):
        value = _byte_value(space, w_value)
        for i in range(w_rcvr.size()):
            w_rcvr.setbyte(i, value)
    elif isinstance(w_rcvr, W_WordsObject):
        try:
            word = space.unwrap_uint32(w_value)
        except WrappingError:
            raise PrimitiveFailed
        for i in range(w_rcvr.size()):
            w_rcvr.setword(i, word)
    else:
        raise PrimitiveFailed
    return w_rcvr


@expose(148, 0)
def prim_shallow_copy(interp, w_rcvr):
    space = interp.space
    if isinstance(w_rcvr, W_PointersObject):
        w_copy = W_PointersObject(w_rcvr.w_class, 0, space.w_nil)
        w_copy.slots = w_rcvr.slots[:]
        w_copy.weak = w_rcvr.weak
        return w_copy
    if isinstance(w_rcvr, W_BytesObject):
        w_copy = W_BytesObject(w_rcvr.w_class, 0)
        w_copy.bytes = w_rcvr.bytes[:]
        return w_copy
    if isinstance(w_rcvr, W_WordsObject):
        w_copy = W_WordsObject(w_rcvr.w_class, 0)
        w_copy.words = w_rcvr.words[:]
        return w_copy
    if isinstance(w_rcvr, model.W_SmallFloat):
        return w_rcvr       # an immediate (Spur 64-bit's SmallFloat64)
    if isinstance(w_rcvr, W_Float):
        return W_Float(w_rcvr.w_class, w_rcvr.value)
    if isinstance(w_rcvr, W_CompiledMethod):
        w_copy = W_CompiledMethod(w_rcvr.w_class, w_rcvr.word_size, w_rcvr.new_header)
        w_copy.literals = w_rcvr.literals[:]
        w_copy.set_bytes(w_rcvr.bytes)
        w_copy.set_header(w_rcvr.header)
        return w_copy
    if isinstance(w_rcvr, W_Context):
        w_copy = W_Context(space, w_rcvr.w_class, w_rcvr.is_block_context, 0)
        w_copy.copy_from(w_rcvr)
        return w_copy
    # Immediates are their own copies.
    return w_rcvr


def _become_arrays(interp, w_rcvr, w_arg, two_way):
    if not isinstance(w_rcvr, W_PointersObject) or not isinstance(w_arg, W_PointersObject):
        raise PrimitiveFailed
    if w_rcvr.size() != w_arg.size():
        raise PrimitiveFailed
    pairs_from = w_rcvr.slots[:]
    pairs_to = w_arg.slots[:]
    for i in range(len(pairs_from)):
        w_a = pairs_from[i]
        w_b = pairs_to[i]
        if not heap.can_become(w_a) or not heap.can_become(w_b):
            raise PrimitiveFailed
    if not heap.become(interp, pairs_from, pairs_to, two_way):
        raise PrimitiveFailed
    return w_rcvr


@expose(128, 1)
def prim_array_become(interp, w_rcvr, w_arg):
    return _become_arrays(interp, w_rcvr, w_arg, True)


@expose(72, 1)
def prim_array_become_one_way(interp, w_rcvr, w_arg):
    return _become_arrays(interp, w_rcvr, w_arg, False)


@expose(115, 1)
def prim_change_class(interp, w_rcvr, w_arg):
    """primitiveChangeClass: the receiver takes the class of the argument."""
    space = interp.space
    if not isinstance(w_rcvr, model.W_HeapObject) or \
            not isinstance(w_arg, model.W_HeapObject):
        raise PrimitiveFailed
    w_class = w_arg.getclass(space)
    _check_same_shape(space, w_rcvr, w_class)
    w_rcvr.change_class(w_class)
    return w_rcvr


@expose(160, 1)
def prim_adopt_instance(interp, w_class, w_obj):
    space = interp.space
    if not isinstance(w_obj, model.W_HeapObject) or not is_class(space, w_class):
        raise PrimitiveFailed
    _check_same_shape(space, w_obj, w_class)
    w_obj.change_class(w_class)
    return w_obj


def _format_family(spec):
    """Formats that may change into each other: bytes (any padding) and methods."""
    if constants.FMT_BYTES <= spec < constants.FMT_COMPILED_METHOD:
        return constants.FMT_BYTES
    if spec >= constants.FMT_COMPILED_METHOD:
        return constants.FMT_COMPILED_METHOD
    return spec


def _check_same_shape(space, w_obj, w_class):
    """primitiveChangeClass's rule: same format, and a fixed class must fit exactly."""
    try:
        fmt = space.class_format(w_class)
        old = space.class_format(w_obj.getclass(space)).inst_spec
    except WrappingError:
        raise PrimitiveFailed
    spec = fmt.inst_spec
    if _format_family(spec) != _format_family(old) or \
            isinstance(w_obj, W_Context) or isinstance(w_obj, W_CompiledMethod):
        raise PrimitiveFailed
    if spec <= constants.FMT_FIXED and w_obj.size() != fmt.inst_size:
        raise PrimitiveFailed
