"""Reading V3 images (formats 6502, 6504, 6505) in both byte orders with spyvm.image.v3.

Real images from COGXEN_IMAGES (see tests/conftest.py):
- mini.image: 6502 (no closures), little-endian, Squeak 2.2;
- mini-running-exit.image: the same, saved with live contexts;
- bootstrapped.image: 6505 (closures, floats in platform word order), little-endian,
  a kernel whose classes are named PC*.
Big-endian copies are made with v3.swap_byte_order. No 6504 image exists here: one
is made from bootstrapped.image by to_6504 below.
"""

import struct

import pytest

from spyvm import constants, model
from spyvm.image import v3
from spyvm.image.format import ImageError, ImageReader, detect_format
from spyvm.image.reader import read_image
from spyvm.interpreter import Interpreter
from rpython.rlib import longlong2float


# --- making test inputs ----------------------------------------------------------

def put_word(data, pos, value, little_endian):
    """data with the 32-bit word at pos replaced."""
    packed = struct.pack("<I" if little_endian else ">I", value & 0xffffffff)
    return data[:pos] + packed + data[pos + 4:]


def header_of(data):
    version, little = detect_format(data)
    return v3.V3Header(ImageReader(data, little)), little


def float_chunks(data):
    """The chunks of data's Float instances (found through the special objects array)."""
    version, little = detect_format(data)
    reader = ImageReader(data, little)
    header = v3.V3Header(reader)
    chunks = v3.parse_chunks(reader, header)
    by_oop = dict((chunk.oop, chunk) for chunk in chunks)

    def body_word(chunk, index):
        return reader.word32(chunk.body_pos + 4 * index)

    specials = by_oop[header.special_objects_oop]
    float_class = body_word(specials, constants.SO_FLOAT_CLASS)
    compact = by_oop[body_word(specials, constants.SO_COMPACT_CLASSES)]
    compact_classes = [body_word(compact, i) for i in range(compact.body_words)]
    found = []
    for chunk in chunks:
        if chunk.compact_index:
            class_oop = compact_classes[chunk.compact_index - 1]
        else:
            class_oop = chunk.class_oop
        if class_oop == float_class and chunk.format == 6 and chunk.body_words == 2:
            found.append(chunk)
    return found


def to_6504(data):
    """A 6505 image rewritten as 6504: the version word changes, and so does the word
    order of every Float body (6505 keeps the two words of a Float in the platform's
    order, low word first on little-endian; 6504 always puts the high word first).
    Answers (new bytes, number of Floats converted)."""
    version, little = detect_format(data)
    assert version == constants.FORMAT_V3_CLOSURES_FLOATS_NATIVE
    floats = float_chunks(data)
    out = bytearray(put_word(data, 0, constants.FORMAT_V3_CLOSURES, little))
    for chunk in floats:
        p = chunk.body_pos
        out[p:p + 4], out[p + 4:p + 8] = data[p + 4:p + 8], data[p:p + 4]
    return str(out), len(floats)


# --- loading (each variant read once per module) ------------------------------------

class Images(object):
    """Image bytes and loaded images by (file name, variant); variant is 'le' (the file
    as it is), 'be' (its byte-swapped copy), '6504-le' or '6504-be' (to_6504 of it)."""

    def __init__(self, image_bytes):
        self.image_bytes = image_bytes    # skips the test when the file is missing
        self.loaded = {}
        self.converted = {}

    def data(self, name, variant="le"):
        key = (name, variant)
        if key not in self.converted:
            self.converted[key] = self._convert(name, variant)
        return self.converted[key]

    def _convert(self, name, variant):
        data = self.image_bytes(name)
        if variant == "le":
            return data
        if variant == "be":
            return v3.swap_byte_order(data)
        if variant == "6504-le":
            return to_6504(data)[0]
        assert variant == "6504-be"
        return v3.swap_byte_order(self.data(name, "6504-le"))

    def load(self, name, variant="le"):
        key = (name, variant)
        if key not in self.loaded:
            self.loaded[key] = read_image(self.data(name, variant))
        return self.loaded[key]


