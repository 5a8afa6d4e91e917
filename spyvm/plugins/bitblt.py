"""BitBltPlugin: primitiveCopyBits (also numbered 96), pixel by pixel.

BitBlt combines a rectangle of a source Form (or only a halftone pattern) into a
destination Form under one of its combination rules, clipped to the clip
rectangle and to both Forms. Forms keep their pixels in rows of whole 32-bit
words (a Bitmap, or a ByteArray read as native little-endian words, as
`Form new hackBits:` does); a positive depth puts the first pixel of a word in
its high bits, a negative depth (little-endian Forms) in its low bits.

Done here: rules 0-15 (the boolean functions of source and destination) and 25
(paint: source pixels of 0 leave the destination), for depths 1, 2, 4, 8, 16 and 32
in both pixel orders, with a halftone word per destination row; a source of
another depth only through a colour map Bitmap indexed by source pixels of at
most 8 bits. Anything else (other rules, depth conversion without a map, colour
maps with shifts and masks, Forms on external surfaces, warpBits, drawLoop)
fails the primitive, so that the image's own fallback code runs.

The rectangle is read whole before it is written, so overlapping copies within
one Form behave as BitBlt's direction choice makes them.
"""

from rpython.rlib.rarithmetic import r_uint, intmask

from spyvm.errors import PrimitiveFailed
from spyvm.model import (W_BytesObject, W_Float, W_PointersObject, W_SmallInteger,
                         W_WordsObject)
from spyvm.primitives import expose_named, expose_raw

BITBLT = "BitBltPlugin"

# BitBlt's instance variables, in order.
BB_DEST_FORM = 0
BB_SOURCE_FORM = 1
BB_HALFTONE_FORM = 2
BB_RULE = 3
BB_DEST_X = 4
BB_DEST_Y = 5
BB_WIDTH = 6
BB_HEIGHT = 7
BB_SOURCE_X = 8
BB_SOURCE_Y = 9
BB_CLIP_X = 10
BB_CLIP_Y = 11
BB_CLIP_WIDTH = 12
BB_CLIP_HEIGHT = 13
BB_COLOR_MAP = 14
BB_MIN_SIZE = 15

# A Form's first instance variables.
FORM_BITS = 0
FORM_WIDTH = 1
FORM_HEIGHT = 2
FORM_DEPTH = 3

ALL_ONES = r_uint(0xffffffff)

RULE_PAINT = 25


