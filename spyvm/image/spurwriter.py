"""Writing Spur images, 32-bit (format 6521) and 64-bit (68021): the layout
spyvm.image.spur reads. A space is written with the word size it was read with.

What is written (32-bit; the 64-bit differences follow):

* A 64-byte header: version, header size, data size, old base address (by default
  the one the image was read at), the oop of the special objects array, last hash,
  saved window size, flags (bit 1, "floats are little-endian", follows the byte
  order written, since floats go out in platform order), extra VM memory 0, desired
  stack pages (a 16-bit field: DEFAULT_STACK_PAGES, headless.image's value, since
  LoadedImage does not keep the original), cog code size 0, eden bytes 0, max
  external semaphores 0, first segment size (= data size); the rest 0.
* One segment: the objects, then the terminating bridge (a pinned, marked 0-slot
  header with class index 3 and format 10, as headless.image ends, and a 0 "next
  segment size" word).

The objects, in order:

1. nil, false, true (the C VM finds them by position);
2. the free lists: a hidden word array (class index pun 18, format 10) of 32
   zero words: nothing is free in a freshly written heap;
3. the hidden roots: a hidden array (pun 16, format 2) of 4096 class table page
   slots (a page's oop, or nil for pages not in use) and 8 more slots, nil except
   the remembered set's (4096 + 3, as in headless.image);
4. the class table pages in use, in page order: hidden arrays of 1024 class oops
   (nil where no class is registered);
5. the remembered set: a pinned hidden word array of 2048 zero words (all objects
   are old when an image is loaded, so it is empty);
6. every other object: those of objects_w when given (in their order, skipping
   duplicates and nil/false/true), then everything reachable from the special
   objects array or from them that they do not already include, breadth-first.
   objects_w is thus an ordering hint that may add unreachable objects, never a
   limit: a Spur image needs its hidden objects anyway, and a class or slot value
   missing from a caller's list would otherwise make the image unloadable.

Class indices. An object's header names its class by class index, which in Spur is
the class's identity hash; the table maps it back. As in headless.image, SmallInteger
is entered at 1 and 3 (both odd tags are SmallIntegers in 32-bit Spur), Character
at 2 (their hashes are set to 1 and 2) and Array at the pun 16 too. Then the classes
of the objects written (those in the special objects array first), followed by every
other object written that is a class or metaclass (an instance of a metaclass, found
through SmallInteger's) and has a hash (the C VM takes a nonzero class hash to mean
"in the table"), are entered at their identity hash when it is free and not a pun.
Only then do the others (hash 0, below 32, or taken by another class) get the first
free index from 1024 on, and their identity hash is set to it: a new class never
takes the index of a class that has it, and classes the C VM knows by index
(Float at 34, Array at 51, ...) keep theirs. Further entries of the file the space
was read from (headless.image registers each metaclass, and a few classes, a second
time) are not kept: the reader does not expose the table.

Identity hashes of other objects are written as the objects hold them (22 bits):
writing assigns none, and 0 means "not assigned yet" to every reader, as in V3.

Formats. Pointers objects take their class's Spur format (bits 16-20 of its format
SmallInteger) when it is a pointers format, 4 when the object is weak; contexts 3;
W_Float 10 (two words, low word first in a little-endian image: platform order);
words 10; bytes 16 plus the unused bytes of the last word, or 9 / 12 plus unused
shorts when the class says 64- or 16-bit indexable (the reader keeps those as raw
bytes); compiled methods 24 plus unused bytes (header, literals, bytecodes).
Immediates: SmallInteger (v << 1) | 1 for 31-bit values, Character (v << 2) | 2.

Spur 64-bit: a 128-byte header whose fields after the header size are 64-bit
words up to the flags (the 32- and 16-bit ones in the middle stay as they are, the
first segment size is a 64-bit word); 64-bit slots; free lists of 64 slots (pun
19, format 9, pinned, as Pharo's images have them); a bridge of format 9; overflow
counts of 56 bits; immediates with 3 tag bits: SmallInteger (v << 3) | 1 for 61-bit
values, Character (v << 3) | 2, and W_SmallFloat as SmallFloat64 (spyvm.smallfloat),
whose class SmallFloat64 is entered at class index 4; W_Float is a boxed float of one
slot; word, short and byte objects count their unused elements in a 64-bit slot.

Anything that has no such form (an unset slot, a SmallInteger out of range, a
method whose header disagrees with its literals, an instance of an immediate class)
raises ImageError naming it.
"""

