"""Bad input: missing, empty, truncated, corrupt and random images, bad command lines.

Each must end the VM with exit status 2 and one line on standard error,
`cogxen: PATH: reason` for an image (`cogxen: reason` for the command line, which
may add one "Try 'cogxen --help'" hint line), never a Python traceback, and in
bounded time.

Then a fuzz run: COGXEN_FUZZ_COUNT (default 30) randomly corrupted copies of
mini.image (fixed seed COGXEN_FUZZ_SEED, default 1998) each run with
`--eval "3 + 4"`, several at a time (COGXEN_TEST_JOBS). A corrupt image may load and
work (0), fail in the image (1) or be refused (2), but must never crash the VM
(3, a signal, a traceback) or hang. A failure names the corruption (offsets and
bytes) and keeps the corrupt image in pytest's temporary folder.

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py).
"""

import os
import random
import struct
import time

import pytest

from imagerun import Run, default_jobs, find_image, run_vm

TIMEOUT = 60
FUZZ_TIMEOUT = 60
FUZZ_COUNT = int(os.environ.get("COGXEN_FUZZ_COUNT", "30"))
FUZZ_SEED = int(os.environ.get("COGXEN_FUZZ_SEED", "1998"))

HELP_HINT = "Try 'cogxen --help' for more information."


def read(name):
    with open(find_image(name), "rb") as f:
        return f.read()


def no_traceback(result):
    assert "Traceback" not in result.stdout + result.stderr, result.describe()


def assert_bad_image(result, path):
    """Status 2 and exactly one line on stderr: `cogxen: PATH: reason`."""
    no_traceback(result)
    assert not result.timed_out, result.describe()
    assert result.status == 2, result.describe()
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.describe()
    assert lines[0].startswith("cogxen: %s: " % path), result.describe()
    assert len(lines[0]) > len("cogxen: %s: " % path), result.describe()
    assert result.stdout == "", result.describe()


def assert_bad_command_line(result):
    """Status 2, one `cogxen: reason` line, at most followed by the --help hint."""
    no_traceback(result)
    assert not result.timed_out, result.describe()
    assert result.status == 2, result.describe()
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 2, result.describe()
    assert lines[0].startswith("cogxen: ") and len(lines[0]) > len("cogxen: "), \
        result.describe()
    if len(lines) == 2:
        assert lines[1] == HELP_HINT, result.describe()
    assert result.stdout == "", result.describe()


# --- images that are not images -------------------------------------------------------------


def u32(data, offset):
    return struct.unpack("<I", data[offset:offset + 4])[0]


def put_u32(data, offset, value):
    return data[:offset] + struct.pack("<I", value & 0xffffffff) + data[offset + 4:]


def mini_with_word(offset, value):
    return lambda: put_u32(read("mini.image"), offset, value)


def mini_truncated(length):
    return lambda: read("mini.image")[:length]


def mini_truncated_by(missing):
    return lambda: read("mini.image")[:-missing]


def random_bytes(size, seed, keep_version=False):
    def build():
        rng = random.Random(seed)
        data = "".join(chr(rng.randint(0, 255)) for _ in range(size))
        if keep_version:
            # A valid V3 header start, so that the reader goes on into the garbage.
            data = struct.pack("<III", 6502, 64, size - 64) + data[12:]
        return data
    return build


