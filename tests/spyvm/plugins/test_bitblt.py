"""BitBltPlugin primitiveCopyBits (and 96): Forms built here, results compared with a
plain model: each Form a grid of pixel values, each rule a function on them."""

import random

import pytest

from spyvm import constants
from spyvm.model import W_SmallInteger, W_Float, W_BytesObject
from spyvm.plugins import bitblt   # noqa: registers the plugin

BITBLT = "BitBltPlugin"


def i(n):
    return W_SmallInteger(n)


# --- the model ----------------------------------------------------------------------

class Grid(object):
    def __init__(self, width, height, depth, pixels=None, msb=True):
        self.width, self.height, self.depth, self.msb = width, height, depth, msb
        self.pixels = pixels or [[0] * width for _ in range(height)]

    def words(self):
        """The Form's bits, laid out independently of the VM's code."""
        per_word = 32 // self.depth
        pitch = (self.width + per_word - 1) // per_word
        out = []
        for row in self.pixels:
            for w in range(pitch):
                word = 0
                for k in range(per_word):
                    x = w * per_word + k
                    p = row[x] if x < self.width else 0
                    pos = (per_word - 1 - k) if self.msb else k
                    word |= p << (pos * self.depth)
                out.append(word)
        return out


BOOLEAN_RULES = {
    0: lambda s, d: 0, 1: lambda s, d: s & d, 2: lambda s, d: s & ~d, 3: lambda s, d: s,
    4: lambda s, d: ~s & d, 5: lambda s, d: d, 6: lambda s, d: s ^ d, 7: lambda s, d: s | d,
    8: lambda s, d: ~s & ~d, 9: lambda s, d: ~s ^ d, 10: lambda s, d: ~d,
    11: lambda s, d: s | ~d, 12: lambda s, d: ~s, 13: lambda s, d: ~s | d,
    14: lambda s, d: ~s | ~d, 15: lambda s, d: -1,
    25: lambda s, d: d if s == 0 else s,
}


def reference(dest, source, rule, dx, dy, w, h, sx, sy, clip, halftone=None):
    """The expected destination grid: every pixel of the clipped rectangle, one by one."""
    out = [row[:] for row in dest.pixels]
    mask = (1 << dest.depth) - 1
    cx, cy, cw, ch = clip
    cx2, cy2 = min(cx + cw, dest.width), min(cy + ch, dest.height)
    cx, cy = max(cx, 0), max(cy, 0)
    ignores = rule in (0, 5, 10, 15)
    for j in range(h):
        for k in range(w):
            x, y = dx + k, dy + j
            if not (cx <= x < cx2 and cy <= y < cy2):
                continue
            ht = mask
            if halftone is not None and not ignores:
                word = halftone[y % len(halftone)]
                per_word = 32 // dest.depth
                pos = (per_word - 1 - x % per_word) if dest.msb else x % per_word
                ht = (word >> (pos * dest.depth)) & mask
            if source is not None and not ignores:
                px, py = sx + k, sy + j
                if not (0 <= px < source.width and 0 <= py < source.height):
                    continue
                s = source.pixels[py][px] & ht
            else:
                s = ht
            out[y][x] = BOOLEAN_RULES[rule](s, dest.pixels[y][x]) & mask
    return out


# --- building the objects -----------------------------------------------------------

def make_form(env, grid, as_bytes=False):
    words = grid.words()
    if as_bytes:
        data = "".join(chr(wd >> s & 255) for wd in words for s in (0, 8, 16, 24))
        w_bits = env.bytearray(data)
    else:
        w_bits = env.words(*words)
    depth = grid.depth if grid.msb else -grid.depth
    return env.obj(env.cls("Form", 5, constants.FMT_FIXED), w_bits, i(grid.width),
                   i(grid.height), i(depth), env.nil)


