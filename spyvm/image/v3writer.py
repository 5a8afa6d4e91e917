"""Writing V3 images (formats 6502, 6504, 6505; 32-bit words).

The layout is the one the C VM saves (and spyvm.image.v3 reads): a 64-byte header,
then the objects one after another, each one to three header words and a body.
An object whose class is in the compact classes array (special object 28) and whose
body fits in 62 words gets a one-word header (type 3) naming the class by its index;
other objects of that size get a class word (type 1); bigger ones a size word and a
class word (type 0). Oops are the base address the image claims to have been saved
at plus the offset of the object's base header from the end of the image header.

Words go out in the image's byte order; byte objects and the bytecodes of compiled
methods in memory order, as every VM saves them. Floats: high word first in 6502 and
6504, platform order (low word first when little-endian) in 6505.

Identity hashes are written as the objects hold them (W_HeapObject.hash, 12 bits):
writing assigns none, so a file just read is written back unchanged, and an object
nobody asked the hash of is saved with 0, which every reader here treats as "not yet
assigned" again.
"""

from rpython.rlib.rarithmetic import intmask

from spyvm import constants, model
from spyvm.objspace import WrappingError
from spyvm.image.format import ImageError, ImageWriter

HEADER_SIZE = 64

# The base address used when the caller has no better one (the one of the file an
# image was read from keeps a round trip byte-identical).
DEFAULT_OLD_BASE = 0x10040000

HEADER_TYPE_SIZE_AND_CLASS = 0
HEADER_TYPE_CLASS = 1
HEADER_TYPE_SHORT = 3

# The base header's size field: six bits of words, the base header included.
MAX_SHORT_WORDS = 63

MAX_COMPACT_INDEX = 31
HASH_MASK = 0xfff

SMALLINT_MIN = -(1 << 30)
SMALLINT_MAX = (1 << 30) - 1

WORD_LIMIT = 1 << 32


def image_bytes(space, loaded, objects_w=None, old_base=-1):
    """The bytes of a V3 image of the space, in loaded.version and loaded's byte order.

    objects_w, when given, is exactly the objects to write, in that order (every object
    they refer to must be among them); when None, the objects reachable from the
    special objects array are written, breadth-first from it. old_base is the address
    the oops are relative to (-1: DEFAULT_OLD_BASE). Raises ImageError when the space
    holds something a V3 image cannot represent.
    """
    writer = V3Writer(space, loaded, old_base)
    try:
        if objects_w is None:
            writer.objects_w = _reach(space)
        else:
            writer.set_objects(objects_w)
        return writer.write()
    finally:
        _unmark(writer.objects_w)


# --- what refers to what -----------------------------------------------------------

def context_slot(space, w_ctx, index0):
    """What a context's slot holds in the file: what fetch answers, except that a
    context with neither method nor pc (as `MethodContext new: n` makes it, all nil in
    Squeak) has nil where the model keeps 0 for stackp and a BlockContext's nargs and
    startpc. The model reads nil there as 0 (so this changes nothing on reloading);
    it keeps files such as the V3 test images unchanged by a round trip.
    """
    w_value = w_ctx.fetch(space, index0)
    if w_ctx.w_method is not None or w_ctx.w_pending_pc is not space.w_nil:
        return w_value
    if index0 == constants.CTX_STACKP:
        if w_ctx.sp == 0:
            return space.w_nil
    elif w_ctx.is_block_context:
        if index0 == constants.BCTX_NARGS and w_ctx.block_nargs == 0:
            return space.w_nil
        if index0 == constants.BCTX_STARTPC and w_ctx.block_startpc == 0:
            return space.w_nil
    return w_value


def reachable_objects(space):
    """Heap objects reachable from the special objects array, breadth-first from it."""
    order = []
    try:
        order = _reach(space)
    finally:
        _unmark(order)
    return order


