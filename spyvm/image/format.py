"""Image header detection: which format, which byte order, and the common result type."""

from rpython.rlib.rarithmetic import r_uint, intmask
from rpython.rlib.rstring import StringBuilder

from spyvm import constants


class ImageError(Exception):
    """The file is not an image this VM can load; `message` says why, in one line."""

    def __init__(self, message):
        self.message = message

    def __str__(self):
        return self.message


class ImageReader(object):
    """Word access to the raw image bytes in the image's own byte order, bounds-checked."""

    def __init__(self, data, little_endian):
        self.data = data
        self.little_endian = little_endian

    def word32(self, pos):
        data = self.data
        if pos < 0 or pos + 4 > len(data):
            raise ImageError("image truncated: needs a word at offset %d of %d bytes"
                             % (pos, len(data)))
        b0 = ord(data[pos])
        b1 = ord(data[pos + 1])
        b2 = ord(data[pos + 2])
        b3 = ord(data[pos + 3])
        if self.little_endian:
            return b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
        return b3 | (b2 << 8) | (b1 << 16) | (b0 << 24)

    def word64(self, pos):
        lo = r_uint(self.word32(pos))
        hi = r_uint(self.word32(pos + 4))
        if not self.little_endian:
            lo, hi = hi, lo
        return intmask(lo | (hi << 32))


class ImageWriter(object):
    """Base of the writers: the image's bytes, front to back, into self.out (a
    StringBuilder of the file's size), words in the image's byte order
    (self.little_endian): the mirror of ImageReader."""

    def check_method_header(self, w_method, new_header, family, minint, maxint):
        """A method's header must suit the format written and agree with its literals;
        it must be a SmallInteger of the format written (minint..maxint)."""
        if w_method.new_header != new_header:
            raise ImageError("cannot write a %s image: a compiled method has a %s header"
                             % (family, "Spur" if w_method.new_header else "V3"))
        header = w_method.header
        if header < minint or header > maxint:
            raise ImageError("cannot write a %s image: a compiled method header does "
                             "not fit a SmallInteger" % family)
        if w_method.header_num_literals(header) != len(w_method.literals):
            raise ImageError("cannot write a %s image: a compiled method's header says "
                             "%d literals, it has %d"
                             % (family, w_method.header_num_literals(header),
                                len(w_method.literals)))

    # --- output: the file is produced front to back, in one buffer of its exact size

    def start_output(self, total):
        self.out = StringBuilder(total)
        self.out_size = total

    def word(self, value):
        """A 32-bit word in the image's byte order."""
        out = self.out
        if self.little_endian:
            out.append(chr(value & 0xff))
            out.append(chr((value >> 8) & 0xff))
            out.append(chr((value >> 16) & 0xff))
            out.append(chr((value >> 24) & 0xff))
        else:
            out.append(chr((value >> 24) & 0xff))
            out.append(chr((value >> 16) & 0xff))
            out.append(chr((value >> 8) & 0xff))
            out.append(chr(value & 0xff))

    def half(self, value):
        """A 16-bit half-word in the image's byte order."""
        out = self.out
        if self.little_endian:
            out.append(chr(value & 0xff))
            out.append(chr((value >> 8) & 0xff))
        else:
            out.append(chr((value >> 8) & 0xff))
            out.append(chr(value & 0xff))

    def word64(self, low, high):
        """A 64-bit word given as its 32-bit halves, in the image's byte order."""
        if self.little_endian:
            self.word(low)
            self.word(high)
        else:
            self.word(high)
            self.word(low)

    def chars(self, chars):
        """Bytes kept in memory order (byte objects, bytecodes)."""
        out = self.out
        for c in chars:
            out.append(c)

    def string(self, s):
        """A string's bytes (bytecodes)."""
        self.out.append(s)

    def zeros(self, n):
        if n > 0:
            self.out.append_multiple_char("\x00", n)

    def position(self):
        return self.out.getlength()

    def finish_output(self):
        out = self.out
        if out.getlength() != self.out_size:
            raise ImageError("internal error: wrote %d bytes of an image of %d"
                             % (out.getlength(), self.out_size))
        self.out = None
        return out.build()


# Oops are found through a table of the first object at or after each block of
# BLOCK_BYTES of the memory, then a short scan: a few bytes per object instead of a
# dictionary entry.
BLOCK_SHIFT = 6


class OopTable(object):
    """oop -> position in file order, for the ascending oops of a walk of the
    memory: the readers' index of the objects they load."""

    def __init__(self, oops, old_base, data_size):
        self.oops = oops
        self.old_base = old_base
        self.data_size = data_size
        nblocks = (data_size >> BLOCK_SHIFT) + 1
        first = [0] * nblocks
        i = 0
        n = len(oops)
        for block in range(nblocks):
            start = old_base + (block << BLOCK_SHIFT)
            while i < n and oops[i] < start:
                i += 1
            first[block] = i
        self.first = first

    def find(self, oop):
        """The position of the object at oop, or -1."""
        rel = oop - self.old_base
        if rel < 0 or rel >= self.data_size or rel & 3:
            return -1
        oops = self.oops
        n = len(oops)
        i = self.first[rel >> BLOCK_SHIFT]
        while i < n and oops[i] < oop:
            i += 1
        if i < n and oops[i] == oop:
            return i
        return -1


def raw_word32(data, pos, little_endian):
    return ImageReader(data, little_endian).word32(pos)


KNOWN_FORMATS = [constants.FORMAT_V3_NO_CLOSURES, constants.FORMAT_V3_CLOSURES,
                 constants.FORMAT_V3_CLOSURES_FLOATS_NATIVE, constants.FORMAT_SPUR_32,
                 constants.FORMAT_SPUR_64]

# Formats that exist in the wild but this VM does not load (yet): named in the error.
OTHER_FORMATS = [6503, 6506, 6507, 68000, 68002, 68003, 6523, 68019]


def detect_format(data):
    """Answer (version, little_endian) or raise ImageError."""
    if len(data) < 64:
        raise ImageError("not an image: %d bytes is shorter than any image header"
                         % len(data))
    for little in [True, False]:
        version = raw_word32(data, 0, little)
        if version in KNOWN_FORMATS:
            return version, little
    for little in [True, False]:
        version = raw_word32(data, 0, little)
        if version in OTHER_FORMATS:
            raise ImageError("unsupported image format %d" % version)
    raise ImageError("unknown image format (version word %d / %d)"
                     % (raw_word32(data, 0, True), raw_word32(data, 0, False)))


class LoadedImage(object):
    """What a reader produces: the space with its objects, plus the header facts."""

    def __init__(self, space, version, little_endian, header_size, w_special_objects,
                 last_hash, saved_window_size, flags, objects_w, old_base):
        self.space = space
        self.version = version
        self.little_endian = little_endian
        self.header_size = header_size
        self.w_special_objects = w_special_objects
        self.last_hash = last_hash
        self.saved_window_size = saved_window_size
        self.flags = flags
        self.objects_w = objects_w      # every object read, in file order
        self.old_base = old_base        # where the objects were when saved (writers reuse it)

    def format_name(self):
        if self.version == constants.FORMAT_SPUR_32:
            family = "Spur 32-bit"
        elif self.version == constants.FORMAT_SPUR_64:
            family = "Spur 64-bit"
        elif self.version == constants.FORMAT_V3_NO_CLOSURES:
            family = "V3 32-bit, no closures"
        else:
            family = "V3 32-bit, closures"
        return "%d (%s)" % (self.version, family)
