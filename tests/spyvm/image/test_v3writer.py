"""Writing V3 images with spyvm.image.v3writer.

Real images from COGXEN_IMAGES (see tests/conftest.py): mini.image,
mini-running-exit.image, mini-running-something.image (6502) and bootstrapped.image
(6505), all little-endian; big-endian copies are made with v3.swap_byte_order, 6504
ones by writing bootstrapped.image's objects as 6504.

- Round trip: every object read, written back in file order at the file's base
  address, gives the file again, byte for byte; at another base address it reads
  back as the same object graph.
- Reachable-only writes (the form a snapshot takes) load, and the VM behaves the
  same on them; Debian's squeak-vm (when installed) resumes one.
- Layout details and refusals are checked on a tiny hand-made object space.
"""

import glob
import os
import signal
import struct
import subprocess
import time

import pytest

from spyvm import constants, headless, model
from spyvm.image import v3, v3writer, writer
from spyvm.image.format import ImageError, ImageReader, LoadedImage, detect_format
from spyvm.image.reader import read_image
from spyvm.objspace import ObjSpace
from rpython.rlib import longlong2float


V3_IMAGES = ["mini.image", "mini-running-exit.image", "mini-running-something.image",
             "bootstrapped.image"]

# A base address none of the test images was saved at.
OTHER_BASE = 0x00200000


def old_base(data):
    version, little = detect_format(data)
    return v3.V3Header(ImageReader(data, little)).old_base


def float_bits(value):
    return longlong2float.float2longlong(value) & 0xffffffffffffffff


def with_version(loaded, version, little_endian):
    """loaded's header facts, claiming another format or byte order."""
    return LoadedImage(loaded.space, version, little_endian, loaded.header_size,
                       loaded.w_special_objects, loaded.last_hash,
                       loaded.saved_window_size, loaded.flags, loaded.objects_w,
                       loaded.old_base)


class Images(object):
    """Image bytes and loaded images by (file name, 'le' or 'be'); loaded images here
    are only read from, never run."""

    def __init__(self, image_bytes):
        self.image_bytes = image_bytes
        self.converted = {}
        self.loaded = {}

    def data(self, name, variant="le"):
        key = (name, variant)
        if key not in self.converted:
            data = self.image_bytes(name)
            if variant == "be":
                data = v3.swap_byte_order(data)
            self.converted[key] = data
        return self.converted[key]

    def load(self, name, variant="le"):
        key = (name, variant)
        if key not in self.loaded:
            self.loaded[key] = read_image(self.data(name, variant))
        return self.loaded[key]


@pytest.fixture(scope="module")
def images(image_bytes):
    return Images(image_bytes)


def assert_same_graph(space_a, objects_a, space_b, objects_b):
    """objects_a and objects_b are the same objects, in the same order: same kinds,
    classes, hashes, contents, and references to corresponding objects."""
    assert len(objects_a) == len(objects_b)
    index_b = {}
    for i, w_b in enumerate(objects_b):
        index_b[w_b] = i
    index_a = {}
    for i, w_a in enumerate(objects_a):
        index_a[w_a] = i

    def same_ref(w_a, w_b):
        if isinstance(w_a, model.W_SmallInteger):
            assert isinstance(w_b, model.W_SmallInteger) and w_a.value == w_b.value
        else:
            assert index_a[w_a] == index_b[w_b]

    for w_a, w_b in zip(objects_a, objects_b):
        assert w_a.__class__ is w_b.__class__
        same_ref(w_a.w_class, w_b.w_class)
        assert w_a.hash == w_b.hash
        assert w_a.size() == w_b.size()
        if isinstance(w_a, model.W_Context):
            for i in range(w_a.size()):
                same_ref(w_a.fetch(space_a, i), w_b.fetch(space_b, i))
            assert (w_a.pc, w_a.sp, w_a.is_block_context) == \
                (w_b.pc, w_b.sp, w_b.is_block_context)
        elif isinstance(w_a, model.W_PointersObject):
            assert w_a.weak == w_b.weak
            for w_sa, w_sb in zip(w_a.slots, w_b.slots):
                same_ref(w_sa, w_sb)
        elif isinstance(w_a, model.W_Float):
            assert float_bits(w_a.value) == float_bits(w_b.value)
        elif isinstance(w_a, model.W_WordsObject):
            assert w_a.words == w_b.words
        elif isinstance(w_a, model.W_BytesObject):
            assert w_a.bytes == w_b.bytes
        elif isinstance(w_a, model.W_CompiledMethod):
            assert (w_a.header, w_a.bytes, w_a.primitive, w_a.num_args) == \
                (w_b.header, w_b.bytes, w_b.primitive, w_b.num_args)
            assert len(w_a.literals) == len(w_b.literals)
            for w_la, w_lb in zip(w_a.literals, w_b.literals):
                same_ref(w_la, w_lb)
        else:
            raise AssertionError("unexpected object %r" % w_a)


