"""cogxen-image: info, byte-order and word-size conversion, on the VM's own reader
and writer."""

import os
import struct
import subprocess

from StringIO import StringIO

from spyvm import imagetool, model
from spyvm.image import reader

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args):
    out, err = StringIO(), StringIO()
    status = imagetool.main(["cogxen-image"] + list(args), out, err)
    return status, out.getvalue(), err.getvalue()


def test_info_mini(image_path):
    status, out, err = run("info", image_path("mini.image"))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert "format: 6502 (V3 32-bit, no closures)" in lines
    assert "word size: 32 bits" in lines
    assert "byte order: little-endian" in lines
    assert "objects: 17692" in lines
    assert "classes: 203" in lines


def test_info_spur(image_path):
    status, out, _ = run("info", image_path("headless.image"))
    assert status == 0
    assert "format: 6521 (Spur 32-bit)" in out.splitlines()


def test_convert_round_trip(image_path, tmpdir):
    src = image_path("bootstrapped.image")
    big = str(tmpdir.join("big.image"))
    back = str(tmpdir.join("back.image"))
    assert run("convert", "--byte-order", "big", src, big)[0] == 0
    status, out, _ = run("info", big)
    assert "byte order: big-endian" in out.splitlines()
    assert "format: 6505 (V3 32-bit, closures)" in out.splitlines()
    assert run("convert", "--byte-order", "little", big, back)[0] == 0
    with open(src, "rb") as a:
        with open(back, "rb") as b:
            assert a.read() == b.read()


def test_bad_input(tmpdir):
    status, _, err = run("info", str(tmpdir.join("missing.image")))
    assert (status, err) == (2, "cogxen-image: no such image file\n")
    junk = tmpdir.join("junk.image")
    junk.write("x" * 100)
    status, _, err = run("info", str(junk))
    assert status == 2 and err.startswith("cogxen-image: unknown image format")
    status, _, err = run("convert", "--byte-order", "middle", "a", "b")
    assert status == 2 and err.startswith("Usage:")


