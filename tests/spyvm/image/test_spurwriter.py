"""Writing Spur 32-bit images with spyvm.image.spurwriter.

The real image is headless.image from COGXEN_IMAGES (see tests/conftest.py), a tiny
bootstrapped Spur kernel, little-endian, that logs three lines on start-up and quits.
Its classes keep their name at slot 3 (see test_spur.py).

- What is written: header fields, the hidden objects, the class table, the bridge.
- Round trips: the objects reachable from the special objects array read back as
  the same object graph (types, hashes, classes, slots, contents); writing every
  object read keeps each one's format, slot count, hash, class and raw body.
- The written image runs on this VM, also after new classes and objects were made
  in it, and in big-endian order (the reader takes both byte orders).
- Refusals: what has no Spur form raises ImageError.
"""

import copy
import os
import signal
import struct
import subprocess
import sys
import time

import pytest

from spyvm import constants, headless, model
from spyvm.errors import Exit
from spyvm.image import spur, spurwriter
from spyvm.image.format import ImageError, detect_format
from spyvm.image.reader import read_image
from rpython.rlib import longlong2float
from rpython.rlib.rarithmetic import r_uint

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
TARGET = os.path.join(REPO, "targetcogxen.py")
STARTUP_OUTPUT = "Smalltalk image fired up!\nFixing the world\n3 + 4 = 7\n"
FREE_SPECIAL_SLOT = 56      # nil in headless.image and unused by the VM


@pytest.fixture
def headless_data(image_bytes):
    return image_bytes("headless.image")


def loader_of(data):
    version, little = detect_format(data)
    return spur.SpurLoader(data, version, little)


def word(data, pos, little=True):
    return struct.unpack_from("<I" if little else ">I", data, pos)[0]


def float_bits(value):
    return longlong2float.float2longlong(value) & 0xffffffffffffffff


def in_byte_order(loaded, little_endian):
    """loaded's header facts, claiming another byte order."""
    other = copy.copy(loaded)
    other.little_endian = little_endian
    return other


def name_of(space, w_class):
    """A class's name in headless.image's layout (slot 3; a metaclass's thisClass too)."""
    if isinstance(w_class, model.W_PointersObject) and w_class.size() >= 4:
        w_name = w_class.fetch(space, 3)
        if isinstance(w_name, model.W_BytesObject):
            return w_name.as_string()
        if isinstance(w_name, model.W_PointersObject) and w_name.size() >= 4:
            w_this_name = w_name.fetch(space, 3)
            if isinstance(w_this_name, model.W_BytesObject):
                return w_this_name.as_string() + " class"
    return "?"


def find_class(space, objects_w, name):
    for w_obj in objects_w:
        if name_of(space, w_obj) == name and \
                name_of(space, w_obj.getclass(space)) == name + " class":
            return w_obj
    raise AssertionError("no class %s" % name)


# --- the object graph -------------------------------------------------------------

def references(space, w_obj):
    refs = [w_obj.w_class]
    if isinstance(w_obj, model.W_Context):
        refs.extend(w_obj.fetch(space, i) for i in range(w_obj.size()))
    elif isinstance(w_obj, model.W_PointersObject):
        refs.extend(w_obj.slots)
    elif isinstance(w_obj, model.W_CompiledMethod):
        refs.extend(w_obj.literals)
    return refs


def reachable(space):
    """Heap objects reachable from the special objects array (computed here, not
    by the writer)."""
    seen = {id(space.w_special_objects): space.w_special_objects}
    todo = [space.w_special_objects]
    while todo:
        w_obj = todo.pop()
        for w_ref in references(space, w_obj):
            if isinstance(w_ref, model.W_HeapObject) and id(w_ref) not in seen:
                seen[id(w_ref)] = w_ref
                todo.append(w_ref)
    return list(seen.values())


def same_contents(space_a, w_a, space_b, w_b):
    assert type(w_a) is type(w_b)
    assert w_a.size() == w_b.size()
    if isinstance(w_a, model.W_BytesObject):
        assert w_a.bytes == w_b.bytes
    elif isinstance(w_a, model.W_WordsObject):
        assert w_a.words == w_b.words
    elif isinstance(w_a, model.W_Float):
        assert float_bits(w_a.value) == float_bits(w_b.value)
    elif isinstance(w_a, model.W_CompiledMethod):
        assert (w_a.header, w_a.bytes, w_a.primitive, w_a.num_args, w_a.num_temps) == \
            (w_b.header, w_b.bytes, w_b.primitive, w_b.num_args, w_b.num_temps)
    elif isinstance(w_a, model.W_Context):
        assert (w_a.pc, w_a.sp) == (w_b.pc, w_b.sp)
    elif isinstance(w_a, model.W_PointersObject):
        assert w_a.weak == w_b.weak