from rpython.rlib.rarithmetic import intmask, r_uint
from rpython.rlib import longlong2float

from spyvm import constants, model, smallfloat
from spyvm.image.format import ImageError, ImageWriter
from spyvm.image.spur import (
    ARRAY_CLASS_INDEX_PUN, FIRST_REAL_CLASS_INDEX, CLASS_TABLE_PAGES,
    CLASS_TABLE_PAGE_SIZE, OVERFLOW_SLOTS, BRIDGE_BYTES, SPUR_ZERO_SIZED,
    SPUR_VARIABLE, SPUR_FIXED_VARIABLE, SPUR_WEAK, SPUR_EPHEMERON, SPUR_LONGS,
    SPUR_WORDS, SPUR_SHORTS, SPUR_BYTES, SPUR_METHOD)

HEADER_SIZE = 64
HEADER_SIZE_64 = 128

# The base address used when neither the caller nor the image read gives one
# (headless.image's).
DEFAULT_OLD_BASE = 0x03204000
# The header's desired number of stack pages (headless.image's).
DEFAULT_STACK_PAGES = 8

WORD_CLASS_INDEX_PUN = 18       # hidden 32-bit word arrays (free lists, remembered set)
LONG_CLASS_INDEX_PUN = 19       # hidden 64-bit word arrays (64-bit free lists)
HIDDEN_ROOT_SLOTS = 8           # after the class table pages
REMEMBERED_SET_ROOT = CLASS_TABLE_PAGES + 3
REMEMBERED_SET_SLOTS = 2048

SMALLINTEGER_INDEX = 1
CHARACTER_INDEX = 2
SMALLINTEGER_ODD_INDEX = 3
SMALLFLOAT_INDEX = 4            # 64-bit only
FIRST_FREE_CLASS_INDEX = 1024   # the first page is for puns and the C VM's known classes
MAX_CLASS_INDEX = CLASS_TABLE_PAGES * CLASS_TABLE_PAGE_SIZE - 1
HASH_MASK = 0x3fffff

PINNED_BIT = 1 << 30            # in the low half of a header
MARKED_BIT = 1 << 23            # in the high half
BRIDGE_CLASS_INDEX = 3
BRIDGE_HIGH = MARKED_BIT
OVERFLOW_HIGH = OVERFLOW_SLOTS << 24

CHARACTER_MAX = 0x3fffffff
WORD_LIMIT = 1 << 32
ADDRESS_LIMIT_64 = 1 << 48      # far beyond any heap; keeps oops positive


def image_bytes(space, loaded, objects_w=None, old_base=-1):
    """The bytes of a Spur image of the space, in loaded's format and byte order.

    objects_w, when given, orders the objects (see the module docstring). old_base
    is the address oops are relative to; -1 means the one the image was read at
    (loaded.old_base), or DEFAULT_OLD_BASE when that is no usable Spur base.
    Raises ImageError when the space holds something the image cannot represent.
    Classes that had no usable class index get one: their identity hash changes
    to it.
    """
    writer = SpurWriter(space, loaded, old_base)
    try:
        writer.collect(objects_w)
        writer.assign_class_indices()
        writer.layout()
        return writer.write()
    finally:
        for w_obj in writer.objects_w:
            assert isinstance(w_obj, model.W_HeapObject)
            w_obj.save_oop = 0


def _good_base(old_base, limit):
    return 0 < old_base < limit and old_base % 8 == 0


def _describe(w_obj):
    if w_obj is None:
        return "an unset slot"
    return w_obj.as_string()


