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
from spyvm.image.format import ImageError, ImageReader, LoadedImage

HEADER_TYPE_SIZE_AND_CLASS = 0
HEADER_TYPE_CLASS = 1
HEADER_TYPE_FREE = 2
HEADER_TYPE_SHORT = 3


class Chunk(object):
    """One object as laid out in the file, before it becomes a W_Object."""

    def __init__(self, oop, body_pos, body_words, fmt, class_oop, compact_index, hash):
        self.oop = oop
        self.body_pos = body_pos      # file offset of the first body word
        self.body_words = body_words
        self.format = fmt
        self.class_oop = class_oop
        self.compact_index = compact_index
        self.hash = hash
        self.w_object = None


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


def parse_chunks(reader, header):
    """Walk the object memory; answer the chunks in file order."""
    chunks = []
    pos = header.header_size
    end = header.header_size + header.data_size
    while pos < end:
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
            pos += size_bytes
            continue
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
        fmt = (base >> 8) & 0xf
        compact_index = (base >> 12) & 0x1f
        if htype == HEADER_TYPE_SHORT and compact_index == 0:
            raise ImageError("corrupt object header at offset %d: no class" % pos)
        oop = base_pos - header.header_size + header.old_base
        hash = (base >> 17) & 0xfff
        chunks.append(Chunk(oop, base_pos + 4, size_bytes / 4 - 1, fmt,
                            class_word & ~3, compact_index, hash))
        pos = next_pos
    return chunks


