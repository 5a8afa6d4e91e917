"""The V3 object memory format (image formats 6502, 6504, 6505; 32-bit words).

Each object is one to three header words followed by its body. The base header
holds the size in words (or a separate size word for large objects), the object
format, the compact class index and the identity hash; a class word precedes it
unless the class is compact. Oops are addresses relative to the base address the
image was saved at.
"""

from rpython.rlib.rarithmetic import r_uint, intmask

from spyvm import constants, model
from spyvm.objspace import ObjSpace
from spyvm.image.format import ImageError, ImageReader, LoadedImage, OopTable

HEADER_TYPE_SIZE_AND_CLASS = 0
HEADER_TYPE_CLASS = 1
HEADER_TYPE_FREE = 2
HEADER_TYPE_SHORT = 3


class ObjectHeader(object):
    """One object's header words, decoded from the file. A loader keeps one and
    decodes each object into it again when it needs it, so that loading keeps no
    record per object beyond its oop and its W_Object."""

    def __init__(self):
        self.htype = 0
        self.oop = 0
        self.body_pos = 0       # file offset of the first body word
        self.body_words = 0
        self.format = 0
        self.class_oop = 0
        self.compact_index = 0
        self.hash = 0
        self.next_pos = 0       # file offset of the next object's first header word

    def decode(self, reader, header, pos):
        """Decode the object whose first header word is at pos; False for a free
        chunk (next_pos says where the next object starts). ImageError for anything
        that is not a well-formed object inside the object memory."""
        end = header.header_size + header.data_size
        first = reader.word32(pos)
        htype = first & 3
        if htype == HEADER_TYPE_SIZE_AND_CLASS:
            size_bytes = first & ~3
            class_word = reader.word32(pos + 4)
            base_pos = pos + 8
            if class_word & 3 != HEADER_TYPE_SIZE_AND_CLASS:
                raise ImageError("corrupt object header at offset %d" % pos)
        elif htype == HEADER_TYPE_CLASS:
            class_word = first
            base_pos = pos + 4
            size_bytes = -1
        elif htype == HEADER_TYPE_SHORT:
            class_word = 0
            base_pos = pos
            size_bytes = -1
        else:
            # A free chunk: the rest of the word is its size in bytes.
            size_bytes = first & ~3
            if size_bytes <= 0:
                raise ImageError("corrupt free chunk at offset %d" % pos)
            self.next_pos = pos + size_bytes
            return False
        if base_pos + 4 > end:
            raise ImageError("image truncated: object at offset %d runs past the end" % pos)
        base = reader.word32(base_pos)
        if base & 3 != htype:
            raise ImageError("corrupt object header at offset %d" % pos)
        if size_bytes < 0:
            size_bytes = base & 0xfc
        if size_bytes < 4:
            raise ImageError("corrupt object size at offset %d" % pos)
        next_pos = base_pos + size_bytes
        if next_pos > end:
            raise ImageError("image truncated: object at offset %d runs past the end" % pos)
        compact_index = (base >> 12) & 0x1f
        if htype == HEADER_TYPE_SHORT and compact_index == 0:
            raise ImageError("corrupt object header at offset %d: no class" % pos)
        self.htype = htype
        self.oop = base_pos - header.header_size + header.old_base
        self.body_pos = base_pos + 4
        self.body_words = size_bytes / 4 - 1
        self.format = (base >> 8) & 0xf
        self.class_oop = class_word & ~3
        self.compact_index = compact_index
        self.hash = (base >> 17) & 0xfff
        self.next_pos = next_pos
        return True

    def decode_oop(self, reader, header, oop):
        """Decode the object at oop, which a walk of the memory found."""
        base_pos = oop - header.old_base + header.header_size
        htype = reader.word32(base_pos) & 3
        if htype == HEADER_TYPE_SIZE_AND_CLASS:
            self.decode(reader, header, base_pos - 8)
        elif htype == HEADER_TYPE_CLASS:
            self.decode(reader, header, base_pos - 4)
        else:
            self.decode(reader, header, base_pos)

    def header_words(self):
        if self.htype == HEADER_TYPE_SHORT:
            return 1
        if self.htype == HEADER_TYPE_CLASS:
            return 2
        return 3


