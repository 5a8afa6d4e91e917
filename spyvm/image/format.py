"""Image header detection: which format, which byte order, and the common result type."""

from rpython.rlib.rarithmetic import r_uint, intmask

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
    """Base of the writers: words into self.out (a list of chars) in the image's
    byte order (self.little_endian), the mirror of ImageReader."""

    def check_method_header(self, w_method, new_header, family):
        """A method's header must suit the format written and agree with its literals."""
        if w_method.new_header != new_header:
            raise ImageError("cannot write a %s image: a compiled method has a %s header"
                             % (family, "Spur" if w_method.new_header else "V3"))
        header = w_method.header
        if header < -(1 << 30) or header > (1 << 30) - 1:
            raise ImageError("cannot write a %s image: a compiled method header does "
                             "not fit a SmallInteger" % family)
        if w_method.header_num_literals(header) != len(w_method.literals):
            raise ImageError("cannot write a %s image: a compiled method's header says "
                             "%d literals, it has %d"
                             % (family, w_method.header_num_literals(header),
                                len(w_method.literals)))

    def put(self, pos, value):
        out = self.out
        if self.little_endian:
            out[pos] = chr(value & 0xff)
            out[pos + 1] = chr((value >> 8) & 0xff)
            out[pos + 2] = chr((value >> 16) & 0xff)
            out[pos + 3] = chr((value >> 24) & 0xff)
        else:
            out[pos] = chr((value >> 24) & 0xff)
            out[pos + 1] = chr((value >> 16) & 0xff)
            out[pos + 2] = chr((value >> 8) & 0xff)
            out[pos + 3] = chr(value & 0xff)


def raw_word32(data, pos, little_endian):
    return ImageReader(data, little_endian).word32(pos)


KNOWN_FORMATS = [constants.FORMAT_V3_NO_CLOSURES, constants.FORMAT_V3_CLOSURES,
                 constants.FORMAT_V3_CLOSURES_FLOATS_NATIVE, constants.FORMAT_SPUR_32]

# Formats that exist in the wild but this VM does not load (yet): named in the error.
OTHER_FORMATS = [6503, 6506, 6507, 68000, 68002, 68003, 6523, 68019, 68021]


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
        # A 64-bit image keeps its version in a 64-bit word; the low half is read here.
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
        elif self.version == constants.FORMAT_V3_NO_CLOSURES:
            family = "V3 32-bit, no closures"
        else:
            family = "V3 32-bit, closures"
        return "%d (%s)" % (self.version, family)