def assert_same_graph(space_a, space_b, check_hashes=True):
    """The graphs reachable from both special objects arrays are isomorphic: same
    types, contents, classes, slots and immediates (and hashes). Answers its size."""
    forward = {}
    backward = {}

    def pair(w_a, w_b):
        if isinstance(w_a, model.W_HeapObject):
            assert isinstance(w_b, model.W_HeapObject)
            if id(w_a) in forward:
                assert forward[id(w_a)] is w_b
                return False
            assert id(w_b) not in backward
            forward[id(w_a)] = w_b
            backward[id(w_b)] = w_a
            return True
        assert type(w_a) is type(w_b) and w_a.value == w_b.value
        return False

    todo = [(space_a.w_special_objects, space_b.w_special_objects)]
    pair(*todo[0])
    while todo:
        w_a, w_b = todo.pop()
        same_contents(space_a, w_a, space_b, w_b)
        if check_hashes:
            assert w_a.hash == w_b.hash
        refs_a = references(space_a, w_a)
        refs_b = references(space_b, w_b)
        assert len(refs_a) == len(refs_b)
        for r_a, r_b in zip(refs_a, refs_b):
            if pair(r_a, r_b):
                todo.append((r_a, r_b))
    for name in ["w_nil", "w_true", "w_false", "w_SmallInteger", "w_Character",
                 "w_Float", "w_Array", "w_MethodContext", "w_CompiledMethod"]:
        assert forward[id(getattr(space_a, name))] is getattr(space_b, name)
    return len(forward)


# --- what is written --------------------------------------------------------------

def test_header_hidden_objects_and_bridge(headless_data):
    loaded = read_image(headless_data)
    data = spurwriter.image_bytes(loaded.space, loaded)
    assert detect_format(data) == (constants.FORMAT_SPUR_32, True)
    data_size = len(data) - 64
    assert word(data, 0) == 6521 and word(data, 4) == 64
    assert word(data, 8) == data_size
    assert word(data, 12) == word(headless_data, 12)            # the base it was read at
    for offset in [20, 24, 28, 32, 36, 40, 44]:                 # hash, window, flags, ...
        assert word(data, offset) == word(headless_data, offset)
    assert word(data, 48) == data_size                          # one segment
    assert data[52:64] == "\0" * 12
    assert data[-16:] == headless_data[-16:]                    # the same bridge
    loader = loader_of(data)
    space = loaded.space
    chunks = loader.chunks
    # nil, false, true, free lists, hidden roots, class table pages, remembered set.
    assert [c.hash for c in chunks[:3]] == \
        [space.w_nil.hash, space.w_false.hash, space.w_true.hash]
    assert chunks[0].oop == word(data, 12)
    assert (chunks[3].class_index, chunks[3].format, chunks[3].num_slots) == (18, 10, 32)
    assert all(loader.slot_word(chunks[3], i) == 0 for i in range(32))
    roots = chunks[4]
    assert (roots.class_index, roots.format, roots.num_slots) == (16, 2, 4096 + 8)
    nil_oop = chunks[0].oop
    pages = [loader.slot_word(roots, i) for i in range(4096)]
    used = [i for i in range(4096) if pages[i] != nil_oop]
    assert used == [0, 1]
    for i in used:
        page = loader.chunk_at(pages[i])
        assert (page.class_index, page.format, page.num_slots) == (16, 2, 1024)
    assert [chunks[5].oop, chunks[6].oop] == [pages[0], pages[1]]
    tail = [loader.slot_word(roots, 4096 + i) for i in range(8)]
    remembered = loader.chunk_at(tail[3])
    assert remembered is chunks[7]
    assert (remembered.class_index, remembered.format, remembered.num_slots) == \
        (18, 10, 2048)
    assert tail[:3] + tail[4:] == [nil_oop] * 7
    assert all(c.is_real() for c in chunks[8:])
    # The class table: the puns of headless.image, then every class at its hash.
    loaded2 = loader.load()
    space2 = loaded2.space
    first_page = loader.chunk_at(pages[0])
    entries = dict((i, loader.slot_word(first_page, i)) for i in range(1024)
                   if loader.slot_word(first_page, i) != nil_oop)
    assert loader.class_chunk(1).w_object is space2.w_SmallInteger
    assert loader.class_chunk(3).w_object is space2.w_SmallInteger
    assert loader.class_chunk(2).w_object is space2.w_Character
    assert loader.class_chunk(16).w_object is space2.w_Array
    assert sorted(i for i in entries if i < 32) == [1, 2, 3, 16]
    for chunk in chunks[8:]:
        class_chunk = loader.class_chunk(chunk.class_index)
        assert class_chunk.hash == chunk.class_index      # one index per class
        assert chunk.w_object.w_class is class_chunk.w_object
    assert space2.w_Float.hash == 34 and space2.w_Array.hash == 51