class SpurWriter(ImageWriter):

    def __init__(self, space, loaded, old_base):
        if loaded.version == constants.FORMAT_SPUR_32:
            ws = 4
            self.header_size = HEADER_SIZE
            self.address_limit = WORD_LIMIT
            self.free_lists_slots = 32          # one list head per word bit
            self.free_lists_pun = WORD_CLASS_INDEX_PUN
            self.free_lists_format = SPUR_WORDS
            self.free_lists_bits = 0
            self.bridge_format = SPUR_WORDS
        elif loaded.version == constants.FORMAT_SPUR_64:
            ws = 8
            self.header_size = HEADER_SIZE_64
            self.address_limit = ADDRESS_LIMIT_64
            self.free_lists_slots = 64
            self.free_lists_pun = LONG_CLASS_INDEX_PUN
            self.free_lists_format = SPUR_LONGS
            self.free_lists_bits = PINNED_BIT
            self.bridge_format = SPUR_LONGS
        else:
            raise ImageError("cannot write image format %d as Spur" % loaded.version)
        if not space.is_spur or space.word_size != ws:
            raise ImageError("cannot write this object space as a Spur %d-bit image "
                             "(it was not read from one)" % (ws * 8))
        self.word_size = ws
        self.version = loaded.version
        if old_base == -1:
            old_base = loaded.old_base
            if not _good_base(old_base, self.address_limit):
                old_base = DEFAULT_OLD_BASE
        if not _good_base(old_base, self.address_limit):
            raise ImageError("bad base address for a Spur image: %d" % old_base)
        self.space = space
        self.loaded = loaded
        self.little_endian = loaded.little_endian
        self.old_base = old_base
        # The real objects, in the order they are written after the hidden ones
        # (nil, false and true first); each one's oop (plus one) is its save_oop.
        self.objects_w = []
        # Class table: index -> class, class -> its (main) index.
        self.class_table = {}
        self.class_index_of = {}
        self.next_free_index = FIRST_FREE_CLASS_INDEX
        self.class_specs = {}     # class -> Spur format its format word says (-1: none)
        self.page_used = [False] * CLASS_TABLE_PAGES
        # Where the hidden chunks go.
        self.free_lists_oop = 0
        self.hidden_roots_oop = 0
        self.page_oops = [0] * CLASS_TABLE_PAGES
        self.remembered_set_oop = 0
        self.next_offset = 0
        self.data_size = 0
        self.out = None

    # --- which objects ---------------------------------------------------------------

    def add(self, w_obj):
        assert isinstance(w_obj, model.W_HeapObject)
        if w_obj.save_oop == 0:
            w_obj.save_oop = -1
            self.objects_w.append(w_obj)

    def collect(self, objects_w):
        space = self.space
        w_specials = space.w_special_objects
        if not isinstance(w_specials, model.W_PointersObject):
            raise ImageError("cannot write an image: the space has no special objects "
                             "array")
        w_nil = space.w_nil
        w_false = space.w_false
        w_true = space.w_true
        if not isinstance(w_nil, model.W_HeapObject) or \
                not isinstance(w_false, model.W_HeapObject) or \
                not isinstance(w_true, model.W_HeapObject) or \
                w_nil is w_false or w_nil is w_true or w_false is w_true:
            raise ImageError("cannot write an image: nil, false and true are not three "
                             "objects")
        self.add(w_nil)
        self.add(w_false)
        self.add(w_true)
        if objects_w is not None:
            for w_obj in objects_w:
                if not isinstance(w_obj, model.W_HeapObject):
                    raise ImageError("cannot write a Spur image: %s is listed as an "
                                     "object of the heap" % _describe(w_obj))
                self.add(w_obj)
        self.add(w_specials)
        i = 0
        while i < len(self.objects_w):
            w_obj = self.objects_w[i]
            i += 1
            self.trace(w_obj)

    def trace(self, w_obj):
        """Add what w_obj refers to (its class included) to the objects to write."""
        space = self.space
        w_class = w_obj.w_class
        if not isinstance(w_class, model.W_HeapObject):
            raise ImageError("cannot write a Spur image: %s has no class"
                             % _describe(w_obj))
        self.add(w_class)
        if isinstance(w_obj, model.W_Context):
            for j in range(w_obj.size()):
                self.trace_ref(w_obj.fetch(space, j))
        elif isinstance(w_obj, model.W_PointersObject):
            for w_slot in w_obj.slots:
                self.trace_ref(w_slot)
        elif isinstance(w_obj, model.W_CompiledMethod):
            for w_literal in w_obj.literals:
                self.trace_ref(w_literal)

    def trace_ref(self, w_ref):
        if not self.is_immediate(w_ref):
            self.add(w_ref)
        else:
            self.immediate_word(w_ref)      # checks it can be written

    # --- class indices ---------------------------------------------------------------

    def register(self, w_class, index):
        self.class_table[index] = w_class
        if w_class not in self.class_index_of:
            self.class_index_of[w_class] = index
        self.page_used[index >> 10] = True

    def free_class_index(self):
        index = self.next_free_index
        while index in self.class_table:
            index += 1
        if index > MAX_CLASS_INDEX:
            raise ImageError("cannot write a Spur image: its class table is full")
        self.next_free_index = index + 1
        return index

    def written(self, w_obj):
        return isinstance(w_obj, model.W_HeapObject) and w_obj.save_oop != 0

    def assign_class_indices(self):
        space = self.space
        w_smallint = space.w_SmallInteger
        if isinstance(w_smallint, model.W_HeapObject) and self.written(w_smallint):
            w_smallint.hash = SMALLINTEGER_INDEX
            self.register(w_smallint, SMALLINTEGER_INDEX)
            self.register(w_smallint, SMALLINTEGER_ODD_INDEX)
        w_character = space.w_Character
        if isinstance(w_character, model.W_HeapObject) and self.written(w_character) \
                and w_character is not w_smallint:
            w_character.hash = CHARACTER_INDEX
            self.register(w_character, CHARACTER_INDEX)
        w_smallfloat = space.w_SmallFloat64
        if self.word_size == 8 and isinstance(w_smallfloat, model.W_HeapObject) and \
                self.written(w_smallfloat):
            w_smallfloat.hash = SMALLFLOAT_INDEX
            self.register(w_smallfloat, SMALLFLOAT_INDEX)
        w_array = space.w_Array
        if isinstance(w_array, model.W_HeapObject) and self.written(w_array):
            # A pun entry only: Array's own index is its hash.
            self.class_table[ARRAY_CLASS_INDEX_PUN] = w_array
        # What goes into the table, most important first: the classes of the special
        # objects array that have instances, the other classes with instances, then
        # classes and metaclasses without instances that have a hash.
        instantiated = {}
        for w_obj in self.objects_w:
            w_class = w_obj.w_class
            assert isinstance(w_class, model.W_HeapObject)      # checked by trace
            instantiated[w_class] = None
        classes_w = []
        w_specials = space.w_special_objects
        assert isinstance(w_specials, model.W_PointersObject)
        for w_slot in w_specials.slots:
            if isinstance(w_slot, model.W_HeapObject) and w_slot in instantiated:
                classes_w.append(w_slot)
        for w_obj in self.objects_w:
            w_class = w_obj.w_class
            assert isinstance(w_class, model.W_HeapObject)
            classes_w.append(w_class)
        w_metaclass = self.metaclass_class()
        if w_metaclass is not None:
            for w_obj in self.objects_w:
                if w_obj.hash == 0 or w_obj in instantiated:
                    continue
                w_class = w_obj.w_class
                if w_class is w_metaclass or \
                        (isinstance(w_class, model.W_HeapObject) and
                         w_class.w_class is w_metaclass):
                    classes_w.append(w_obj)
        # Every class keeps its hash when it can; only then are new indices handed
        # out, so that a new class never takes the index of one that has it.
        for w_class in classes_w:
            if w_class not in self.class_index_of:
                index = w_class.hash
                if FIRST_REAL_CLASS_INDEX <= index <= MAX_CLASS_INDEX and \
                        index not in self.class_table:
                    self.register(w_class, index)
        for w_class in classes_w:
            if w_class not in self.class_index_of:
                index = self.free_class_index()
                w_class.hash = index
                self.register(w_class, index)

    def metaclass_class(self):
        """Metaclass (the class of metaclasses), found through SmallInteger, or None."""
        w_smallint = self.space.w_SmallInteger
        if not isinstance(w_smallint, model.W_HeapObject):
            return None
        w_meta = w_smallint.w_class
        if not isinstance(w_meta, model.W_HeapObject):
            return None
        w_metaclass = w_meta.w_class
        if not isinstance(w_metaclass, model.W_HeapObject) or \
                w_metaclass is self.space.w_nil:
            return None
        return w_metaclass

    # --- formats ---------------------------------------------------------------------

    def class_spec(self, w_class):
        """The Spur format the class's format word gives its instances (-1: none)."""
        if w_class in self.class_specs:
            return self.class_specs[w_class]
        spec = -1
        if isinstance(w_class, model.W_PointersObject) and \
                len(w_class.slots) > constants.CLASS_FORMAT:
            w_format = w_class.slots[constants.CLASS_FORMAT]
            if isinstance(w_format, model.W_SmallInteger):
                spec = (w_format.value >> 16) & 0x1f
        self.class_specs[w_class] = spec
        return spec

    def object_format(self, w_obj):
        """(Spur format, slot count) of a real object."""
        if isinstance(w_obj, model.W_Context):
            return SPUR_FIXED_VARIABLE, w_obj.size()
        if isinstance(w_obj, model.W_PointersObject):
            return self.pointers_format(w_obj), len(w_obj.slots)
        ws = self.word_size
        if isinstance(w_obj, model.W_Float):
            return SPUR_WORDS, 8 // ws
        if isinstance(w_obj, model.W_WordsObject):
            nwords = len(w_obj.words)
            nslots = (nwords * 4 + ws - 1) // ws
            return SPUR_WORDS + (nslots * ws // 4 - nwords), nslots
        if isinstance(w_obj, model.W_BytesObject):
            return self.bytes_format(w_obj)
        if isinstance(w_obj, model.W_CompiledMethod):
            self.check_method(w_obj)
            nbytes = (len(w_obj.literals) + 1) * ws + len(w_obj.bytes)
            nslots = (nbytes + ws - 1) // ws
            return SPUR_METHOD + (nslots * ws - nbytes), nslots
        raise ImageError("cannot write a Spur image: an object of kind %s has no Spur "
                         "form" % _describe(w_obj))

    def pointers_format(self, w_obj):
        if w_obj.weak:
            return SPUR_WEAK
        n = len(w_obj.slots)
        spec = self.class_spec(w_obj.w_class)
        if spec == SPUR_ZERO_SIZED:
            if n == 0:
                return SPUR_ZERO_SIZED
            return SPUR_VARIABLE
        if SPUR_ZERO_SIZED < spec <= SPUR_EPHEMERON:
            return spec
        # The class does not say (or says something else): a plain pointers object.
        if n == 0:
            return SPUR_ZERO_SIZED
        return SPUR_VARIABLE

    def bytes_format(self, w_obj):
        ws = self.word_size
        nbytes = len(w_obj.bytes)
        nslots = (nbytes + ws - 1) // ws
        spec = self.class_spec(w_obj.w_class)
        if spec == SPUR_LONGS and nbytes % 8 == 0:
            return SPUR_LONGS, nslots
        if SPUR_SHORTS <= spec < SPUR_BYTES and nbytes % 2 == 0:
            return SPUR_SHORTS + (nslots * ws - nbytes) // 2, nslots
        return SPUR_BYTES + (nslots * ws - nbytes), nslots

    def check_method(self, w_method):
        self.check_method_header(w_method, True, "Spur", self.space.minint,
                                 self.space.maxint)

    # --- layout ----------------------------------------------------------------------

    def object_header(self, w_obj):
        """(Spur format, slot count, class index, hash) of a real object."""
        fmt, nslots = self.object_format(w_obj)
        w_class = w_obj.w_class
        assert isinstance(w_class, model.W_HeapObject)
        class_index = self.class_index_of.get(w_class, 0)
        if class_index < FIRST_REAL_CLASS_INDEX:
            raise ImageError("cannot write a Spur image: %s is an instance of an "
                             "immediate class (%s)"
                             % (_describe(w_obj), self.space.class_name(w_class)))
        hash = w_obj.hash
        if hash < 0 or hash > HASH_MASK:
            raise ImageError("cannot write a Spur image: identity hash %d does not fit "
                             "22 bits" % hash)
        return fmt, nslots, class_index, hash

    def place(self, nslots):
        """The oop of the next chunk, of nslots slots."""
        offset = self.next_offset
        if nslots >= OVERFLOW_SLOTS:
            offset += 8
        oop = self.old_base + offset
        offset += 8 + chunk_body_bytes(nslots, self.word_size)
        if self.old_base + offset + BRIDGE_BYTES >= self.address_limit:
            raise ImageError("cannot write a Spur image: its objects do not fit in "
                             "its addresses")
        self.next_offset = offset
        return oop

    def place_object(self, i):
        w_obj = self.objects_w[i]
        fmt, nslots, class_index, hash = self.object_header(w_obj)
        w_obj.save_oop = self.place(nslots) + 1     # plus one: never 0

    def layout(self):
        """Every chunk's oop, in file order; the headers are worked out again when
        written."""
        objects_w = self.objects_w
        self.page_used[0] = True        # the puns' page is always there
        for i in range(3):
            self.place_object(i)
        self.free_lists_oop = self.place(self.free_lists_slots)
        self.hidden_roots_oop = self.place(CLASS_TABLE_PAGES + HIDDEN_ROOT_SLOTS)
        for page in range(CLASS_TABLE_PAGES):
            if self.page_used[page]:
                self.page_oops[page] = self.place(CLASS_TABLE_PAGE_SIZE)
        self.remembered_set_oop = self.place(REMEMBERED_SET_SLOTS)
        for i in range(3, len(objects_w)):
            self.place_object(i)
        self.data_size = self.next_offset + BRIDGE_BYTES

    # --- encoding --------------------------------------------------------------------

    def immediate_word(self, w_ref):
        """The word of an immediate; ImageError for anything else that is no object."""
        if isinstance(w_ref, model.W_SmallInteger):
            return self.smallint_word(w_ref.value)
        if isinstance(w_ref, model.W_Character):
            value = w_ref.value
            if value < 0 or value > CHARACTER_MAX:
                raise ImageError("cannot write a Spur image: Character value %d "
                                 "does not fit 30 bits" % value)
            if self.word_size == 8:
                return (value << 3) | 2
            return (value << 2) | 2
        if isinstance(w_ref, model.W_SmallFloat) and self.word_size == 8 and \
                smallfloat.is_representable(w_ref.value):
            return smallfloat.oop_of_float(w_ref.value)
        raise ImageError("cannot write a Spur image: an object refers to %s"
                         % _describe(w_ref))

    def smallint_word(self, value):
        space = self.space
        if value < space.minint or value > space.maxint:
            bits = 61 if self.word_size == 8 else 31
            raise ImageError("cannot write a Spur %d-bit image: SmallInteger %d does "
                             "not fit %d bits" % (self.word_size * 8, value, bits))
        if self.word_size == 8:
            return (value << 3) | 1
        return ((value << 1) | 1) & 0xffffffff

    def is_immediate(self, w_ref):
        """Written as an immediate: not a heap object, or a SmallFloat64 that fits."""
        if not isinstance(w_ref, model.W_HeapObject):
            return True
        return isinstance(w_ref, model.W_SmallFloat) and self.word_size == 8 and \
            smallfloat.is_representable(w_ref.value)

    def oop_of(self, w_ref):
        if not self.is_immediate(w_ref):
            assert isinstance(w_ref, model.W_HeapObject)
            oop = w_ref.save_oop - 1
            if oop < 0:
                raise ImageError("cannot write a Spur image: an object refers to one "
                                 "that is not being written")
            return oop
        return self.immediate_word(w_ref)

    def write(self):
        ws = self.word_size
        header_size = self.header_size
        self.start_output(header_size + self.data_size)
        space = self.space
        loaded = self.loaded
        flags = loaded.flags & ~2
        if self.little_endian:
            flags |= 2          # floats are in platform order, and that is little-endian
        self.word(self.version)
        self.word(header_size)
        self.slot(self.data_size)
        self.slot(self.old_base)
        self.slot(self.oop_of(space.w_special_objects))
        self.slot(loaded.last_hash)
        self.slot(loaded.saved_window_size)
        self.slot(flags)
        self.word(0)                                # extra VM memory
        self.half(DEFAULT_STACK_PAGES)
        self.half(0)                                # cog code size
        self.word(0)                                # eden bytes
        self.word(0)                                # max external semaphores | unused
        self.slot(self.data_size)                   # first segment size
        self.zeros(header_size - self.position())
        objects_w = self.objects_w
        for i in range(3):
            self.write_object(objects_w[i])
        # The free lists are all zero words.
        self.chunk_header(self.free_lists_slots, self.free_lists_format,
                          self.free_lists_pun, 0, self.free_lists_bits)
        self.zeros(chunk_body_bytes(self.free_lists_slots, ws))
        self.write_hidden_roots()
        for page in range(CLASS_TABLE_PAGES):
            if self.page_used[page]:
                self.write_class_page(page)
        # The remembered set: pinned, all zero words.
        self.chunk_header(REMEMBERED_SET_SLOTS, SPUR_WORDS, WORD_CLASS_INDEX_PUN, 0,
                          PINNED_BIT)
        self.zeros(chunk_body_bytes(REMEMBERED_SET_SLOTS, ws))
        for i in range(3, len(objects_w)):
            self.write_object(objects_w[i])
        self.word64(PINNED_BIT | (self.bridge_format << 24) | BRIDGE_CLASS_INDEX,
                    BRIDGE_HIGH)
        self.word64(0, 0)                           # no next segment
        return self.finish_output()

    def slot(self, value):
        """One word of the image's word size (value: its bits as an int)."""
        if self.word_size == 8:
            self.word64(value & 0xffffffff, (value >> 32) & 0xffffffff)
        else:
            self.word(value)

    def chunk_header(self, nslots, fmt, class_index, hash, extra_low):
        if nslots >= OVERFLOW_SLOTS:
            if self.word_size == 8:
                self.word64(nslots & 0xffffffff, OVERFLOW_HIGH | (nslots >> 32))
            else:
                self.word64(nslots, OVERFLOW_HIGH)
            count = OVERFLOW_SLOTS
        else:
            count = nslots
        self.word64(class_index | (fmt << 24) | extra_low, hash | (count << 24))

    def pad_body(self, nslots, written_bytes):
        self.zeros(chunk_body_bytes(nslots, self.word_size) - written_bytes)

    def write_hidden_roots(self):
        nslots = CLASS_TABLE_PAGES + HIDDEN_ROOT_SLOTS
        self.chunk_header(nslots, SPUR_VARIABLE, ARRAY_CLASS_INDEX_PUN, 0, 0)
        nil_oop = self.oop_of(self.space.w_nil)
        for page in range(CLASS_TABLE_PAGES):
            if self.page_used[page]:
                self.slot(self.page_oops[page])
            else:
                self.slot(nil_oop)
        for j in range(CLASS_TABLE_PAGES, nslots):
            if j == REMEMBERED_SET_ROOT:
                self.slot(self.remembered_set_oop)
            else:
                self.slot(nil_oop)
        self.pad_body(nslots, nslots * self.word_size)

    def write_class_page(self, page):
        self.chunk_header(CLASS_TABLE_PAGE_SIZE, SPUR_VARIABLE, ARRAY_CLASS_INDEX_PUN, 0, 0)
        nil_oop = self.oop_of(self.space.w_nil)
        first = page * CLASS_TABLE_PAGE_SIZE
        for j in range(CLASS_TABLE_PAGE_SIZE):
            w_class = self.class_table.get(first + j, None)
            if w_class is None:
                self.slot(nil_oop)
            else:
                self.slot(self.oop_of(w_class))
        self.pad_body(CLASS_TABLE_PAGE_SIZE, CLASS_TABLE_PAGE_SIZE * self.word_size)

    def write_object(self, w_obj):
        fmt, nslots, class_index, hash = self.object_header(w_obj)
        self.chunk_header(nslots, fmt, class_index, hash, 0)
        start = self.position()
        self.write_body(w_obj)
        self.pad_body(nslots, self.position() - start)

    def write_body(self, w_obj):
        space = self.space
        if isinstance(w_obj, model.W_Context):
            for j in range(w_obj.size()):
                self.slot(self.oop_of(w_obj.fetch(space, j)))
        elif isinstance(w_obj, model.W_PointersObject):
            for w_slot in w_obj.slots:
                self.slot(self.oop_of(w_slot))
        elif isinstance(w_obj, model.W_Float):
            bits = r_uint(longlong2float.float2longlong(w_obj.value))
            low = intmask(bits & r_uint(0xffffffff))
            high = intmask((bits >> 32) & r_uint(0xffffffff))
            self.word64(low, high)      # platform order: as a 64-bit word
        elif isinstance(w_obj, model.W_WordsObject):
            for word in w_obj.words:
                self.word(intmask(word))
        elif isinstance(w_obj, model.W_BytesObject):
            self.chars(w_obj.bytes)
        elif isinstance(w_obj, model.W_CompiledMethod):
            self.slot(self.smallint_word(w_obj.header))
            for w_literal in w_obj.literals:
                self.slot(self.oop_of(w_literal))
            self.string(w_obj.bytes)


def chunk_body_bytes(nslots, word_size):
    """Bytes a body of nslots words takes: rounded up to 8, at least 8."""
    nbytes = nslots * word_size
    if nbytes < 8:
        return 8
    return (nbytes + 7) & ~7
