"""The Spur object memory format (image format 6521: Spur 32-bit).

Layout of a Spur image file:

* An image header (`header_size` bytes, normally 64). Field widths follow the
  word size: version and header size are always 32-bit; in a 32-bit image every
  later field is one 32-bit word (data size, old base address, special objects
  oop, last hash, saved window size, flags, extra VM memory, stack pages / cog
  code size, eden bytes, max external semaphores, first segment size).
* One or more heap segments. Objects are 8-byte aligned. Each starts with a
  64-bit header: class index (bits 0-21), immutable (23), format (24-28),
  identity hash (32-53), slot count (56-63). A slot count of 255 means the real
  count is in an overflow header, the 64-bit word just before the main header
  (its top byte is 255 too). Oops point at the main header. The body is the slots
  (word_size bytes each) rounded up to 8 bytes; an object with 0 slots still has
  an 8-byte body (16 bytes in all).
* Each segment ends with a 16-byte bridge: a 64-bit word whose slot count, when
  its top byte is set, is the gap (in slots) to the next segment in memory, then
  a 64-bit word holding the size in bytes of the next segment in the file (0 after
  the last segment). Gaps are not in the file, so oops in later segments are
  shifted by the spans of the bridges before them.

Class indices below 32 are puns the VM uses internally: 0 free chunks, 8
forwarders, 16 hidden arrays (the class table), 18/19 hidden word arrays. The first
objects are nil, false, true, the free lists and the hidden roots; the first 4096
slots of the hidden roots are the class table pages (nil when unused), each a
hidden array of 1024 class oops: class index i is entry i & 1023 of page i >> 10.
A class's identity hash is a class index the table holds it under; a class may be
held under more than one (headless.image registers each metaclass twice, and its
sole instance's header uses the other index), so objects get their class from the
table, never by comparing hashes.

Both word sizes are read: 6521 (Spur 32-bit) and 68021 (Spur 64-bit). What
depends on the word size goes through `word_size`: the header fields after the
header size (32-bit fields in a 32-bit image, 64-bit ones in a 64-bit image, whose
header is 128 bytes), slots, the slot count in an overflow header (32 bits in a
32-bit image, 56 in a 64-bit one), the units of bridge spans, the unused-element
counts of the byte, short and word formats (a 64-bit slot holds two words, four
shorts, eight bytes) and the immediates: 2 tag bits in 32-bit images (1 or 3
SmallInteger, 31 bits; 2 Character), 3 in 64-bit ones (1 SmallInteger, 61 bits;
2 Character; 4 SmallFloat64, a W_SmallFloat of the class at class index 4, see
spyvm.smallfloat). A 64-bit image's space has 61-bit SmallIntegers.
"""

from rpython.rlib.rarithmetic import r_uint, intmask
from rpython.rlib import longlong2float

from spyvm import constants, model, smallfloat
from spyvm.objspace import ObjSpace
from spyvm.image.format import ImageError, ImageReader, LoadedImage, OopTable

# Class index puns (SpurMemoryManager).
FREE_CLASS_INDEX = 0
FORWARDED_CLASS_INDEX = 8
ARRAY_CLASS_INDEX_PUN = 16
FIRST_REAL_CLASS_INDEX = 32
FULL_BLOCK_CLOSURE_CLASS_INDEX = 38  # ClassFullBlockClosureCompactIndex

# Spur formats (5 bits).
SPUR_ZERO_SIZED = 0
SPUR_FIXED = 1
SPUR_VARIABLE = 2
SPUR_FIXED_VARIABLE = 3
SPUR_WEAK = 4
SPUR_EPHEMERON = 5
SPUR_FORWARDED = 7
SPUR_LONGS = 9          # 64-bit indexable
SPUR_WORDS = 10         # 10, 11: 32-bit indexable
SPUR_SHORTS = 12        # 12-15: 16-bit indexable
SPUR_BYTES = 16         # 16-23: 8-bit indexable
SPUR_METHOD = 24        # 24-31: CompiledMethod