def test_round_trip_of_the_reachable_objects(headless_data):
    loaded = read_image(headless_data)
    space = loaded.space
    expected = reachable(space)
    data = spurwriter.image_bytes(space, loaded)
    loaded2 = read_image(data)
    space2 = loaded2.space
    assert len(loaded2.objects_w) == len(expected) < len(loaded.objects_w)
    assert assert_same_graph(space, space2) == len(expected)
    assert loaded2.objects_w[:3] == [space2.w_nil, space2.w_false, space2.w_true]
    # The same things, counted without the graph walk.
    for i in range(space.w_special_objects.size()):
        w_a = space.special(i)
        w_b = space2.special(i)
        assert type(w_a) is type(w_b)
        if isinstance(w_a, model.W_HeapObject):
            assert name_of(space, w_a.getclass(space)) == \
                name_of(space2, w_b.getclass(space2))
            assert name_of(space, w_a) == name_of(space2, w_b)

    def summary(loaded, objects_w):
        sp = loaded.space
        return (sorted(name_of(sp, w) for w in objects_w if name_of(sp, w) != "?"),
                sorted(w.as_string() for w in objects_w
                       if isinstance(w, model.W_BytesObject)),
                sorted(float_bits(w.value) for w in objects_w
                       if isinstance(w, model.W_Float)),
                sorted((w.header, w.bytes) for w in objects_w
                       if isinstance(w, model.W_CompiledMethod)))

    names, strings, floats, methods = summary(loaded2, loaded2.objects_w)
    assert (names, strings, floats, methods) == summary(loaded, expected)
    assert "SmallInteger" in names and "True class" in names
    assert "doesNotUnderstand:" in strings
    assert float_bits(0.5) in floats and len(methods) > 500


def test_every_object_read_keeps_its_chunk(headless_data):
    """Writing every object read, in file order: each keeps format, slot count, hash,
    class and (for non-pointers) the raw bytes of its body."""
    loaded = read_image(headless_data)
    data = spurwriter.image_bytes(loaded.space, loaded, loaded.objects_w)
    old = loader_of(headless_data)
    new = loader_of(data)
    old.load()
    new.load()
    old_real = [c for c in old.chunks if c.is_real()]
    new_real = [c for c in new.chunks if c.is_real()]
    assert len(new_real) == len(old_real) == len(loaded.objects_w)
    old_pos = dict((id(c.w_object), i) for i, c in enumerate(old_real))
    new_pos = dict((id(c.w_object), i) for i, c in enumerate(new_real))
    for a, b in zip(old_real, new_real):
        assert (a.format, a.num_slots, a.hash) == (b.format, b.num_slots, b.hash)
        assert old_pos[id(old.class_chunk(a.class_index).w_object)] == \
            new_pos[id(new.class_chunk(b.class_index).w_object)]
        if a.format >= spur.SPUR_LONGS:
            body_a = headless_data[a.body_pos:a.body_pos + 4 * a.num_slots]
            body_b = data[b.body_pos:b.body_pos + 4 * b.num_slots]
            if a.format >= spur.SPUR_METHOD:    # header and bytecodes (not literals)
                skip = 4 + 4 * ((word(headless_data, a.body_pos) >> 1) & 0x7fff)
                body_a = body_a[:4] + body_a[skip:]
                body_b = body_b[:4] + body_b[skip:]
            assert body_a == body_b
    assert_same_graph(loaded.space, read_image(data).space)


def test_writing_again_gives_the_same_bytes(headless_data):
    loaded = read_image(headless_data)
    first = spurwriter.image_bytes(loaded.space, loaded)
    loaded2 = read_image(first)
    assert spurwriter.image_bytes(loaded2.space, loaded2) == first