class V3Loader(object):

    def __init__(self, data, version, little_endian):
        self.reader = ImageReader(data, little_endian)
        self.version = version
        self.little_endian = little_endian
        self.header = V3Header(self.reader)
        self.chunks = parse_chunks(self.reader, self.header)
        self.by_oop = {}
        for chunk in self.chunks:
            self.by_oop[chunk.oop] = chunk
        self.space = ObjSpace(4, False, version)

    def chunk_at(self, oop):
        chunk = self.by_oop.get(oop, None)
        if chunk is None:
            raise ImageError("corrupt image: pointer %d leads to no object" % oop)
        return chunk

    def body_word(self, chunk, index):
        return self.reader.word32(chunk.body_pos + 4 * index)

    def load(self):
        specials = self.chunk_at(self.header.special_objects_oop)
        if specials.format > 4 or specials.body_words <= constants.SO_COMPACT_CLASSES:
            raise ImageError("corrupt image: bad special objects array")
        nil_oop = self.body_word(specials, constants.SO_NIL)
        self.float_oop = self.body_word(specials, constants.SO_FLOAT_CLASS)
        self.mctx_oop = self.body_word(specials, constants.SO_METHODCONTEXT_CLASS)
        self.bctx_oop = self.body_word(specials, constants.SO_BLOCKCONTEXT_CLASS)
        compact = self.chunk_at(self.body_word(specials, constants.SO_COMPACT_CLASSES))
        self.compact_oops = [self.body_word(compact, i) for i in range(compact.body_words)]
        nil_chunk = self.chunk_at(nil_oop)
        # nil first: context shells fill their slots with it.
        if nil_chunk.format > 4:
            raise ImageError("corrupt image: nil is not a pointers object")
        w_nil = model.W_PointersObject(None, nil_chunk.body_words, None, nil_chunk.hash)
        self.space.w_nil = w_nil
        nil_chunk.w_object = w_nil
        for chunk in self.chunks:
            if chunk.w_object is None:
                chunk.w_object = self.make_shell(chunk)
        for chunk in self.chunks:
            self.fill(chunk)
        if not isinstance(specials.w_object, model.W_PointersObject):
            raise ImageError("corrupt image: bad special objects array")
        self.space.install_special_objects(specials.w_object)
        if not isinstance(self.space.w_nil, model.W_PointersObject) or \
                self.space.w_true is self.space.w_false:
            raise ImageError("corrupt image: bad special objects")
        # Block contexts take method and receiver from their home: fill those last.
        for chunk in self.chunks:
            w_obj = chunk.w_object
            if isinstance(w_obj, model.W_Context) and not w_obj.is_block_context:
                self.fill_context(chunk, w_obj)
        for chunk in self.chunks:
            w_obj = chunk.w_object
            if isinstance(w_obj, model.W_Context) and w_obj.is_block_context:
                self.fill_context(chunk, w_obj)
        objects_w = [chunk.w_object for chunk in self.chunks]
        h = self.header
        return LoadedImage(self.space, self.version, self.little_endian, h.header_size,
                           specials.w_object, h.last_hash, h.saved_window_size, h.flags,
                           objects_w, h.old_base)

    def class_oop_of(self, chunk):
        if chunk.compact_index != 0:
            i = chunk.compact_index - 1
            if i >= len(self.compact_oops):
                raise ImageError("corrupt image: bad compact class index %d"
                                 % chunk.compact_index)
            return self.compact_oops[i]
        return chunk.class_oop

    def make_shell(self, chunk):
        space = self.space
        fmt = chunk.format
        n = chunk.body_words
        class_oop = self.class_oop_of(chunk)
        if fmt <= 4:
            if (class_oop == self.mctx_oop or class_oop == self.bctx_oop) and \
                    fmt == 3 and n >= constants.CTX_FIXED_SIZE:
                return model.W_Context(space, None, class_oop == self.bctx_oop,
                                       n - constants.CTX_FIXED_SIZE, chunk.hash)
            w_obj = model.W_PointersObject(None, n, None, chunk.hash)
            w_obj.weak = fmt == 4
            return w_obj
        if fmt == 6:
            if class_oop == self.float_oop and n == 2:
                return model.W_Float(None, 0.0, chunk.hash)
            return model.W_WordsObject(None, n, chunk.hash)
        if 8 <= fmt <= 11:
            nbytes = n * 4 - (fmt & 3)
            if nbytes < 0:
                raise ImageError("corrupt image: bad byte object size")
            return model.W_BytesObject(None, nbytes, chunk.hash)
        if fmt >= 12:
            return model.W_CompiledMethod(None, 4, False, chunk.hash)
        raise ImageError("corrupt image: unknown object format %d" % fmt)

    def decode_oop(self, word):
        if word & 1:
            return model.W_SmallInteger(_signed31(word))
        return self.chunk_at(word).w_object

    def fill(self, chunk):
        w_obj = chunk.w_object
        assert isinstance(w_obj, model.W_HeapObject)
        w_obj.w_class = self.chunk_at(self.class_oop_of(chunk)).w_object
        if isinstance(w_obj, model.W_Context):
            return
        if isinstance(w_obj, model.W_PointersObject):
            for i in range(chunk.body_words):
                w_obj.slots[i] = self.decode_oop(self.body_word(chunk, i))
        elif isinstance(w_obj, model.W_Float):
            hi = r_uint(self.body_word(chunk, 0))
            lo = r_uint(self.body_word(chunk, 1))
            if self.version == constants.FORMAT_V3_CLOSURES_FLOATS_NATIVE and \
                    self.little_endian:
                hi, lo = lo, hi
            from rpython.rlib import longlong2float
            w_obj.value = longlong2float.longlong2float(intmask((hi << 32) | lo))
        elif isinstance(w_obj, model.W_WordsObject):
            for i in range(chunk.body_words):
                w_obj.words[i] = r_uint(self.body_word(chunk, i))
        elif isinstance(w_obj, model.W_BytesObject):
            data = self.reader.data
            start = chunk.body_pos
            for i in range(len(w_obj.bytes)):
                w_obj.bytes[i] = data[start + i]
        elif isinstance(w_obj, model.W_CompiledMethod):
            self.fill_method(chunk, w_obj)

    def fill_method(self, chunk, w_method):
        header_word = self.body_word(chunk, 0)
        if header_word & 1 == 0:
            raise ImageError("corrupt image: compiled method without header")
        header = _signed31(header_word)
        nlits = w_method.header_num_literals(header)
        nbytes = chunk.body_words * 4 - (chunk.format & 3) - (nlits + 1) * 4
        if nbytes < 0:
            raise ImageError("corrupt image: compiled method literals exceed its size")
        w_method.literals = [self.decode_oop(self.body_word(chunk, i + 1))
                             for i in range(nlits)]
        start = chunk.body_pos + (nlits + 1) * 4
        assert start >= 0 and nbytes >= 0
        w_method.set_bytes(self.reader.data[start:start + nbytes])
        w_method.set_header(header)

    def fill_context(self, chunk, w_ctx):
        space = self.space
        slots = [self.decode_oop(self.body_word(chunk, i)) for i in range(chunk.body_words)]
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