def _reach(space):
    """The reachable objects in breadth-first order, each marked as listed
    (save_oop -1: see W_HeapObject); the caller unmarks them."""
    w_root = space.w_special_objects
    if not isinstance(w_root, model.W_HeapObject):
        raise ImageError("cannot write an image: the space has no special objects array")
    order = [w_root]
    w_root.save_oop = -1
    try:
        i = 0
        while i < len(order):
            w_obj = order[i]
            i += 1
            assert isinstance(w_obj, model.W_HeapObject)
            _reach_ref(w_obj.w_class, order)
            if isinstance(w_obj, model.W_Context):
                for j in range(w_obj.size()):
                    _reach_ref(context_slot(space, w_obj, j), order)
            elif isinstance(w_obj, model.W_PointersObject):
                for w_slot in w_obj.slots:
                    _reach_ref(w_slot, order)
            elif isinstance(w_obj, model.W_CompiledMethod):
                for w_literal in w_obj.literals:
                    _reach_ref(w_literal, order)
    except ImageError:
        _unmark(order)
        raise
    return order


def _reach_ref(w_ref, order):
    if isinstance(w_ref, model.W_HeapObject):
        if w_ref.save_oop == 0:
            w_ref.save_oop = -1
            order.append(w_ref)
    else:
        # Immediates are checked when written; anything else cannot be.
        _check_immediate(w_ref)


def _unmark(objects_w):
    for w_obj in objects_w:
        assert isinstance(w_obj, model.W_HeapObject)
        w_obj.save_oop = 0


def _check_immediate(w_ref):
    if w_ref is None:
        raise ImageError("cannot write a V3 image: an object has an unset slot")
    if isinstance(w_ref, model.W_SmallInteger):
        return
    if isinstance(w_ref, model.W_Character):
        raise ImageError("cannot write a V3 image: it has no immediate Characters "
                         "(found $%s)" % _char_repr(w_ref.value))
    raise ImageError("cannot write a V3 image: an object of kind %s has no V3 form"
                     % w_ref.as_string())


def _char_repr(value):
    if 32 < value < 127:
        return chr(value)
    return "<%d>" % value


# --- the writer ----------------------------------------------------------------------

