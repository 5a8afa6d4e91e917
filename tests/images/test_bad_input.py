"""Bad input: missing, empty, truncated, corrupt and random images, bad command lines.

Each must end the VM with exit status 2 and one line on standard error,
`cogxen: PATH: reason` for an image (`cogxen: reason` for the command line, which
may add one "Try 'cogxen --help'" hint line), never a Python traceback, and in
bounded time.

Then a fuzz run: COGXEN_FUZZ_COUNT randomly corrupted copies of the real images
(mini.image, its two mini-running-* snapshots, bootstrapped.image (V3 with closures)
and headless.image (Spur)); 2400 against the translated binary, 42 untranslated. Then
COGXEN_FUZZ_64_COUNT copies of pharo8-bootstrap64.image (Spur 64-bit), resumed: 700
translated, 2 untranslated (cases numbered from 100000, so the others keep theirs). The
corruptions: truncations, flipped bits in the image header, in object headers (found
by walking the objects as the readers lay them out) and in object bodies, slots made
to point at the wrong objects, runs of random/zero/copied bytes, and mixes of these.
Each copy is run with `--eval "3 + 4"` or resumed, several at a time
(COGXEN_TEST_JOBS), with a timeout (COGXEN_FUZZ_TIMEOUT: 30 s translated). A corrupt
image may load and work (0), fail in the image (1) or be refused (2), but must never
crash the VM (3, a signal, a traceback). A run that times out is not counted as a
crash (a corrupt image may loop), but timeouts are listed and must stay under 1%.
The seed is fixed (COGXEN_FUZZ_SEED, default 1998); a failure names the case, its
seed, kind and corruption (offsets and bytes) and keeps the corrupt image in pytest's
temporary folder; COGXEN_FUZZ_CASES=i,j reruns just those cases.

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py).
"""

import os
import random
import struct
import time

import pytest

from imagerun import (Run, default_jobs, find_image, images_dir, quote, run_vm,
                      translated_vm)

TIMEOUT = 60

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


def u64(data, offset):
    return struct.unpack("<Q", data[offset:offset + 8])[0]


def put_u64(data, offset, value):
    return data[:offset] + struct.pack("<Q", value & 0xffffffffffffffff) + \
        data[offset + 8:]


def spur64_with_slot(index, value):
    """pharo8-bootstrap64.image with slot `index` of its special objects array set."""
    data = read("pharo8-bootstrap64.image")
    specials = u64(data, 24) - u64(data, 16) + u32(data, 4)     # its header's offset
    return put_u64(data, specials + 8 + 8 * index, value)


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
    # Spur 64-bit: header fields are 64-bit words from offset 8 (see spur.py).
    ("spur64-truncated-100", lambda: read("pharo8-bootstrap64.image")[:100]),
    ("spur64-truncated-half", lambda: read("pharo8-bootstrap64.image")[:1235412]),
    ("spur64-truncated-last-word", lambda: read("pharo8-bootstrap64.image")[:-8]),
    ("spur64-data-size-huge", lambda: put_u64(read("pharo8-bootstrap64.image"), 8,
                                              1 << 62)),
    ("spur64-old-base-negative", lambda: put_u64(read("pharo8-bootstrap64.image"), 16,
                                                 -8)),
    ("spur64-special-objects-misaligned",
     lambda: put_u64(read("pharo8-bootstrap64.image"), 24,
                     u64(read("pharo8-bootstrap64.image"), 24) + 4)),
    ("spur64-first-segment-odd", lambda: put_u64(read("pharo8-bootstrap64.image"), 72,
                                                 1000004)),
    ("spur64-next-segment-missing",
     lambda: put_u64(read("pharo8-bootstrap64.image"),
                     len(read("pharo8-bootstrap64.image")) - 8, 4096)),
    ("spur64-immediate-tag-3", lambda: spur64_with_slot(2, (7 << 3) | 3)),
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


# --- fuzzing: randomly corrupted copies of the real images --------------------------------------
#
# Case i of a fuzz run is fully determined by (COGXEN_FUZZ_SEED, i): its image and
# corruption kind come from the schedule below, its changes from random.Random(case_seed).
# To reproduce a failing case, run pytest with COGXEN_FUZZ_SEED=S COGXEN_FUZZ_CASES=i, or
# write the corrupt image with `python tests/images/test_bad_input.py write S i OUT.image`.