class Form(object):
    """A Form's bits seen as rows of 32-bit words, and pixel access to them."""

    def __init__(self, w_bits, width, height, depth, msb):
        self.w_bits = w_bits
        self.width = width
        self.height = height
        self.depth = depth
        self.msb = msb
        self.pixels_per_word = 32 // depth
        self.pitch = (width * depth + 31) // 32
        self.mask = ALL_ONES if depth == 32 else (r_uint(1) << depth) - 1

    def word_at(self, index):
        w_bits = self.w_bits
        if isinstance(w_bits, W_WordsObject):
            return w_bits.getword(index)
        assert isinstance(w_bits, W_BytesObject)
        i = index * 4
        return (r_uint(w_bits.getbyte(i)) | (r_uint(w_bits.getbyte(i + 1)) << 8) |
                (r_uint(w_bits.getbyte(i + 2)) << 16) | (r_uint(w_bits.getbyte(i + 3)) << 24))

    def word_at_put(self, index, word):
        w_bits = self.w_bits
        if isinstance(w_bits, W_WordsObject):
            w_bits.setword(index, word)
            return
        assert isinstance(w_bits, W_BytesObject)
        i = index * 4
        w_bits.setbyte(i, intmask(word & 0xff))
        w_bits.setbyte(i + 1, intmask((word >> 8) & 0xff))
        w_bits.setbyte(i + 2, intmask((word >> 16) & 0xff))
        w_bits.setbyte(i + 3, intmask((word >> 24) & 0xff))

    def shift_of(self, x):
        """Bit position of pixel x's lowest bit within its word."""
        k = x % self.pixels_per_word
        if self.msb:
            return 32 - self.depth * (k + 1)
        return self.depth * k

    def pixel_at(self, x, y):
        word = self.word_at(y * self.pitch + x // self.pixels_per_word)
        return (word >> self.shift_of(x)) & self.mask

    def pixel_at_put(self, x, y, pixel):
        index = y * self.pitch + x // self.pixels_per_word
        shift = self.shift_of(x)
        word = self.word_at(index)
        word = (word & ~(self.mask << shift)) | ((pixel & self.mask) << shift)
        self.word_at_put(index, word)


def load_form(space, w_form):
    """The Form w_form as a Form, or PrimitiveFailed when it is not one BitBlt can use."""
    if not isinstance(w_form, W_PointersObject) or w_form.size() < 4:
        raise PrimitiveFailed
    w_bits = w_form.fetch(space, FORM_BITS)
    width = small_int(w_form.fetch(space, FORM_WIDTH))
    height = small_int(w_form.fetch(space, FORM_HEIGHT))
    depth = small_int(w_form.fetch(space, FORM_DEPTH))
    msb = depth > 0
    if depth < 0:
        depth = -depth
    if depth not in (1, 2, 4, 8, 16, 32) or width < 0 or height < 0:
        raise PrimitiveFailed
    if isinstance(w_bits, W_WordsObject):
        words = w_bits.size()
    elif isinstance(w_bits, W_BytesObject):
        words = w_bits.size() // 4
    else:
        raise PrimitiveFailed        # an external surface (a handle) or no bits
    form = Form(w_bits, width, height, depth, msb)
    if form.pitch * height > words:
        raise PrimitiveFailed
    return form


def small_int(w_value):
    if not isinstance(w_value, W_SmallInteger):
        raise PrimitiveFailed
    return w_value.value


def int_or_float(space, w_value, default):
    """A coordinate: an integer, a Float (truncated, as the C VM does) or nil (default)."""
    if w_value is space.w_nil:
        return default
    if isinstance(w_value, W_SmallInteger):
        return w_value.value
    if isinstance(w_value, W_Float):
        value = w_value.value
        if not (-2.0e9 <= value <= 2.0e9):
            raise PrimitiveFailed
        return int(value)
    raise PrimitiveFailed


def merge(rule, src, dst):
    """Rules 0-15: the sixteen boolean functions of two words."""
    if rule == 0:
        return r_uint(0)
    if rule == 1:
        return src & dst
    if rule == 2:
        return src & ~dst
    if rule == 3:
        return src
    if rule == 4:
        return ~src & dst
    if rule == 5:
        return dst
    if rule == 6:
        return src ^ dst
    if rule == 7:
        return src | dst
    if rule == 8:
        return ~src & ~dst
    if rule == 9:
        return ~src ^ dst
    if rule == 10:
        return ~dst
    if rule == 11:
        return src | ~dst
    if rule == 12:
        return ~src
    if rule == 13:
        return ~src | dst
    if rule == 14:
        return ~src | ~dst
    return ALL_ONES


class CopyBits(object):
    """One copyBits: the BitBlt's state loaded, checked and clipped."""

    def __init__(self, space, w_bitblt):
        if not isinstance(w_bitblt, W_PointersObject) or w_bitblt.size() < BB_MIN_SIZE:
            raise PrimitiveFailed
        self.space = space
        f = w_bitblt.fetch
        self.rule = small_int(f(space, BB_RULE))
        rule = self.rule
        if not (0 <= rule <= 15 or rule == RULE_PAINT):
            raise PrimitiveFailed
        self.dest = load_form(space, f(space, BB_DEST_FORM))
        dest = self.dest
        # Rules that ignore the source ignore the halftone too (VMMaker's
        # ignoreSourceOrHalftone:).
        ignores = rule == 0 or rule == 5 or rule == 10 or rule == 15
        w_source = f(space, BB_SOURCE_FORM)
        self.source = None
        if not ignores and w_source is not space.w_nil:
            self.source = load_form(space, w_source)
        self.halftone = None
        w_halftone = f(space, BB_HALFTONE_FORM)
        if not ignores and w_halftone is not space.w_nil:
            if isinstance(w_halftone, W_PointersObject):
                if w_halftone.size() < 4:
                    raise PrimitiveFailed
                w_halftone = w_halftone.fetch(space, FORM_BITS)
            if not isinstance(w_halftone, W_WordsObject) or w_halftone.size() == 0:
                raise PrimitiveFailed
            self.halftone = w_halftone
        self.dest_x = int_or_float(space, f(space, BB_DEST_X), 0)
        self.dest_y = int_or_float(space, f(space, BB_DEST_Y), 0)
        self.width = int_or_float(space, f(space, BB_WIDTH), dest.width)
        self.height = int_or_float(space, f(space, BB_HEIGHT), dest.height)
        self.source_x = int_or_float(space, f(space, BB_SOURCE_X), 0)
        self.source_y = int_or_float(space, f(space, BB_SOURCE_Y), 0)
        clip_x = int_or_float(space, f(space, BB_CLIP_X), 0)
        clip_y = int_or_float(space, f(space, BB_CLIP_Y), 0)
        clip_w = int_or_float(space, f(space, BB_CLIP_WIDTH), dest.width)
        clip_h = int_or_float(space, f(space, BB_CLIP_HEIGHT), dest.height)
        # The clip rectangle, within the destination Form.
        if clip_x < 0:
            clip_w += clip_x
            clip_x = 0
        if clip_y < 0:
            clip_h += clip_y
            clip_y = 0
        if clip_x + clip_w > dest.width:
            clip_w = dest.width - clip_x
        if clip_y + clip_h > dest.height:
            clip_h = dest.height - clip_y
        self.clip_x = clip_x
        self.clip_y = clip_y
        self.clip_w = clip_w
        self.clip_h = clip_h
        self.color_map = None
        w_map = f(space, BB_COLOR_MAP)
        if w_map is not space.w_nil:
            if not isinstance(w_map, W_WordsObject) or self.source is None:
                raise PrimitiveFailed    # a ColorMap object (shifts and masks)
            if self.source.depth > 8 or w_map.size() < (1 << self.source.depth):
                raise PrimitiveFailed
            self.color_map = w_map
        if self.source is not None and self.color_map is None and \
                self.source.depth != dest.depth:
            raise PrimitiveFailed

    def clip(self):
        """The affected rectangle (dx, dy, sx, sy, w, h), as BitBlt's clipRange."""
        if self.dest_x >= self.clip_x:
            sx = self.source_x
            dx = self.dest_x
            w = self.width
        else:
            sx = self.source_x + (self.clip_x - self.dest_x)
            w = self.width - (self.clip_x - self.dest_x)
            dx = self.clip_x
        if dx + w > self.clip_x + self.clip_w:
            w -= (dx + w) - (self.clip_x + self.clip_w)
        if self.dest_y >= self.clip_y:
            sy = self.source_y
            dy = self.dest_y
            h = self.height
        else:
            sy = self.source_y + (self.clip_y - self.dest_y)
            h = self.height - (self.clip_y - self.dest_y)
            dy = self.clip_y
        if dy + h > self.clip_y + self.clip_h:
            h -= (dy + h) - (self.clip_y + self.clip_h)
        source = self.source
        if source is not None:
            if sx < 0:
                dx -= sx
                w += sx
                sx = 0
            if sx + w > source.width:
                w -= (sx + w) - source.width
            if sy < 0:
                dy -= sy
                h += sy
                sy = 0
            if sy + h > source.height:
                h -= (sy + h) - source.height
        return dx, dy, sx, sy, w, h

    def source_pixel(self, x, y):
        """Source pixel at (x, y), converted to the destination's depth."""
        source = self.source
        assert source is not None
        pixel = source.pixel_at(x, y)
        if self.color_map is not None:
            return self.color_map.getword(intmask(pixel)) & self.dest.mask
        return pixel

    def run(self):
        dx, dy, sx, sy, w, h = self.clip()
        if w <= 0 or h <= 0:
            return
        dest = self.dest
        if dest.depth == 32 and isinstance(dest.w_bits, W_WordsObject) and \
                self.color_map is None and \
                (self.source is None or isinstance(self.source.w_bits, W_WordsObject)):
            self.run_words(dx, dy, sx, sy, w, h)
            return
        # Read first: source and destination may be the same Form.
        pixels = None
        if self.source is not None:
            pixels = [r_uint(0)] * (w * h)
            for j in range(h):
                for i in range(w):
                    pixels[j * w + i] = self.source_pixel(sx + i, sy + j)
        rule = self.rule
        mask = dest.mask
        for j in range(h):
            y = dy + j
            halftone_word = ALL_ONES
            if self.halftone is not None:
                halftone_word = self.halftone.getword(y % self.halftone.size())
            for i in range(w):
                x = dx + i
                # A pixel's share of the halftone word, as a whole-word BitBlt sees it.
                ht = (halftone_word >> dest.shift_of(x)) & mask
                if pixels is None:
                    src = ht
                else:
                    src = pixels[j * w + i] & ht
                dst = dest.pixel_at(x, y)
                if rule <= 15:
                    result = merge(rule, src, dst)
                else:
                    result = dst if src == 0 else src      # paint
                dest.pixel_at_put(x, y, result & mask)


    def run_words(self, dx, dy, sx, sy, w, h):
        """run() for 32-bit Bitmaps (the Display), where a pixel is a word."""
        dest = self.dest
        w_dest_bits = dest.w_bits
        assert isinstance(w_dest_bits, W_WordsObject)
        dest_words = w_dest_bits.words
        source_words = None
        source_pitch = 0
        if self.source is not None:
            w_source_bits = self.source.w_bits
            assert isinstance(w_source_bits, W_WordsObject)
            source_words = w_source_bits.words
            source_pitch = self.source.pitch
            if self.source.w_bits is dest.w_bits:
                # Within one Form: read the rectangle before writing it.
                copied = [r_uint(0)] * (w * h)
                for j in range(h):
                    for i in range(w):
                        copied[j * w + i] = source_words[(sy + j) * source_pitch + sx + i]
                source_words = copied
                source_pitch = w
                sx = 0
                sy = 0
        rule = self.rule
        for j in range(h):
            halftone_word = ALL_ONES
            if self.halftone is not None:
                halftone_word = self.halftone.getword((dy + j) % self.halftone.size())
            row = (dy + j) * dest.pitch + dx
            source_row = (sy + j) * source_pitch + sx
            for i in range(w):
                if source_words is None:
                    src = halftone_word
                else:
                    src = source_words[source_row + i] & halftone_word
                dst = dest_words[row + i]
                if rule <= 15:
                    result = merge(rule, src, dst)
                else:
                    result = dst if src == 0 else src      # paint
                dest_words[row + i] = result & ALL_ONES


def copy_bits(interp, ctx, argcount, w_method):
    # copyBits (no argument) or copyBitsTranslucent: (an alpha for rules 30 and 31,
    # which are not done here: it is checked and otherwise unused).
    if argcount > 1:
        raise PrimitiveFailed
    if argcount == 1 and not isinstance(ctx.peek(0), W_SmallInteger):
        raise PrimitiveFailed
    w_bitblt = ctx.peek(argcount)
    CopyBits(interp.space, w_bitblt).run()
    ctx.pop_n(argcount)
    return ctx


@expose_named(BITBLT, "primitiveCopyBits")
def prim_copy_bits_named(interp, ctx, argcount, w_method):
    return copy_bits(interp, ctx, argcount, w_method)


@expose_raw(96)
def prim_copy_bits(interp, ctx, argcount, w_method):
    return copy_bits(interp, ctx, argcount, w_method)


@expose_named(BITBLT, "primitivePixelValueAt")
def prim_pixel_value_at(interp, ctx, argcount, w_method):
    """Form>>primPixelValueAtX:y:: the raw pixel, 0 outside the Form."""
    if argcount != 2:
        raise PrimitiveFailed
    x = small_int(ctx.peek(1))
    y = small_int(ctx.peek(0))
    form = load_form(interp.space, ctx.peek(2))
    pixel = r_uint(0)
    if 0 <= x < form.width and 0 <= y < form.height:
        pixel = form.pixel_at(x, y)
    ctx.pop_n(2)
    ctx.settop(interp.space.wrap_uint(pixel))
    return ctx