# --- round trips of the real images -------------------------------------------------

ROUND_TRIPS = [(name, variant) for name in V3_IMAGES for variant in ["le", "be"]]


def trip_id(trip):
    return "%s-%s" % (trip[0].split(".")[0], trip[1])


@pytest.mark.parametrize("trip", ROUND_TRIPS, ids=trip_id)
def test_round_trip_is_byte_identical(trip, images):
    name, variant = trip
    data = images.data(name, variant)
    loaded = images.load(name, variant)
    out = v3writer.image_bytes(loaded.space, loaded, loaded.objects_w, old_base(data))
    assert len(out) == len(data)
    assert out == data


@pytest.mark.parametrize("trip", ROUND_TRIPS, ids=trip_id)
def test_round_trip_at_another_base_reads_back_the_same(trip, images):
    name, variant = trip
    loaded = images.load(name, variant)
    out = v3writer.image_bytes(loaded.space, loaded, loaded.objects_w, OTHER_BASE)
    assert old_base(out) == OTHER_BASE
    assert detect_format(out) == (loaded.version, loaded.little_endian)
    again = read_image(out)
    assert (again.last_hash, again.saved_window_size, again.flags) == \
        (loaded.last_hash, loaded.saved_window_size, loaded.flags)
    assert_same_graph(loaded.space, loaded.objects_w, again.space, again.objects_w)
    space_a, space_b = loaded.space, again.space
    assert [w.classname(space_a) for w in loaded.objects_w] == \
        [w.classname(space_b) for w in again.objects_w]
    assert again.objects_w.index(again.w_special_objects) == \
        loaded.objects_w.index(loaded.w_special_objects)
    # Only the oops changed: the same number of objects in the same number of bytes.
    assert len(out) == len(images.data(name, variant))


def test_mini_strings_and_floats_survive(images):
    loaded = images.load("mini.image")
    again = read_image(v3writer.image_bytes(loaded.space, loaded, loaded.objects_w,
                                            OTHER_BASE))
    strings = [w.as_string() for w in again.objects_w if isinstance(w, model.W_BytesObject)]
    assert "printString" in strings and "doesNotUnderstand:" in strings
    values = set(w.value for w in again.objects_w if isinstance(w, model.W_Float))
    assert 3.141592653589793 in values


@pytest.mark.parametrize("little", [True, False], ids=["le", "be"])
def test_6504_keeps_floats_high_word_first(little, images):
    """bootstrapped.image's objects written as 6504 differ from the 6505 file in the
    version word and (little-endian only) the word order of every Float."""
    data = images.data("bootstrapped.image", "le" if little else "be")
    loaded = images.load("bootstrapped.image", "le" if little else "be")
    out = v3writer.image_bytes(loaded.space, with_version(loaded, 6504, little),
                               loaded.objects_w, old_base(data))
    assert detect_format(out) == (6504, little)
    reader = ImageReader(out, little)
    chunks = v3.parse_chunks(reader, v3.V3Header(reader))
    floats = [c for c, w in zip(chunks, loaded.objects_w) if isinstance(w, model.W_Float)]
    assert len(floats) > 0
    expected = bytearray(data)
    expected[0:4] = out[0:4]
    if little:
        for chunk in floats:
            p = chunk.body_pos
            expected[p:p + 4], expected[p + 4:p + 8] = data[p + 4:p + 8], data[p:p + 4]
    assert out == str(expected)
    for chunk, w_float in zip(floats, [w for w in loaded.objects_w
                                       if isinstance(w, model.W_Float)]):
        bits = float_bits(w_float.value)
        assert reader.word32(chunk.body_pos) == bits >> 32
        assert reader.word32(chunk.body_pos + 4) == bits & 0xffffffff
    again = read_image(out)
    assert 3.141592653589793 in set(w.value for w in again.objects_w
                                    if isinstance(w, model.W_Float))
    assert_same_graph(loaded.space, loaded.objects_w, again.space, again.objects_w)
    # And the other byte order of it is what swap_byte_order makes.
    other = v3writer.image_bytes(loaded.space, with_version(loaded, 6504, not little),
                                 loaded.objects_w, old_base(data))
    assert v3.swap_byte_order(out) == other