TRANSLATED = translated_vm() is not None
# The translated binary loads an image in milliseconds: thousands of cases take a few
# minutes on two cores. Untranslated, a sample keeps `make test-quick` fast.
FUZZ_COUNT = int(os.environ.get("COGXEN_FUZZ_COUNT", "2400" if TRANSLATED else "42"))
FUZZ_SEED = int(os.environ.get("COGXEN_FUZZ_SEED", "1998"))
FUZZ_TIMEOUT = float(os.environ.get("COGXEN_FUZZ_TIMEOUT", "30" if TRANSLATED else "90"))
# Timeouts are not crashes: a corrupt image may legitimately loop forever. They are
# counted apart, reported, and must stay rare: at most this share of the runs (and 2).
FUZZ_MAX_TIMEOUT_SHARE = 0.01

# (image, how it is run): "eval" is `--eval '3 + 4'`; "walk" evaluates WALK, which
# touches every class, its methods and their literals and prints numbers, so that
# corruptions far from `3 + 4` are reached; "resume" runs the image's own start-up.
# mini-running-something resumes into an endless idle loop, so it is only evaluated
# in; bootstrapped's start-up (tinyBenchmarks) and WALK take a minute untranslated, so
# they run against the translated binary only.
WALK = ("| n | n := 0. Object withAllSubclasses do: [:c | n := n + c printString size. "
        "c selectors do: [:s | n := n + (c compiledMethodAt: s) literals size]]. "
        "n + 100 factorial printString size + (2 raisedTo: 100) sqrt truncated")
FUZZ_IMAGES = [
    ("mini.image", ["eval", "walk"]),
    ("mini.image", ["eval", "walk"]),    # twice: the image the tests lean on most
    ("mini-running-something.image", ["eval", "walk"]),
    ("mini-running-exit.image", ["eval", "resume", "walk"]),
    ("headless.image", ["resume", "eval"]),
    ("bootstrapped.image", ["eval", "resume"]),
]
# Untranslated, these (image, mode) run with `--eval '3 + 4'` instead.
SLOW_UNTRANSLATED = [("bootstrapped.image", "resume")] + \
    [(image, "walk") for image, _ in FUZZ_IMAGES]
# The Spur 64-bit image has cases of its own, numbered from FUZZ_64_BASE on, so that
# the cases above keep their numbers (and their regressions below their meaning).
# Pharo 8's bootstrap image has no compiler: it is resumed, and runs its start-up
# (0.15 s translated; it saves itself over the corrupt copy). Untranslated that
# takes a minute, so COGXEN_FUZZ_64_COUNT is 2 there, each run with `--eval` (the
# image is loaded, then refused for having no Compiler).
FUZZ_IMAGES_64 = [("pharo8-bootstrap64.image", ["resume"])]
FUZZ_64_BASE = 100000
FUZZ_64_COUNT = int(os.environ.get("COGXEN_FUZZ_64_COUNT", "700" if TRANSLATED else "2"))
SLOW_UNTRANSLATED.append(("pharo8-bootstrap64.image", "resume"))
FUZZ_IMAGE_NAMES = ["mini.image", "mini-running-something.image", "mini-running-exit.image",
                    "headless.image", "bootstrapped.image", "pharo8-bootstrap64.image"]

FUZZ_KINDS = ["truncate", "image-header-bits", "object-header-bits", "object-body-bits",
              "object-pointers", "byte-run", "mixed"]
SCHEDULE = [(image, kind) for image, _ in FUZZ_IMAGES for kind in FUZZ_KINDS]
SCHEDULE_64 = [(image, kind) for image, _ in FUZZ_IMAGES_64 for kind in FUZZ_KINDS]
FUZZ_TESTS = [(image, kind) for image in FUZZ_IMAGE_NAMES for kind in FUZZ_KINDS]


def case_seed(seed, index):
    return seed * 1000003 + index