@pytest.fixture(scope="module")
def images(image_bytes):
    return Images(image_bytes)


# (image, variant, version, little-endian, class name prefix)
VARIANTS = [
    ("mini.image", "le", 6502, True, ""),
    ("mini.image", "be", 6502, False, ""),
    ("bootstrapped.image", "le", 6505, True, "PC"),
    ("bootstrapped.image", "be", 6505, False, "PC"),
    ("bootstrapped.image", "6504-le", 6504, True, "PC"),
    ("bootstrapped.image", "6504-be", 6504, False, "PC"),
]

# Variants with the same objects as the little-endian original, in the same file order.
SAME_OBJECTS = [("mini.image", "be"), ("bootstrapped.image", "be"),
                ("bootstrapped.image", "6504-le"), ("bootstrapped.image", "6504-be")]


def variant_id(v):
    return "%s-%s" % (v[0].split(".")[0], v[1])


def pair_id(p):
    return "%s-%s" % (p[0].split(".")[0], p[1])


def find_symbol(image, name):
    space = image.space
    w_symbol_class = space.special(constants.SO_DOES_NOT_UNDERSTAND).getclass(space)
    for w_obj in image.objects_w:
        if isinstance(w_obj, model.W_BytesObject) and w_obj.as_string() == name and \
                w_obj.getclass(space) is w_symbol_class:
            return w_obj
    return None


def float_bits(value):
    return longlong2float.float2longlong(value) & 0xffffffffffffffff


def floats(image):
    return [w for w in image.objects_w if isinstance(w, model.W_Float)]


def methods(image):
    return [w for w in image.objects_w if isinstance(w, model.W_CompiledMethod)]


# --- format detection and special objects ------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_detects_version_and_byte_order(variant, images):
    name, kind, version, little, _ = variant
    data = images.data(name, kind)
    assert detect_format(data) == (version, little)
    image = images.load(name, kind)
    assert image.version == version
    assert image.little_endian == little
    assert image.space.version == version
    assert image.space.word_size == 4 and not image.space.is_spur
    assert image.space.uses_closures == (version != 6502)
    assert image.header_size == 64
    assert image.format_name().startswith("%d (V3 32-bit" % version)


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_special_objects(variant, images):
    name, kind, _, _, prefix = variant
    space = images.load(name, kind).space
    w_nil, w_true, w_false = space.w_nil, space.w_true, space.w_false
    assert w_nil is not w_true and w_nil is not w_false and w_true is not w_false
    assert w_nil.classname(space) == prefix + "UndefinedObject"
    assert w_true.classname(space) == prefix + "True"
    assert w_false.classname(space) == prefix + "False"
    for w_class, class_name in [(space.w_SmallInteger, "SmallInteger"),
                                (space.w_Float, "Float"), (space.w_Array, "Array"),
                                (space.w_String, "String"),
                                (space.w_CompiledMethod, "CompiledMethod"),
                                (space.w_MethodContext, "MethodContext"),
                                (space.w_Character, "Character"),
                                (space.w_Semaphore, "Semaphore"),
                                (space.w_Process, "Process")]:
        assert space.class_name(w_class) == prefix + class_name
    assert space.class_name(space.w_SmallInteger.getclass(space)) == \
        prefix + "SmallInteger class"
    w_dnu = space.special(constants.SO_DOES_NOT_UNDERSTAND)
    assert w_dnu.as_string() == "doesNotUnderstand:"
    assert w_dnu.classname(space) == prefix + "Symbol"
    # The Character table holds the Characters 0..255 in order.
    assert space.unwrap_char(space.wrap_char(65)) == 65


def test_mini_globals(images):
    space = images.load("mini.image").space
    assert space.class_name(space.smalltalk_at("Object")) == "Object"
    assert space.smalltalk_at("Compiler") is not None
    assert space.smalltalk_at("Processor").classname(space) == "ProcessorScheduler"


# --- the same image in both byte orders (and as 6504) ---------------------------------