class V3Header(object):

    def __init__(self, reader):
        self.version = reader.word32(0)
        self.header_size = reader.word32(4)
        self.data_size = reader.word32(8)
        self.old_base = reader.word32(12)
        self.special_objects_oop = reader.word32(16)
        self.last_hash = reader.word32(20)
        self.saved_window_size = reader.word32(24)
        self.flags = reader.word32(28)
        length = len(reader.data)
        if self.header_size < 64 or self.header_size > length:
            raise ImageError("corrupt image header: header size %d for a file of %d bytes"
                             % (self.header_size, length))
        if self.data_size <= 0:
            raise ImageError("corrupt image header: data size %d" % self.data_size)
        if self.header_size + self.data_size > length:
            raise ImageError("image truncated: header says %d bytes of objects, file has %d"
                             % (self.data_size, length - self.header_size))


def walk_objects(reader, header):
    """The oops of the objects of the memory, in file order (so ascending)."""
    oops = []
    obj = ObjectHeader()
    pos = header.header_size
    end = header.header_size + header.data_size
    while pos < end:
        if obj.decode(reader, header, pos):
            oops.append(obj.oop)
        pos = obj.next_pos
    return oops


def parse_chunks(reader, header):
    """Every object's decoded header, in file order (for tools that rewrite files)."""
    chunks = []
    pos = header.header_size
    end = header.header_size + header.data_size
    while pos < end:
        obj = ObjectHeader()
        if obj.decode(reader, header, pos):
            chunks.append(obj)
        pos = obj.next_pos
    return chunks


# Loading shares the SmallIntegers 0..SHARED_SMALL_INTS-1 (they are immutable).
SHARED_SMALL_INTS = 1024