def test_dispatch_through_writer(images):
    data = images.data("bootstrapped.image")
    loaded = images.load("bootstrapped.image")
    out = writer.image_bytes(loaded.space, loaded, loaded.objects_w)
    # The writer keeps the base address the image was read at: the same file again.
    assert old_base(out) == loaded.old_base
    assert out == data


# --- reachable objects only ----------------------------------------------------------

@pytest.mark.parametrize("trip", [("mini.image", "le"), ("mini.image", "be"),
                                  ("mini-running-exit.image", "le"),
                                  ("bootstrapped.image", "le"),
                                  ("bootstrapped.image", "be")], ids=trip_id)
def test_reachable_write_reads_back(trip, images):
    name, variant = trip
    loaded = images.load(name, variant)
    reachable = v3writer.reachable_objects(loaded.space)
    assert reachable[0] is loaded.w_special_objects
    assert len(set(reachable)) == len(reachable) <= len(loaded.objects_w)
    loaded_set = set(loaded.objects_w)
    assert all(w in loaded_set for w in reachable)
    out = v3writer.image_bytes(loaded.space, loaded)
    assert detect_format(out) == (loaded.version, loaded.little_endian)
    assert old_base(out) == v3writer.DEFAULT_OLD_BASE
    again = read_image(out)
    assert again.objects_w[0] is again.w_special_objects
    assert_same_graph(loaded.space, reachable, again.space, again.objects_w)
    # Written again, the reachable image is a fixed point.
    assert v3writer.image_bytes(again.space, again) == out


def test_reachable_write_of_mini_drops_only_garbage(images):
    loaded = images.load("mini.image")
    reachable = v3writer.reachable_objects(loaded.space)
    space = loaded.space
    for w_class in [space.w_nil, space.w_true, space.w_false, space.w_Float,
                    space.w_MethodContext, space.w_String,
                    space.special(constants.SO_COMPACT_CLASSES),
                    space.smalltalk_at("Compiler")]:
        assert w_class in reachable
    # mini.image holds a little garbage (objects nothing reaches).
    assert 0 <= len(loaded.objects_w) - len(reachable) < 100


def write_file(tmpdir, name, data):
    path = str(tmpdir.join(name))
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_vm_runs_the_reachable_mini(image_path, tmpdir):
    vm = headless.load(image_path("mini.image"), "cogxen", [])
    path = write_file(tmpdir, "mini.image", v3writer.image_bytes(vm.space, vm.image))
    again = headless.load(path, "cogxen", [])
    assert again.evaluate_and_print("3 + 4") == "7"
    assert again.evaluate_and_print("100 factorial printString size") == "158"


def test_vm_runs_the_reachable_big_endian_mini(images, tmpdir):
    data = images.data("mini.image", "be")
    image = read_image(data)       # its own copy: the test runs code in it
    path = write_file(tmpdir, "mini-be.image", v3writer.image_bytes(image.space, image))
    again = headless.load(path, "cogxen", [])
    assert again.image.little_endian is False
    assert again.evaluate_and_print("3 + 4") == "7"


def test_state_written_survives(image_path, tmpdir):
    vm = headless.load(image_path("mini.image"), "cogxen", [])
    assert vm.evaluate_and_print("Smalltalk at: #Probe put: 42") == "42"
    assert vm.evaluate_and_print("(Smalltalk at: #Probe) + 1") == "43"
    path = write_file(tmpdir, "probe.image", v3writer.image_bytes(vm.space, vm.image))
    again = headless.load(path, "cogxen", [])
    assert again.evaluate_and_print("Smalltalk at: #Probe") == "42"
    assert again.evaluate_and_print("Smalltalk includesKey: #Probe") == "true"


def squeak_vm():
    found = sorted(glob.glob("/usr/lib/squeak/*/squeakvm"))
    if not found:
        pytest.skip("Debian's squeak-vm is not installed")
    return found[-1]