def test_base_address(headless_data):
    loaded = read_image(headless_data)
    space = loaded.space
    data = spurwriter.image_bytes(space, loaded, None, 0x00400000)
    assert word(data, 12) == 0x00400000
    assert loader_of(data).chunks[0].oop == 0x00400000
    assert_same_graph(space, read_image(data).space)
    for bad in [0, 4, 0x00400004, 1 << 32]:
        with pytest.raises(ImageError):
            spurwriter.image_bytes(space, loaded, None, bad)


def test_objects_w_orders_and_adds(headless_data):
    loaded = read_image(headless_data)
    space = loaded.space
    # An unreachable string is written when listed; what it needs comes along.
    w_orphan = space.wrap_string("orphan")
    w_method = [w for w in loaded.objects_w if isinstance(w, model.W_CompiledMethod)][7]
    data = spurwriter.image_bytes(space, loaded, [w_method, w_orphan])
    loaded2 = read_image(data)
    objects2 = loaded2.objects_w
    assert objects2[:3] == [loaded2.space.w_nil, loaded2.space.w_false,
                            loaded2.space.w_true]
    assert isinstance(objects2[3], model.W_CompiledMethod)
    assert objects2[3].bytes == w_method.bytes
    assert objects2[4].as_string() == "orphan"
    assert len(objects2) == len(reachable(space)) + 1
    with pytest.raises(ImageError):
        spurwriter.image_bytes(space, loaded, [model.W_SmallInteger(3)])


# --- running what was written -------------------------------------------------------

def run_vm(image, tmpdir, timeout=60):
    """(exit status, stdout, stderr) of the untranslated VM on image."""
    out_path = str(tmpdir.join("stdout"))
    err_path = str(tmpdir.join("stderr"))
    with open(out_path, "wb") as out, open(err_path, "wb") as err, \
            open(os.devnull) as devnull:
        proc = subprocess.Popen([sys.executable, TARGET, image], stdin=devnull,
                                stdout=out, stderr=err, cwd=str(tmpdir),
                                preexec_fn=os.setsid)
        deadline = time.time() + timeout
        while proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail("the VM did not finish in %d s" % timeout)
    with open(out_path, "rb") as f:
        stdout = f.read()
    with open(err_path, "rb") as f:
        stderr = f.read()
    return proc.returncode, stdout, stderr


def write_file(tmpdir, name, data):
    path = str(tmpdir.join(name))
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_written_image_runs(headless_data, tmpdir):
    loaded = read_image(headless_data)
    data = spurwriter.image_bytes(loaded.space, loaded)
    path = write_file(tmpdir, "headless.image", data)
    status, out, err = run_vm(path, tmpdir)
    assert (status, out) == (0, STARTUP_OUTPUT), err


def fake_class(space, w_template, spec):
    """A copy of class w_template whose instances have Spur format spec (hash 0)."""
    w_class = model.W_PointersObject(w_template.getclass(space), w_template.size(),
                                     space.w_nil)
    w_class.slots = list(w_template.slots)
    w_class.slots[constants.CLASS_FORMAT] = space.wrap_int(spec << 16)
    return w_class


def new_class(vm, name, inst_var_names):
    """A subclass of Object made by the image's own code (Class>>subclass:...)."""
    space = vm.space
    w_object = space.w_SmallInteger
    while space.superclass(w_object) is not space.w_nil:
        w_object = space.superclass(w_object)
    return vm.interp.perform(
        w_object, "subclass:instanceVariableNames:classVariableNames:",
        [space.wrap_string(name), space.wrap_string(inst_var_names),
         space.wrap_string("")])