class V3Writer(ImageWriter):

    def __init__(self, space, loaded, old_base):
        if loaded.version not in constants.V3_FORMATS:
            raise ImageError("not a V3 image format: %d" % loaded.version)
        if space.is_spur or space.word_size != 4:
            raise ImageError("cannot write this object space as a V3 image "
                             "(it was not read from a V3 image)")
        if old_base == -1:
            old_base = DEFAULT_OLD_BASE
        if old_base < 0 or old_base >= WORD_LIMIT or old_base & 3 != 0:
            raise ImageError("bad base address for a V3 image: %d" % old_base)
        self.space = space
        self.loaded = loaded
        self.version = loaded.version
        self.little_endian = loaded.little_endian
        self.old_base = old_base
        self.objects_w = []       # in file order; each one's oop is its save_oop
        self.data_size = 0
        self.compact = {}         # class -> compact class index (1-based)
        self.out = None

    def set_objects(self, objects_w):
        objects = self.objects_w
        for w_obj in objects_w:
            if not isinstance(w_obj, model.W_HeapObject):
                _check_immediate(w_obj)
                raise ImageError("cannot write a V3 image: an immediate is not an "
                                 "object of the heap")
            if w_obj.save_oop != 0:
                raise ImageError("cannot write a V3 image: an object is listed twice")
            w_obj.save_oop = -1
            objects.append(w_obj)

    # --- layout ---------------------------------------------------------------------

    def find_compact_classes(self):
        space = self.space
        w_array = space.special(constants.SO_COMPACT_CLASSES)
        if not isinstance(w_array, model.W_PointersObject):
            return
        n = len(w_array.slots)
        if n > MAX_COMPACT_INDEX:
            n = MAX_COMPACT_INDEX
        for i in range(n):
            w_class = w_array.slots[i]
            if not isinstance(w_class, model.W_HeapObject) or w_class is space.w_nil:
                continue
            if w_class not in self.compact:
                self.compact[w_class] = i + 1

    def object_format(self, w_obj):
        """Answer (format, body words) of w_obj as the V3 base header says them."""
        if isinstance(w_obj, model.W_Context):
            return constants.FMT_FIXED_VARIABLE, w_obj.size()
        if isinstance(w_obj, model.W_PointersObject):
            return self.pointers_format(w_obj), len(w_obj.slots)
        if isinstance(w_obj, model.W_Float):
            return constants.FMT_WORDS, 2
        if isinstance(w_obj, model.W_WordsObject):
            return constants.FMT_WORDS, len(w_obj.words)
        if isinstance(w_obj, model.W_BytesObject):
            nbytes = len(w_obj.bytes)
            words = (nbytes + 3) / 4
            return constants.FMT_BYTES + (words * 4 - nbytes), words
        if isinstance(w_obj, model.W_CompiledMethod):
            self.check_method(w_obj)
            nbytes = (len(w_obj.literals) + 1) * 4 + len(w_obj.bytes)
            words = (nbytes + 3) / 4
            return constants.FMT_COMPILED_METHOD + (words * 4 - nbytes), words
        raise ImageError("cannot write a V3 image: an object of kind %s has no V3 form"
                         % w_obj.as_string())

    def pointers_format(self, w_obj):
        if w_obj.weak:
            return constants.FMT_WEAK
        spec = -1
        try:
            spec = self.space.class_format(w_obj.w_class).inst_spec
        except WrappingError:
            spec = -1
        if spec < 0 or spec > constants.FMT_WEAK or \
                (spec == constants.FMT_EMPTY and len(w_obj.slots) > 0):
            if len(w_obj.slots) > 0:
                return constants.FMT_VARIABLE
            return constants.FMT_EMPTY
        return spec

    def check_method(self, w_method):
        self.check_method_header(w_method, False, "V3", -(1 << 30), (1 << 30) - 1)

    def header_of(self, w_obj):
        """(format, body words, header type, compact class index) of w_obj."""
        fmt, nbody = self.object_format(w_obj)
        w_class = w_obj.w_class
        compact_index = 0
        if isinstance(w_class, model.W_HeapObject):
            compact_index = self.compact.get(w_class, 0)
        if nbody + 1 <= MAX_SHORT_WORDS:
            if compact_index != 0:
                htype = HEADER_TYPE_SHORT
            else:
                htype = HEADER_TYPE_CLASS
        else:
            htype = HEADER_TYPE_SIZE_AND_CLASS
        return fmt, nbody, htype, compact_index

    def layout(self):
        """The oop of every object; the headers are worked out again when written."""
        self.find_compact_classes()
        offset = 0
        for w_obj in self.objects_w:
            assert isinstance(w_obj, model.W_HeapObject)
            fmt, nbody, htype, compact_index = self.header_of(w_obj)
            nheader = _header_words(htype)
            # Plus one: an image may be based at 0, and 0 means unlisted.
            w_obj.save_oop = self.old_base + offset + (nheader - 1) * 4 + 1
            offset += (nheader + nbody) * 4
            if self.old_base + offset >= WORD_LIMIT:
                raise ImageError("cannot write a V3 image: its objects do not fit in "
                                 "32-bit addresses")
        self.data_size = offset

    # --- encoding -------------------------------------------------------------------

    def oop_of(self, w_ref):
        """The word standing for a reference: a tagged SmallInteger or an oop."""
        if isinstance(w_ref, model.W_SmallInteger):
            value = w_ref.value
            if value < SMALLINT_MIN or value > SMALLINT_MAX:
                raise ImageError("cannot write a V3 image: SmallInteger %d does not fit "
                                 "31 bits" % value)
            return ((value << 1) | 1) & 0xffffffff
        if isinstance(w_ref, model.W_HeapObject):
            oop = w_ref.save_oop - 1
            if oop < 0:
                raise ImageError("cannot write a V3 image: an object refers to one that "
                                 "is not being written")
            return oop
        _check_immediate(w_ref)
        raise ImageError("cannot write a V3 image: a reference has no V3 form")

    def write(self):
        self.layout()
        w_specials = self.space.w_special_objects
        if not isinstance(w_specials, model.W_HeapObject) or w_specials.save_oop <= 0:
            raise ImageError("cannot write a V3 image: the special objects array is not "
                             "among the objects written")
        loaded = self.loaded
        self.start_output(HEADER_SIZE + self.data_size)
        self.word(self.version)
        self.word(HEADER_SIZE)
        self.word(self.data_size)
        self.word(self.old_base)
        self.word(self.oop_of(w_specials))
        self.word(loaded.last_hash)
        self.word(loaded.saved_window_size)
        self.word(loaded.flags)
        self.word(0)                         # extra VM memory
        self.zeros(HEADER_SIZE - self.position())
        for i in range(len(self.objects_w)):
            self.write_object(i)
        return self.finish_output()

    def write_object(self, i):
        w_obj = self.objects_w[i]
        assert isinstance(w_obj, model.W_HeapObject)
        fmt, nbody, htype, compact_index = self.header_of(w_obj)
        if htype != HEADER_TYPE_SHORT:
            class_word = self.class_oop(w_obj)
            if htype == HEADER_TYPE_SIZE_AND_CLASS:
                self.word(((nbody + 1) * 4) | HEADER_TYPE_SIZE_AND_CLASS)
                self.word(class_word | HEADER_TYPE_SIZE_AND_CLASS)
            else:
                self.word(class_word | HEADER_TYPE_CLASS)
        size_field = 0
        if htype != HEADER_TYPE_SIZE_AND_CLASS:
            size_field = (nbody + 1) << 2
        self.word(htype | size_field | (fmt << 8) | (compact_index << 12) |
                  ((w_obj.hash & HASH_MASK) << 17))
        self.write_body(w_obj, fmt, nbody)

    def class_oop(self, w_obj):
        w_class = w_obj.w_class
        if not isinstance(w_class, model.W_HeapObject):
            raise ImageError("cannot write a V3 image: an object has no class")
        return self.oop_of(w_class)

    def write_body(self, w_obj, fmt, nbody):
        space = self.space
        if isinstance(w_obj, model.W_Context):
            for j in range(w_obj.size()):
                self.word(self.oop_of(context_slot(space, w_obj, j)))
        elif isinstance(w_obj, model.W_PointersObject):
            for w_slot in w_obj.slots:
                self.word(self.oop_of(w_slot))
        elif isinstance(w_obj, model.W_Float):
            hi = intmask(w_obj.getword(0))
            lo = intmask(w_obj.getword(1))
            if self.version == constants.FORMAT_V3_CLOSURES_FLOATS_NATIVE and \
                    self.little_endian:
                self.word(lo)
                self.word(hi)
            else:
                self.word(hi)
                self.word(lo)
        elif isinstance(w_obj, model.W_WordsObject):
            for word in w_obj.words:
                self.word(intmask(word))
        elif isinstance(w_obj, model.W_BytesObject):
            self.chars(w_obj.bytes)
            self.zeros(fmt & 3)
        elif isinstance(w_obj, model.W_CompiledMethod):
            self.word(((w_obj.header << 1) | 1) & 0xffffffff)
            for w_literal in w_obj.literals:
                self.word(self.oop_of(w_literal))
            self.string(w_obj.bytes)
            self.zeros(fmt & 3)


def _header_words(htype):
    if htype == HEADER_TYPE_SHORT:
        return 1
    if htype == HEADER_TYPE_CLASS:
        return 2
    return 3
