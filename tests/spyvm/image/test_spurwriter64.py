"""Writing Spur 64-bit images (format 68021) with spyvm.image.spurwriter.

The synthetic image of test_spur64.py (built byte by byte) and the real
pharo8-bootstrap64.image: read -> write -> read keeps every object; a second write
gives the same bytes; big-endian copies read back the same.
"""

import struct

import pytest

from spyvm import constants, model
from spyvm.image import spurwriter, writer
from spyvm.image.format import ImageError
from spyvm.image.reader import read_image

from test_spur64 import synthetic, check_synthetic, needs_pharo, PHARO


def write(loaded):
    return writer.image_bytes(loaded.space, loaded, loaded.objects_w)


def test_synthetic_round_trip():
    loaded = read_image(synthetic())
    data = write(loaded)
    version, header_size = struct.unpack_from("<II", data, 0)
    assert (version, header_size) == (constants.FORMAT_SPUR_64, 128)
    data_size, base = struct.unpack_from("<QQ", data, 8)
    assert data_size == len(data) - 128 and base == loaded.old_base
    assert struct.unpack_from("<Q", data, 72)[0] == data_size     # one segment
    # The last 16 bytes: a bridge (class index 3, format 9) and no next segment.
    last, nxt = struct.unpack_from("<QQ", data, len(data) - 16)
    assert last & 0x3fffff == 3 and (last >> 24) & 0x1f == 9 and nxt == 0
    again = read_image(data)
    check_synthetic(again)
    assert len(again.objects_w) == len(loaded.objects_w)
    assert write(again) == data


def test_synthetic_big_endian():
    loaded = read_image(synthetic())
    little = write(loaded)
    loaded.little_endian = False
    big = write(loaded)
    assert struct.unpack_from(">I", big, 0)[0] == constants.FORMAT_SPUR_64
    from_big = read_image(big)
    assert not from_big.little_endian
    check_synthetic(from_big)
    from_big.little_endian = True
    assert write(from_big) == little


def test_refuses_what_has_no_64bit_form():
    loaded = read_image(synthetic())
    space = loaded.space
    w_ints = loaded.w_special_objects.fetch(space, 20)
    w_ints.store(space, 0, model.W_SmallInteger((1 << 60) - 1))
    write(loaded)
    w_ints.store(space, 0, model.W_SmallInteger(1 << 60))
    with pytest.raises(ImageError) as info:
        write(loaded)
    assert "does not fit 61 bits" in str(info.value)
    w_ints.store(space, 0, model.W_SmallInteger(-(1 << 60)))
    write(loaded)


def test_new_floats_are_immediate_when_they_fit():
    loaded = read_image(synthetic())
    space = loaded.space
    w_small = space.wrap_float(0.75)
    assert isinstance(w_small, model.W_SmallFloat)
    assert w_small.is_same_object(space.wrap_float(0.75))
    assert not w_small.is_same_object(space.wrap_float(-0.75))
    w_big = space.wrap_float(1e300)
    assert not isinstance(w_big, model.W_SmallFloat)
    w_ints = loaded.w_special_objects.fetch(space, 20)
    w_ints.store(space, 0, w_small)
    w_ints.store(space, 1, w_big)
    again = read_image(write(loaded))
    w_ints = again.w_special_objects.fetch(again.space, 20)
    assert isinstance(w_ints.fetch(again.space, 0), model.W_SmallFloat)
    assert w_ints.fetch(again.space, 0).value == 0.75
    w_boxed = w_ints.fetch(again.space, 1)
    assert type(w_boxed) is model.W_Float and w_boxed.value == 1e300


@needs_pharo
def test_pharo_round_trip_is_stable():
    with open(PHARO, "rb") as f:
        original = read_image(f.read())
    first = write(original)
    again = read_image(first)
    assert len(again.objects_w) == len(original.objects_w) == 29895
    space_a, space_b = original.space, again.space
    for w_a, w_b in zip(original.objects_w, again.objects_w):
        assert type(w_a) is type(w_b)
        assert w_a.hash == w_b.hash or w_a.hash == 0
        assert w_a.size() == w_b.size()
        if isinstance(w_a, model.W_BytesObject):
            assert w_a.bytes == w_b.bytes
        elif isinstance(w_a, model.W_CompiledMethod):
            assert (w_a.header, w_a.bytes) == (w_b.header, w_b.bytes)
        elif isinstance(w_a, model.W_PointersObject):
            for s_a, s_b in zip(w_a.slots, w_b.slots):
                if isinstance(s_a, model.W_SmallInteger) or \
                        isinstance(s_a, model.W_SmallFloat):
                    assert s_a.is_same_object(s_b)
    assert space_b.class_name(space_b.w_SmallFloat64) == "SmallFloat64"
    assert write(again) == first
