"""cogxen-image: info and byte-order conversion, on the VM's own reader and writer."""

import os
import subprocess

from StringIO import StringIO

from spyvm import imagetool

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