@pytest.mark.parametrize("pair", SAME_OBJECTS, ids=pair_id)
def test_same_objects_and_classes(pair, images):
    name, kind = pair
    original = images.load(name, "le")
    other = images.load(name, kind)
    assert len(other.objects_w) == len(original.objects_w)
    space_a, space_b = original.space, other.space
    for w_a, w_b in zip(original.objects_w, other.objects_w):
        assert w_a.__class__ is w_b.__class__
        assert w_a.classname(space_a) == w_b.classname(space_b)
        assert w_a.size() == w_b.size()
    assert original.last_hash == other.last_hash
    assert original.saved_window_size == other.saved_window_size
    assert original.flags == other.flags
    w_specials_a = original.w_special_objects
    w_specials_b = other.w_special_objects
    assert w_specials_a.size() == w_specials_b.size()


@pytest.mark.parametrize("pair", SAME_OBJECTS, ids=pair_id)
def test_same_strings_and_symbols(pair, images):
    name, kind = pair
    original = images.load(name, "le")
    other = images.load(name, kind)
    w_a = find_symbol(original, "printString")
    w_b = find_symbol(other, "printString")
    assert w_a is not None and w_b is not None
    assert w_a.bytes == w_b.bytes == list("printString")
    for w_a, w_b in zip(original.objects_w, other.objects_w):
        if isinstance(w_a, model.W_BytesObject):
            assert w_a.bytes == w_b.bytes
        elif isinstance(w_a, model.W_WordsObject):
            assert w_a.words == w_b.words


@pytest.mark.parametrize("pair", SAME_OBJECTS, ids=pair_id)
def test_same_floats(pair, images):
    name, kind = pair
    floats_a = floats(images.load(name, "le"))
    floats_b = floats(images.load(name, kind))
    assert len(floats_a) == len(floats_b) > 0
    assert [float_bits(w.value) for w in floats_a] == \
        [float_bits(w.value) for w in floats_b]
    values = set(w.value for w in floats_b)
    # Values the images are known to hold: a word-order mistake would garble them.
    assert 3.141592653589793 in values
    assert 2.718281828459045 in values
    assert 1073741823.0 in values and 2e16 in values and 1e-10 in values


def test_bootstrapped_has_floats_for_the_6504_conversion(images):
    # to_6504 only changes something because bootstrapped.image has Float instances.
    data_6504, converted = to_6504(images.data("bootstrapped.image"))
    assert converted == len(floats(images.load("bootstrapped.image"))) > 0
    assert detect_format(data_6504) == (6504, True)
    values = set(w.value for w in floats(images.load("bootstrapped.image", "6504-le")))
    assert 3.141592653589793 in values
    # The Float words did change places: read as 6505 again, they come out garbled.
    garbled = read_image(put_word(data_6504, 0, 6505, True))
    assert 3.141592653589793 not in set(w.value for w in floats(garbled))


@pytest.mark.parametrize("pair", SAME_OBJECTS, ids=pair_id)
def test_same_compiled_methods(pair, images):
    name, kind = pair
    methods_a = methods(images.load(name, "le"))
    methods_b = methods(images.load(name, kind))
    assert len(methods_a) == len(methods_b) > 0
    space_a = images.load(name, "le").space
    space_b = images.load(name, kind).space
    for w_a, w_b in zip(methods_a, methods_b):
        assert (w_a.header, w_a.num_args, w_a.num_temps, w_a.primitive,
                w_a.large_frame, w_a.bytes) == \
            (w_b.header, w_b.num_args, w_b.num_temps, w_b.primitive,
             w_b.large_frame, w_b.bytes)
        assert len(w_a.literals) == len(w_b.literals)
        assert w_a.selector(space_a) == w_b.selector(space_b)
        for w_la, w_lb in zip(w_a.literals, w_b.literals):
            if isinstance(w_la, model.W_SmallInteger):
                assert w_la.value == w_lb.value
            else:
                assert w_la.classname(space_a) == w_lb.classname(space_b)