OVERFLOW_SLOTS = 255
BRIDGE_BYTES = 16
CLASS_TABLE_PAGES = 4096            # 22-bit class index, 1024 entries a page
CLASS_TABLE_PAGE_SIZE = 1024
HIDDEN_ROOTS_INDEX = 4              # nil, false, true, free lists, hidden roots
SMALLFLOAT_CLASS_INDEX = 4          # SmallFloat64's entry in a 64-bit class table
MAX_FORWARDING = 64                 # a longer forwarding chain is a corrupt image


class SpurChunk(object):
    """One non-free object as laid out in the file, before it becomes a W_Object."""

    def __init__(self, oop, body_pos, num_slots, fmt, class_index, hash):
        self.oop = oop
        self.body_pos = body_pos      # file offset of the first slot
        self.num_slots = num_slots
        self.format = fmt
        self.class_index = class_index
        self.hash = hash
        self.w_object = None

    def is_real(self):
        """A Smalltalk object, as opposed to a free chunk, forwarder or hidden object."""
        return self.class_index >= FIRST_REAL_CLASS_INDEX


class SpurHeader(object):

    def __init__(self, loader):
        reader = loader.reader
        ws = loader.word_size
        length = len(reader.data)
        self.version = reader.word32(0)
        self.header_size = reader.word32(4)
        self.data_size = loader.read_word(8)
        self.old_base = loader.read_word(8 + ws)
        self.special_objects_oop = loader.read_word(8 + 2 * ws)
        self.last_hash = loader.read_word(8 + 3 * ws)
        self.saved_window_size = loader.read_word(8 + 4 * ws)
        self.flags = loader.read_word(8 + 5 * ws)
        # Then 32-bit fields: extra VM memory, stack pages | cog code size,
        # eden bytes, max external semaphore table size | unused.
        self.first_segment_size = loader.read_word(8 + 6 * ws + 16)
        if self.header_size < 64 or self.header_size > length or self.header_size % 8 != 0:
            raise ImageError("corrupt image header: header size %d for a file of %d bytes"
                             % (self.header_size, length))
        if self.data_size <= 0 or self.data_size > length - self.header_size:
            raise ImageError("image truncated: header says %d bytes of objects, file has %d"
                             % (self.data_size, length - self.header_size))
        if self.first_segment_size < BRIDGE_BYTES or \
                self.first_segment_size > self.data_size or \
                self.first_segment_size % 8 != 0:
            raise ImageError("corrupt image header: first segment of %d bytes in %d bytes "
                             "of objects" % (self.first_segment_size, self.data_size))
        if self.old_base < 0 or self.old_base % 8 != 0:
            raise ImageError("corrupt image header: bad base address %d" % self.old_base)


