"""Reading Spur 64-bit images (format 68021) with spyvm.image.spur.

Synthetic images are built here byte by byte (SpurImage64), independently of the
writer; the real one is pharo8-bootstrap64.image from COGXEN_IMAGES.
"""

import math
import os
import struct

import pytest

from spyvm import constants, model, smallfloat
from spyvm.image import spur
from spyvm.image.format import ImageError
from spyvm.image.reader import read_image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
IMAGES = os.environ.get("COGXEN_IMAGES") or os.path.join(os.path.dirname(REPO),
                                                         "shared", "images")
PHARO = os.path.join(IMAGES, "pharo8-bootstrap64.image")

needs_pharo = pytest.mark.skipif(
    not os.path.isfile(PHARO),
    reason="Spur 64-bit test image not found: %s (set COGXEN_IMAGES)" % PHARO)

BASE = 0x10000000
CLASS_INDEX = 40        # the one class of the synthetic image: its own class


def smallint(v):
    return ((v << 3) | 1) & 0xffffffffffffffff


def char(v):
    return (v << 3) | 2


def float_oop(value):
    """SmallFloat64 encoding worked out from the spec with struct, not smallfloat."""
    bits = struct.unpack("<Q", struct.pack("<d", value))[0]
    rotated = ((bits << 1) | (bits >> 63)) & 0xffffffffffffffff
    if rotated > 1:
        rotated -= 896 << 53
    return (rotated << 3) | 4


class SpurImage64(object):
    """A minimal Spur 64-bit image: objects are (class index, format, hash, body
    bytes, slot count); pointers are given as ('ref', n) for object n."""

    def __init__(self):
        self.objects = []

    def add(self, class_index, fmt, body, nslots=None, hash=0):
        if nslots is None:
            nslots = len(body) // 8
        self.objects.append([class_index, fmt, hash, body, nslots])
        return len(self.objects) - 1

    def pointers(self, class_index, fmt, words, hash=0):
        return self.add(class_index, fmt, words, len(words), hash)

    def build(self, specials, gap_after=None, gap_slots=0):
        # Places: oop of each object, with an optional second segment.
        oops = []
        pos = 0
        seg_split = None
        for i, (ci, fmt, h, body, n) in enumerate(self.objects):
            if gap_after is not None and i == gap_after:
                seg_split = pos
                pos += 16 + gap_slots * 8
            if n >= 255:
                pos += 8
            oops.append(BASE + pos)
            pos += 8 + max(8, (n * 8 + 7) & ~7)
        def word(w):
            if isinstance(w, tuple):
                return oops[w[1]]
            return w
        segs = [bytearray()]
        for i, (ci, fmt, h, body, n) in enumerate(self.objects):
            if gap_after is not None and i == gap_after:
                segs.append(bytearray())
            out = segs[-1]
            if n >= 255:
                out += struct.pack("<Q", n | (255 << 56))
            out += struct.pack("<Q", ci | (fmt << 24) | (h << 32) | (min(n, 255) << 56))
            if isinstance(body, list):
                raw = b"".join(struct.pack("<Q", word(w)) for w in body)
            else:
                raw = body
            size = max(8, (n * 8 + 7) & ~7)
            out += raw + b"\0" * (size - len(raw))
        data = bytearray()
        for k, seg in enumerate(segs):
            last = k == len(segs) - 1
            span = 0 if last else gap_slots
            nxt = 0 if last else len(segs[k + 1]) + 16
            seg += struct.pack("<QQ", (span & 0xffffffffffffff) | (255 << 56) if span
                               else (3 | (10 << 24) | (1 << 30)) | (1 << 55), nxt)
            data += seg
        first = len(segs[0])
        header = struct.pack("<II", constants.FORMAT_SPUR_64, 128)
        header += struct.pack("<QQQQQQ", len(data), BASE, oops[specials], 0, 0, 0)
        header += b"\0" * 16
        header += struct.pack("<Q", first)
        header += b"\0" * (128 - len(header))
        return bytes(header + data)