@pytest.mark.parametrize("variant", [("mini.image", "le", "Object"),
                                     ("mini.image", "be", "Object"),
                                     ("bootstrapped.image", "le", "PCObject"),
                                     ("bootstrapped.image", "be", "PCObject"),
                                     ("bootstrapped.image", "6504-be", "PCObject")],
                         ids=lambda v: "%s-%s" % (v[0].split(".")[0], v[1]))
def test_known_methods(variant, images):
    name, kind, object_name = variant
    image = images.load(name, kind)
    space = image.space
    interp = Interpreter(space, image)
    w_object = [w for w in image.objects_w if isinstance(w, model.W_PointersObject) and
                w.size() > constants.CLASS_NAME and
                space.class_name(w) == object_name][0]
    w_at = interp.lookup(w_object, interp.symbol("at:"))
    assert isinstance(w_at, model.W_CompiledMethod)
    assert (w_at.num_args, w_at.primitive) == (1, 60)
    w_at_put = interp.lookup(w_object, interp.symbol("at:put:"))
    assert (w_at_put.num_args, w_at_put.primitive) == (2, 61)
    w_identical = interp.lookup(w_object, interp.symbol("=="))
    assert (w_identical.num_args, w_identical.primitive) == (1, 110)
    w_dnu = interp.lookup(w_object, interp.symbol("doesNotUnderstand:"))
    assert (w_dnu.num_args, w_dnu.primitive) == (1, 0)
    assert w_dnu.num_temps >= 1 and len(w_dnu.bytes) > 0
    if name == "bootstrapped.image":
        # Squeak 2.2 methods do not keep their selector among the literals.
        assert w_dnu.selector(space) == "doesNotUnderstand:"


def test_mini_method_details(images):
    image = images.load("mini.image", "be")
    space = image.space
    interp = Interpreter(space, image)
    # ContextPart>>blockCopy: is primitive 80; BlockContext>>value: primitive 81.
    w_block_copy = interp.lookup(space.w_BlockContext, interp.symbol("blockCopy:"))
    assert (w_block_copy.num_args, w_block_copy.primitive) == (1, 80)
    w_value = interp.lookup(space.w_BlockContext, interp.symbol("value:"))
    assert (w_value.num_args, w_value.primitive) == (1, 81)
    # Process>>resume: primitive 87, body `self primitiveFailed`.
    w_resume = interp.lookup(space.w_Process, interp.symbol("resume"))
    assert w_resume.primitive == 87
    assert w_resume.bytes == "\x70\xd0\x87\x78\x00"


# --- contexts of a running image -------------------------------------------------------

@pytest.mark.parametrize("kind", ["le", "be"])
def test_running_image_contexts(kind, images):
    image = images.load("mini-running-exit.image", kind)
    space = image.space
    contexts = [w for w in image.objects_w if isinstance(w, model.W_Context)]
    assert len(contexts) > 20
    live = 0
    for w_ctx in contexts:
        assert 0 <= w_ctx.sp <= w_ctx.slot_count()
        assert w_ctx.slot_count() in (12, 16, 32, 56)   # the image's frame sizes
        if w_ctx.pc < 0:
            continue
        live += 1
        w_method = w_ctx.w_method
        assert isinstance(w_method, model.W_CompiledMethod)
        assert 0 <= w_ctx.pc < len(w_method.bytes)
        w_pc = w_ctx.fetch(space, constants.CTX_PC)
        assert w_pc.value == w_ctx.pc + w_method.literal_bytes() + 1
        assert w_ctx.fetch(space, constants.CTX_STACKP).value == w_ctx.sp
        if w_ctx.is_block_context:
            assert isinstance(w_ctx.w_home, model.W_Context)
            assert w_ctx.w_receiver is w_ctx.w_home.w_receiver
            start = w_ctx.block_startpc - w_method.literal_bytes() - 1
            assert 0 <= start <= w_ctx.pc
        else:
            assert w_ctx.sp >= w_method.num_temps
            assert w_ctx.fetch(space, constants.MCTX_METHOD) is w_method
    assert live > 20
    interp = Interpreter(space, image)
    w_active = interp.scheduler.active_process()
    w_top = w_active.fetch(space, constants.PROCESS_SUSPENDED_CONTEXT)
    trace = interp.stack_trace(w_top)
    assert trace[0] == "UndefinedObject>>DoIt"
    assert trace[1] == "Compiler>>evaluate:in:to:notifying:ifFail:"
    assert trace[-1] == "[] in BlockContext>>newProcess"