class V3Loader(object):

    def __init__(self, data, version, little_endian):
        self.reader = ImageReader(data, little_endian)
        self.version = version
        self.little_endian = little_endian
        self.header = V3Header(self.reader)
        self.oops = walk_objects(self.reader, self.header)
        self.table = OopTable(self.oops, self.header.old_base, self.header.data_size)
        self.objects_w = [None] * len(self.oops)    # parallel to oops
        self.obj = ObjectHeader()                   # the object being decoded
        self.space = ObjSpace(4, False, version)
        self.small_ints = [model.W_SmallInteger(i) for i in range(SHARED_SMALL_INTS)]

    def index_of(self, oop):
        i = self.table.find(oop)
        if i < 0:
            raise ImageError("corrupt image: pointer %d leads to no object" % oop)
        return i

    def decode_at(self, oop):
        """Decode the object at oop into self.obj; answer its position."""
        i = self.index_of(oop)
        self.obj.decode_oop(self.reader, self.header, oop)
        return i

    def body_word(self, index):
        """Body word index of the object last decoded."""
        return self.reader.word32(self.obj.body_pos + 4 * index)

    def load(self):
        obj = self.obj
        specials_index = self.decode_at(self.header.special_objects_oop)
        if obj.format > 4 or obj.body_words <= constants.SO_COMPACT_CLASSES:
            raise ImageError("corrupt image: bad special objects array")
        nil_oop = self.body_word(constants.SO_NIL)
        self.float_oop = self.body_word(constants.SO_FLOAT_CLASS)
        self.mctx_oop = self.body_word(constants.SO_METHODCONTEXT_CLASS)
        self.bctx_oop = self.body_word(constants.SO_BLOCKCONTEXT_CLASS)
        compact_oop = self.body_word(constants.SO_COMPACT_CLASSES)
        self.decode_at(compact_oop)
        self.compact_oops = [self.body_word(i) for i in range(obj.body_words)]
        nil_index = self.decode_at(nil_oop)
        # nil first: context shells fill their slots with it.
        if obj.format > 4:
            raise ImageError("corrupt image: nil is not a pointers object")
        w_nil = model.W_PointersObject(None, obj.body_words, None, obj.hash)
        self.space.w_nil = w_nil
        objects_w = self.objects_w
        objects_w[nil_index] = w_nil
        oops = self.oops
        for i in range(len(oops)):
            if objects_w[i] is None:
                obj.decode_oop(self.reader, self.header, oops[i])
                objects_w[i] = self.make_shell()
        for i in range(len(oops)):
            obj.decode_oop(self.reader, self.header, oops[i])
            self.fill(objects_w[i])
        w_specials = objects_w[specials_index]
        if not isinstance(w_specials, model.W_PointersObject):
            raise ImageError("corrupt image: bad special objects array")
        self.space.install_special_objects(w_specials)
        if not isinstance(self.space.w_nil, model.W_PointersObject) or \
                self.space.w_true is self.space.w_false:
            raise ImageError("corrupt image: bad special objects")
        # Block contexts take method and receiver from their home: fill those last.
        for blocks in [False, True]:
            for i in range(len(oops)):
                w_obj = objects_w[i]
                if isinstance(w_obj, model.W_Context) and w_obj.is_block_context == blocks:
                    obj.decode_oop(self.reader, self.header, oops[i])
                    self.fill_context(w_obj)
        h = self.header
        return LoadedImage(self.space, self.version, self.little_endian, h.header_size,
                           w_specials, h.last_hash, h.saved_window_size, h.flags,
                           objects_w, h.old_base)

    def class_oop(self):
        obj = self.obj
        if obj.compact_index != 0:
            i = obj.compact_index - 1
            if i >= len(self.compact_oops):
                raise ImageError("corrupt image: bad compact class index %d"
                                 % obj.compact_index)
            return self.compact_oops[i]
        return obj.class_oop

    def make_shell(self):
        space = self.space
        obj = self.obj
        fmt = obj.format
        n = obj.body_words
        class_oop = self.class_oop()
        if fmt <= 4:
            if (class_oop == self.mctx_oop or class_oop == self.bctx_oop) and \
                    fmt == 3 and n >= constants.CTX_FIXED_SIZE:
                return model.W_Context(space, None, class_oop == self.bctx_oop,
                                       n - constants.CTX_FIXED_SIZE, obj.hash)
            w_obj = model.W_PointersObject(None, n, None, obj.hash)
            w_obj.weak = fmt == 4
            return w_obj
        if fmt == 6:
            if class_oop == self.float_oop and n == 2:
                return model.W_Float(None, 0.0, obj.hash)
            return model.W_WordsObject(None, n, obj.hash)
        if 8 <= fmt <= 11:
            nbytes = n * 4 - (fmt & 3)
            if nbytes < 0:
                raise ImageError("corrupt image: bad byte object size")
            return model.W_BytesObject(None, nbytes, obj.hash)
        if fmt >= 12:
            return model.W_CompiledMethod(None, 4, False, obj.hash)
        raise ImageError("corrupt image: unknown object format %d" % fmt)

    def decode_oop(self, word):
        if word & 1:
            value = _signed31(word)
            if 0 <= value < SHARED_SMALL_INTS:
                return self.small_ints[value]
            return model.W_SmallInteger(value)
        return self.objects_w[self.index_of(word)]

    def fill(self, w_obj):
        """Fill the shell of the object last decoded."""
        obj = self.obj
        assert isinstance(w_obj, model.W_HeapObject)
        w_obj.w_class = self.objects_w[self.index_of(self.class_oop())]
        if isinstance(w_obj, model.W_Context):
            return
        reader = self.reader
        if isinstance(w_obj, model.W_PointersObject):
            pos = obj.body_pos
            for i in range(obj.body_words):
                w_obj.slots[i] = self.decode_oop(reader.word32(pos + 4 * i))
        elif isinstance(w_obj, model.W_Float):
            hi = r_uint(self.body_word(0))
            lo = r_uint(self.body_word(1))
            if self.version == constants.FORMAT_V3_CLOSURES_FLOATS_NATIVE and \
                    self.little_endian:
                hi, lo = lo, hi
            from rpython.rlib import longlong2float
            w_obj.value = longlong2float.longlong2float(intmask((hi << 32) | lo))
        elif isinstance(w_obj, model.W_WordsObject):
            for i in range(obj.body_words):
                w_obj.words[i] = r_uint(self.body_word(i))
        elif isinstance(w_obj, model.W_BytesObject):
            data = reader.data
            start = obj.body_pos
            for i in range(len(w_obj.bytes)):
                w_obj.bytes[i] = data[start + i]
        elif isinstance(w_obj, model.W_CompiledMethod):
            self.fill_method(w_obj)

    def fill_method(self, w_method):
        obj = self.obj
        header_word = self.body_word(0)
        if header_word & 1 == 0:
            raise ImageError("corrupt image: compiled method without header")
        header = _signed31(header_word)
        nlits = w_method.header_num_literals(header)
        nbytes = obj.body_words * 4 - (obj.format & 3) - (nlits + 1) * 4
        if nbytes < 0:
            raise ImageError("corrupt image: compiled method literals exceed its size")
        w_method.literals = [self.decode_oop(self.body_word(i + 1))
                             for i in range(nlits)]
        start = obj.body_pos + (nlits + 1) * 4
        assert start >= 0 and nbytes >= 0
        w_method.set_bytes(self.reader.data[start:start + nbytes])
        w_method.set_header(header)

    def fill_context(self, w_ctx):
        space = self.space
        slots = [self.decode_oop(self.body_word(i)) for i in range(self.obj.body_words)]
        w_ctx.w_sender = slots[constants.CTX_SENDER]
        if w_ctx.is_block_context:
            w_ctx.block_nargs = space.unwrap_int_or(slots[constants.BCTX_NARGS], 0)
            w_ctx.block_startpc = space.unwrap_int_or(slots[constants.BCTX_STARTPC], 0)
            w_ctx.w_home = slots[constants.BCTX_HOME]
            w_home = w_ctx.w_home
            if isinstance(w_home, model.W_Context):
                w_ctx.w_method = w_home.w_method
                w_ctx.w_receiver = w_home.w_receiver
        else:
            w_ctx.w_slot_method = slots[constants.MCTX_METHOD]
            w_method = w_ctx.w_slot_method
            if isinstance(w_method, model.W_CompiledMethod):
                w_ctx.w_method = w_method
            w_ctx.w_closure = slots[constants.MCTX_CLOSURE_OR_NIL]
            w_ctx.w_receiver = slots[constants.MCTX_RECEIVER]
        w_ctx.w_pending_pc = space.w_nil
        w_ctx.set_smalltalk_pc(space, slots[constants.CTX_PC])
        for i in range(w_ctx.slot_count()):
            w_ctx.set_slot(i, slots[constants.CTX_FIXED_SIZE + i])
        sp = space.unwrap_int_or(slots[constants.CTX_STACKP], 0)
        if sp < 0:
            sp = 0
        if sp > w_ctx.slot_count():
            sp = w_ctx.slot_count()
        w_ctx.sp = sp