@pytest.mark.parametrize("variant", ["le", "be"])
def test_squeak_vm_resumes_a_reachable_write(variant, images, tmpdir):
    """mini-running-exit.image quits as soon as it is resumed: squeak-vm does so with a
    reachable-only rewrite of it, at another base address, in either byte order."""
    vm = squeak_vm()
    loaded = images.load("mini-running-exit.image", variant)
    out = v3writer.image_bytes(loaded.space, loaded, None, 0x40)
    path = write_file(tmpdir, "exit.image", out)
    proc = subprocess.Popen([vm, "-vm-display-null", "-vm-sound-null", path],
                            stdin=open(os.devnull), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=os.setsid)
    deadline = time.time() + 30
    while proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail("squeak-vm did not quit the resumed image within 30 s")
    output = proc.stdout.read()
    # squeak-vm also answers 0 after "cannot read image file": no output is the check.
    assert (proc.returncode, output) == (0, "")


# --- a tiny hand-made space: layout details and refusals ------------------------------------

def format_word(spec, inst_size=0):
    """A V3 class format SmallInteger value for instSpec `spec`."""
    return (spec << 7) | ((inst_size + 1) << 1)


class Tiny(object):
    """A minimal V3 object space: the classes the reader needs, a compact classes
    array of Array, String, Float, MethodContext, BlockContext and CompiledMethod,
    and a roots Array (special object 45) to hang test objects on."""

    ROOTS = 45

    def __init__(self, version=6502, little_endian=True, last_hash=1234):
        self.hashes = 100
        space = ObjSpace(4, False, version)
        self.space = space
        w_nil = model.W_PointersObject(None, 0, None, self.next_hash())
        space.w_nil = w_nil
        self.w_Class = model.W_PointersObject(None, 7, w_nil, self.next_hash())
        self.w_Class.w_class = self.w_Class
        self.w_Class.slots[2] = model.W_SmallInteger(format_word(1, 7))
        self.w_String = self.make_class("String", 8)
        self.w_Class.slots[6] = self.string("Class")
        self.w_String.slots[6] = self.string("String")
        w_nil.w_class = self.make_class("UndefinedObject", 0)
        self.w_Array = self.make_class("Array", 2)
        self.w_Float = self.make_class("Float", 6)
        self.w_Bitmap = self.make_class("Bitmap", 6)
        self.w_MethodContext = self.make_class("MethodContext", 3, 6)
        self.w_BlockContext = self.make_class("BlockContext", 3, 6)
        self.w_CompiledMethod = self.make_class("CompiledMethod", 12)
        self.w_SmallInteger = self.make_class("SmallInteger", 0)
        self.w_Character = self.make_class("Character", 1, 1)
        self.w_Thing = self.make_class("Thing", 1, 2)
        self.w_WeakArray = self.make_class("WeakArray", 4)
        w_specials = model.W_PointersObject(self.w_Array, 50, w_nil, self.next_hash())
        self.w_specials = w_specials
        w_specials.slots[constants.SO_NIL] = w_nil
        w_specials.slots[constants.SO_FALSE] = self.new(self.make_class("False", 0), 0)
        w_specials.slots[constants.SO_TRUE] = self.new(self.make_class("True", 0), 0)
        for index, w_class in [(constants.SO_SMALLINTEGER_CLASS, self.w_SmallInteger),
                               (constants.SO_STRING_CLASS, self.w_String),
                               (constants.SO_ARRAY_CLASS, self.w_Array),
                               (constants.SO_FLOAT_CLASS, self.w_Float),
                               (constants.SO_METHODCONTEXT_CLASS, self.w_MethodContext),
                               (constants.SO_BLOCKCONTEXT_CLASS, self.w_BlockContext),
                               (constants.SO_COMPILEDMETHOD_CLASS, self.w_CompiledMethod),
                               (constants.SO_CHARACTER_CLASS, self.w_Character),
                               (constants.SO_BITMAP_CLASS, self.w_Bitmap)]:
            w_specials.slots[index] = w_class
        w_compact = model.W_PointersObject(self.w_Array, 31, w_nil, self.next_hash())
        for i, w_class in enumerate([self.w_Array, self.w_String, self.w_Float,
                                     self.w_MethodContext, self.w_BlockContext,
                                     self.w_CompiledMethod]):
            w_compact.slots[i] = w_class
        w_specials.slots[constants.SO_COMPACT_CLASSES] = w_compact
        self.w_roots = model.W_PointersObject(self.w_Array, 0, w_nil, self.next_hash())
        w_specials.slots[self.ROOTS] = self.w_roots
        space.install_special_objects(w_specials)
        self.loaded = LoadedImage(space, version, little_endian, 64, w_specials,
                                  last_hash, 0x28001e0, 7, [], 0x10000000)

    def next_hash(self):
        self.hashes += 1
        return self.hashes

    def string(self, s):
        w_str = model.W_BytesObject(self.w_String, len(s), self.next_hash())
        w_str.set_string(s)
        return w_str

    def make_class(self, name, spec, inst_size=0):
        w_class = model.W_PointersObject(self.w_Class, 7, self.space.w_nil,
                                         self.next_hash())
        w_class.slots[2] = model.W_SmallInteger(format_word(spec, inst_size))
        if name != "String":
            w_class.slots[6] = self.string(name)
        return w_class

    def new(self, w_class, size, hash=-1):
        if hash < 0:
            hash = self.next_hash()
        return model.W_PointersObject(w_class, size, self.space.w_nil, hash)

    def add_root(self, w_obj):
        self.w_roots.slots.append(w_obj)
        return w_obj

    def write(self, objects_w=None, old_base=-1):
        return v3writer.image_bytes(self.space, self.loaded, objects_w, old_base)

    def write_and_read(self):
        """Answer (bytes, reloaded image, index of each root in the file's objects)."""
        data = self.write()
        again = read_image(data)
        w_roots = again.space.special(self.ROOTS)
        return data, again, w_roots.slots

    def chunk_of(self, data, w_obj):
        """The file chunk of w_obj (found through its position in the written order)."""
        index = v3writer.reachable_objects(self.space).index(w_obj)
        version, little = detect_format(data)
        reader = ImageReader(data, little)
        return v3.parse_chunks(reader, v3.V3Header(reader))[index], reader