def test_running_image_contexts_same_in_both_orders(images):
    le = images.load("mini-running-exit.image", "le")
    be = images.load("mini-running-exit.image", "be")
    ctx_le = [w for w in le.objects_w if isinstance(w, model.W_Context)]
    ctx_be = [w for w in be.objects_w if isinstance(w, model.W_Context)]
    assert [(c.is_block_context, c.pc, c.sp, c.block_startpc, c.block_nargs)
            for c in ctx_le] == \
        [(c.is_block_context, c.pc, c.sp, c.block_startpc, c.block_nargs) for c in ctx_be]


# --- byte order conversion ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["mini.image", "bootstrapped.image",
                                  "mini-running-exit.image"])
def test_swap_twice_is_identity(name, images):
    data = images.data(name)
    swapped = images.data(name, "be")
    assert swapped != data and len(swapped) == len(data)
    assert swapped[:4] == data[3::-1]
    assert v3.swap_byte_order(swapped) == data


def test_swap_6504_twice_is_identity(images):
    data = images.data("bootstrapped.image", "6504-le")
    assert v3.swap_byte_order(images.data("bootstrapped.image", "6504-be")) == data


def test_swap_keeps_bytes_in_memory_order(images):
    data = images.data("mini.image")
    swapped = images.data("mini.image", "be")
    assert swapped.count("printString") == data.count("printString") > 0


def test_swap_refuses_spur(images):
    data = images.data("headless.image")
    with pytest.raises(ImageError) as info:
        v3.swap_byte_order(data)
    assert str(info.value) == "byte order conversion is for V3 images only"


# --- corrupt inputs -----------------------------------------------------------------------

def read_error(data):
    with pytest.raises(ImageError) as info:
        read_image(data)
    return str(info.value)


@pytest.mark.parametrize("kind", ["le", "be"])
def test_header_says_more_data_than_the_file(kind, images):
    data = images.data("bootstrapped.image", kind)
    header, little = header_of(data)
    bad = put_word(data, 8, header.data_size + 4, little)
    assert read_error(bad) == \
        "image truncated: header says %d bytes of objects, file has %d" % (
            header.data_size + 4, len(data) - 64)


@pytest.mark.parametrize("kind", ["le", "be"])
@pytest.mark.parametrize("length", [0, 1, 4, 32, 63])
def test_shorter_than_a_header(kind, length, images):
    data = images.data("bootstrapped.image", kind)[:length]
    assert read_error(data) == \
        "not an image: %d bytes is shorter than any image header" % length


@pytest.mark.parametrize("kind", ["le", "be"])
@pytest.mark.parametrize("length", [64, 65, 100, 4096, 86640, 86703])
def test_truncated(kind, length, images):
    data = images.data("bootstrapped.image", kind)
    assert len(data) == 86704
    assert read_error(data[:length]) == \
        "image truncated: header says 86640 bytes of objects, file has %d" % (length - 64)