def test_new_classes_and_mutations_survive(image_path, tmpdir):
    vm = headless.load(image_path("headless.image"), "x", [])
    space = vm.space
    w_probe = new_class(vm, "Probe", "a b")
    w_probe_meta = w_probe.getclass(space)
    assert w_probe.hash == 0 and w_probe_meta.hash == 0     # nobody asked yet
    w_instance = vm.interp.perform(w_probe, "new", [])
    assert w_instance.getclass(space) is w_probe
    w_instance.store(space, 1, space.wrap_string("in a new class"))
    # A class made in Python whose hash clashes with Float's (34).
    w_clash = fake_class(space, space.w_Array, spur.SPUR_VARIABLE)
    w_clash.hash = space.w_Float.hash
    w_clash_instance = model.W_PointersObject(w_clash, 1, space.wrap_float(-2.5))
    # Objects of every kind and edge sizes, and a changed old one.
    w_tiny = [w for w in vm.image.objects_w if isinstance(w, model.W_Float) and
              w.value == 1e-12][0]
    w_tiny.value = 2e-12
    w_big = model.W_PointersObject(space.w_Array, 300, space.w_nil)
    w_big.slots[299] = space.wrap_int(space.maxint)
    w_big.slots[0] = space.wrap_int(space.minint)
    w_big.slots[1] = model.W_Character(0x1f600)
    w_border = model.W_PointersObject(space.w_Array, 255, space.wrap_int(-1))
    w_strings = [space.wrap_string("x" * n) for n in range(10)]
    w_words = model.W_WordsObject(fake_class(space, space.w_Array, spur.SPUR_WORDS), 3)
    w_words.words = [r_uint(0), r_uint(0xffffffff), r_uint(0x12345678)]
    w_floats = [space.wrap_float(v) for v in [-0.0, float("inf"), 1e-310, 3.25]]
    items = [w_probe, w_instance, w_clash, w_clash_instance, w_big, w_border, w_words] + \
        w_strings + w_floats
    space.w_special_objects.store(space, FREE_SPECIAL_SLOT, space.wrap_list(items))

    data = spurwriter.image_bytes(space, vm.image)
    # Classes got indices; Float kept its own.
    assert w_probe.hash >= 1024 and w_probe_meta.hash >= 1024
    assert w_probe.hash != w_probe_meta.hash
    assert space.w_Float.hash == 34 and w_clash.hash >= 1024
    loaded2 = read_image(data)
    space2 = loaded2.space
    assert_same_graph(space, space2)
    w_items = space2.special(FREE_SPECIAL_SLOT)
    w_probe2, w_instance2, w_clash2, w_clash_instance2 = w_items.slots[:4]
    assert name_of(space2, w_probe2) == "Probe"
    assert name_of(space2, w_probe2.getclass(space2)) == "Probe class"
    assert w_instance2.getclass(space2) is w_probe2
    assert w_instance2.fetch(space2, 1).as_string() == "in a new class"
    assert space2.class_format(w_probe2).inst_size == w_instance.size()
    assert w_clash_instance2.getclass(space2) is w_clash2
    assert w_clash_instance2.slots[0].value == -2.5
    assert w_clash2 is not space2.w_Float
    w_big2 = w_items.slots[4]
    assert w_big2.size() == 300 and w_big2.slots[299].value == space.maxint
    assert w_big2.slots[1].value == 0x1f600
    assert [w.as_string() for w in w_items.slots[7:17]] == ["x" * n for n in range(10)]
    floats2 = [w.value for w in loaded2.objects_w if isinstance(w, model.W_Float)]
    assert 2e-12 in floats2 and 1e-12 not in floats2
    # ... and the image still starts up.
    status, out, err = run_vm(write_file(tmpdir, "probe.image", data), tmpdir)
    assert (status, out) == (0, STARTUP_OUTPUT), err


def test_written_after_a_run(image_path):
    """The space as the start-up leaves it (contexts, processes, new objects)."""
    vm = headless.load(image_path("headless.image"), "x", [])
    with pytest.raises(Exit):
        vm.resume()
    space = vm.space
    data = spurwriter.image_bytes(space, vm.image)
    loaded2 = read_image(data)
    assert assert_same_graph(space, loaded2.space) == len(reachable(space))


def test_spur_formats_from_the_class(headless_data):
    """16- and 64-bit indexable classes (none in headless.image: made here)."""
    loaded = read_image(headless_data)
    space = loaded.space
    made = []
    for spec, nbytes, fmt, nslots in [(9, 16, 9, 4), (12, 6, 13, 2), (12, 8, 12, 2),
                                      (9, 12, 16, 3)]:      # 12 bytes are no longs
        w_obj = model.W_BytesObject(fake_class(space, space.w_ByteArray, spec), nbytes)
        w_obj.set_string("".join(chr(i + 1) for i in range(nbytes)))
        made.append((w_obj, fmt, nslots))
    w_weak = model.W_PointersObject(space.w_Array, 2, space.w_nil)
    w_weak.weak = True
    items = [w for w, _, _ in made] + [w_weak]
    space.w_special_objects.store(space, FREE_SPECIAL_SLOT, space.wrap_list(items))
    data = spurwriter.image_bytes(space, loaded)
    loader = loader_of(data)
    loaded2 = loader.load()
    by_object = dict((id(c.w_object), c) for c in loader.chunks if c.is_real())
    w_items = loaded2.space.special(FREE_SPECIAL_SLOT)
    for (w_obj, fmt, nslots), w_obj2 in zip(made, w_items.slots):
        chunk = by_object[id(w_obj2)]
        assert (chunk.format, chunk.num_slots) == (fmt, nslots)
        assert w_obj2.bytes == w_obj.bytes
    assert by_object[id(w_items.slots[-1])].format == spur.SPUR_WEAK
    assert w_items.slots[-1].weak


