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
    if objects_w is None:
        writer.set_objects(reachable_objects(space))
    else:
        writer.set_objects(objects_w)
    return writer.write()


# --- what refers to what -----------------------------------------------------------

def references(space, w_obj):
    """The objects w_obj refers to, its class first (immediates included)."""
    refs = []
    assert isinstance(w_obj, model.W_HeapObject)
    refs.append(w_obj.w_class)
    if isinstance(w_obj, model.W_Context):
        for i in range(w_obj.size()):
            refs.append(context_slot(space, w_obj, i))
    elif isinstance(w_obj, model.W_PointersObject):
        for w_slot in w_obj.slots:
            refs.append(w_slot)
    elif isinstance(w_obj, model.W_CompiledMethod):
        for w_literal in w_obj.literals:
            refs.append(w_literal)
    return refs


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
    w_root = space.w_special_objects
    if not isinstance(w_root, model.W_HeapObject):
        raise ImageError("cannot write an image: the space has no special objects array")
    seen = {}
    order = []
    seen[w_root] = None
    order.append(w_root)
    i = 0
    while i < len(order):
        w_obj = order[i]
        i += 1
        for w_ref in references(space, w_obj):
            if isinstance(w_ref, model.W_HeapObject):
                if w_ref not in seen:
                    seen[w_ref] = None
                    order.append(w_ref)
            else:
                # Immediates are checked when written; anything else cannot be.
                _check_immediate(w_ref)
    return order


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
        self.objects_w = []
        self.index = {}           # object -> position in objects_w
        # Parallel to objects_w.
        self.oops = []
        self.formats = []
        self.body_words = []
        self.header_types = []
        self.compact_indices = []
        self.data_size = 0
        self.compact = {}         # class -> compact class index (1-based)
        self.out = ["\x00"]

    def set_objects(self, objects_w):
        objects = []
        for w_obj in objects_w:
            if not isinstance(w_obj, model.W_HeapObject):
                _check_immediate(w_obj)
                raise ImageError("cannot write a V3 image: an immediate is not an "
                                 "object of the heap")
            if w_obj in self.index:
                raise ImageError("cannot write a V3 image: an object is listed twice")
            self.index[w_obj] = len(objects)
            objects.append(w_obj)
        self.objects_w = objects

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
        self.check_method_header(w_method, False, "V3")

    def layout(self):
        self.find_compact_classes()
        offset = 0
        for w_obj in self.objects_w:
            assert isinstance(w_obj, model.W_HeapObject)
            fmt, nbody = self.object_format(w_obj)
            w_class = w_obj.w_class
            compact_index = 0
            if isinstance(w_class, model.W_HeapObject):
                compact_index = self.compact.get(w_class, 0)
            if nbody + 1 <= MAX_SHORT_WORDS:
                if compact_index != 0:
                    htype = HEADER_TYPE_SHORT
                    nheader = 1
                else:
                    htype = HEADER_TYPE_CLASS
                    nheader = 2
            else:
                htype = HEADER_TYPE_SIZE_AND_CLASS
                nheader = 3
            oop = self.old_base + offset + (nheader - 1) * 4
            self.oops.append(oop)
            self.formats.append(fmt)
            self.body_words.append(nbody)
            self.header_types.append(htype)
            self.compact_indices.append(compact_index)
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
            i = self.index.get(w_ref, -1)
            if i < 0:
                raise ImageError("cannot write a V3 image: an object refers to one that "
                                 "is not being written")
            return self.oops[i]
        _check_immediate(w_ref)
        raise ImageError("cannot write a V3 image: a reference has no V3 form")

    def write(self):
        self.layout()
        total = HEADER_SIZE + self.data_size
        out = ['\x00'] * total
        self.out = out
        w_specials = self.space.w_special_objects
        if not isinstance(w_specials, model.W_HeapObject) or w_specials not in self.index:
            raise ImageError("cannot write a V3 image: the special objects array is not "
                             "among the objects written")
        loaded = self.loaded
        self.put(0, self.version)
        self.put(4, HEADER_SIZE)
        self.put(8, self.data_size)
        self.put(12, self.old_base)
        self.put(16, self.oop_of(w_specials))
        self.put(20, loaded.last_hash)
        self.put(24, loaded.saved_window_size)
        self.put(28, loaded.flags)
        self.put(32, 0)                      # extra VM memory
        for i in range(len(self.objects_w)):
            self.write_object(i)
        self.out = []
        return "".join(out)

    def write_object(self, i):
        w_obj = self.objects_w[i]
        assert isinstance(w_obj, model.W_HeapObject)
        oop = self.oops[i]
        htype = self.header_types[i]
        nbody = self.body_words[i]
        base_pos = oop - self.old_base + HEADER_SIZE
        if htype != HEADER_TYPE_SHORT:
            class_word = self.class_oop(w_obj)
            if htype == HEADER_TYPE_CLASS:
                self.put(base_pos - 4, class_word | HEADER_TYPE_CLASS)
            else:
                self.put(base_pos - 8, ((nbody + 1) * 4) | HEADER_TYPE_SIZE_AND_CLASS)
                self.put(base_pos - 4, class_word | HEADER_TYPE_SIZE_AND_CLASS)
        size_field = 0
        if htype != HEADER_TYPE_SIZE_AND_CLASS:
            size_field = (nbody + 1) << 2
        base = htype | size_field | (self.formats[i] << 8) | \
            (self.compact_indices[i] << 12) | ((w_obj.hash & HASH_MASK) << 17)
        self.put(base_pos, base)
        self.write_body(w_obj, base_pos + 4)

    def class_oop(self, w_obj):
        w_class = w_obj.w_class
        if not isinstance(w_class, model.W_HeapObject):
            raise ImageError("cannot write a V3 image: an object has no class")
        return self.oop_of(w_class)

    def write_body(self, w_obj, pos):
        space = self.space
        if isinstance(w_obj, model.W_Context):
            for j in range(w_obj.size()):
                self.put(pos + 4 * j, self.oop_of(context_slot(space, w_obj, j)))
        elif isinstance(w_obj, model.W_PointersObject):
            slots = w_obj.slots
            for j in range(len(slots)):
                self.put(pos + 4 * j, self.oop_of(slots[j]))
        elif isinstance(w_obj, model.W_Float):
            hi = intmask(w_obj.getword(0))
            lo = intmask(w_obj.getword(1))
            if self.version == constants.FORMAT_V3_CLOSURES_FLOATS_NATIVE and \
                    self.little_endian:
                self.put(pos, lo)
                self.put(pos + 4, hi)
            else:
                self.put(pos, hi)
                self.put(pos + 4, lo)
        elif isinstance(w_obj, model.W_WordsObject):
            words = w_obj.words
            for j in range(len(words)):
                self.put(pos + 4 * j, intmask(words[j]))
        elif isinstance(w_obj, model.W_BytesObject):
            self.copy_bytes(pos, w_obj.bytes)
        elif isinstance(w_obj, model.W_CompiledMethod):
            self.put(pos, ((w_obj.header << 1) | 1) & 0xffffffff)
            literals = w_obj.literals
            for j in range(len(literals)):
                self.put(pos + 4 * (j + 1), self.oop_of(literals[j]))
            bytecodes = w_obj.bytes
            start = pos + 4 * (len(literals) + 1)
            out = self.out
            for j in range(len(bytecodes)):
                out[start + j] = bytecodes[j]

    def copy_bytes(self, pos, chars):
        out = self.out
        for j in range(len(chars)):
            out[pos + j] = chars[j]