def read_form(w_form, grid):
    w_bits = w_form.slots[0]
    if isinstance(w_bits, W_BytesObject):
        b = [ord(c) for c in w_bits.bytes]
        words = [b[n] | b[n + 1] << 8 | b[n + 2] << 16 | b[n + 3] << 24
                 for n in range(0, len(b), 4)]
    else:
        words = [int(wd) for wd in w_bits.words]
    per_word = 32 // grid.depth
    pitch = (grid.width + per_word - 1) // per_word
    mask = (1 << grid.depth) - 1
    out = []
    for y in range(grid.height):
        row = []
        for x in range(grid.width):
            word = words[y * pitch + x // per_word]
            k = x % per_word
            pos = (per_word - 1 - k) if grid.msb else k
            row.append((word >> (pos * grid.depth)) & mask)
        out.append(row)
    return out


def make_bitblt(env, w_dest, w_source, w_halftone, rule, dx, dy, w, h, sx, sy, clip,
                w_map=None):
    cx, cy, cw, ch = clip
    return env.obj(env.cls("BitBlt", 15, constants.FMT_FIXED), w_dest, w_source,
                   w_halftone, i(rule), i(dx), i(dy), i(w), i(h), i(sx), i(sy),
                   i(cx), i(cy), i(cw), i(ch), w_map or env.nil)


def random_grid(rng, width, height, depth, msb=True):
    return Grid(width, height, depth,
                [[rng.randrange(1 << depth) for _ in range(width)] for _ in range(height)],
                msb)


# --- the cases ----------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1, 2, 4, 8, 16, 32])
@pytest.mark.parametrize("msb", [True, False])
def test_every_rule_matches_the_model(env, depth, msb):
    rng = random.Random(depth * 2 + msb)
    for rule in sorted(BOOLEAN_RULES):
        dest = random_grid(rng, 13, 5, depth, msb)
        source = random_grid(rng, 11, 6, depth, msb)
        args = (rng.randrange(-3, 10), rng.randrange(-2, 4), rng.randrange(0, 14),
                rng.randrange(0, 6), rng.randrange(-2, 8), rng.randrange(-2, 4))
        clip = (rng.randrange(-2, 5), rng.randrange(-1, 3), rng.randrange(3, 16),
                rng.randrange(1, 7))
        dx, dy, w, h, sx, sy = args
        w_dest = make_form(env, dest)
        w_blt = make_bitblt(env, w_dest, make_form(env, source), env.nil, rule,
                            dx, dy, w, h, sx, sy, clip)
        assert env.call_named(BITBLT, "primitiveCopyBits", w_blt) is w_blt
        assert read_form(w_dest, dest) == \
            reference(dest, source, rule, dx, dy, w, h, sx, sy, clip), (rule, args, clip)


@pytest.mark.parametrize("depth", [1, 8, 32])
def test_halftone_fill_and_halftone_with_source(env, depth):
    rng = random.Random(depth)
    halftone = [rng.randrange(1 << 32) for _ in range(3)]
    for rule, with_source in [(3, False), (7, False), (6, False), (3, True), (25, True)]:
        dest = random_grid(rng, 9, 7, depth)
        source = random_grid(rng, 9, 7, depth) if with_source else None
        clip = (1, 1, 7, 5)
        w_dest = make_form(env, dest)
        w_halftone = env.obj(env.cls("Form", 5, constants.FMT_FIXED), env.words(*halftone),
                             i(1), i(3), i(depth), env.nil)
        w_source = make_form(env, source) if with_source else env.nil
        w_blt = make_bitblt(env, w_dest, w_source, w_halftone, rule, 0, 0, 9, 7, 0, 0, clip)
        env.call(96, w_blt)
        assert read_form(w_dest, dest) == \
            reference(dest, source, rule, 0, 0, 9, 7, 0, 0, clip, halftone), rule


def test_overlapping_copy_within_one_form(env):
    grid = Grid(8, 1, 8, [[1, 2, 3, 4, 5, 6, 7, 8]])
    w_form = make_form(env, grid)
    w_blt = make_bitblt(env, w_form, w_form, env.nil, 3, 2, 0, 6, 1, 0, 0, (0, 0, 8, 1))
    env.call(96, w_blt)
    assert read_form(w_form, grid) == [[1, 2, 1, 2, 3, 4, 5, 6]]


def test_byte_array_bits_are_native_words(env):
    """Smalltalk calcEndianness: a word stored into a ByteArray's Form reads back
    little-endian on this (little-endian) host."""
    w_bytes = env.bytearray("\0\0\0\0")
    w_dest = env.obj(env.cls("Form", 5, constants.FMT_FIXED), w_bytes, i(4), i(1), i(8),
                     env.nil)
    w_source = env.obj(env.cls("Form", 5, constants.FMT_FIXED), env.words(0x01020304),
                       i(4), i(1), i(8), env.nil)
    w_blt = make_bitblt(env, w_dest, w_source, env.nil, 3, 0, 0, 4, 1, 0, 0, (0, 0, 4, 1))
    env.call_named(BITBLT, "primitiveCopyBits", w_blt)
    assert w_bytes.as_string() == "\x04\x03\x02\x01"


def test_color_map_from_a_smaller_depth(env):
    source = Grid(4, 2, 1, [[0, 1, 1, 0], [1, 0, 0, 1]])
    dest = Grid(4, 2, 32)
    w_dest = make_form(env, dest)
    w_map = env.words(0xff000000, 0xffffffff)
    w_blt = make_bitblt(env, w_dest, make_form(env, source), env.nil, 3, 0, 0, 4, 2, 0, 0,
                        (0, 0, 4, 2), w_map)
    env.call(96, w_blt)
    m = {0: 0xff000000, 1: 0xffffffff}
    assert read_form(w_dest, dest) == [[m[p] for p in row] for row in source.pixels]


def test_defaults_for_nil_and_floats_for_coordinates(env):
    dest = Grid(5, 2, 8)
    w_dest = make_form(env, dest)
    w_blt = make_bitblt(env, w_dest, env.nil, env.words(0x07070707), 3, 0, 0, 0, 0, 0, 0,
                        (0, 0, 0, 0))
    for index in (4, 5, 6, 7, 10, 11, 12, 13):
        w_blt.slots[index] = env.nil
    w_blt.slots[4] = W_Float(env.space.w_Float, 1.7)      # destX 1.7 -> 1
    env.call(96, w_blt)
    assert read_form(w_dest, dest) == [[0, 7, 7, 7, 7], [0, 7, 7, 7, 7]]


@pytest.mark.parametrize("change", ["rule 30", "rule 40", "depths differ", "bits too short",
                                    "depth 3", "dest nil", "rule nil", "colormap object",
                                    "too few slots"])
def test_what_is_not_done_fails(env, change):
    dest = Grid(4, 2, 8)
    w_dest = make_form(env, dest)
    w_source = make_form(env, Grid(4, 2, 8))
    w_blt = make_bitblt(env, w_dest, w_source, env.nil, 3, 0, 0, 4, 2, 0, 0, (0, 0, 4, 2))
    if change.startswith("rule "):
        w_blt.slots[3] = env.nil if change == "rule nil" else i(int(change[5:]))
    elif change == "depths differ":
        w_blt.slots[1] = make_form(env, Grid(4, 2, 16))
    elif change == "bits too short":
        w_dest.slots[0] = env.words(0)
    elif change == "depth 3":
        w_dest.slots[3] = i(3)
    elif change == "dest nil":
        w_blt.slots[0] = env.nil
    elif change == "colormap object":
        w_blt.slots[14] = env.array(env.nil)
    else:
        w_blt = env.obj(env.cls("BitBlt", 3, constants.FMT_FIXED), w_dest, w_source, i(3))
    env.named_fails(BITBLT, "primitiveCopyBits", w_blt)
    env.fails(96, w_blt)


@pytest.mark.parametrize("depth", [8, 32])
def test_overlapping_copy_down_and_right(env, depth):
    rng = random.Random(5)
    grid = random_grid(rng, 6, 5, depth)
    expected = reference(grid, grid, 3, 1, 1, 5, 4, 0, 0, (0, 0, 6, 5))
    w_form = make_form(env, grid)
    w_blt = make_bitblt(env, w_form, w_form, env.nil, 3, 1, 1, 5, 4, 0, 0, (0, 0, 6, 5))
    env.call(96, w_blt)
    assert read_form(w_form, grid) == expected