def header_type(reader, chunk):
    return reader.word32(chunk.body_pos - 4) & 3


def test_header_fields():
    tiny = Tiny(version=6502, little_endian=False, last_hash=4321)
    data = tiny.write(old_base=0x1000)
    words = struct.unpack(">16I", data[:64])
    assert words[0] == 6502
    assert words[1] == 64
    assert words[2] == len(data) - 64
    assert words[3] == 0x1000
    # The special objects array is written first, just after its one-word header.
    assert words[4] == 0x1000 + 0
    assert words[5:8] == (4321, 0x28001e0, 7)
    assert words[8:] == (0,) * 8
    again = read_image(data)
    assert (again.version, again.little_endian, again.last_hash, again.flags) == \
        (6502, False, 4321, 7)


def test_header_types_and_compact_indices():
    tiny = Tiny()
    w_small = tiny.add_root(model.W_PointersObject(tiny.w_Array, 62, tiny.space.w_nil, 7))
    w_big = tiny.add_root(model.W_PointersObject(tiny.w_Array, 63, tiny.space.w_nil, 8))
    w_thing = tiny.add_root(tiny.new(tiny.w_Thing, 2, hash=9))
    w_big_thing = tiny.add_root(tiny.new(tiny.w_Thing, 100, hash=10))
    data, again, roots_w = tiny.write_and_read()
    expected = [(w_small, 3, 1, 63), (w_big, 0, 1, 0), (w_thing, 1, 0, 3),
                (w_big_thing, 0, 0, 0)]
    for w_obj, htype, compact, size_field in expected:
        chunk, reader = tiny.chunk_of(data, w_obj)
        assert header_type(reader, chunk) == htype
        assert chunk.compact_index == compact
        base = reader.word32(chunk.body_pos - 4)
        assert (base >> 2) & 0x3f == size_field
        assert chunk.hash == w_obj.hash
        assert chunk.body_words == w_obj.size()
        if htype == 0:
            assert reader.word32(chunk.body_pos - 12) == (w_obj.size() + 1) * 4
    assert [w.size() for w in roots_w] == [62, 63, 2, 100]
    assert roots_w[0].getclass(again.space) is again.space.w_Array
    assert roots_w[3].classname(again.space) == "Thing"
    assert [w.hash for w in roots_w] == [7, 8, 9, 10]


