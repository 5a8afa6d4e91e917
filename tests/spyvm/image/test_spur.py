"""Reading Spur 32-bit images (format 6521) with spyvm.image.spur.

The real image is headless.image from COGXEN_IMAGES (default <repo>/../shared/images):
a tiny bootstrapped Spur kernel. Its classes do not have the usual Squeak layout:
a Class is superclass, methodDict, format, name, instVarNames, classPool and a
Metaclass is superclass, methodDict, format, thisClass.
"""

import math
import os
import random
import signal
import struct

import pytest

from spyvm import constants, model
from spyvm.image import spur
from spyvm.image.format import ImageError
from spyvm.image.reader import read_image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
IMAGES = os.environ.get("COGXEN_IMAGES") or os.path.join(os.path.dirname(REPO),
                                                         "shared", "images")
HEADLESS = os.path.join(IMAGES, "headless.image")

needs_headless = pytest.mark.skipif(
    not os.path.isfile(HEADLESS),
    reason="Spur test image not found: %s (set COGXEN_IMAGES)" % HEADLESS)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def load_within(data, seconds=20):
    """read_image(data), failing the test if it takes longer than `seconds` (a hang)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return read_image(data)
    except Timeout:
        pytest.fail("reading the image did not finish in %d s" % seconds)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


_cache = {}


def headless_data():
    if "data" not in _cache:
        with open(HEADLESS, "rb") as f:
            _cache["data"] = f.read()
    return _cache["data"]


def headless():
    """The loaded image, read once (tests must not modify it)."""
    if "image" not in _cache:
        _cache["image"] = read_image(headless_data())
    return _cache["image"]


# --- helpers that know headless.image's class layout ------------------------

def class_name(space, w_class):
    name = space.class_name(w_class)
    if name != "?":
        return name
    if isinstance(w_class, model.W_PointersObject) and w_class.size() >= 4:
        w_name = w_class.fetch(space, 3)
        if isinstance(w_name, model.W_BytesObject):
            return w_name.as_string()
        if isinstance(w_name, model.W_PointersObject) and w_name.size() >= 4:
            w_this_name = w_name.fetch(space, 3)
            if isinstance(w_this_name, model.W_BytesObject):
                return w_this_name.as_string() + " class"
    return "?"


def lookup(space, w_class, selector):
    """(method, class it was found in) for selector, walking the superclass chain."""
    seen = 0
    while w_class is not space.w_nil:
        seen += 1
        assert seen < 100, "superclass chain does not end"
        w_dict = w_class.fetch(space, constants.CLASS_METHODDICT)
        w_values = w_dict.fetch(space, constants.METHODDICT_VALUES)
        for i in range(constants.METHODDICT_FIXED, w_dict.size()):
            w_sel = w_dict.fetch(space, i)
            if isinstance(w_sel, model.W_BytesObject) and w_sel.as_string() == selector:
                return w_values.fetch(space, i - constants.METHODDICT_FIXED), w_class
        w_class = space.superclass(w_class)
    return None, None


def header_offsets(data):
    """File offsets of every object header (main and overflow) in a Spur 32 image."""
    loader = spur.SpurLoader(data, constants.FORMAT_SPUR_32, True)
    offsets = []
    for chunk in loader.chunks:
        offsets.append(chunk.body_pos - 8)
        if chunk.num_slots >= 255:
            offsets.append(chunk.body_pos - 16)
    return offsets


# --- the header and the object memory -------------------------------------------

@needs_headless
def test_header_and_byte_order():
    data = headless_data()
    assert struct.unpack_from("<I", data, 0)[0] == 6521
    data_size = struct.unpack_from("<I", data, 8)[0]
    assert struct.unpack_from("<I", data, 48)[0] == data_size   # one segment
    image = headless()
    assert image.version == constants.FORMAT_SPUR_32
    assert image.little_endian
    assert image.header_size == 64
    assert image.format_name() == "6521 (Spur 32-bit)"
    assert image.flags & 2            # floats saved little-endian
    assert image.space.is_spur and image.space.word_size == 4
    assert image.w_special_objects is image.space.w_special_objects


@needs_headless
def test_nil_true_false():
    image = headless()
    space = image.space
    w_nil, w_true, w_false = space.w_nil, space.w_true, space.w_false
    for w_obj in [w_nil, w_true, w_false]:
        assert type(w_obj) is model.W_PointersObject
        assert w_obj.size() == 0
    assert w_nil is not w_true and w_true is not w_false and w_nil is not w_false
    assert class_name(space, w_nil.getclass(space)) == "UndefinedObject"
    assert class_name(space, w_true.getclass(space)) == "True"
    assert class_name(space, w_false.getclass(space)) == "False"
    # nil, false and true are the first objects, in that order.
    assert image.objects_w[:3] == [w_nil, w_false, w_true]
    w_specials = image.w_special_objects
    assert w_specials.fetch(space, constants.SO_NIL) is w_nil
    assert w_specials.fetch(space, constants.SO_TRUE) is w_true


@needs_headless
def test_special_classes():
    space = headless().space
    assert class_name(space, space.w_SmallInteger) == "SmallInteger"
    assert class_name(space, space.w_Character) == "Character"
    assert class_name(space, space.w_Float) == "Float"
    assert class_name(space, space.w_Array) == "Array"
    assert class_name(space, space.w_CompiledMethod) == "CompiledMethod"
    assert class_name(space, space.w_MethodContext) == "MethodContext"
    assert space.w_BlockContext is space.w_nil     # Spur: one Context class
    assert class_name(space, space.w_SmallInteger.getclass(space)) == "SmallInteger class"
    assert space.wrap_int(3).getclass(space) is space.w_SmallInteger
    # Spur's class formats decode (Array: variable pointers, no named slots).
    fmt = space.class_format(space.w_Array)
    assert (fmt.inst_size, fmt.inst_spec) == (0, constants.FMT_VARIABLE)


@needs_headless
def test_space_class_name_knows_headless_layout():
    # headless.image keeps a class's name at slot 3, not Squeak's 6.
    space = headless().space
    assert space.class_name(space.w_true.getclass(space)) == "True"
    assert space.class_name(space.w_true.getclass(space).getclass(space)) == "True class"


@needs_headless
def test_objects_plausible():
    image = headless()
    space = image.space
    objects_w = image.objects_w
    # The file holds 2493 non-free chunks: 44 forwarders and 6 hidden objects
    # (free lists, hidden roots, 2 class table pages, 2 hidden word arrays) are not
    # Smalltalk objects.
    assert 2000 < len(objects_w) < 3000
    assert len(set(id(w) for w in objects_w)) == len(objects_w)
    counts = {}
    for w_obj in objects_w:
        assert isinstance(w_obj, model.W_HeapObject)
        assert not isinstance(w_obj, (model.W_SmallInteger, model.W_Character))
        assert w_obj.w_class is not None
        assert w_obj.getclass(space) is not space.w_nil
        counts[type(w_obj)] = counts.get(type(w_obj), 0) + 1
        if isinstance(w_obj, model.W_PointersObject):
            for w_slot in w_obj.slots:
                assert isinstance(w_slot, model.W_Object)
    assert counts[model.W_CompiledMethod] > 500
    assert counts[model.W_BytesObject] > 500
    assert counts[model.W_PointersObject] > 500
    assert counts[model.W_Float] > 10
    assert counts[model.W_Context] >= 1


@needs_headless
def test_hashes_and_class_index():
    data = headless_data()
    loader = spur.SpurLoader(data, constants.FORMAT_SPUR_32, True)
    image = loader.load()
    space = image.space
    # A class's identity hash is a class index it is registered under. (Here each
    # metaclass is also registered at a second index, which its instance's header
    # uses: True's header says 1168, True class has hash 1030, both entries lead to it.)
    for chunk in loader.chunks:
        if chunk.is_real():
            assert chunk.w_object.hash == chunk.hash
            class_chunk = loader.class_chunk(chunk.class_index)
            assert loader.class_chunk(class_chunk.hash) is class_chunk
            assert chunk.w_object.w_class is class_chunk.w_object
    # Oops: nil is at the old base address; the hidden roots are the fifth chunk.
    assert loader.chunks[0].oop == loader.header.old_base
    assert loader.chunks[0].w_object is space.w_nil
    roots = loader.chunks[spur.HIDDEN_ROOTS_INDEX]
    assert roots.class_index == spur.ARRAY_CLASS_INDEX_PUN
    assert roots.num_slots == 4096 + 8
    # The special objects array sits at the oop the header names.
    assert loader.chunk_at(loader.header.special_objects_oop).w_object is image.w_special_objects


@needs_headless
def test_method_lookup():
    space = headless().space
    w_true_class = space.w_true.getclass(space)
    w_method, w_found = lookup(space, w_true_class, "ifTrue:ifFalse:")
    assert isinstance(w_method, model.W_CompiledMethod)
    assert w_found is w_true_class
    assert w_method.num_args == 2
    assert w_method.selector(space) == "ifTrue:ifFalse:"
    # Inherited, with a primitive: the callPrimitive bytecode gives its number.
    w_method, w_found = lookup(space, w_true_class, "instVarAt:put:")
    assert isinstance(w_method, model.W_CompiledMethod)
    assert class_name(space, w_found) == "Object"
    assert w_method.num_args == 2
    assert w_method.primitive == 74
    assert ord(w_method.bytes[0]) == 139     # callPrimitive (V3PlusClosures)
    assert w_method.new_header and w_method.word_size == 4
    assert w_method.header >= 0              # not the alternate (Sista) bytecode set
    assert w_method.literal_bytes() == (w_method.num_literals() + 1) * 4
    w_method, _ = lookup(space, w_true_class, "noSuchSelectorAnywhere")
    assert w_method is None


@needs_headless
def test_methods_use_v3_plus_closures_bytecodes():
    image = headless()
    methods = [w for w in image.objects_w if isinstance(w, model.W_CompiledMethod)]
    assert methods
    for w_method in methods:
        assert w_method.header >= 0
        assert w_method.num_literals() == w_method.header & 0x7fff
        if (w_method.header >> 16) & 1:
            assert ord(w_method.bytes[0]) == 139
            assert w_method.primitive > 0


@needs_headless
def test_floats():
    image = headless()
    space = image.space
    floats = [w for w in image.objects_w if isinstance(w, model.W_Float)]
    assert floats
    values = set()
    for w_float in floats:
        assert w_float.getclass(space) is space.w_Float
        assert not math.isnan(w_float.value) and not math.isinf(w_float.value)
        values.add(w_float.value)
    # Swapped words would turn these into unrelated numbers.
    assert 0.5 in values
    assert math.log(2) in values
    assert 1e-12 in values
    assert 1.7976931348623157e308 in values     # Float fmax
    w_half = [w for w in floats if w.value == 0.5][0]
    assert w_half.getword(0) == 0x3fe00000 and w_half.getword(1) == 0


@needs_headless
def test_characters():
    image = headless()
    space = image.space
    chars = []
    for w_obj in image.objects_w:
        if isinstance(w_obj, model.W_CompiledMethod):
            chars.extend([w for w in w_obj.literals if isinstance(w, model.W_Character)])
        elif isinstance(w_obj, model.W_PointersObject):
            chars.extend([w for w in w_obj.slots if isinstance(w, model.W_Character)])
    assert chars
    values = set(w.value for w in chars)
    assert ord("$") in values and ord("a") in values
    for w_char in chars:
        assert w_char.getclass(space) is space.w_Character
        assert 0 <= w_char.value < 0x110000


@needs_headless
def test_strings_and_symbols():
    image = headless()
    space = image.space
    strings = set(w.as_string() for w in image.objects_w
                  if isinstance(w, model.W_BytesObject))
    assert "doesNotUnderstand:" in strings
    assert "SmallInteger" in strings
    w_dnu = space.special(constants.SO_DOES_NOT_UNDERSTAND)
    assert isinstance(w_dnu, model.W_BytesObject)
    assert w_dnu.as_string() == "doesNotUnderstand:"


@needs_headless
def test_startup_context():
    space = headless().space
    w_assoc = space.special(constants.SO_SCHEDULER_ASSOCIATION)
    w_scheduler = w_assoc.fetch(space, constants.ASSOCIATION_VALUE)
    assert class_name(space, w_scheduler.getclass(space)) == "ProcessorScheduler"
    w_process = w_scheduler.fetch(space, constants.SCHEDULER_ACTIVE_PROCESS)
    assert w_process.getclass(space) is space.w_Process
    w_ctx = w_process.fetch(space, constants.PROCESS_SUSPENDED_CONTEXT)
    assert isinstance(w_ctx, model.W_Context)
    assert not w_ctx.is_block_context
    assert w_ctx.getclass(space) is space.w_MethodContext
    w_method = w_ctx.w_method
    assert isinstance(w_method, model.W_CompiledMethod)
    assert w_ctx.fetch(space, constants.MCTX_METHOD) is w_method
    assert w_method.selector(space) == "DoIt"
    assert class_name(space, w_method.method_class(space)) == "UndefinedObject"
    assert w_ctx.w_receiver is space.w_nil
    assert w_ctx.w_sender is space.w_nil
    assert w_ctx.w_closure is space.w_nil
    # About to run its first bytecode: push the global System, send #start.
    assert w_ctx.pc == 0 and w_ctx.sp == 0
    assert w_ctx.fetch(space, constants.CTX_PC).value == w_method.literal_bytes() + 1
    assert [ord(c) for c in w_method.bytes[:3]] == [0x40, 0xd1, 0x7c]
    w_global = w_method.getliteral(0)
    assert w_global.fetch(space, constants.ASSOCIATION_KEY).as_string() == "System"
    assert w_method.getliteral(1).as_string() == "start"


# --- several segments --------------------------------------------------------------

def split_into_two_segments(data, split_chunk_index, span_slots):
    """headless.image rewritten as two segments with a gap of span_slots between them.

    Objects from split_chunk_index on move to a second segment that starts
    span_slots * 4 bytes after the first one ends (plus its bridge), so every
    pointer to them grows by that much.
    """
    loader = spur.SpurLoader(data, constants.FORMAT_SPUR_32, True)
    header_size = loader.header.header_size
    old_base = loader.header.old_base
    split = loader.chunks[split_chunk_index]
    split_pos = split.body_pos - (16 if split.num_slots >= 255 else 8)
    split_oop = split_pos - header_size + old_base
    delta = 16 + span_slots * 4
    out = bytearray(data)

    def fix(pos):
        word = struct.unpack_from("<I", out, pos)[0]
        if word & 3 == 0 and word >= split_oop:
            struct.pack_into("<I", out, pos, word + delta)

    fix(16)     # the special objects oop
    for chunk in loader.chunks:
        if chunk.format <= spur.SPUR_FORWARDED:
            nptrs = chunk.num_slots
        elif chunk.format >= spur.SPUR_METHOD:
            nptrs = 1 + ((struct.unpack_from("<I", data, chunk.body_pos)[0] >> 1) & 0x7fff)
        else:
            nptrs = 0
        for i in range(nptrs):
            fix(chunk.body_pos + 4 * i)
    first_size = split_pos - header_size + 16
    end = header_size + loader.header.data_size
    second_size = end - split_pos
    bridge = struct.pack("<IIII", span_slots, 0xff000000, second_size, 0)
    out = out[:split_pos] + bridge + out[split_pos:]
    struct.pack_into("<I", out, 8, first_size + second_size)
    struct.pack_into("<I", out, 48, first_size)
    return bytes(out)


@needs_headless
def test_two_segments():
    data = headless_data()
    image = headless()
    for split_index, span in [(100, 0), (1500, 12345), (len(image.objects_w), 2)]:
        image2 = load_within(split_into_two_segments(data, split_index, span))
        space2 = image2.space
        assert len(image2.objects_w) == len(image.objects_w)
        for w_a, w_b in zip(image.objects_w, image2.objects_w):
            assert type(w_a) is type(w_b)
            assert w_a.hash == w_b.hash
            assert w_a.size() == w_b.size()
        assert class_name(space2, space2.w_true.getclass(space2)) == "True"
        w_method, _ = lookup(space2, space2.w_true.getclass(space2), "instVarAt:put:")
        assert w_method.num_args == 2


@needs_headless
def test_bad_second_segment_size():
    data = headless_data()
    two = bytearray(split_into_two_segments(data, 1000, 8))
    first_size = struct.unpack_from("<I", two, 48)[0]
    bridge_pos = 64 + first_size - 16
    for bad in [8, 12, first_size * 4, 0x7ffffff8]:
        broken = bytearray(two)
        struct.pack_into("<I", broken, bridge_pos + 8, bad)
        with pytest.raises(ImageError):
            load_within(bytes(broken))
    broken = bytearray(two)
    struct.pack_into("<I", broken, bridge_pos + 12, 1)
    with pytest.raises(ImageError):
        load_within(bytes(broken))


# --- corrupt images -----------------------------------------------------------------

def assert_loads_or_image_error(data):
    try:
        load_within(data)
    except ImageError as e:
        assert "\n" not in str(e) and str(e)


@needs_headless
def test_truncated():
    data = headless_data()
    for length in [0, 4, 63, 64, 65, 72, 200, 4096, len(data) // 2, len(data) - 17,
                   len(data) - 16, len(data) - 1]:
        with pytest.raises(ImageError):
            load_within(data[:length])


@needs_headless
def test_zero_data_size():
    data = bytearray(headless_data())
    struct.pack_into("<I", data, 8, 0)
    with pytest.raises(ImageError):
        load_within(bytes(data))


@needs_headless
def test_bad_header_fields():
    data = headless_data()
    for offset, value in [(4, 8), (4, 1 << 20), (8, 1 << 30), (16, 3), (16, 0),
                          (16, 0x3204008), (48, 0), (48, 8), (48, 0x210f4),
                          (48, 0x210f8)]:
        broken = bytearray(data)
        struct.pack_into("<I", broken, offset, value)
        with pytest.raises(ImageError):
            load_within(bytes(broken))


@needs_headless
def test_bad_bridge():
    data = headless_data()
    end = len(data)
    broken = bytearray(data)
    struct.pack_into("<I", broken, end - 8, 64)     # a next segment that is not there
    with pytest.raises(ImageError):
        load_within(bytes(broken))


@needs_headless
def test_bad_object_headers():
    data = headless_data()
    offsets = header_offsets(data)
    cases = [
        (offsets[0], 0x00000005),           # nil's class index: a hidden pun
        (offsets[0], 0x003fffff),           # a class index far outside the table
        (offsets[10] + 4, 0xfe000000),      # 254 slots: runs into the next objects
        (offsets[10] + 4, 0xff000000),      # overflow count without its header
        (offsets[-1] + 4, 0x20000000),      # last object runs into the bridge
    ]
    for offset, value in cases:
        broken = bytearray(data)
        struct.pack_into("<I", broken, offset, value)
        with pytest.raises(ImageError):
            load_within(bytes(broken))


@needs_headless
def test_bit_flips_in_object_headers():
    data = headless_data()
    offsets = header_offsets(data)
    rng = random.Random(6521)
    for _ in range(80):
        pos = rng.choice(offsets) + rng.randrange(8)
        broken = bytearray(data)
        broken[pos] ^= 1 << rng.randrange(8)
        assert_loads_or_image_error(bytes(broken))


@needs_headless
def test_bit_flips_anywhere():
    data = headless_data()
    rng = random.Random(68021)
    for _ in range(60):
        broken = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            pos = rng.randrange(len(data))
            broken[pos] ^= 1 << rng.randrange(8)
        assert_loads_or_image_error(bytes(broken))


@needs_headless
def test_garbage_words():
    data = headless_data()
    offsets = header_offsets(data)
    rng = random.Random(1)
    for _ in range(40):
        pos = rng.choice(offsets) + rng.choice([0, 4, 8, 12])
        broken = bytearray(data)
        struct.pack_into("<I", broken, pos, rng.choice(
            [0, 0xffffffff, 0x7fffffff, 0x80000000, rng.getrandbits(32)]))
        assert_loads_or_image_error(bytes(broken))