def synthetic(gap_after=None, gap_slots=0):
    """nil, false, true, free lists, hidden roots, page 0, then a class (its own
    class), the special objects array and test objects. Answers (bytes, indices)."""
    img = SpurImage64()
    nil = 0
    R = lambda n: ("ref", n)
    img.pointers(CLASS_INDEX, 0, [])                    # nil
    img.pointers(CLASS_INDEX, 0, [])                    # false
    img.pointers(CLASS_INDEX, 0, [])                    # true
    img.add(18, 9, b"\0" * 8 * 64, 64)                  # free lists
    roots = img.pointers(16, 2, [R(nil)] * (4096 + 8))  # hidden roots
    page0 = img.pointers(16, 2, [R(nil)] * 1024)
    img.objects[roots][3][0] = R(page0)
    cls = img.pointers(CLASS_INDEX, 1, [R(nil), R(nil), smallint(2 << 16)],
                       hash=CLASS_INDEX)
    # SmallInteger, Character and SmallFloat64: instances of cls, at their puns.
    immediate_classes = {}
    for index in [1, 2, 4]:
        immediate_classes[index] = img.pointers(
            CLASS_INDEX, 1, [R(nil), R(nil), smallint(0)], hash=index)
    page = img.objects[page0][3]
    page[1] = page[3] = R(immediate_classes[1])
    page[2] = R(immediate_classes[2])
    page[4] = R(immediate_classes[4])
    page[16] = page[CLASS_INDEX] = R(cls)
    ints = img.pointers(CLASS_INDEX, 2, [
        smallint(1 << 40), smallint(-(1 << 60)), smallint((1 << 60) - 1),
        smallint(-1), char(0x1f600), float_oop(3.141592653589793), float_oop(-0.0),
        float_oop(1e-30), float_oop(2.5e38), float_oop(0.0)], hash=77)
    words = img.add(CLASS_INDEX, 11, struct.pack("<III", 1, 2, 0xffffffff), 2)
    shorts = img.add(CLASS_INDEX, 12 + 1, struct.pack("<HHH", 1, 2, 0xffff), 1)
    longs = img.add(CLASS_INDEX, 9, struct.pack("<QQ", 1, 1 << 63), 2)
    byts = img.add(CLASS_INDEX, 16 + 5, b"abc", 1)
    big = img.pointers(CLASS_INDEX, 2, [smallint(i) for i in range(300)])
    boxed = img.add(CLASS_INDEX, 10, struct.pack("<d", 1e300), 1)
    specials = img.pointers(CLASS_INDEX, 2,
                            [R(nil), R(1), R(2)] + [R(cls)] * 2 +
                            [R(immediate_classes[1])] + [R(cls)] * 13 +
                            [R(immediate_classes[2])] +
                            [R(ints), R(words), R(shorts), R(longs), R(byts), R(big),
                             R(boxed)])
    data = img.build(specials, gap_after, gap_slots)
    return data


def check_synthetic(loaded):
    space = loaded.space
    assert space.word_size == 8
    assert space.maxint == (1 << 60) - 1 and space.minint == -(1 << 60)
    specials = loaded.w_special_objects
    w = lambda i: specials.fetch(space, 20 + i)
    ints = w(0)
    assert space.w_SmallInteger.hash == 1 and space.w_Character.hash == 2
    assert [ints.fetch(space, i).value for i in range(4)] == \
        [1 << 40, -(1 << 60), (1 << 60) - 1, -1]
    assert ints.hash == 77
    w_char = ints.fetch(space, 4)
    assert isinstance(w_char, model.W_Character) and w_char.value == 0x1f600
    floats = [ints.fetch(space, i) for i in range(5, 10)]
    for w_f in floats:
        assert isinstance(w_f, model.W_SmallFloat)
        assert w_f.getclass(space) is space.w_SmallFloat64
        assert w_f.getclass(space).hash == 4
    assert floats[0].value == math.pi
    assert floats[1].value == 0.0 and math.copysign(1, floats[1].value) == -1
    assert floats[2].value == 1e-30 and floats[3].value == 2.5e38
    assert floats[4].value == 0.0 and math.copysign(1, floats[4].value) == 1
    assert [int(x) for x in w(1).words] == [1, 2, 0xffffffff]
    assert w(2).as_string() == struct.pack("<HHH", 1, 2, 0xffff)
    assert w(3).as_string() == struct.pack("<QQ", 1, 1 << 63)
    assert w(4).as_string() == "abc"
    assert [w(5).fetch(space, i).value for i in range(300)] == list(range(300))
    assert isinstance(w(6), model.W_Float) and w(6).value == 1e300