def test_formats_of_pointers_objects():
    tiny = Tiny()
    w_weak = model.W_PointersObject(tiny.w_WeakArray, 3, tiny.space.w_nil, 11)
    w_weak.weak = True
    w_odd_class = tiny.new(tiny.w_Thing, 7)
    w_odd_class.slots[2] = tiny.string("not a format")
    w_odd = tiny.new(w_odd_class, 2)
    w_odd_empty = tiny.new(w_odd_class, 0)
    for w_obj in [w_weak, w_odd, w_odd_empty, tiny.new(tiny.w_Thing, 2)]:
        tiny.add_root(w_obj)
    data, again, roots_w = tiny.write_and_read()
    formats = [tiny.chunk_of(data, w)[0].format for w in tiny.w_roots.slots]
    assert formats == [4, 2, 0, 1]
    assert roots_w[0].weak and not roots_w[1].weak


def test_bytes_words_and_small_integers():
    tiny = Tiny(little_endian=False)
    for s in ["", "a", "abcd", "hello"]:
        tiny.add_root(tiny.string(s))
    w_bitmap = model.W_WordsObject(tiny.w_Bitmap, 2, 12)
    w_bitmap.setword(0, 0xdeadbeef)
    w_bitmap.setword(1, 1)
    tiny.add_root(w_bitmap)
    w_ints = tiny.add_root(tiny.new(tiny.w_Array, 4))
    for i, value in enumerate([0, -1, (1 << 30) - 1, -(1 << 30)]):
        w_ints.slots[i] = model.W_SmallInteger(value)
    data, again, roots_w = tiny.write_and_read()
    assert [w.as_string() for w in roots_w[:4]] == ["", "a", "abcd", "hello"]
    assert [tiny.chunk_of(data, w)[0].format for w in tiny.w_roots.slots[:4]] == \
        [8, 11, 8, 11]
    # Bytes in memory order, even in a big-endian file.
    assert "hello\x00\x00\x00" in data
    assert roots_w[4].words == [0xdeadbeef, 1]
    assert "\xde\xad\xbe\xef" in data
    assert [w.value for w in roots_w[5].slots] == [0, -1, (1 << 30) - 1, -(1 << 30)]
    chunk, reader = tiny.chunk_of(data, w_ints)
    assert [reader.word32(chunk.body_pos + 4 * i) for i in range(4)] == \
        [1, 0xffffffff, 0x7fffffff, 0x80000001]


@pytest.mark.parametrize("version,little,high_first", [
    (6502, True, True), (6502, False, True), (6504, True, True), (6504, False, True),
    (6505, True, False), (6505, False, True)])
def test_float_word_order(version, little, high_first):
    tiny = Tiny(version=version, little_endian=little)
    w_float = tiny.add_root(model.W_Float(tiny.w_Float, 3.141592653589793, 13))
    data, again, roots_w = tiny.write_and_read()
    chunk, reader = tiny.chunk_of(data, w_float)
    bits = float_bits(3.141592653589793)
    first, second = reader.word32(chunk.body_pos), reader.word32(chunk.body_pos + 4)
    if high_first:
        assert (first, second) == (bits >> 32, bits & 0xffffffff)
    else:
        assert (first, second) == (bits & 0xffffffff, bits >> 32)
    assert header_type(reader, chunk) == 3 and chunk.format == 6
    assert isinstance(roots_w[0], model.W_Float)
    assert roots_w[0].value == 3.141592653589793


def make_method(tiny, literals_w, bytecodes, primitive=0, num_args=0):
    w_method = model.W_CompiledMethod(tiny.w_CompiledMethod, 4, False, tiny.next_hash())
    header = (num_args << 24) | (len(literals_w) << 9) | primitive
    w_method.literals = list(literals_w)
    w_method.set_bytes(bytecodes)
    w_method.set_header(header)
    return w_method