def test_truncated_mini(images):
    data = images.data("mini.image")
    for length in [64, len(data) // 3, len(data) - 1]:
        assert read_error(data[:length]) == \
            "image truncated: header says %d bytes of objects, file has %d" % (
                len(data) - 64, length - 64)


@pytest.mark.parametrize("kind", ["le", "be"])
def test_no_object_data(kind, images):
    data = images.data("bootstrapped.image", kind)
    _, little = header_of(data)
    assert read_error(put_word(data, 8, 0, little)) == "corrupt image header: data size 0"


@pytest.mark.parametrize("kind", ["le", "be"])
@pytest.mark.parametrize("header_size", [0, 12, 60, 86705, 0x7fffffff])
def test_bad_header_size(kind, header_size, images):
    data = images.data("bootstrapped.image", kind)
    _, little = header_of(data)
    bad = put_word(data, 4, header_size, little)
    assert read_error(bad) == \
        "corrupt image header: header size %d for a file of %d bytes" % (
            header_size, len(data))


@pytest.mark.parametrize("kind", ["le", "be"])
def test_object_runs_past_the_end(kind, images):
    data = images.data("bootstrapped.image", kind)
    header, little = header_of(data)
    reader = ImageReader(data, little)
    last = v3.parse_chunks(reader, header)[-1]
    # Where the last object's headers start: the base header's type says how many.
    base_pos = last.body_pos - 4
    extra = {3: 0, 1: 1, 0: 2}[reader.word32(base_pos) & 3]
    start = base_pos - 4 * extra
    assert last.body_words >= 1
    end = last.body_pos + 4 * last.body_words
    assert end == len(data)
    bad = put_word(data, 8, end - 4 - 64, little)
    assert read_error(bad) == \
        "image truncated: object at offset %d runs past the end" % start


@pytest.mark.parametrize("kind", ["le", "be"])
def test_pointer_to_no_object(kind, images):
    # Cut the object memory just before the special objects array.
    data = images.data("bootstrapped.image", kind)
    header, little = header_of(data)
    reader = ImageReader(data, little)
    chunks = v3.parse_chunks(reader, header)
    specials = [c for c in chunks if c.oop == header.special_objects_oop][0]
    base_pos = specials.body_pos - 4
    extra = {3: 0, 1: 1, 0: 2}[reader.word32(base_pos) & 3]
    cut = base_pos - 4 * extra - 64
    bad = put_word(data, 8, cut, little)
    assert read_error(bad) == \
        "corrupt image: pointer %d leads to no object" % header.special_objects_oop


@pytest.mark.parametrize("kind", ["le", "be"])
def test_unsupported_version(kind, images):
    data = images.data("bootstrapped.image", kind)
    _, little = header_of(data)
    assert read_error(put_word(data, 0, 6503, little)) == "unsupported image format 6503"
    assert read_error(put_word(data, 0, 68021, little)) != ""


@pytest.mark.parametrize("kind", ["le", "be"])
def test_unknown_version(kind, images):
    data = images.data("bootstrapped.image", kind)
    _, little = header_of(data)
    bad = put_word(data, 0, 12345, little)
    swapped = struct.unpack("<I", struct.pack(">I", 12345))[0]
    if little:
        expected = (12345, swapped)
    else:
        expected = (swapped, 12345)
    assert read_error(bad) == "unknown image format (version word %d / %d)" % expected


def test_garbage_is_not_an_image():
    assert read_error("\x00" * 200) == "unknown image format (version word 0 / 0)"


# --- finding objects by oop ----------------------------------------------------------

def test_pointers_between_objects_lead_to_no_object(images):
    # A pointer into the middle of an object is as corrupt as one past the end.
    data = images.data("mini.image", "le")
    header, little = header_of(data)
    reader = ImageReader(data, little)
    specials = [c for c in v3.parse_chunks(reader, header)
                if c.oop == header.special_objects_oop][0]
    pos = specials.body_pos + 4 * constants.SO_NIL
    inside = specials.oop + 4
    assert read_error(put_word(data, pos, inside, little)) == \
        "corrupt image: pointer %d leads to no object" % inside


def test_loaded_small_integers_are_shared(images):
    image = read_image(images.data("mini.image", "le"))
    values = {}
    for w_obj in image.objects_w:
        if isinstance(w_obj, model.W_PointersObject):
            for w_slot in w_obj.slots:
                if isinstance(w_slot, model.W_SmallInteger):
                    values.setdefault(w_slot.value, set()).add(id(w_slot))
    assert len(values[0]) == 1 and len(values[1]) == 1