def test_synthetic_image():
    loaded = read_image(synthetic())
    assert loaded.version == constants.FORMAT_SPUR_64
    assert loaded.format_name() == "68021 (Spur 64-bit)"
    assert len(loaded.objects_w) == 15
    check_synthetic(loaded)


def test_synthetic_two_segments():
    # The last objects move to a second segment 1000 slots further on: their
    # oops grow by the bridge's span.
    check_synthetic(read_image(synthetic(gap_after=12, gap_slots=1000)))


def test_smallfloat_round_trip():
    for value in [0.0, -0.0, 1.0, -1.5, math.pi, 3e38, 1.2e-38]:
        assert smallfloat.is_representable(value)
        oop = smallfloat.oop_of_float(value)
        assert oop & 0xffffffffffffffff == float_oop(value)
        back = smallfloat.float_of_oop(oop)
        assert struct.pack("<d", back) == struct.pack("<d", value)
    for value in [1e300, -1e-300, 1e-38, 1e39, float("inf"), float("nan"), 5e-324]:
        assert not smallfloat.is_representable(value)


def test_unknown_immediate_tag():
    data = bytearray(synthetic())
    loaded = read_image(bytes(data))
    # Patch ints' first slot (1 << 40) into an immediate with tag 3.
    pos = data.find(struct.pack("<Q", smallint(1 << 40)))
    struct.pack_into("<Q", data, pos, (5 << 3) | 3)
    with pytest.raises(ImageError) as e:
        read_image(bytes(data))
    assert "tag 3" in str(e.value)
    assert loaded is not None


# --- the real image -----------------------------------------------------------------

_cache = {}


def pharo():
    if "image" not in _cache:
        with open(PHARO, "rb") as f:
            _cache["image"] = read_image(f.read())
    return _cache["image"]


def lookup(space, w_class, selector):
    while isinstance(w_class, model.W_PointersObject):
        w_dict = w_class.fetch(space, constants.CLASS_METHODDICT)
        if isinstance(w_dict, model.W_PointersObject):
            w_values = w_dict.fetch(space, constants.METHODDICT_VALUES)
            for i in range(2, w_dict.size()):
                w_key = w_dict.fetch(space, i)
                if isinstance(w_key, model.W_BytesObject) and \
                        w_key.as_string() == selector:
                    return w_values.fetch(space, i - 2)
        w_class = w_class.fetch(space, constants.CLASS_SUPERCLASS)
    return None


@needs_pharo
def test_pharo_header_and_counts():
    loaded = pharo()
    space = loaded.space
    assert loaded.version == constants.FORMAT_SPUR_64 and loaded.little_endian
    assert loaded.header_size == 128
    assert space.word_size == 8 and space.maxint == (1 << 60) - 1
    # 29,895 objects + 9 hidden chunks (free lists, hidden roots, 6 class table
    # pages, remembered set) = 29,904 headers; with the final bridge the 29,905
    # of MANIFEST.md.
    assert len(loaded.objects_w) == 29895
    methods = [w for w in loaded.objects_w if isinstance(w, model.W_CompiledMethod)]
    assert len(methods) == 10391


@needs_pharo
def test_pharo_classes():
    loaded = pharo()
    space = loaded.space
    names = [space.class_name(getattr(space, n)) for n in
             ["w_SmallInteger", "w_Float", "w_SmallFloat64", "w_Character", "w_Array",
              "w_String", "w_LargePositiveInteger", "w_LargeNegativeInteger",
              "w_CompiledMethod", "w_BlockClosure", "w_MethodContext"]]
    assert names == ["SmallInteger", "BoxedFloat64", "SmallFloat64", "Character",
                     "Array", "ByteString", "LargePositiveInteger",
                     "LargeNegativeInteger", "CompiledMethod", "FullBlockClosure"
                     if names[9] == "FullBlockClosure" else "BlockClosure", "Context"]
    assert space.class_name(space.w_true.getclass(space)) == "True"
    w_metaclass = space.w_SmallInteger.getclass(space).getclass(space)
    names = [space.class_name(w_obj) for w_obj in loaded.objects_w
             if w_obj.getclass(space).getclass(space) is w_metaclass]
    # 553 classes and their 553 metaclasses; MANIFEST.md's "1,676 classes" are the
    # class table's entries (many classes are entered more than once).
    assert len(names) == 553
    for name in ["PharoBootstrapInitialization", "SmallFloat64", "BoxedFloat64",
                 "SmalltalkImage", "Object", "ProtoObject"]:
        assert name in names
    w_method = lookup(space, space.w_SmallInteger, "+")
    assert isinstance(w_method, model.W_CompiledMethod) and w_method.primitive == 1
    w_method = lookup(space, space.w_SmallFloat64, "+")
    assert isinstance(w_method, model.W_CompiledMethod) and w_method.primitive == 541