def test_compiled_method():
    tiny = Tiny(little_endian=False)
    w_lit = tiny.string("lit")
    w_method = tiny.add_root(make_method(tiny, [w_lit, model.W_SmallInteger(5)],
                                         "\x70\xd0\x87\x78\x00", primitive=60,
                                         num_args=1))
    data, again, roots_w = tiny.write_and_read()
    chunk, reader = tiny.chunk_of(data, w_method)
    # header + 2 literals + 5 bytecodes = 17 bytes: 5 words, 3 bytes unused.
    assert (chunk.format, chunk.body_words) == (15, 5)
    assert reader.word32(chunk.body_pos) == (w_method.header << 1) | 1
    assert data[chunk.body_pos + 12:chunk.body_pos + 20] == "\x70\xd0\x87\x78\x00\x00\x00\x00"
    w_read = roots_w[0]
    assert isinstance(w_read, model.W_CompiledMethod)
    assert (w_read.header, w_read.bytes, w_read.primitive, w_read.num_args) == \
        (w_method.header, "\x70\xd0\x87\x78\x00", 60, 1)
    assert w_read.literals[0].as_string() == "lit"
    assert w_read.literals[1].value == 5


def test_contexts():
    tiny = Tiny()
    space = tiny.space
    w_method = make_method(tiny, [], "\x70\x70\x7c")
    # Contexts are as big as their method's frame (stack_size), as the VM makes them:
    # temporaries, the deepest stack (2) and FRAME_SLACK.
    assert w_method.stack_size() == 2 + constants.FRAME_SLACK
    w_home = model.W_Context(space, tiny.w_MethodContext, False, w_method.stack_size(),
                             tiny.next_hash())
    w_home.w_slot_method = w_method
    w_home.w_method = w_method
    w_home.start_at(1)
    w_home.w_receiver = model.W_SmallInteger(3)
    w_home.push(model.W_SmallInteger(4))
    w_block = model.W_Context(space, tiny.w_BlockContext, True, w_method.stack_size(),
                              tiny.next_hash())
    w_block.store(space, constants.BCTX_HOME, w_home)
    w_block.block_nargs = 0
    w_block.block_startpc = 6
    w_block.start_at(2)
    w_block.w_sender = w_home
    # Contexts as `new:` makes them: no method, nil pc.
    w_fresh = model.W_Context(space, tiny.w_MethodContext, False, 16, tiny.next_hash())
    w_fresh_block = model.W_Context(space, tiny.w_BlockContext, True, 16, tiny.next_hash())
    for w_ctx in [w_home, w_block, w_fresh, w_fresh_block]:
        tiny.add_root(w_ctx)
    data, again, roots_w = tiny.write_and_read()
    new_space = again.space
    home, block, fresh, fresh_block = roots_w
    assert (home.pc, home.sp, home.slots()[0].value, home.w_receiver.value) == (1, 1, 4, 3)
    assert home.w_method is home.w_slot_method
    assert home.w_method.bytes == "\x70\x70\x7c"
    assert (block.is_block_context, block.w_home, block.pc, block.block_startpc,
            block.w_sender) == (True, home, 2, 6, home)
    assert block.w_method is home.w_method
    for w_ctx in [w_home, w_block, w_fresh, w_fresh_block]:
        chunk, reader = tiny.chunk_of(data, w_ctx)
        assert (chunk.format, chunk.body_words, header_type(reader, chunk)) == \
            (3, w_ctx.size(), 3)
    assert w_home.size() == constants.CTX_FIXED_SIZE + 5 and w_fresh.size() == 22
    # Where the model keeps 0 for a context with no method, the file has nil.
    nil_chunk, reader = tiny.chunk_of(data, space.w_nil)
    nil_oop = nil_chunk.oop
    for w_ctx in [w_fresh, w_fresh_block]:
        chunk, reader = tiny.chunk_of(data, w_ctx)
        assert [reader.word32(chunk.body_pos + 4 * i) for i in range(6)] == [nil_oop] * 6
    chunk, reader = tiny.chunk_of(data, w_block)
    assert reader.word32(chunk.body_pos + 4 * constants.BCTX_NARGS) == 1   # 0, tagged
    assert reader.word32(chunk.body_pos + 4 * constants.CTX_STACKP) == 1   # 0, tagged
    assert (fresh.sp, fresh_block.sp, fresh_block.block_nargs) == (0, 0, 0)
    assert fresh.fetch(new_space, constants.CTX_PC) is new_space.w_nil