def case_plan(index, seed=None):
    """(image name, kind, mode, rng) of fuzz case `index`."""
    if seed is None:
        seed = FUZZ_SEED
    if index >= FUZZ_64_BASE:
        schedule, images, step = SCHEDULE_64, FUZZ_IMAGES_64, index - FUZZ_64_BASE
    else:
        schedule, images, step = SCHEDULE, FUZZ_IMAGES, index
    image, kind = schedule[step % len(schedule)]
    modes = [m for i, m in images if i == image][0]
    mode = modes[(step // len(schedule)) % len(modes)]
    return image, kind, mode, random.Random(case_seed(seed, index))


def case_image(index):
    """The name of the image fuzz case `index` corrupts."""
    if index >= FUZZ_64_BASE:
        return SCHEDULE_64[(index - FUZZ_64_BASE) % len(SCHEDULE_64)][0]
    return SCHEDULE[index % len(SCHEDULE)][0]


def v3_objects(data):
    """(start, header bytes, total bytes, oop) of each object of a 32-bit V3 image."""
    header_size = u32(data, 4)
    old_base = u32(data, 12)
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
        objects.append((pos, header, total, pos + header - 4 - header_size + old_base))
        pos += total
    assert pos == end, "objects end at %d, not %d" % (pos, end)
    return objects


def spur_objects(data, word_size=4):
    """(start, header bytes, total bytes, oop) of each chunk of a Spur image, the
    segment bridges included (as 16 header bytes). An object with an overflow slot
    count starts at its overflow header; its oop is its main header. The header
    fields after the header size are word_size bytes (64-bit: a 128-byte header)."""
    word = u32 if word_size == 4 else u64
    header_size = u32(data, 4)
    old_base = word(data, 8 + word_size)
    data_end = header_size + word(data, 8)
    seg_end = header_size + word(data, 8 + 6 * word_size + 16)
    pos = header_size
    objects = []
    while True:
        bridge = seg_end - 16
        while pos < bridge:
            start = pos
            header = 8
            slots = u32(data, pos + 4) >> 24
            if slots == 255:
                # The overflow count: 32 bits, or 56 in a 64-bit image.
                slots = u32(data, pos) if word_size == 4 else \
                    u64(data, pos) & 0xffffffffffffff
                header = 16
            body = (max(slots * word_size, 8) + 7) & ~7
            objects.append((start, header, header + body,
                            start + header - 8 - header_size + old_base))
            pos = start + header + body
        assert pos == bridge, "objects end at %d, not at the bridge at %d" % (pos, bridge)
        objects.append((bridge, 16, 16, None))
        next_size = u64(data, bridge + 8)
        if next_size == 0:
            break
        pos = seg_end
        seg_end += next_size
    assert seg_end == data_end, "segments end at %d, not %d" % (seg_end, data_end)
    return objects


class FuzzImage(object):
    """A real image and its object layout, parsed once."""

    def __init__(self, name, data):
        self.name = name
        self.data = data
        self.spur = u32(data, 0) in (6521, 68021)
        self.word_size = 8 if u32(data, 0) == 68021 else 4
        self.objects = spur_objects(data, self.word_size) if self.spur else v3_objects(data)
        self.with_body = [o for o in self.objects if o[2] > o[1]]
        self.oops = [o[3] for o in self.objects if o[3] is not None]


class Corruption(object):
    """A reproducible list of changes to an image; describe() lists them exactly."""

    def __init__(self, data):
        self.data = bytearray(data)
        self.changes = []

    def set_bytes(self, kind, offset, new):
        old = str(self.data[offset:offset + len(new)])
        self.data[offset:offset + len(new)] = new
        if len(new) > 16:
            self.changes.append("%s at offset %d: %d bytes (%s... -> %s...)"
                                % (kind, offset, len(new), old[:8].encode("hex"),
                                   str(new[:8]).encode("hex")))
        else:
            self.changes.append("%s at offset %d: %s -> %s"
                                % (kind, offset, old.encode("hex"), str(new).encode("hex")))

    def flip_bit(self, kind, offset, bit):
        new = bytearray([self.data[offset] ^ (1 << bit)])
        self.set_bytes("%s (bit %d)" % (kind, bit), offset, new)

    def truncate(self, length):
        self.changes.append("truncated to %d of %d bytes" % (length, len(self.data)))
        del self.data[length:]

    def describe(self):
        return "; ".join(self.changes)


def _word_bytes(value, word_size=4):
    if word_size == 8:
        return bytearray(struct.pack("<Q", value & 0xffffffffffffffff))
    return bytearray(struct.pack("<I", value & 0xffffffff))


def _small_integer(image, value):
    """value as a SmallInteger of image: 1 tag bit (31-bit), or 3 (61-bit)."""
    if image.word_size == 8:
        return (value << 3) | 1
    return (value << 1) | 1


def corrupt(image, data, rng, kind):
    """One corruption of `kind` applied to data (the image's bytes, maybe already changed)."""
    c = Corruption(data)
    size = len(data)
    if kind == "truncate":
        # Half anywhere, half near the end (the last objects, the last segment's bridge).
        if rng.random() < 0.5:
            c.truncate(rng.randint(0, size - 1))
        else:
            c.truncate(size - rng.randint(1, min(size, 4096)))
    elif kind == "image-header-bits":
        header_size = u32(image.data, 4)
        for _ in range(rng.randint(1, 3)):
            c.flip_bit("image header bit", rng.randint(0, header_size - 1), rng.randint(0, 7))
    elif kind == "object-header-bits":
        for _ in range(rng.randint(1, 3)):
            start, header, total, oop = rng.choice(image.objects)
            c.flip_bit("object header bit of the object at %d" % start,
                       start + rng.randint(0, header - 1), rng.randint(0, 7))
    elif kind == "object-body-bits":
        for _ in range(rng.randint(1, 4)):
            start, header, total, oop = rng.choice(image.with_body)
            c.flip_bit("object body bit of the object at %d" % start,
                       start + rng.randint(header, total - 1), rng.randint(0, 7))
    elif kind == "object-pointers":
        # A slot now refers to another object, or holds nil's oop, an integer or a
        # misaligned pointer: well-formed images whose objects have the wrong types.
        ws = image.word_size
        top = 0x3fffffff if ws == 4 else 0x0fffffffffffffff      # SmallInteger maxVal
        for _ in range(rng.randint(1, 4)):
            start, header, total, oop = rng.choice(image.with_body)
            offset = start + header + ws * rng.randint(0, (total - header) // ws - 1)
            choice = rng.random()
            if choice < 0.6:
                value = rng.choice(image.oops)
            elif choice < 0.7:
                value = image.oops[0]
            elif choice < 0.85:
                value = _small_integer(image, rng.choice(
                    [0, 1, -1, 2, 255, 256, top, -top - 1, rng.randint(-top - 1, top)]))
            elif ws == 8 and choice < 0.9:
                # The other 64-bit immediates: a Character (tag 2), a SmallFloat (4).
                value = (rng.randint(0, 0x10ffff) << 3) | rng.choice([2, 4])
            else:
                value = rng.choice(image.oops) + rng.choice([2, 4, 8, -4, -8])
            c.set_bytes("slot of the object at %d" % start, offset,
                        _word_bytes(value, ws))
    elif kind == "byte-run":
        header_size = u32(image.data, 4)
        length = min(int(2 ** rng.uniform(0, 12)), size - header_size)
        offset = rng.randint(header_size, size - length)
        fill = rng.choice(["random", "zero", "ones", "copy"])
        if fill == "random":
            new = bytearray(rng.randint(0, 255) for _ in range(length))
        elif fill == "zero":
            new = bytearray(length)
        elif fill == "ones":
            new = bytearray("\xff" * length)
        else:
            source = rng.randint(header_size, size - length)
            new = bytearray(data[source:source + length])
        c.set_bytes("byte run (%s)" % fill, offset, new)
    else:
        raise AssertionError(kind)
    return c


def fuzz_corruption(image, index, seed=None):
    """Case `index`: (kind, mode, Corruption) for `image` (the case's FuzzImage)."""
    name, kind, mode, rng = case_plan(index, seed)
    assert name == image.name
    if kind != "mixed":
        return kind, mode, corrupt(image, image.data, rng, kind)
    data = image.data
    changes = []
    for _ in range(rng.randint(2, 4)):
        step = corrupt(image, data, rng, rng.choice(FUZZ_KINDS[1:-1]))
        data = str(step.data)
        changes.extend(step.changes)
    c = Corruption(data)
    c.changes = changes
    return kind, mode, c


def fuzz_problems(result):
    """What makes a run a crash. A timeout is reported apart (see FUZZ_MAX_TIMEOUT_SHARE)."""
    problems = []
    output = result.stdout + result.stderr
    if not result.timed_out and result.status not in (0, 1, 2):
        problems.append("exit status %s (3 is an internal error, negative a signal)"
                        % result.status)
    if "Traceback" in output:
        problems.append("a Python traceback")
    if "RPython" in output or "internal error" in result.stderr:
        problems.append("an internal VM error")
    for line in result.stderr.splitlines():
        if not (line.startswith("cogxen:") or line.startswith("    ")):
            problems.append("stray stderr line %r" % line[:200])
            break
    return problems


class FuzzCase(object):
    def __init__(self, index, image, kind, mode, corruption, path):
        self.index = index
        self.image = image
        self.kind = kind
        self.mode = mode
        self.description = corruption.describe()
        self.path = path
        self.result = None
        self.problems = []

    def argv(self, translated=TRANSLATED):
        if not translated and (self.image, self.mode) in SLOW_UNTRANSLATED:
            return ["--eval", "3 + 4", self.path]
        if self.mode == "eval":
            return ["--eval", "3 + 4", self.path]
        if self.mode == "walk":
            return ["--eval", WALK, self.path]
        return [self.path]

    def report(self):
        return ("fuzz case %d (COGXEN_FUZZ_SEED=%d COGXEN_FUZZ_CASES=%d; case seed %d) of "
                "%s, %s, run by %s: %s\ncorruption: %s\nkept at: %s\n%s"
                % (self.index, FUZZ_SEED, self.index, case_seed(FUZZ_SEED, self.index),
                   self.image, self.kind, self.mode,
                   "; ".join(self.problems) or "timed out", self.description, self.path,
                   self.result.describe(limit=1500)))


def fuzz_indices():
    only = os.environ.get("COGXEN_FUZZ_CASES")
    if only:
        return [int(i) for i in only.replace(",", " ").split()]
    return list(range(FUZZ_COUNT)) + list(range(FUZZ_64_BASE, FUZZ_64_BASE + FUZZ_64_COUNT))


class FuzzRun(object):
    """Every case run, COGXEN_TEST_JOBS at a time. Images are written just before their
    run and deleted unless the run crashed or timed out."""

    def __init__(self, folder):
        self.images = {}
        for name in FUZZ_IMAGE_NAMES:
            try:
                path = find_image(name)
            except pytest.skip.Exception:
                continue
            with open(path, "rb") as f:
                self.images[name] = FuzzImage(name, f.read())
        self.cases = []
        self.skipped = 0
        start = time.time()
        jobs = default_jobs()
        pending = list(fuzz_indices())
        pending.reverse()
        running = []
        while pending or running:
            while pending and len(running) < jobs:
                index = pending.pop()
                name = case_image(index)
                if name not in self.images:
                    self.skipped += 1
                    continue
                kind, mode, c = fuzz_corruption(self.images[name], index)
                path = os.path.join(folder, "fuzz-%05d-%s" % (index, name))
                with open(path, "wb") as f:
                    f.write(c.data)
                case = FuzzCase(index, name, kind, mode, c, path)
                running.append((case, Run(case.argv(), timeout=FUZZ_TIMEOUT)))
            still = []
            for case, run in running:
                if not run.poll():
                    still.append((case, run))
                    continue
                case.result = run.finish()
                case.problems = fuzz_problems(case.result)
                if not case.problems and not case.result.timed_out:
                    os.remove(case.path)
                self.cases.append(case)
            running = still
            if running:
                time.sleep(0.005)
        self.seconds = time.time() - start
        self.cases.sort(key=lambda case: case.index)

    def summary(self):
        counts = {}
        for case in self.cases:
            key = "timeout" if case.result.timed_out else "exit %s" % case.result.status
            counts[key] = counts.get(key, 0) + 1
        return ("image fuzz: %d runs over %d images in %.0f s (%s)"
                % (len(self.cases), len(self.images), self.seconds,
                   ", ".join("%s: %d" % kv for kv in sorted(counts.items()))))


@pytest.fixture(scope="module")
def fuzz_run(tmpdir_factory):
    run = FuzzRun(str(tmpdir_factory.mktemp("fuzz")))
    import warnings
    warnings.warn(run.summary())
    return run


@pytest.mark.parametrize("image,kind", FUZZ_TESTS,
                         ids=["%s-%s" % (i.replace(".image", ""), k) for i, k in FUZZ_TESTS])
def test_fuzz(image, kind, fuzz_run):
    """No case of this image and corruption kind crashes the VM (3, signal, traceback)."""
    if image not in fuzz_run.images:
        pytest.skip("test image %s not found" % image)
    cases = [c for c in fuzz_run.cases if c.image == image and c.kind == kind]
    if not cases:
        pytest.skip("no fuzz case of %s, %s among COGXEN_FUZZ_COUNT=%d"
                    % (image, kind, FUZZ_COUNT))
    crashed = [c for c in cases if c.problems]
    assert not crashed, "%d of %d runs crashed:\n\n%s" % (
        len(crashed), len(cases), "\n\n".join(c.report() for c in crashed[:5]))


def test_fuzz_timeouts_are_rare(fuzz_run):
    """A corrupt image may loop forever; but most must end, each one is reported."""
    timed_out = [c for c in fuzz_run.cases if c.result.timed_out]
    if timed_out:
        import warnings
        warnings.warn("%d image fuzz runs timed out after %d s: %s" % (
            len(timed_out), FUZZ_TIMEOUT,
            "; ".join("case %d (%s, %s, %s)" % (c.index, c.image, c.kind, c.mode)
                      for c in timed_out)))
    allowed = max(2, int(len(fuzz_run.cases) * FUZZ_MAX_TIMEOUT_SHARE))
    assert len(timed_out) <= allowed, "%d timeouts (at most %d allowed):\n\n%s" % (
        len(timed_out), allowed, "\n\n".join(c.report() for c in timed_out[:5]))


def test_fuzz_is_not_trivial(fuzz_run):
    """The corruptions reach the interpreter: many loaded images still run (status 0/1)."""
    if len(fuzz_run.cases) < 100:
        pytest.skip("only %d fuzz cases" % len(fuzz_run.cases))
    ran = [c for c in fuzz_run.cases if c.result.status in (0, 1)]
    refused = [c for c in fuzz_run.cases if c.result.status == 2]
    assert len(ran) > len(fuzz_run.cases) // 5, fuzz_run.summary()
    assert len(refused) > len(fuzz_run.cases) // 10, fuzz_run.summary()


# Fuzz cases that crashed the VM once, rerun every time (with `--eval '3 + 4'`):
# (COGXEN_FUZZ_SEED, case, what it found).
FUZZ_REGRESSIONS = [
    (102, 2147, "a byte run over a method dictionary put an object that is not a method "
                "where run:with:in: is looked up too: the VM sent run:with:in: to it "
                "without end, until its own stack overflowed (internal error, exit 3)"),
]


@pytest.mark.parametrize("seed,index,what", FUZZ_REGRESSIONS,
                         ids=["%d-%d" % (s, i) for s, i, _ in FUZZ_REGRESSIONS])
def test_fuzz_regression(seed, index, what, tmpdir):
    name = case_image(index)
    image = FuzzImage(name, read(name))
    kind, mode, c = fuzz_corruption(image, index, seed)
    path = str(tmpdir.join("regression.image"))
    with open(path, "wb") as f:
        f.write(c.data)
    result = run_vm(["--eval", "3 + 4", path], timeout=FUZZ_TIMEOUT)
    problems = fuzz_problems(result)
    if result.timed_out:
        problems.append("timed out")
    assert not problems, "%s\n(once: %s)\ncorruption: %s\n%s" % (
        "; ".join(problems), what, c.describe(), result.describe())


@pytest.mark.parametrize("name", FUZZ_IMAGE_NAMES)
def test_fuzz_walks_objects(name):
    """The fuzzer's object walk covers each image exactly (else corruptions miss targets)."""
    image = FuzzImage(name, read(name))
    assert len(image.objects) > 1000
    assert image.objects[0][0] == u32(image.data, 4)


def test_fuzz_is_reproducible():
    images = {}
    unchanged = 0
    for index in list(range(2 * len(SCHEDULE))) + \
            list(range(FUZZ_64_BASE, FUZZ_64_BASE + 2 * len(SCHEDULE_64))):
        name = case_image(index)
        if name not in images:
            images[name] = FuzzImage(name, read(name))
        ka, ma, a = fuzz_corruption(images[name], index)
        kb, mb, b = fuzz_corruption(images[name], index)
        assert (ka, ma) == (kb, mb)
        assert a.describe() == b.describe() and a.data == b.data
        if a.data == bytearray(images[name].data):
            unchanged += 1      # e.g. 0xff bytes written over 0xff bytes
    assert unchanged <= 2


def write_case(seed, index, out):
    """Write fuzz case `index` of seed `seed` to `out`; print how to run it."""
    name = case_image(index)
    with open(os.path.join(images_dir(), name), "rb") as f:
        image = FuzzImage(name, f.read())
    kind, mode, c = fuzz_corruption(image, index, seed)
    with open(out, "wb") as f:
        f.write(c.data)
    print("case %d of seed %d: %s, %s\n%s" % (index, seed, name, kind, c.describe()))
    argv = FuzzCase(index, name, kind, mode, c, out).argv(translated=True)
    print("run: build/cogxen %s" % " ".join(quote(a) for a in argv))


if __name__ == "__main__":
    import sys
    if len(sys.argv) != 5 or sys.argv[1] != "write":
        sys.exit("usage: %s write SEED INDEX OUT.image" % sys.argv[0])
    write_case(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