def test_command_wrapper(image_path):
    """tools/cogxen-image runs from any folder with relative paths."""
    path = os.path.relpath(image_path("mini.image"), "/tmp")
    proc = subprocess.Popen([os.path.join(REPO, "tools", "cogxen-image"), "info", path],
                            cwd="/tmp", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "objects: 17692" in out


def test_info_and_convert_spur64(image_path, tmpdir):
    status, out, err = run("info", image_path("pharo8-bootstrap64.image"))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert "format: 68021 (Spur 64-bit)" in lines
    assert "word size: 64 bits" in lines
    assert "objects: 29895" in lines
    assert "classes: 553" in lines
    # Byte order conversion of a small 64-bit image, there and back.
    import sys
    sys.path.insert(0, os.path.join(REPO, "tests", "spyvm", "image"))
    from test_spur64 import synthetic
    src = tmpdir.join("small64.image")
    src.write(synthetic(), "wb")
    big = str(tmpdir.join("big.image"))
    back = str(tmpdir.join("back.image"))
    assert run("convert", "--byte-order", "big", str(src), big)[0] == 0
    assert "byte order: big-endian" in run("info", big)[1].splitlines()
    assert run("convert", "--byte-order", "little", big, back)[0] == 0
    assert run("info", back)[1].replace(back, "X") == \
        run("info", str(src))[1].replace(str(src), "X")


def read(path):
    with open(path, "rb") as f:
        return reader.read_image(f.read())


def values(loaded):
    """Every object's class name and contents, references by kind and value (an
    immediate and the object a 32-bit image holds in its place are alike)."""
    space = loaded.space
    index = dict((w, i) for i, w in enumerate(loaded.objects_w))

    def ref(w_ref):
        if isinstance(w_ref, model.W_Float):
            return ("float", struct.pack("<d", w_ref.value))     # NaN too
        if isinstance(w_ref, model.W_SmallInteger):
            return ("int", w_ref.value)
        if isinstance(w_ref, model.W_BytesObject) and \
                space.class_name(w_ref.getclass(space)).startswith("Large"):
            return ("int", space.unwrap_bigint(w_ref).tolong())
        if isinstance(w_ref, model.W_Character):
            return ("char", w_ref.value)
        return ("object", index.get(w_ref))

    def contents(w_obj):
        if isinstance(w_obj, model.W_Context):
            # The pc the image sees counts the literals' bytes: the bytecode's
            # index is what stays.
            slots = [ref(w_obj.fetch(space, j)) for j in range(w_obj.size())]
            return slots[:1] + [("pc", w_obj.pc)] + slots[2:]
        if isinstance(w_obj, model.W_PointersObject):
            return [ref(w) for w in w_obj.slots]
        if isinstance(w_obj, model.W_CompiledMethod):
            return [w_obj.header, w_obj.bytes] + [ref(w) for w in w_obj.literals]
        return [ref(w_obj)]

    return [(space.class_name(w.getclass(space)), contents(w)) for w in loaded.objects_w
            if not (isinstance(w, model.W_Float) or
                    space.class_name(w.getclass(space)).startswith("Large"))]


def test_word_size_32_64_32_keeps_every_object(image_path, tmpdir):
    """A SistaV1 Spur 32-bit image as 64-bit and back: the same file as a plain
    32-bit rewrite, and the 64-bit one holds the same objects."""
    src = image_path("tp-location-app.image")
    wide = str(tmpdir.join("wide.image"))
    back = str(tmpdir.join("back.image"))
    plain = str(tmpdir.join("plain.image"))
    assert run("convert", "--format", "spur64", src, wide) == (0, "", "")
    lines = run("info", wide)[1].splitlines()
    assert "format: 68021 (Spur 64-bit)" in lines and "objects: 4790" in lines
    assert run("convert", "--format", "spur32", wide, back) == (0, "", "")
    assert run("convert", "--byte-order", "little", src, plain)[0] == 0
    with open(back, "rb") as a, open(plain, "rb") as b:
        assert a.read() == b.read()
    assert values(read(wide)) == values(read(src))


def test_word_size_64_32_boxes_what_32_bits_cannot_hold(image_path, tmpdir):
    """Pharo 8 as 32-bit: SmallFloat64s become boxed Floats and SmallIntegers past
    31 bits LargeIntegers, one object per reference; every value is kept."""
    src = image_path("pharo8-bootstrap64.image")
    narrow = str(tmpdir.join("narrow.image"))
    assert run("convert", "--format", "spur32", src, narrow) == (0, "", "")
    before, after = read(src), read(narrow)
    assert after.space.word_size == 4
    assert len(after.objects_w) > len(before.objects_w)
    boxed = [w for w in after.objects_w if isinstance(w, model.W_Float)]
    assert boxed and not [w for w in after.objects_w if isinstance(w, model.W_SmallFloat)]
    assert values(after) == values(before)


def test_word_size_bad_input(image_path, tmpdir):
    out = str(tmpdir.join("out.image"))
    status, _, err = run("convert", "--format", "spur64", image_path("mini.image"), out)
    assert status == 2 and "only Spur images change word size" in err
    for args in (["--format", "spur16"], ["--format", "spur64", "--format", "spur32"], []):
        status, _, err = run(*(["convert"] + args + ["a", "b"]))
        assert status == 2 and err.startswith("Usage:"), args


def test_convert_bytecodes_sistav1(image_path, tmpdir):
    src = image_path("headless.image")
    dst = str(tmpdir.join("sista.image"))
    status, out, err = run("convert", "--bytecodes", "sistav1", src, dst)
    assert status == 0, err
    before = [w for w in reader.read_image(open(src, "rb").read()).objects_w
              if isinstance(w, model.W_CompiledMethod)]
    after = [w for w in reader.read_image(open(dst, "rb").read()).objects_w
             if isinstance(w, model.W_CompiledMethod)]
    assert not any(w.sista for w in before)
    assert len(after) == len(before) and all(w.sista for w in after)
    assert err.startswith("cogxen-image: %d methods in SistaV1, 0 kept in V3," % len(before))
    for w_old, w_new in zip(before, after):
        assert w_new.literals and len(w_new.literals) == len(w_old.literals)
        assert w_new.num_args == w_old.num_args and w_new.num_temps == w_old.num_temps
        assert w_new.primitive == w_old.primitive
    # Converting again changes nothing: SistaV1 methods are left as they are.
    again = str(tmpdir.join("again.image"))
    assert run("convert", "--bytecodes", "sistav1", dst, again)[0] == 0
    assert open(dst, "rb").read() == open(again, "rb").read()


def test_convert_bytecodes_needs_spur(image_path, tmpdir):
    status, _, err = run("convert", "--bytecodes", "sistav1", image_path("mini.image"),
                         str(tmpdir.join("x.image")))
    assert (status, err) == (2, "cogxen-image: only Spur images hold SistaV1 methods\n")
    status, _, err = run("convert", "--bytecodes", "sistav2", "a", "b")
    assert status == 2 and err.startswith("Usage:")