def test_hashes_are_written_as_held_and_not_assigned():
    tiny = Tiny()
    w_unhashed = tiny.add_root(tiny.new(tiny.w_Thing, 2, hash=0))
    w_big_hash = tiny.add_root(tiny.new(tiny.w_Thing, 2, hash=0xfff))
    data, again, roots_w = tiny.write_and_read()
    assert w_unhashed.hash == 0
    assert [w.hash for w in roots_w] == [0, 0xfff]
    chunk, reader = tiny.chunk_of(data, w_big_hash)
    assert reader.word32(chunk.body_pos - 4) >> 17 == 0xfff


def test_explicit_object_list_in_its_order():
    tiny = Tiny()
    objects_w = v3writer.reachable_objects(tiny.space)
    objects_w.reverse()
    data = tiny.write(objects_w)
    again = read_image(data)
    assert_same_graph(tiny.space, objects_w, again.space, again.objects_w)
    assert again.objects_w[-1] is again.w_special_objects


# --- refusals ---------------------------------------------------------------------------

def refusal(tiny, objects_w=None, old_base=-1):
    with pytest.raises(ImageError) as info:
        tiny.write(objects_w, old_base)
    return str(info.value)


def test_refuses_immediate_characters():
    tiny = Tiny()
    tiny.add_root(model.W_Character(65))
    assert "Character" in refusal(tiny)
    # Also when the object list is given.
    tiny2 = Tiny()
    objects_w = v3writer.reachable_objects(tiny2.space)
    tiny2.w_roots.slots.append(model.W_Character(65))
    assert "Character" in refusal(tiny2, objects_w)


@pytest.mark.parametrize("value", [1 << 30, -(1 << 30) - 1, 1 << 40])
def test_refuses_small_integers_out_of_range(value):
    tiny = Tiny()
    tiny.add_root(model.W_SmallInteger(value))
    assert "%d does not fit 31 bits" % value in refusal(tiny)


def test_refuses_references_outside_the_list():
    tiny = Tiny()
    objects_w = v3writer.reachable_objects(tiny.space)
    tiny.add_root(tiny.new(tiny.w_Thing, 2))
    assert "not being written" in refusal(tiny, objects_w)


def test_refuses_duplicates_and_immediates_in_the_list():
    tiny = Tiny()
    objects_w = v3writer.reachable_objects(tiny.space)
    assert "twice" in refusal(tiny, objects_w + [objects_w[3]])
    assert "immediate" in refusal(tiny, objects_w + [model.W_SmallInteger(3)])


def test_refuses_a_list_without_the_special_objects():
    tiny = Tiny()
    objects_w = [w for w in v3writer.reachable_objects(tiny.space)
                 if w is not tiny.w_specials]
    assert "special objects" in refusal(tiny, objects_w)


def test_refuses_unset_slots():
    tiny = Tiny()
    tiny.add_root(model.W_PointersObject(tiny.w_Array, 2, None, 5))
    assert "unset" in refusal(tiny)


def test_refuses_a_method_whose_header_disagrees_with_its_literals():
    tiny = Tiny()
    w_method = tiny.add_root(make_method(tiny, [model.W_SmallInteger(1)], "\x7c"))
    w_method.literals = []
    assert "literals" in refusal(tiny)


@pytest.mark.parametrize("base", [2, -4, 1 << 32, 0xfffffff0])
def test_refuses_bad_base_addresses(base):
    message = refusal(Tiny(), None, base)
    assert "base address" in message or "32-bit addresses" in message


def test_refuses_other_formats_and_spaces():
    tiny = Tiny()
    tiny.loaded = with_version(tiny.loaded, constants.FORMAT_SPUR_32, True)
    assert "not a V3 image format" in refusal(tiny)
    tiny = Tiny()
    tiny.space.is_spur = True
    assert "V3" in refusal(tiny)


def test_writes_leave_no_mark_on_the_objects():
    # The writer numbers objects in a field of their own (save_oop); whether a write
    # succeeds or is refused half-way, every object is unmarked afterwards, so that
    # the next save starts from a clean heap.
    tiny = Tiny()
    objects_w = v3writer.reachable_objects(tiny.space)
    tiny.write()
    refusal(tiny, objects_w + [objects_w[3]])
    w_bad = tiny.add_root(model.W_PointersObject(tiny.w_Array, 2, None, 5))
    refusal(tiny)
    w_bad.slots[0] = w_bad.slots[1] = tiny.space.w_nil
    tiny.write()
    assert [w.save_oop for w in v3writer.reachable_objects(tiny.space)] == \
        [0] * len(objects_w + [w_bad])
