"""The object space: the image's special objects and helpers to make and read objects.

One ObjSpace exists per loaded image. Word size and image family (V3 or Spur)
are recorded here; everything that depends on them asks the space.
"""

from rpython.rlib.rarithmetic import intmask, r_uint
from rpython.rlib import rbigint as rbigint_mod
from rpython.rlib import jit

from spyvm import constants, model, smallfloat


class WrappingError(Exception):
    """A value has no representation as the requested Smalltalk object."""


class ClassFormat(object):
    """What a class's format word says about its instances, in V3 terms."""
    _immutable_fields_ = ['inst_size', 'inst_spec']

    def __init__(self, inst_size, inst_spec):
        self.inst_size = inst_size
        self.inst_spec = inst_spec


class ObjSpace(object):

    # Quasi-immutable: set when the image is loaded (and by become: of the special
    # objects), so traces fold nil, true, false and the common classes.
    _immutable_fields_ = ['w_special_objects?', 'w_nil?', 'w_true?', 'w_false?',
                          'w_SmallInteger?', 'w_Float?', 'w_SmallFloat64?',
                          'w_MethodContext?', 'w_BlockContext?', 'w_BlockClosure?',
                          'w_FullBlockClosure?', 'w_Array?', 'w_String?',
                          'w_Character?', 'w_LargePositiveInteger?',
                          'w_LargeNegativeInteger?', 'w_Message?', 'w_CompiledMethod?',
                          'w_Semaphore?', 'w_Process?', 'w_Point?', 'w_ByteArray?',
                          'w_character_table?', 'special_selectors?[*]',
                          'special_argcounts?[*]', 'maxint', 'minint', 'word_size',
                          'is_spur', 'uses_closures', 'new_method_header']

    def __init__(self, word_size=4, is_spur=False, version=6502):
        self.word_size = word_size
        self.is_spur = is_spur
        self.version = version
        self.uses_closures = version != constants.FORMAT_V3_NO_CLOSURES
        # V3 compiled methods keep the old header layout; Spur uses the new one.
        self.new_method_header = is_spur
        if word_size == 4:
            self.maxint = (1 << 30) - 1
        else:
            self.maxint = (1 << 60) - 1
        self.minint = -self.maxint - 1
        self._hash_counter = 1
        self.special_objects = []
        self.w_nil = None
        self.w_true = None
        self.w_false = None
        self.w_SmallInteger = None
        self.w_Character = None
        self.w_Float = None
        self.w_SmallFloat64 = None      # Spur 64-bit's immediate float class, else None
        self.w_String = None
        self.w_Array = None
        self.w_ByteArray = None
        self.w_LargePositiveInteger = None
        self.w_LargeNegativeInteger = None
        self.w_MethodContext = None
        self.w_BlockContext = None
        self.w_BlockClosure = None
        self.w_FullBlockClosure = None
        self.w_CompiledMethod = None
        self.w_Message = None
        self.w_Point = None
        self.w_Semaphore = None
        self.w_Process = None
        self.w_character_table = None
        self.special_selectors = [None] * 32
        self.special_argcounts = [-1] * 32

    # --- setup ---------------------------------------------------------------

    def install_special_objects(self, w_specials):
        """Read the special objects array the image points to."""
        assert isinstance(w_specials, model.W_PointersObject)
        self.w_special_objects = w_specials
        self.w_nil = self.special(constants.SO_NIL)
        self.w_false = self.special(constants.SO_FALSE)
        self.w_true = self.special(constants.SO_TRUE)
        self.w_SmallInteger = self.special(constants.SO_SMALLINTEGER_CLASS)
        self.w_String = self.special(constants.SO_STRING_CLASS)
        self.w_Array = self.special(constants.SO_ARRAY_CLASS)
        self.w_Float = self.special(constants.SO_FLOAT_CLASS)
        self.w_MethodContext = self.special(constants.SO_METHODCONTEXT_CLASS)
        self.w_BlockContext = self.special(constants.SO_BLOCKCONTEXT_CLASS)
        self.w_Point = self.special(constants.SO_POINT_CLASS)
        self.w_LargePositiveInteger = self.special(constants.SO_LARGEPOSITIVEINTEGER_CLASS)
        self.w_Message = self.special(constants.SO_MESSAGE_CLASS)
        self.w_CompiledMethod = self.special(constants.SO_COMPILEDMETHOD_CLASS)
        self.w_Semaphore = self.special(constants.SO_SEMAPHORE_CLASS)
        self.w_Character = self.special(constants.SO_CHARACTER_CLASS)
        self.w_ByteArray = self.special(constants.SO_BYTEARRAY_CLASS)
        self.w_Process = self.special(constants.SO_PROCESS_CLASS)
        self.w_BlockClosure = self.special(constants.SO_BLOCKCLOSURE_CLASS)
        self.w_FullBlockClosure = self.special(constants.SO_FULLBLOCKCLOSURE_CLASS)
        self.w_LargeNegativeInteger = self.special(constants.SO_LARGENEGATIVEINTEGER_CLASS)
        if self.w_LargeNegativeInteger is self.w_nil:
            # Older images' special objects arrays end before this entry.
            w_class = self.smalltalk_at("LargeNegativeInteger")
            if w_class is not None:
                self.w_LargeNegativeInteger = w_class
        self.w_character_table = self.special(constants.SO_CHARACTER_TABLE)
        self.cache_special_selectors()

    def cache_special_selectors(self):
        """The 32 special selectors and their argument counts, as lists traces fold
        (the send bytecodes 176-207 name them by index)."""
        selectors = []
        argcounts = []
        w_specials = self.special(constants.SO_SPECIAL_SELECTORS)
        for index in range(32):
            w_selector = self.w_nil
            argcount = -1
            if isinstance(w_specials, model.W_PointersObject) and \
                    2 * index + 1 < w_specials.size():
                w_selector = w_specials.fetch(self, 2 * index)
                argcount = self.unwrap_int_or(w_specials.fetch(self, 2 * index + 1), -1)
            selectors.append(w_selector)
            argcounts.append(argcount)
        # Quasi-immutable: storing them invalidates every trace with a special
        # send, so a become: that leaves them as they were must not store them.
        if not self._special_selectors_are(selectors, argcounts):
            self.special_selectors = selectors
            self.special_argcounts = argcounts

    def _special_selectors_are(self, selectors, argcounts):
        old_selectors = self.special_selectors
        old_argcounts = self.special_argcounts
        if len(old_selectors) != len(selectors) or len(old_argcounts) != len(argcounts):
            return False
        for i in range(len(selectors)):
            if old_selectors[i] is not selectors[i] or old_argcounts[i] != argcounts[i]:
                return False
        return True

    def special(self, index):
        w_so = self.w_special_objects
        if index < w_so.size():
            return w_so.fetch(self, index)
        return self.w_nil

    def special_selector(self, index):
        return self.special(index)

    def next_hash(self):
        self._hash_counter = (self._hash_counter * 1103515245 + 12345) & 0x3fffff
        if self._hash_counter == 0:
            self._hash_counter = 1
        if self.is_spur:
            return self._hash_counter
        # V3 keeps 12 bits; 0 means "not assigned yet", so never answer it.
        return (self._hash_counter & 0xfff) or 1

    # --- integers ------------------------------------------------------------

    def is_small_int(self, value):
        return self.minint <= value <= self.maxint

    def wrap_int(self, value):
        """A SmallInteger for value, or a LargeInteger when it does not fit."""
        if self.minint <= value <= self.maxint:
            return model.W_SmallInteger(value)
        return self.wrap_bigint(rbigint_mod.rbigint.fromint(value))

    def wrap_uint(self, value):
        """value is an r_uint (e.g. a 32-bit word)."""
        if value <= r_uint(self.maxint):
            return model.W_SmallInteger(intmask(value))
        return self.wrap_bigint(rbigint_mod.rbigint.fromrarith_int(value))

    def wrap_bigint(self, big):
        """Normalised: SmallInteger when it fits, else a Large(Positive|Negative)Integer."""
        try:
            value = big.toint()
        except OverflowError:
            pass
        else:
            if self.minint <= value <= self.maxint:
                return model.W_SmallInteger(value)
        if big.sign < 0:
            w_class = self.w_LargeNegativeInteger
            if w_class is None or w_class is self.w_nil:
                raise WrappingError("no LargeNegativeInteger class")
            big = big.neg()
        else:
            w_class = self.w_LargePositiveInteger
        nbytes = (big.bit_length() + 7) // 8
        digits = big.tobytes(nbytes, 'little', False)
        w_result = model.W_BytesObject(w_class, nbytes)
        w_result.set_string(digits)
        return w_result

    def unwrap_bigint(self, w_value):
        """Integer value of a SmallInteger or a (possibly unnormalised) LargeInteger."""
        if isinstance(w_value, model.W_SmallInteger):
            return rbigint_mod.rbigint.fromint(w_value.value)
        if isinstance(w_value, model.W_BytesObject):
            w_class = w_value.getclass(self)
            if w_class is self.w_LargePositiveInteger:
                return rbigint_mod.rbigint.frombytes(w_value.as_string(), 'little', False)
            if w_class is self.w_LargeNegativeInteger:
                return rbigint_mod.rbigint.frombytes(
                    w_value.as_string(), 'little', False).neg()
        raise WrappingError("not an integer")

    def unwrap_int(self, w_value):
        if isinstance(w_value, model.W_SmallInteger):
            return w_value.value
        if isinstance(w_value, model.W_BytesObject):
            try:
                return self.unwrap_bigint(w_value).toint()
            except OverflowError:
                raise WrappingError("integer too large")
        raise WrappingError("not an integer")

    def unwrap_int_or(self, w_value, default):
        if isinstance(w_value, model.W_SmallInteger):
            return w_value.value
        return default

    def unwrap_uint32(self, w_value):
        """A 32-bit unsigned value (for words); fails outside 0..2^32-1."""
        if isinstance(w_value, model.W_SmallInteger):
            if w_value.value < 0 or w_value.value > 0xffffffff:
                raise WrappingError("not a 32-bit value")
            return r_uint(w_value.value)
        big = self.unwrap_bigint(w_value)
        if big.sign < 0 or big.bit_length() > 32:
            raise WrappingError("out of range")
        return big.touint()

    # --- other values --------------------------------------------------------

    def wrap_bool(self, flag):
        if flag:
            return self.w_true
        return self.w_false

    def wrap_float(self, value):
        w_small = self.w_SmallFloat64
        if w_small is not None and smallfloat.is_representable(value):
            return model.W_SmallFloat(w_small, value)
        return model.W_Float(self.w_Float, value)

    def wrap_char(self, code):
        if self.is_spur:
            if 0 <= code <= 0x3fffffff:
                return model.W_Character(code)
            raise WrappingError("bad character value")
        w_table = self.w_character_table
        if 0 <= code < 256 and isinstance(w_table, model.W_PointersObject) \
                and code < w_table.size():
            return w_table.fetch(self, code)
        raise WrappingError("no such Character")

    def unwrap_char(self, w_char):
        if isinstance(w_char, model.W_Character):
            return w_char.value
        if isinstance(w_char, model.W_PointersObject) and \
                w_char.getclass(self) is self.w_Character and w_char.size() >= 1:
            w_value = w_char.fetch(self, constants.CHARACTER_VALUE)
            if isinstance(w_value, model.W_SmallInteger):
                return w_value.value
        raise WrappingError("not a Character")

    def wrap_string(self, s):
        w_str = model.W_BytesObject(self.w_String, len(s))
        w_str.set_string(s)
        return w_str

    def wrap_list(self, items_w):
        w_array = model.W_PointersObject(self.w_Array, len(items_w), self.w_nil)
        for i in range(len(items_w)):
            w_array.slots[i] = items_w[i]
        return w_array

    def unwrap_string(self, w_obj):
        if isinstance(w_obj, model.W_BytesObject):
            return w_obj.as_string()
        raise WrappingError("not a String")

    # --- classes -------------------------------------------------------------

    def class_format(self, w_class):
        """Decode a class's format word into instance size and V3-style instSpec."""
        if not isinstance(w_class, model.W_PointersObject) or \
                w_class.size() <= constants.CLASS_FORMAT:
            raise WrappingError("not a class")
        # A class keeps its format object: traces guard on it and fold the decoding
        # (at:, at:put: and new: ask on every call).
        w_format = jit.promote(w_class.fetch(self, constants.CLASS_FORMAT))
        if not isinstance(w_format, model.W_SmallInteger):
            raise WrappingError("bad class format")
        fmt = w_format.value
        if self.is_spur:
            inst_size = fmt & 0xffff
            spec = (fmt >> 16) & 0x1f
            return ClassFormat(inst_size, spur_spec_to_v3(spec))
        inst_size = ((fmt >> 10) & 0xc0) + ((fmt >> 1) & 0x3f) - 1
        spec = (fmt >> 7) & 0xf
        return ClassFormat(inst_size, spec)

    def superclass(self, w_class):
        if isinstance(w_class, model.W_PointersObject) and \
                w_class.size() > constants.CLASS_SUPERCLASS:
            return w_class.fetch(self, constants.CLASS_SUPERCLASS)
        return self.w_nil

    def class_name(self, w_class):
        """Best-effort name of a class or metaclass, for messages."""
        if not isinstance(w_class, model.W_PointersObject):
            return "?"
        name = self._own_class_name(w_class)
        if name:
            return name
        # A metaclass: thisClass is its last instance variable (5 in Squeak 3+, 6 in 2.x,
        # 3 in minimal kernels).
        for index in [constants.METACLASS_THISCLASS, constants.METACLASS_THISCLASS + 1, 3]:
            if w_class.size() > index:
                w_this = w_class.fetch(self, index)
                if isinstance(w_this, model.W_PointersObject):
                    name = self._own_class_name(w_this)
                    if name:
                        return name + " class"
        return "?"

    def _own_class_name(self, w_class):
        """The name slot of a class: 6 in Squeak's layout, 3 in minimal bootstrapped kernels."""
        for index in [constants.CLASS_NAME, 3]:
            if w_class.size() > index:
                w_name = w_class.fetch(self, index)
                if isinstance(w_name, model.W_BytesObject):
                    return w_name.as_string()
        return ""

    def smalltalk_at(self, name):
        """Look a global up in the Smalltalk SystemDictionary (slow; not for hot paths)."""
        w_dict = self.special(constants.SO_SMALLTALK)
        if not isinstance(w_dict, model.W_PointersObject) or w_dict.size() < 2:
            return None
        w_array = w_dict.fetch(self, 1)
        if not isinstance(w_array, model.W_PointersObject):
            return None
        for w_assoc in w_array.slots:
            if isinstance(w_assoc, model.W_PointersObject) and w_assoc.size() >= 2:
                w_key = w_assoc.fetch(self, constants.ASSOCIATION_KEY)
                if isinstance(w_key, model.W_BytesObject) and w_key.as_string() == name:
                    return w_assoc.fetch(self, constants.ASSOCIATION_VALUE)
        return None


def spur_spec_to_v3(spec):
    """Map Spur's 5-bit instSpec onto the V3 numbering the VM uses internally."""
    if spec <= 4:
        return spec
    if spec == 5:      # ephemeron: treat as fixed pointers
        return constants.FMT_FIXED
    if spec == 9:      # 64-bit indexable
        return 5
    if spec in (10, 11):
        return constants.FMT_WORDS
    if 12 <= spec <= 15:
        return 7       # 16-bit indexable: kept distinct
    if 16 <= spec <= 23:
        return constants.FMT_BYTES + (spec & 3)
    if spec >= 24:
        return constants.FMT_COMPILED_METHOD + (spec & 3)
    return constants.FMT_INVALID  # 6, 7, 8: reserved, immediates, forwarders