# V3 header words: 0 version, 1 header size, 2 data size, 3 old base address,
# 4 special objects oop.
BAD_IMAGES = [
    ("empty", lambda: ""),
    ("one-byte", mini_truncated(1)),
    ("truncated-4", mini_truncated(4)),
    ("truncated-in-header", mini_truncated(40)),
    ("truncated-header-only", mini_truncated(64)),
    ("truncated-65", mini_truncated(65)),
    ("truncated-1000", mini_truncated(1000)),
    ("truncated-half", mini_truncated(726656 // 2)),
    ("truncated-last-word", mini_truncated_by(4)),
    ("truncated-last-byte", mini_truncated_by(1)),
    ("unknown-format", mini_with_word(0, 12345)),
    ("format-zero", mini_with_word(0, 0)),
    ("format-big-endian-6502", lambda: struct.pack(">I", 6502) + read("mini.image")[4:]),
    ("spur-64-format-on-v3-data", mini_with_word(0, 68021)),
    ("header-size-zero", mini_with_word(4, 0)),
    ("header-size-past-end", mini_with_word(4, 10 ** 6)),
    ("header-size-huge", mini_with_word(4, 0xffffffff)),
    ("data-size-past-end", mini_with_word(8, 726592 * 2)),
    ("data-size-huge", mini_with_word(8, 0xffffffff)),
    ("data-size-too-small", mini_with_word(8, 1000)),
    ("special-objects-nowhere", mini_with_word(16, 0xfffffff0)),
    ("special-objects-zero", mini_with_word(16, 0)),
    ("old-base-shifted", lambda: put_u32(read("mini.image"), 12,
                                         u32(read("mini.image"), 12) + 4)),
    ("random-bytes", random_bytes(100000, 1)),
    ("random-bytes-small", random_bytes(100, 2)),
    ("random-bytes-v3-header", random_bytes(100000, 3, keep_version=True)),
    ("text-file", lambda: "Object subclass: #Foo!\n" * 1000),
    ("spur-truncated-100", lambda: read("headless.image")[:100]),
    ("spur-truncated-1000", lambda: read("headless.image")[:1000]),
    ("spur-truncated-last-word", lambda: read("headless.image")[:-4]),
    ("spur-data-size-huge", lambda: put_u32(read("headless.image"), 8, 0x7fffffff)),
    ("closure-v3-truncated", lambda: read("bootstrapped.image")[:50000]),
]


@pytest.mark.parametrize("build", [b for _, b in BAD_IMAGES], ids=[n for n, _ in BAD_IMAGES])
def test_bad_image(build, tmpdir):
    path = str(tmpdir.join("bad.image"))
    with open(path, "wb") as f:
        f.write(build())
    assert_bad_image(run_vm(["--eval", "3 + 4", path], timeout=TIMEOUT), path)


def test_bad_image_resumed(tmpdir):
    """Without --eval the image is refused the same way."""
    path = str(tmpdir.join("bad.image"))
    with open(path, "wb") as f:
        f.write(read("mini.image")[:5000])
    assert_bad_image(run_vm([path], timeout=TIMEOUT), path)


def test_missing_image(tmpdir):
    path = str(tmpdir.join("no-such.image"))
    assert_bad_image(run_vm(["--eval", "3 + 4", path], timeout=TIMEOUT), path)


def test_directory_as_image(tmpdir):
    path = str(tmpdir.mkdir("folder.image"))
    assert_bad_image(run_vm(["--eval", "3 + 4", path], timeout=TIMEOUT), path)


# --- bad scripts and command lines ---------------------------------------------------------------


def test_missing_script(tmpdir):
    path = str(tmpdir.join("no-such-script.st"))
    result = run_vm([find_image("mini.image"), path], timeout=TIMEOUT)
    assert_bad_command_line(result)
    assert path in result.stderr


def test_directory_as_script(tmpdir):
    path = str(tmpdir.mkdir("folder.st"))
    result = run_vm([find_image("mini.image"), path], timeout=TIMEOUT)
    assert_bad_command_line(result)
    assert path in result.stderr


BAD_COMMAND_LINES = [
    ("unknown-option", ["--frobnicate", "{mini}"]),
    ("unknown-short-option", ["-z", "{mini}"]),
    ("eval-without-expression", ["{mini}", "--eval"]),
    ("e-without-expression", ["{mini}", "-e"]),
    ("no-arguments", []),
    ("eval-without-image", ["--eval", "3 + 4"]),
    ("only-headless-option", ["--headless"]),
]


@pytest.mark.parametrize("argv", [a for _, a in BAD_COMMAND_LINES],
                         ids=[n for n, _ in BAD_COMMAND_LINES])
def test_bad_command_line(argv):
    argv = [find_image("mini.image") if a == "{mini}" else a for a in argv]
    assert_bad_command_line(run_vm(argv, timeout=TIMEOUT))


# --- fuzzing: randomly corrupted copies of mini.image -------------------------------------------


def v3_objects(data):
    """(start, header bytes, total bytes) of each object of a 32-bit V3 image."""
    header_size = u32(data, 4)
    end = header_size + u32(data, 8)
    objects = []
    pos = header_size
    while pos < end:
        word = u32(data, pos)
        kind = word & 3
        if kind == 0:        # three header words: size, class, base
            header = 12
            total = 8 + (word & ~3)
        elif kind == 1:      # two: class, base
            header = 8
            total = 4 + ((u32(data, pos + 4) >> 2) & 0x3f) * 4
        elif kind == 3:      # one: base (compact class)
            header = 4
            total = ((word >> 2) & 0x3f) * 4
        else:
            raise AssertionError("free chunk at %d in a snapshot" % pos)
        assert total >= header, "object at %d: size %d" % (pos, total)
        objects.append((pos, header, total))
        pos += total
    assert pos == end, "objects end at %d, not %d" % (pos, end)
    return objects


class Corruption(object):
    """A reproducible list of changes to an image; describe() lists them exactly."""

    def __init__(self, data):
        self.data = bytearray(data)
        self.changes = []

    def set_bytes(self, kind, offset, new):
        old = str(self.data[offset:offset + len(new)])
        self.data[offset:offset + len(new)] = new
        self.changes.append("%s at offset %d: %s -> %s" % (kind, offset, old.encode("hex"),
                                                           str(new).encode("hex")))

    def flip_bit(self, kind, offset, bit):
        new = bytearray([self.data[offset] ^ (1 << bit)])
        self.set_bytes("%s (bit %d)" % (kind, bit), offset, new)

    def truncate(self, length):
        self.changes.append("truncated to %d of %d bytes" % (length, len(self.data)))
        del self.data[length:]

    def describe(self):
        return "; ".join(self.changes)


def corrupt(data, objects, rng, kind):
    c = Corruption(data)
    size = len(data)
    if kind == "truncate":
        c.truncate(rng.randint(0, size - 1))
    elif kind == "header-bits":
        for _ in range(rng.randint(1, 3)):
            c.flip_bit("image header bit", rng.randint(0, 63), rng.randint(0, 7))
    elif kind == "object-header-bits":
        for _ in range(rng.randint(1, 3)):
            start, header, total = rng.choice(objects)
            c.flip_bit("object header bit of the object at %d" % start,
                       start + rng.randint(0, header - 1), rng.randint(0, 7))
    elif kind == "object-body-bits":
        for _ in range(rng.randint(1, 4)):
            start, header, total = rng.choice([o for o in objects if o[2] > o[1]])
            c.flip_bit("object body bit of the object at %d" % start,
                       start + rng.randint(header, total - 1), rng.randint(0, 7))
    elif kind == "object-body-bytes":
        for _ in range(rng.randint(1, 4)):
            start, header, total = rng.choice([o for o in objects if o[2] > o[1]])
            offset = start + rng.randint(header, total - 1)
            c.set_bytes("object body byte of the object at %d" % start, offset,
                        bytearray([rng.randint(0, 255)]))
    elif kind == "byte-run":
        length = rng.randint(1, 256)
        offset = rng.randint(64, size - length)
        c.set_bytes("random byte run", offset,
                    bytearray(rng.randint(0, 255) for _ in range(length)))
    else:
        raise AssertionError(kind)
    return c


FUZZ_KINDS = ["truncate", "header-bits", "object-header-bits", "object-body-bits",
              "object-body-bytes", "byte-run", "mixed"]


def fuzz_corruption(data, objects, index):
    rng = random.Random(FUZZ_SEED * 1000003 + index)
    kind = FUZZ_KINDS[index % len(FUZZ_KINDS)]
    if kind != "mixed":
        return corrupt(data, objects, rng, kind)
    changes = []
    for _ in range(rng.randint(2, 4)):
        step = corrupt(data, objects, rng, rng.choice(FUZZ_KINDS[1:-1]))
        data = str(step.data)
        changes.extend(step.changes)
    c = Corruption(data)
    c.changes = changes
    return c


def fuzz_problems(result):
    problems = []
    if result.timed_out:
        problems.append("hung: killed after %d s" % FUZZ_TIMEOUT)
    elif result.status not in (0, 1, 2):
        problems.append("exit status %s (3 is an internal error, negative a signal)"
                        % result.status)
    if "Traceback" in result.stdout + result.stderr:
        problems.append("a Python traceback")
    for line in result.stderr.splitlines():
        if not (line.startswith("cogxen:") or line.startswith("    ")):
            problems.append("stray stderr line %r" % line[:200])
            break
    return problems


@pytest.fixture(scope="module")
def fuzz_results(tmpdir_factory):
    """Run every fuzz case, COGXEN_TEST_JOBS at a time; {index: (description, problems, ...)}.

    Images are written just before their run and deleted unless the run went wrong.
    """
    data = read("mini.image")
    objects = v3_objects(data)
    folder = tmpdir_factory.mktemp("fuzz")
    jobs = default_jobs()
    results = {}
    running = []
    next_index = 0
    while next_index < FUZZ_COUNT or running:
        while next_index < FUZZ_COUNT and len(running) < jobs:
            c = fuzz_corruption(data, objects, next_index)
            path = str(folder.join("fuzz-%05d.image" % next_index))
            with open(path, "wb") as f:
                f.write(c.data)
            running.append((next_index, c, path,
                            Run(["--eval", "3 + 4", path], timeout=FUZZ_TIMEOUT)))
            next_index += 1
        still = []
        for index, c, path, run in running:
            if not run.poll():
                still.append((index, c, path, run))
                continue
            result = run.finish()
            problems = fuzz_problems(result)
            if not problems:
                os.remove(path)
            results[index] = (c.describe(), problems, path, result)
        running = still
        if running:
            time.sleep(0.02)
    return results


@pytest.mark.parametrize("index", range(FUZZ_COUNT))
def test_fuzz_corrupted_mini(index, fuzz_results):
    description, problems, path, result = fuzz_results[index]
    assert not problems, (
        "fuzz case %d (seed %d, COGXEN_FUZZ_SEED=%d) of mini.image: %s\n"
        "corruption: %s\nkept at: %s\n%s"
        % (index, FUZZ_SEED * 1000003 + index, FUZZ_SEED, "; ".join(problems),
           description, path, result.describe()))


def test_fuzz_walks_mini_objects():
    """The fuzzer's object walk covers mini.image exactly (else corruptions miss targets)."""
    data = read("mini.image")
    objects = v3_objects(data)
    assert len(objects) > 10000
    assert objects[0][0] == 64


def test_fuzz_is_reproducible():
    data = read("mini.image")
    objects = v3_objects(data)
    for index in range(len(FUZZ_KINDS)):
        a = fuzz_corruption(data, objects, index)
        b = fuzz_corruption(data, objects, index)
        assert a.describe() == b.describe() and a.data == b.data
        assert a.data != bytearray(data)