class SpurLoader(object):

    def __init__(self, data, version, little_endian):
        if version == constants.FORMAT_SPUR_32:
            self.word_size = 4
        elif version == constants.FORMAT_SPUR_64:
            self.word_size = 8
        else:
            raise ImageError("unsupported Spur image format %d" % version)
        self.reader = ImageReader(data, little_endian)
        self.version = version
        self.little_endian = little_endian
        self.header = SpurHeader(self)
        self.chunks = []        # every non-free chunk, in file order
        self.oops = []          # their oops (ascending), for self.table
        self.table = None
        self.hidden_roots = None
        self.nil_oop = -1
        self.float_chunk = None
        self.context_chunk = None
        self.w_small_float_class = None
        self.parse_segments()
        self.space = ObjSpace(self.word_size, True, version)
        self.class_chunks = {}  # class index -> chunk of the class (a cache)

    # --- raw access ------------------------------------------------------------

    def read_word(self, pos):
        """One word of the image's word size, in the image's byte order."""
        if self.word_size == 4:
            return self.reader.word32(pos)
        return self.reader.word64(pos)

    def read_halves(self, pos):
        """A 64-bit header word as (low 32 bits, high 32 bits)."""
        first = self.reader.word32(pos)
        second = self.reader.word32(pos + 4)
        if self.little_endian:
            return first, second
        return second, first

    def slot_word(self, chunk, index):
        return self.read_word(chunk.body_pos + self.word_size * index)

    # --- walking the heap ------------------------------------------------------

    def parse_segments(self):
        h = self.header
        pos = h.header_size
        data_end = h.header_size + h.data_size
        seg_end = h.header_size + h.first_segment_size
        swizzle = h.old_base - h.header_size    # oop = file offset + swizzle
        while True:
            self.parse_segment(pos, seg_end - BRIDGE_BYTES, swizzle)
            bridge_pos = seg_end - BRIDGE_BYTES
            lo, hi = self.read_halves(bridge_pos)
            span = 0
            if (hi >> 24) & 0xff != 0:
                span = self.overflow_count(lo, hi)
            next_lo, next_hi = self.read_halves(bridge_pos + 8)
            if next_hi != 0:
                raise ImageError("corrupt segment bridge at offset %d" % bridge_pos)
            next_size = next_lo
            if next_size == 0:
                break
            if next_size < BRIDGE_BYTES or next_size % 8 != 0 or \
                    next_size > data_end - seg_end:
                raise ImageError("corrupt segment bridge at offset %d: next segment of "
                                 "%d bytes" % (bridge_pos, next_size))
            pos = seg_end
            seg_end += next_size
            swizzle += span * self.word_size
        if len(self.chunks) <= HIDDEN_ROOTS_INDEX:
            raise ImageError("corrupt image: only %d objects" % len(self.chunks))
        self.table = OopTable(self.oops, h.old_base, self.oops[-1] - h.old_base + 8)

    def overflow_count(self, lo, hi):
        """The slot count in an overflow header word (its top byte is 255)."""
        if self.word_size == 4:
            return lo
        return lo | ((hi & 0xffffff) << 32)     # 64-bit: 56-bit count

    def parse_segment(self, pos, end, swizzle):
        """Read the objects in [pos, end) (end is where the segment's bridge starts)."""
        ws = self.word_size
        while pos < end:
            lo, hi = self.read_halves(pos)
            num_slots = (hi >> 24) & 0xff
            if num_slots == OVERFLOW_SLOTS:
                num_slots = self.overflow_count(lo, hi)
                pos += 8
                if pos >= end:
                    raise ImageError("corrupt object header at offset %d" % (pos - 8))
                lo, hi = self.read_halves(pos)
                if (hi >> 24) & 0xff != OVERFLOW_SLOTS:
                    raise ImageError("corrupt object header at offset %d: overflow "
                                     "header without overflow slot count" % pos)
            body_pos = pos + 8
            if num_slots > (end - body_pos) // ws:
                raise ImageError("image truncated: object at offset %d runs past the end "
                                 "of its segment" % pos)
            body_bytes = num_slots * ws
            if body_bytes < 8:
                body_bytes = 8
            body_bytes = (body_bytes + 7) & ~7
            next_pos = body_pos + body_bytes
            if next_pos > end:
                raise ImageError("image truncated: object at offset %d runs past the end "
                                 "of its segment" % pos)
            class_index = lo & 0x3fffff
            if class_index != FREE_CLASS_INDEX:
                fmt = (lo >> 24) & 0x1f
                hash = hi & 0x3fffff
                chunk = SpurChunk(pos + swizzle, body_pos, num_slots, fmt, class_index, hash)
                self.chunks.append(chunk)
                self.oops.append(chunk.oop)
            pos = next_pos

    # --- finding objects -------------------------------------------------------

    def chunk_or_none(self, oop):
        i = self.table.find(oop)
        if i < 0:
            return None
        return self.chunks[i]

    def chunk_at(self, oop):
        """The chunk an oop leads to, following forwarders (any kind of chunk)."""
        chunk = self.chunk_or_none(oop)
        count = 0
        while chunk is not None and chunk.class_index == FORWARDED_CLASS_INDEX:
            count += 1
            if count > MAX_FORWARDING or chunk.num_slots < 1:
                raise ImageError("corrupt image: bad forwarder at oop %d" % chunk.oop)
            chunk = self.chunk_or_none(self.slot_word(chunk, 0))
        if chunk is None:
            raise ImageError("corrupt image: pointer %d leads to no object" % oop)
        return chunk

    def real_chunk_at(self, oop):
        chunk = self.chunk_at(oop)
        if not chunk.is_real():
            raise ImageError("corrupt image: pointer %d leads to a hidden object" % oop)
        return chunk

    def class_chunk(self, class_index):
        chunk = self.class_chunks.get(class_index, None)
        if chunk is not None:
            return chunk
        page_index = class_index >> 10
        roots = self.hidden_roots
        if page_index >= CLASS_TABLE_PAGES:
            raise ImageError("corrupt image: class index %d out of range" % class_index)
        page_oop = self.slot_word(roots, page_index)
        if page_oop == self.nil_oop:
            raise ImageError("corrupt image: class index %d is not in the class table"
                             % class_index)
        page = self.chunk_at(page_oop)
        if page.class_index != ARRAY_CLASS_INDEX_PUN or \
                page.num_slots != CLASS_TABLE_PAGE_SIZE:
            raise ImageError("corrupt image: bad class table page %d" % page_index)
        class_oop = self.slot_word(page, class_index & (CLASS_TABLE_PAGE_SIZE - 1))
        if class_oop == self.nil_oop:
            raise ImageError("corrupt image: class index %d is not in the class table"
                             % class_index)
        chunk = self.real_chunk_at(class_oop)
        self.class_chunks[class_index] = chunk
        return chunk

    def special_chunk(self, specials, index):
        word = self.slot_word(specials, index)
        if word & 7 != 0:        # objects are 8-byte aligned
            raise ImageError("corrupt image: special object %d is not an object" % index)
        return self.real_chunk_at(word)

    # --- loading ---------------------------------------------------------------

    def load(self):
        h = self.header
        roots = self.chunks[HIDDEN_ROOTS_INDEX]
        if roots.class_index != ARRAY_CLASS_INDEX_PUN or \
                roots.num_slots < CLASS_TABLE_PAGES:
            raise ImageError("corrupt image: no class table where the hidden roots should be")
        self.hidden_roots = roots
        specials = self.real_chunk_at(h.special_objects_oop)
        if specials.format != SPUR_VARIABLE or \
                specials.num_slots <= constants.SO_CHARACTER_CLASS:
            raise ImageError("corrupt image: bad special objects array")
        nil_chunk = self.special_chunk(specials, constants.SO_NIL)
        self.nil_oop = nil_chunk.oop
        self.float_chunk = self.special_chunk(specials, constants.SO_FLOAT_CLASS)
        self.context_chunk = self.special_chunk(specials, constants.SO_METHODCONTEXT_CLASS)
        if nil_chunk.format > SPUR_EPHEMERON:
            raise ImageError("corrupt image: nil is not a pointers object")
        # nil first: context shells fill their slots with it.
        w_nil = model.W_PointersObject(None, nil_chunk.num_slots, None, nil_chunk.hash)
        self.space.w_nil = w_nil
        nil_chunk.w_object = w_nil
        for chunk in self.chunks:
            if chunk.is_real() and chunk.w_object is None:
                chunk.w_object = self.make_shell(chunk)
        for chunk in self.chunks:
            if chunk.is_real():
                self.fill(chunk)
        w_specials = specials.w_object
        if not isinstance(w_specials, model.W_PointersObject):
            raise ImageError("corrupt image: bad special objects array")
        self.space.install_special_objects(w_specials)
        space = self.space
        if space.w_FullBlockClosure is space.w_nil:
            self.find_full_block_closure_class()
        if self.word_size == 8:
            # Floats the VM makes are immediate where they can be (wrap_float).
            try:
                space.w_SmallFloat64 = self.small_float_class()
            except ImageError:
                space.w_SmallFloat64 = None
        if not isinstance(space.w_nil, model.W_PointersObject) or \
                not isinstance(space.w_true, model.W_PointersObject) or \
                not isinstance(space.w_false, model.W_PointersObject) or \
                space.w_true is space.w_false or space.w_nil is space.w_true or \
                space.w_nil is space.w_false:
            raise ImageError("corrupt image: bad special objects")
        # Contexts last: their pc depends on their method being filled.
        for chunk in self.chunks:
            w_obj = chunk.w_object
            if isinstance(w_obj, model.W_Context):
                self.fill_context(chunk, w_obj)
        objects_w = [chunk.w_object for chunk in self.chunks if chunk.is_real()]
        return LoadedImage(space, self.version, self.little_endian, h.header_size,
                           w_specials, h.last_hash, h.saved_window_size, h.flags, objects_w,
                           h.old_base)

    def find_full_block_closure_class(self):
        """SistaV1 images may leave special object 37 nil: the VM then knows
        FullBlockClosure by its fixed class-table index (as the class's hash)."""
        try:
            chunk = self.class_chunk(FULL_BLOCK_CLOSURE_CLASS_INDEX)
        except ImageError:
            return
        if isinstance(chunk.w_object, model.W_PointersObject):
            self.space.w_FullBlockClosure = chunk.w_object

    def make_shell(self, chunk):
        space = self.space
        fmt = chunk.format
        n = chunk.num_slots
        ws = self.word_size
        class_chunk = self.class_chunk(chunk.class_index)
        if fmt <= SPUR_EPHEMERON:
            if class_chunk is self.context_chunk and fmt == SPUR_FIXED_VARIABLE and \
                    n >= constants.CTX_FIXED_SIZE:
                # Spur has one Context class for method and block activations.
                return model.W_Context(space, None, False, n - constants.CTX_FIXED_SIZE,
                                       chunk.hash)
            w_obj = model.W_PointersObject(None, n, None, chunk.hash)
            w_obj.weak = fmt == SPUR_WEAK
            return w_obj
        if fmt == SPUR_WORDS or fmt == SPUR_WORDS + 1:
            if class_chunk is self.float_chunk and n * ws == 8:
                return model.W_Float(None, 0.0, chunk.hash)
            nwords = n * ws // 4 - (fmt & 1)
            if nwords < 0:
                raise ImageError("corrupt image: bad word object size at oop %d" % chunk.oop)
            return model.W_WordsObject(None, nwords, chunk.hash)
        if fmt == SPUR_LONGS or SPUR_SHORTS <= fmt < SPUR_BYTES:
            # 64- and 16-bit indexable objects keep their raw bytes (in the image's
            # byte order) until they get their own types.
            if fmt == SPUR_LONGS:
                nbytes = n * ws
            else:
                nbytes = n * ws - 2 * (fmt & 3)
            if nbytes < 0:
                raise ImageError("corrupt image: bad object size at oop %d" % chunk.oop)
            return model.W_BytesObject(None, nbytes, chunk.hash)
        if SPUR_BYTES <= fmt < SPUR_METHOD:
            nbytes = n * ws - (fmt & 7)
            if nbytes < 0:
                raise ImageError("corrupt image: bad byte object size at oop %d" % chunk.oop)
            return model.W_BytesObject(None, nbytes, chunk.hash)
        if fmt >= SPUR_METHOD:
            return model.W_CompiledMethod(None, ws, True, chunk.hash)
        raise ImageError("corrupt image: object format %d at oop %d" % (fmt, chunk.oop))

    def decode_oop(self, word):
        if self.word_size == 4:
            if word & 1:
                return model.W_SmallInteger(_signed31(word))
            if word & 3 == 2:
                return model.W_Character((word >> 2) & 0x3fffffff)
        else:
            tag = word & 7
            if tag == 1:
                return model.W_SmallInteger(word >> 3)
            if tag == 2:
                return model.W_Character(intmask(r_uint(word) >> 3))
            if tag == smallfloat.TAG:
                return model.W_SmallFloat(self.small_float_class(),
                                          smallfloat.float_of_oop(word))
            if tag != 0:
                raise ImageError("corrupt image: immediate with unknown tag %d" % tag)
        return self.real_chunk_at(word).w_object

    def small_float_class(self):
        w_class = self.w_small_float_class
        if w_class is None:
            w_class = self.class_chunk(SMALLFLOAT_CLASS_INDEX).w_object
            assert w_class is not None      # every real chunk has its shell by now
            self.w_small_float_class = w_class
        return w_class

    def fill(self, chunk):
        w_obj = chunk.w_object
        assert isinstance(w_obj, model.W_HeapObject)
        w_obj.w_class = self.class_chunk(chunk.class_index).w_object
        if isinstance(w_obj, model.W_Context):
            return
        if isinstance(w_obj, model.W_PointersObject):
            for i in range(len(w_obj.slots)):
                w_obj.slots[i] = self.decode_oop(self.slot_word(chunk, i))
        elif isinstance(w_obj, model.W_Float):
            # Spur keeps floats in platform order: the least significant word first
            # in a little-endian image.
            first = r_uint(self.reader.word32(chunk.body_pos))
            second = r_uint(self.reader.word32(chunk.body_pos + 4))
            if self.little_endian:
                lo, hi = first, second
            else:
                hi, lo = first, second
            w_obj.value = longlong2float.longlong2float(intmask((hi << 32) | lo))
        elif isinstance(w_obj, model.W_WordsObject):
            for i in range(len(w_obj.words)):
                w_obj.words[i] = r_uint(self.reader.word32(chunk.body_pos + 4 * i))
        elif isinstance(w_obj, model.W_BytesObject):
            data = self.reader.data
            start = chunk.body_pos
            for i in range(len(w_obj.bytes)):
                w_obj.bytes[i] = data[start + i]
        elif isinstance(w_obj, model.W_CompiledMethod):
            self.fill_method(chunk, w_obj)

    def fill_method(self, chunk, w_method):
        ws = self.word_size
        if chunk.num_slots < 1:
            raise ImageError("corrupt image: compiled method without header at oop %d"
                             % chunk.oop)
        w_header = self.decode_oop(self.slot_word(chunk, 0))
        if not isinstance(w_header, model.W_SmallInteger):
            raise ImageError("corrupt image: compiled method without header at oop %d"
                             % chunk.oop)
        header = w_header.value
        nlits = w_method.header_num_literals(header)
        nbytes = chunk.num_slots * ws - (chunk.format & 7) - (nlits + 1) * ws
        if nbytes < 0:
            raise ImageError("corrupt image: compiled method literals exceed its size "
                             "at oop %d" % chunk.oop)
        w_method.literals = [self.decode_oop(self.slot_word(chunk, i + 1))
                             for i in range(nlits)]
        start = chunk.body_pos + (nlits + 1) * ws
        stop = start + nbytes
        assert start >= 0 and stop >= start
        # Bytes before header: the primitive number comes from the callPrimitive
        # bytecode, which set_header decodes.
        w_method.set_bytes(self.reader.data[start:stop])
        w_method.set_header(header)

    def fill_context(self, chunk, w_ctx):
        space = self.space
        slots = [self.decode_oop(self.slot_word(chunk, i)) for i in range(chunk.num_slots)]
        w_ctx.w_sender = slots[constants.CTX_SENDER]
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
    """The value of a tagged 32-bit SmallInteger word (31-bit two's complement)."""
    value = (word >> 1) & 0x7fffffff
    if value & 0x40000000:
        value -= 0x80000000
    return value


def read(data, version, little_endian):
    return SpurLoader(data, version, little_endian).load()