def _signed31(word):
    """The value of a tagged SmallInteger word (31-bit two's complement)."""
    value = (word >> 1) & 0x7fffffff
    if value & 0x40000000:
        value -= 0x80000000
    return value


def read(data, version, little_endian):
    return V3Loader(data, version, little_endian).load()


def swap_byte_order(data):
    """A copy of V3 image bytes in the other byte order.

    Header and pointer/word data are swapped word by word; byte objects and the
    bytecode part of methods are kept in memory order, as every VM saves them.
    6505 floats are in platform word order, so their two words change places too.
    """
    from spyvm.image.format import detect_format
    version, little_endian = detect_format(data)
    if version not in constants.V3_FORMATS:
        raise ImageError("byte order conversion is for V3 images only")
    reader = ImageReader(data, little_endian)
    header = V3Header(reader)
    chunks = parse_chunks(reader, header)
    out = [c for c in data]

    def swap_word(pos):
        a, b, c, d = out[pos], out[pos + 1], out[pos + 2], out[pos + 3]
        out[pos], out[pos + 1], out[pos + 2], out[pos + 3] = d, c, b, a

    for pos in range(0, header.header_size, 4):
        swap_word(pos)
    specials = None
    for chunk in chunks:
        if chunk.oop == header.special_objects_oop:
            specials = chunk
    loader_float_oop = reader.word32(specials.body_pos + 4 * constants.SO_FLOAT_CLASS) \
        if specials is not None else -1
    compact_oops = []
    if specials is not None:
        compact_oop = reader.word32(specials.body_pos + 4 * constants.SO_COMPACT_CLASSES)
        for chunk in chunks:
            if chunk.oop == compact_oop:
                compact_oops = [reader.word32(chunk.body_pos + 4 * i)
                                for i in range(chunk.body_words)]
    # Header words of every object, then the pointer or word part of its body.
    pos = header.header_size
    for chunk in chunks:
        header_start = chunk.body_pos - 4
        first = reader.word32(header_start)
        nheader = 1
        if first & 3 == HEADER_TYPE_CLASS:
            nheader = 2
        elif first & 3 == HEADER_TYPE_SIZE_AND_CLASS:
            nheader = 3
        for i in range(nheader):
            swap_word(header_start - 4 * i)
        fmt = chunk.format
        if fmt < 8:
            nwords = chunk.body_words
        elif fmt >= 12:
            hdr = reader.word32(chunk.body_pos)
            nwords = 1 + ((hdr >> 10) & 0xff)
        else:
            nwords = 0
        for i in range(nwords):
            swap_word(chunk.body_pos + 4 * i)
        if version == constants.FORMAT_V3_CLOSURES_FLOATS_NATIVE and fmt == 6 and \
                chunk.body_words == 2:
            class_oop = chunk.class_oop
            if chunk.compact_index and chunk.compact_index <= len(compact_oops):
                class_oop = compact_oops[chunk.compact_index - 1]
            if class_oop == loader_float_oop:
                p = chunk.body_pos
                out[p:p + 4], out[p + 4:p + 8] = out[p + 4:p + 8], out[p:p + 4]
    return "".join(out)