# --- byte order ------------------------------------------------------------------------

def test_big_endian(headless_data, tmpdir):
    loaded = read_image(headless_data)
    space = loaded.space
    little = spurwriter.image_bytes(space, loaded)
    big = spurwriter.image_bytes(space, in_byte_order(loaded, False))
    assert detect_format(big) == (constants.FORMAT_SPUR_32, False)
    assert len(big) == len(little)
    assert word(big, 28, False) & 2 == 0                # floats are not little-endian
    assert word(big, 36, False) == 8 << 16              # 16-bit stack pages first
    loaded2 = read_image(big)
    assert not loaded2.little_endian
    assert_same_graph(space, loaded2.space)
    w_half = [w for w in loaded2.objects_w if isinstance(w, model.W_Float)
              and w.value == 0.5]
    assert w_half
    # Back to little-endian: the same bytes as written from the original.
    again = spurwriter.image_bytes(loaded2.space, in_byte_order(loaded2, True))
    assert again == little
    status, out, err = run_vm(write_file(tmpdir, "big.image", big), tmpdir)
    assert (status, out) == (0, STARTUP_OUTPUT), err


# --- refusals ---------------------------------------------------------------------------

def refuses(loaded, message_part, objects_w=None):
    with pytest.raises(ImageError) as info:
        spurwriter.image_bytes(loaded.space, loaded, objects_w)
    message = str(info.value)
    assert message_part in message and "\n" not in message


def hang(loaded, w_obj):
    space = loaded.space
    space.w_special_objects.store(space, FREE_SPECIAL_SLOT, w_obj)


def test_refusals(headless_data):
    loaded = read_image(headless_data)
    space = loaded.space
    w_array = model.W_PointersObject(space.w_Array, 2, space.w_nil)
    hang(loaded, w_array)
    w_array.slots[1] = None
    refuses(loaded, "unset slot")
    w_array.slots[1] = model.W_SmallInteger(1 << 30)
    refuses(loaded, "does not fit 31 bits")
    w_array.slots[1] = model.W_SmallInteger(-(1 << 30) - 1)
    refuses(loaded, "does not fit 31 bits")
    w_array.slots[1] = model.W_Character(-1)
    refuses(loaded, "Character")
    w_array.slots[1] = model.W_PointersObject(space.w_SmallInteger, 0, space.w_nil)
    refuses(loaded, "immediate class")
    w_array.slots[1] = model.W_HeapObject(space.w_Array)
    refuses(loaded, "no Spur form")
    w_array.slots[1] = model.W_PointersObject(None, 0, None)
    refuses(loaded, "has no class")
    w_method = model.W_CompiledMethod(space.w_CompiledMethod, 4, True)
    w_method.set_header(2)                  # two literals
    w_method.literals = [space.w_nil]
    w_array.slots[1] = w_method
    refuses(loaded, "header says 2 literals, it has 1")
    w_method.literals = [space.w_nil, space.w_nil]
    w_method.header = 1 << 30
    refuses(loaded, "does not fit a SmallInteger")
    w_method.header = 2
    w_method.new_header = False
    refuses(loaded, "V3 header")
    w_method.new_header = True
    w_array.slots[1] = model.W_PointersObject(space.w_Array, 0, None, 1 << 22)
    refuses(loaded, "22 bits")
    w_array.slots[1] = space.w_nil
    spurwriter.image_bytes(space, loaded)       # fine again
    # Refused or not, a write leaves no object marked (W_HeapObject.save_oop).
    assert set(w.save_oop for w in loaded.objects_w + [w_array, w_method]) == set([0])
    v3 = in_byte_order(loaded, True)
    v3.version = constants.FORMAT_V3_CLOSURES
    refuses(v3, "cannot write image format")


def test_refuses_a_v3_space(image_bytes):
    loaded = read_image(image_bytes("bootstrapped.image"))
    spur_claim = in_byte_order(loaded, True)
    spur_claim.version = constants.FORMAT_SPUR_32
    refuses(spur_claim, "not read from one")