@needs_pharo
def test_pharo_immediates():
    loaded = pharo()
    space = loaded.space
    ints = set()
    floats = set()
    for w_obj in loaded.objects_w:
        if isinstance(w_obj, model.W_CompiledMethod):
            refs = w_obj.literals
        elif isinstance(w_obj, model.W_PointersObject):
            refs = w_obj.slots
        else:
            continue
        for w_ref in refs:
            if isinstance(w_ref, model.W_SmallInteger) and w_ref.value >= 1 << 31:
                ints.add(w_ref.value)
            elif isinstance(w_ref, model.W_SmallFloat):
                floats.add(w_ref.value)
    # Literals of the image's sources: SmallIntegers beyond 31 bits, floats.
    assert 10 ** 18 in ints and 2 ** 52 in ints
    assert math.pi in floats and math.log(2) in floats and 0.1 in floats
    # A SmallInteger maxVal method answers the 61-bit bound in its bytecodes'
    # literal or by primitive; either way the space agrees.
    assert space.is_small_int(10 ** 18) and not space.is_small_int(1 << 60)


# --- corrupt 64-bit images: ImageError or a loaded image, never anything else -------

def header_offsets64(data):
    """File offsets of every object header (main and overflow) of a Spur 64 image."""
    loader = spur.SpurLoader(data, constants.FORMAT_SPUR_64, True)
    offsets = []
    for chunk in loader.chunks:
        offsets.append(chunk.body_pos - 8)
        if chunk.num_slots >= 255:
            offsets.append(chunk.body_pos - 16)
    return offsets


def loads_or_image_error(data):
    try:
        read_image(data)
    except ImageError as e:
        assert str(e) and "\n" not in str(e)


def test_synthetic_corruptions():
    import random
    data = synthetic(gap_after=12, gap_slots=7)
    offsets = header_offsets64(data)
    rng = random.Random(68021)
    for length in [0, 8, 127, 128, 136, len(data) // 2, len(data) - 16, len(data) - 1]:
        with pytest.raises(ImageError):
            read_image(data[:length])
    for offset, value in [(8, 0), (8, 1 << 62), (16, 3), (16, -8), (24, 1), (24, 0),
                          (72, 0), (72, 12), (72, 1 << 40)]:
        broken = bytearray(data)
        struct.pack_into("<q", broken, offset, value)
        with pytest.raises(ImageError):
            read_image(bytes(broken))
    for _ in range(150):
        broken = bytearray(data)
        kind = rng.randrange(3)
        if kind == 0:       # a bit of an object header
            pos = rng.choice(offsets) + rng.randrange(8)
            broken[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:     # a bit anywhere
            pos = rng.randrange(len(data))
            broken[pos] ^= 1 << rng.randrange(8)
        else:               # a garbage 64-bit word at a header or slot
            pos = rng.choice(offsets) + 8 * rng.randrange(3)
            struct.pack_into("<Q", broken, pos, rng.choice(
                [0, (1 << 64) - 1, 1 << 63, (255 << 56) | rng.getrandbits(40),
                 rng.getrandbits(64)]))
        loads_or_image_error(bytes(broken))


@needs_pharo
def test_pharo_corruptions():
    """A few cases on the real image (each load takes seconds untranslated)."""
    import random
    with open(PHARO, "rb") as f:
        data = f.read()
    offsets = header_offsets64(data)
    rng = random.Random(8)
    for _ in range(8):
        broken = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            pos = rng.choice(offsets) + rng.randrange(8)
            broken[pos] ^= 1 << rng.randrange(8)
        loads_or_image_error(bytes(broken))
