"""The object model: every Smalltalk object the VM touches is a W_Object.

Immediates (SmallInteger, Spur's Character) carry their value; heap objects carry
their class and identity hash. The representation is independent of the image
format so that V3, Spur 32-bit and later Spur 64-bit images share one interpreter:
the word size only shows in SmallInteger range and in byte-level access.
"""

from rpython.rlib.rarithmetic import r_uint, intmask
from rpython.rlib import jit, longlong2float
from rpython.rlib.objectmodel import instantiate

from spyvm import constants, stackdepth


class W_Object(object):
    """Root of the object model."""
    _attrs_ = []
    _settled_ = True

    def getclass(self, space):
        raise NotImplementedError

    def size(self):
        """Number of slots visible to instVarAt:/basicAt: together (0 for bytes/words count
        is returned by the subclasses)."""
        return 0

    def is_same_object(self, other):
        return self is other

    def gethash(self, space):
        raise NotImplementedError

    def fetch(self, space, index0):
        raise IndexError

    def store(self, space, index0, w_value):
        raise IndexError

    def as_string(self):
        return "<%s>" % (self.__class__.__name__,)

    def classname(self, space):
        return space.class_name(self.getclass(space))


class W_SmallInteger(W_Object):
    _attrs_ = ['value']
    _immutable_fields_ = ['value']

    def __init__(self, value):
        self.value = value

    def getclass(self, space):
        return space.w_SmallInteger

    def is_same_object(self, other):
        return isinstance(other, W_SmallInteger) and other.value == self.value

    def gethash(self, space):
        return self.value

    def as_string(self):
        return str(self.value)

    def __repr__(self):
        return "W_SmallInteger(%d)" % self.value


class W_Character(W_Object):
    """Spur's immediate Character (V3 Characters are ordinary pointers objects)."""
    _attrs_ = ['value']
    _immutable_fields_ = ['value']

    def __init__(self, value):
        self.value = value

    def getclass(self, space):
        return space.w_Character

    def is_same_object(self, other):
        return isinstance(other, W_Character) and other.value == self.value

    def gethash(self, space):
        return self.value

    def as_string(self):
        return "$" + chr(self.value & 0xff)


class W_HeapObject(W_Object):
    """An object with a class pointer and an identity hash.

    save_oop belongs to the image writers: while an image is being written, -1
    once the object is listed, then its place in the file (the writer's encoding,
    never 0); 0 otherwise. A field, rather than a table of the objects, keeps saving a big heap
    fast and its memory near the image's size."""
    _attrs_ = ['w_class', 'hash', 'save_oop']

    def __init__(self, w_class, hash=0):
        self.w_class = w_class
        self.hash = hash
        self.save_oop = 0

    def getclass(self, space):
        return self.w_class

    def gethash(self, space):
        if self.hash == 0:
            self.hash = space.next_hash()
        return self.hash

    def change_class(self, w_class):
        self.w_class = w_class


class W_PointersObject(W_HeapObject):
    """Fixed and indexable pointer slots in one list (fixed slots first)."""
    _attrs_ = ['slots', 'weak']

    def __init__(self, w_class, size, w_fill, hash=0):
        W_HeapObject.__init__(self, w_class, hash)
        self.slots = [w_fill] * size
        self.weak = False

    def size(self):
        return len(self.slots)

    def fetch(self, space, index0):
        return self.slots[index0]

    def store(self, space, index0, w_value):
        self.slots[index0] = w_value

    def as_string(self):
        return "<pointers %d>" % len(self.slots)


class W_BytesObject(W_HeapObject):
    _attrs_ = ['bytes']

    def __init__(self, w_class, size, hash=0):
        W_HeapObject.__init__(self, w_class, hash)
        self.bytes = ['\x00'] * size

    def size(self):
        return len(self.bytes)

    def getbyte(self, index0):
        return ord(self.bytes[index0])

    def setbyte(self, index0, value):
        self.bytes[index0] = chr(value & 0xff)

    def as_string(self):
        return "".join(self.bytes)

    def set_string(self, s):
        self.bytes = [c for c in s]


class W_WordsObject(W_HeapObject):
    """32-bit word-indexable objects (Bitmap, WordArray, V3 LargeInts are bytes)."""
    _attrs_ = ['words']

    def __init__(self, w_class, size, hash=0):
        W_HeapObject.__init__(self, w_class, hash)
        self.words = [r_uint(0)] * size

    def size(self):
        return len(self.words)

    def getword(self, index0):
        return self.words[index0]

    def setword(self, index0, value):
        self.words[index0] = r_uint(value) & r_uint(0xffffffff)


class W_Float(W_HeapObject):
    """A boxed 64-bit float; basicAt: 1 is the high 32 bits, as in Squeak."""
    _attrs_ = ['value']

    def __init__(self, w_class, value, hash=0):
        W_HeapObject.__init__(self, w_class, hash)
        self.value = value

    def size(self):
        return 2

    def getword(self, index0):
        bits = r_uint(longlong2float.float2longlong(self.value))
        if index0 == 0:
            return (bits >> 32) & r_uint(0xffffffff)
        return bits & r_uint(0xffffffff)

    def setword(self, index0, value):
        bits = r_uint(longlong2float.float2longlong(self.value))
        value = r_uint(value) & r_uint(0xffffffff)
        if index0 == 0:
            bits = (bits & r_uint(0xffffffff)) | (value << 32)
        else:
            bits = (bits & ~r_uint(0xffffffff)) | value
        self.value = longlong2float.longlong2float(intmask(bits))

    def as_string(self):
        return str(self.value)


class W_SmallFloat(W_Float):
    """Spur 64-bit's immediate float (SmallFloat64): a W_Float whose identity is its
    value, as for SmallIntegers; its class is the image's SmallFloat64."""
    _attrs_ = []

    def is_same_object(self, other):
        return isinstance(other, W_SmallFloat) and \
            longlong2float.float2longlong(other.value) == \
            longlong2float.float2longlong(self.value)

    def gethash(self, space):
        bits = longlong2float.float2longlong(self.value)
        return intmask((bits ^ (bits >> 32)) & 0x3fffffff)


# Senders of these get their header's frame: their primitives (84, 100, 188) push the
# elements of an Array in place of a couple of arguments.
PUSHES_ARRAY_ARGUMENTS = dict.fromkeys([
    "perform:withArguments:", "perform:withArguments:inSuperclass:",
    "withArgs:executeMethod:", "receiver:withArguments:executeMethod:"], True)


class MethodCode(object):
    """A method's bytecodes and their set, together: the interpreter loop reads
    them through one quasi-immutable field, so a trace records one check per
    bytecode it runs rather than one per field (traces have a bounded length)."""
    _immutable_fields_ = ['bytes', 'sista']

    def __init__(self, bytes, sista):
        self.bytes = bytes
        self.sista = sista


class W_CompiledMethod(W_HeapObject):
    """Header and literals as objects, bytecodes as an immutable string.

    The header's meaning depends on the image format (V3 or the newer layout used
    by Spur); the reader decodes it once into the fields below.
    """
    _attrs_ = ['header', 'literals', 'bytes', 'code', 'num_args', 'num_temps',
               'large_frame', 'primitive', 'new_header', 'word_size',
               'reports_unhandled_error', 'heap_frame', 'frame_slots', 'sista',
               'lookup_name']
    # Quasi-immutable: traces fold bytecodes, literals and header fields of the
    # methods they run; any change (at:put:, objectAt:put:, become:) replaces the
    # field, which invalidates those traces. Never mutate `literals` in place.
    _immutable_fields_ = ['word_size', 'header?', 'literals?[*]', 'bytes?', 'num_args?',
                          'num_temps?', 'large_frame?', 'primitive?', 'new_header?',
                          'reports_unhandled_error?', 'heap_frame?', 'frame_slots?',
                          'sista?', 'code?']

    def __init__(self, w_class, word_size, new_header, hash=0):
        W_HeapObject.__init__(self, w_class, hash)
        self.word_size = word_size
        self.new_header = new_header
        self.header = 0
        self.literals = []
        self.bytes = ""
        self.heap_frame = False
        self.frame_slots = 0        # stack_size(), once known (0: not yet)
        # The bytecode set: SistaV1 (Spur's alternate set, a negative header) or
        # V3PlusClosures (spyvm/bytecodes.py).
        self.sista = False
        self.code = MethodCode(self.bytes, False)     # bytes and sista, for the loop
        self.num_args = 0
        self.num_temps = 0
        self.large_frame = False
        self.primitive = 0
        # Set on the image's debugger entry points when running headless (see headless.py).
        self.reports_unhandled_error = False
        # Where a lookup first found it: names it in JIT logs when its literals do
        # not (methods of images older than Squeak 3.x carry no selector or class).
        self.lookup_name = None

    def header_for(self, num_literals):
        """A header for a method with num_literals literals and nothing else set."""
        if self.new_header:
            return num_literals
        return num_literals << 9

    def header_num_literals(self, header):
        if self.new_header:
            return header & 0x7fff
        return (header >> 9) & 0xff

    def set_header(self, header):
        """Decode a header SmallInteger (the literal count is the caller's business)."""
        self.header = header
        self.frame_slots = 0
        self.sista = self.new_header and header < 0
        if self.sista != self.code.sista:
            self.code = MethodCode(self.bytes, self.sista)
        self._note_heap_frame()
        self.large_frame = (header >> 17) & 1 == 1
        self.num_temps = (header >> 18) & 0x3f
        self.num_args = (header >> 24) & 0xf
        if self.new_header:
            self._decode_callprimitive((header >> 16) & 1)
        else:
            lowbits = header & 0x1ff
            highbit = (header >> 28) & 1
            self.primitive = lowbits + (highbit << 9)

    def _decode_callprimitive(self, has_prim):
        self.primitive = 0
        if has_prim and len(self.bytes) >= 3:
            self.primitive = ord(self.bytes[1]) + (ord(self.bytes[2]) << 8)

    def set_bytes(self, bytes):
        self.bytes = bytes
        self.code = MethodCode(bytes, self.sista)
        self.frame_slots = 0
        # blockCopy: (bytecode 200) makes BlockContexts, which read and write this
        # method's temporaries from their own activations: such a method's frame
        # lives on the heap, not in the JIT's registers (see W_Context). A false
        # hit in an operand byte only costs speed.
        self._note_heap_frame()
        if self.new_header:
            self._decode_callprimitive((self.header >> 16) & 1)

    def _note_heap_frame(self):
        # SistaV1 has no blockCopy: (its 200 is a store).
        self.heap_frame = not self.sista and "\xc8" in self.bytes

    def num_literals(self):
        return len(self.literals)

    def set_literal(self, index0, w_value):
        literals = self.literals[:]
        literals[index0] = w_value
        self.literals = literals
        self.frame_slots = 0

    def frame_size(self):
        if self.large_frame:
            return constants.FRAME_LARGE
        return constants.FRAME_SMALL

    def vable_stack_size(self):
        """The length of W_Context.stack for this method (0: the frame is on the heap)."""
        if self.heap_frame:
            return 0
        return self.stack_size()

    def stack_size(self):
        """The slots of every context running this method (the JIT compiles code
        for that many: see W_Context)."""
        size = self.frame_slots
        if size == 0:
            size = self._compute_frame_slots()
        return size

    @jit.dont_look_inside
    def _compute_frame_slots(self):
        """Temporaries plus the deepest stack the bytecodes reach plus FRAME_SLACK
        slots for what the VM pushes itself (doesNotUnderstand:'s Message,
        cannotReturn:, aboutToReturn:through:, run:with:in:). The header's frame
        size where the bytecodes are not understood, where they make BlockContexts
        (whose frames are on the heap anyway) and where they send one of the
        selectors whose primitives push an Array's elements."""
        size = self.frame_size()
        temps = max(self.num_temps, self.num_args)
        if not self.heap_frame and not self._sends_perform_with_arguments():
            deepest = stackdepth.max_slots(self.bytes, 0, temps, constants.FRAME_LARGE * 4,
                                           self.sista)
            if deepest >= 0:
                size = deepest + constants.FRAME_SLACK
        if temps > size:
            size = temps
        self.frame_slots = size
        return size

    def _sends_perform_with_arguments(self):
        for w_literal in self.literals:
            if isinstance(w_literal, W_BytesObject) and \
                    w_literal.as_string() in PUSHES_ARRAY_ARGUMENTS:
                return True
        return False

    def literal_bytes(self):
        """Bytes taken by header and literals: where the bytecodes start (0-based)."""
        return (len(self.literals) + 1) * self.word_size

    def size(self):
        return self.literal_bytes() + len(self.bytes)

    def fetch(self, space, index0):
        # objectAt: style access to header and literals.
        if index0 == 0:
            return space.wrap_int(self.header)
        return self.literals[index0 - 1]

    def getliteral(self, index0):
        return self.literals[index0]

    def selector(self, space):
        """The method's selector, from the penultimate literal, where images keep it
        (Squeak 3+ and Spur); pre-closure images do not (see Interpreter.find_method_owner)."""
        n = len(self.literals)
        if n >= 2:
            w_sel = self.literals[n - 2]
            if isinstance(w_sel, W_BytesObject):
                return w_sel.as_string()
            # Newer images keep an AdditionalMethodState there holding the selector.
            if isinstance(w_sel, W_PointersObject) and w_sel.size() >= 2:
                w_s = w_sel.fetch(space, 1)
                if isinstance(w_s, W_BytesObject):
                    return w_s.as_string()
        return "?"

    def printable_name(self):
        """Class>>selector from the method's lookup or literals (JIT logs have no
        object space); a CompiledBlock prints as `[] in` its method."""
        w_home = self.home_method()
        prefix = "[] in " if w_home is not self else ""
        if w_home.lookup_name is not None:
            return prefix + w_home.lookup_name
        selector = "?"
        class_name = "?"
        n = len(w_home.literals)
        if n >= 2:
            w_sel = w_home.literals[n - 2]
            if isinstance(w_sel, W_BytesObject):
                selector = w_sel.as_string()
            elif isinstance(w_sel, W_PointersObject) and w_sel.size() >= 2:
                w_s = w_sel.slots[1]          # AdditionalMethodState's selector
                if isinstance(w_s, W_BytesObject):
                    selector = w_s.as_string()
            w_binding = w_home.literals[n - 1]
            if isinstance(w_binding, W_PointersObject) and w_binding.size() >= 2:
                w_key = w_binding.slots[constants.ASSOCIATION_KEY]
                if isinstance(w_key, W_BytesObject):
                    class_name = w_key.as_string()
        return "%s%s>>%s" % (prefix, class_name, selector)

    @jit.unroll_safe      # the chain of a promoted (constant) method folds
    def home_method(self):
        """The CompiledMethod a CompiledBlock belongs to (self for a method): a
        CompiledBlock's last literal is its outer code, a method or another block."""
        w_code = self
        depth = 0
        while depth < 1000:
            n = len(w_code.literals)
            if n == 0:
                break
            w_outer = w_code.literals[n - 1]
            if not isinstance(w_outer, W_CompiledMethod):
                break
            w_code = w_outer
            depth += 1
        return w_code

    def method_class(self, space):
        n = len(self.literals)
        if n >= 1:
            w_assoc = self.literals[n - 1]
            if isinstance(w_assoc, W_PointersObject) and w_assoc.size() >= 2:
                return w_assoc.fetch(space, constants.ASSOCIATION_VALUE)
        return space.w_nil

    def swap_with(self, other):
        """Exchange everything but the Python identity (for become:)."""
        self.header, other.header = other.header, self.header
        self.literals, other.literals = other.literals, self.literals
        self.bytes, other.bytes = other.bytes, self.bytes
        self.code, other.code = other.code, self.code
        self.heap_frame, other.heap_frame = other.heap_frame, self.heap_frame
        self.frame_slots, other.frame_slots = other.frame_slots, self.frame_slots
        self.num_args, other.num_args = other.num_args, self.num_args
        self.num_temps, other.num_temps = other.num_temps, self.num_temps
        self.large_frame, other.large_frame = other.large_frame, self.large_frame
        self.primitive, other.primitive = other.primitive, self.primitive
        self.new_header, other.new_header = other.new_header, self.new_header
        self.sista, other.sista = other.sista, self.sista
        self.reports_unhandled_error, other.reports_unhandled_error = \
            other.reports_unhandled_error, self.reports_unhandled_error

    def as_string(self):
        return "<CompiledMethod>"


class W_Context(W_HeapObject):
    """MethodContext / BlockContext / Context, kept in a form the interpreter runs fast.

    `pc` is a 0-based index into the method's bytecode string (-1 when the Smalltalk
    pc is nil, i.e. the context has returned); `stack` holds arguments, temporaries and
    the operand stack (None in an operand slot never pushed: see _laid_out), `sp` is
    the Smalltalk stackp. The six fixed slots are mapped by fetch/store so the image
    can reflect on contexts as ordinary objects.

    The context an interpreter loop runs is the JIT's virtualizable: compiled code
    keeps pc, sp and the stack in registers and writes them back only when
    something else looks (reflection, a process switch, a guard failing). So the
    stack list is never replaced while code that the JIT sees runs, and its length
    is always its method's vable_stack_size() (compiled code is specialised for it).
    A method that makes BlockContexts keeps its slots in `frame` instead, an
    ordinary list: its blocks use its temporaries from other activations, and
    reading another loop's registers would force that loop out of compiled code.
    Exactly one of the two lists holds the slots; all access goes through
    slot_count, get_slot and set_slot.

    The sender is `w_sender`, or, while w_sender is None, the context behind the
    JIT virtual reference `sender_ref` ("linked"). A context is linked only while
    it runs in a nested loop called by its sender's loop (Interpreter.run_callee):
    compiled code that must allocate the callee (a call it does not inline) then
    leaves the sender in registers; reading the sender (sender()) forces it out.
    `escaped` marks a context the image may hold a reference to, other than
    through a sender chain: every context but an activation's (new_activation) from
    the start, and an activation once it is seen (thisContext, a block's home, a
    closure's outer context, a suspended process, a heap walk). Its callees are
    not linked, since the image could end it while they run.
    """
    _virtualizable_ = ['pc', 'sp', 'stack[*]']
    _attrs_ = ['w_sender', 'sender_ref', 'escaped', 'pc', 'sp', 'stack', 'frame',
               'w_method', 'w_receiver', 'w_closure', 'is_block_context', 'w_home',
               'block_nargs', 'block_startpc', 'w_slot_method', 'w_pending_pc',
               'depth', 'dead']

    def __init__(self, space, w_class, is_block_context, stack_size, hash=0):
        # Made by hand, loaded, cloned or instantiated by the image: held by it
        # (escaped), slots nil, pc nil.
        w_nil = space.w_nil
        self.init_fields(w_nil, w_class, hash, is_block_context, [w_nil] * stack_size,
                         NO_FRAME, None, w_nil, w_nil, w_nil, w_nil, True, -1, 0)

    def init_fields(self, w_nil, w_class, hash, is_block_context, stack, frame, w_method,
                    w_slot_method, w_receiver, w_closure, w_sender, escaped, pc, depth):
        """Every field, each written once: a trace records every store of an
        activation it inlines, and the trace's length is bounded."""
        self = jit.hint(self, access_directly=True, fresh_virtualizable=True)
        W_HeapObject.__init__(self, w_class, hash)
        self.w_sender = w_sender
        self.sender_ref = jit.vref_None
        self.escaped = escaped
        self.pc = pc
        # Returned, or never started: the Smalltalk pc is nil. Kept apart from pc
        # so that checking a sender or home, which may be another loop's
        # virtualizable, does not force it out of registers.
        self.dead = pc < 0
        self.sp = 0
        self.stack = stack
        self.frame = frame
        self.w_method = w_method       # the method being run (home's for BlockContext)
        self.w_slot_method = w_slot_method  # what instVarAt: 4 answers (MethodContext)
        self.w_receiver = w_receiver
        self.w_closure = w_closure     # closureOrNil (receiverMap in 6502 images)
        self.is_block_context = is_block_context
        self.w_home = w_nil            # BlockContext only
        self.block_nargs = 0
        self.block_startpc = 0         # Smalltalk (1-based) pc of the block's first bytecode
        self.w_pending_pc = w_nil      # a pc stored while no method is known yet
        self.depth = depth             # sender chain length, for the recursion bound

    # --- stack ---------------------------------------------------------------

    # --- slots: arguments, temporaries and the operand stack -----------------

    def slot_count(self):
        frame = self.frame
        if len(frame) > 0:
            return len(frame)
        return len(self.stack)

    def get_slot(self, i):
        assert i >= 0
        frame = self.frame
        if len(frame) > 0:
            return frame[i]
        return self.stack[i]

    def set_slot(self, i, w_value):
        assert i >= 0
        frame = self.frame
        if len(frame) > 0:
            frame[i] = w_value
        else:
            self.stack[i] = w_value

    def slots(self):
        """A copy of all slots, for inspection (None: an operand slot never used)."""
        return [self.get_slot(i) for i in range(self.slot_count())]

    def push(self, w_value):
        sp = self.sp
        if sp < 0 or sp >= self.slot_count():
            # Only a malformed method outgrows its declared frame.
            raise StackUnderflow
        self.set_slot(sp, w_value)
        self.sp = sp + 1

    def pop(self):
        sp = self.sp - 1
        if sp < 0:
            raise StackUnderflow
        self.sp = sp
        return self.get_slot(sp)

    def top(self):
        sp = self.sp - 1
        if sp < 0:
            raise StackUnderflow
        return self.get_slot(sp)

    def peek(self, n):
        """The n-th element from the top (0 = top)."""
        i = self.sp - 1 - n
        if i < 0:
            raise StackUnderflow
        return self.get_slot(i)

    def pop_n(self, n):
        if n > self.sp:
            raise StackUnderflow
        self.sp -= n

    def stack_at(self, i):
        """Slot i (0-based), checked: a temporary index past the activation's
        slots (a malformed method) finds an operand slot never used."""
        if i < 0 or i >= self.slot_count():
            raise StackUnderflow
        w_slot = self.get_slot(i)
        if w_slot is None:
            raise StackUnderflow
        return w_slot

    def stack_at_put(self, i, w_value):
        if i < 0 or i >= self.slot_count():
            raise StackUnderflow
        self.set_slot(i, w_value)

    def settop(self, w_value):
        sp = self.sp - 1
        if sp < 0:
            raise StackUnderflow
        self.set_slot(sp, w_value)

    def home_context(self):
        """The context holding the method temporaries (self for a MethodContext)."""
        if self.is_block_context:
            w_home = self.w_home
            if isinstance(w_home, W_Context):
                return w_home
        return self

    # A BlockContext's temporaries are its home's; a method's are its own (kept
    # apart so the running context is reached directly, not through home_context).

    def gettemp(self, index0):
        if self.is_block_context:
            return self.home_context().stack_at(index0)
        return self.stack_at(index0)

    def settemp(self, index0, w_value):
        if self.is_block_context:
            self.home_context().stack_at_put(index0, w_value)
        else:
            self.stack_at_put(index0, w_value)

    # --- pc mapping ----------------------------------------------------------

    def smalltalk_pc(self, space):
        if self.w_method is None:
            return self.w_pending_pc
        if self.dead or self.pc < 0:
            return space.w_nil
        return space.wrap_int(self.pc + self.w_method.literal_bytes() + 1)

    def set_smalltalk_pc(self, space, w_pc):
        if self.w_method is None:
            self.w_pending_pc = w_pc
            self.pc = -1
        elif isinstance(w_pc, W_SmallInteger):
            self.pc = w_pc.value - self.w_method.literal_bytes() - 1
        else:
            self.pc = -1
        self.dead = self.pc < 0

    def set_method(self, space, w_method):
        """Change the running method, keeping the Smalltalk-visible pc."""
        if self.w_method is None:
            w_pc = self.w_pending_pc
        else:
            w_pc = self.smalltalk_pc(space)
        self.w_method = w_method
        self.fit_stack(space)
        self.set_smalltalk_pc(space, w_pc)

    @jit.dont_look_inside
    def fit_stack(self, space):
        """Give the stack its method's stack_size() (see the class comment). Only a
        context whose method was changed under it, or one built by hand, needs
        it; slots that no longer fit are dropped."""
        if self.w_method is None or self.fits_method():
            return
        size = self.w_method.stack_size()
        slots = [space.w_nil] * size
        for i in range(min(size, self.slot_count())):
            slots[i] = self.get_slot(i)
        if self.w_method.heap_frame:
            self.stack = []
            self.frame = slots
        else:
            self.stack = slots
            self.frame = NO_FRAME
        if self.sp > size:
            self.sp = size

    def fits_method(self):
        w_method = self.w_method
        return w_method is None or (len(self.stack) == w_method.vable_stack_size() and
                                    self.slot_count() == w_method.stack_size())

    def is_dead(self):
        return self.dead

    def start_at(self, pc):
        """Make the context ready to run from pc (0-based)."""
        self.pc = pc
        self.dead = pc < 0

    # --- sender -------------------------------------------------------------

    def sender(self):
        """The sender (a context, or nil); a linked one becomes an ordinary
        reference, forced out of compiled code if it was still in registers."""
        w_sender = self.w_sender
        if w_sender is None:
            w_sender = self.sender_ref()
            assert w_sender is not None
            self.w_sender = w_sender
        return w_sender

    def is_linked(self):
        return self.w_sender is None

    def link_sender(self, vref):
        """Hold the sender, the calling loop's context, by vref (see the class)."""
        self.sender_ref = vref
        self.w_sender = None

    def mark_escaped(self):
        self.escaped = True

    def mark_dead(self, space):
        """It has returned: nil sender and pc (the pc field itself is left alone)."""
        self.w_sender = space.w_nil
        self.dead = True

    # --- reflection ----------------------------------------------------------

    def size(self):
        return constants.CTX_FIXED_SIZE + self.slot_count()

    def fetch(self, space, index0):
        if index0 == constants.CTX_SENDER:
            w_sender = self.sender()
            if isinstance(w_sender, W_Context):
                w_sender.mark_escaped()
            return w_sender
        if index0 == constants.CTX_PC:
            return self.smalltalk_pc(space)
        if index0 == constants.CTX_STACKP:
            return space.wrap_int(self.sp)
        if self.is_block_context:
            if index0 == constants.BCTX_NARGS:
                return space.wrap_int(self.block_nargs)
            if index0 == constants.BCTX_STARTPC:
                return space.wrap_int(self.block_startpc)
            if index0 == constants.BCTX_HOME:
                return self.w_home
        else:
            if index0 == constants.MCTX_METHOD:
                return self.w_slot_method
            if index0 == constants.MCTX_CLOSURE_OR_NIL:
                return self.w_closure
            if index0 == constants.MCTX_RECEIVER:
                return self.w_receiver
        i = index0 - constants.CTX_FIXED_SIZE
        if i < 0 or i >= self.slot_count():
            raise IndexError
        w_slot = self.get_slot(i)
        if w_slot is None:
            return space.w_nil
        return w_slot

    def store(self, space, index0, w_value):
        if index0 == constants.CTX_SENDER:
            self.w_sender = w_value
        elif index0 == constants.CTX_PC:
            self.set_smalltalk_pc(space, w_value)
        elif index0 == constants.CTX_STACKP:
            if isinstance(w_value, W_SmallInteger) and \
                    0 <= w_value.value <= self.slot_count():
                n = w_value.value
                sp = self.sp
                if sp < 0:
                    sp = 0
                for i in range(sp, n):
                    self.set_slot(i, space.w_nil)
                self.sp = n
            else:
                raise IndexError
        elif self.is_block_context:
            if index0 == constants.BCTX_NARGS:
                self.block_nargs = space.unwrap_int_or(w_value, 0)
            elif index0 == constants.BCTX_STARTPC:
                self.block_startpc = space.unwrap_int_or(w_value, 0)
            elif index0 == constants.BCTX_HOME:
                self.w_home = w_value
                w_method = None
                if isinstance(w_value, W_Context):
                    w_method = w_value.w_method
                    self.w_receiver = w_value.w_receiver
                self.set_method(space, w_method)
            else:
                self._store_stack(index0, w_value)
        else:
            if index0 == constants.MCTX_METHOD:
                self.w_slot_method = w_value
                if isinstance(w_value, W_CompiledMethod):
                    self.set_method(space, w_value)
                else:
                    self.set_method(space, None)
            elif index0 == constants.MCTX_CLOSURE_OR_NIL:
                self.w_closure = w_value
            elif index0 == constants.MCTX_RECEIVER:
                self.w_receiver = w_value
            else:
                self._store_stack(index0, w_value)

    def _store_stack(self, index0, w_value):
        i = index0 - constants.CTX_FIXED_SIZE
        if i < 0 or i >= self.slot_count():
            raise IndexError
        self.set_slot(i, w_value)

    @jit.dont_look_inside
    def copy_from(self, other):
        self.w_sender = other.sender()
        self.pc = other.pc
        self.dead = other.dead
        self.sp = other.sp
        self.stack = other.stack[:]
        self.frame = NO_FRAME
        if len(other.frame) > 0:
            self.frame = other.frame[:]
        self.w_method = other.w_method
        self.w_slot_method = other.w_slot_method
        self.w_receiver = other.w_receiver
        self.w_closure = other.w_closure
        self.is_block_context = other.is_block_context
        self.w_home = other.w_home
        self.block_nargs = other.block_nargs
        self.block_startpc = other.block_startpc
        self.w_pending_pc = other.w_pending_pc

    @jit.dont_look_inside
    def swap_with(self, other):
        """Exchange everything but the Python identity (for become:)."""
        self.w_sender, other.w_sender = other.sender(), self.sender()
        self.pc, other.pc = other.pc, self.pc
        self.dead, other.dead = other.dead, self.dead
        self.sp, other.sp = other.sp, self.sp
        self.stack, other.stack = other.stack, self.stack
        self.frame, other.frame = other.frame, self.frame
        self.w_method, other.w_method = other.w_method, self.w_method
        self.w_slot_method, other.w_slot_method = other.w_slot_method, self.w_slot_method
        self.w_receiver, other.w_receiver = other.w_receiver, self.w_receiver
        self.w_closure, other.w_closure = other.w_closure, self.w_closure
        self.is_block_context, other.is_block_context = \
            other.is_block_context, self.is_block_context
        self.w_home, other.w_home = other.w_home, self.w_home
        self.block_nargs, other.block_nargs = other.block_nargs, self.block_nargs
        self.block_startpc, other.block_startpc = other.block_startpc, self.block_startpc
        self.w_pending_pc, other.w_pending_pc = other.w_pending_pc, self.w_pending_pc

    @jit.dont_look_inside
    def remap(self, mapping):
        """Replace references per mapping (one-way become:)."""
        w_sender = self.sender()
        self.w_sender = mapping.get(w_sender, w_sender)
        w_slot_method = mapping.get(self.w_slot_method, self.w_slot_method)
        if w_slot_method is not self.w_slot_method:
            self.w_slot_method = w_slot_method
            if isinstance(w_slot_method, W_CompiledMethod):
                self.w_method = w_slot_method     # keep running what the slot says
        self.w_receiver = mapping.get(self.w_receiver, self.w_receiver)
        self.w_closure = mapping.get(self.w_closure, self.w_closure)
        self.w_home = mapping.get(self.w_home, self.w_home)
        for i in range(self.slot_count()):
            w_slot = self.get_slot(i)
            if w_slot is not None:
                self.set_slot(i, mapping.get(w_slot, w_slot))

    def as_string(self):
        return "<context pc=%d sp=%d>" % (self.pc, self.sp)


# The frame of a context whose slots are in `stack` (never written: it is empty).
NO_FRAME = []


def new_context(space, w_class, is_block_context, w_method):
    """A context laid out for running w_method (see _laid_out), its pc nil, not
    yet escaped (blockCopy: marks it)."""
    w_nil = space.w_nil
    return _laid_out(space, w_class, is_block_context, w_method, w_nil, w_nil, w_nil,
                     w_nil, -1, 0)


def new_activation(space, w_method, w_receiver, w_closure, w_sender, pc, depth):
    """A MethodContext running w_method (a closure's home method, or a
    CompiledBlock) from pc, called by w_sender; w_closure None: not a closure's.
    The caller sets the arguments and temporaries and the stack pointer above
    them. Activations start unescaped (see W_Context)."""
    return _laid_out(space, space.w_MethodContext, False, w_method, w_method, w_receiver,
                     w_closure, w_sender, pc, depth)


def _laid_out(space, w_class, is_block_context, w_method, w_slot_method, w_receiver,
              w_closure, w_sender, pc, depth):
    """An unescaped context for w_method, its slots in exactly one of stack and
    frame (see W_Context). Operand slots in `stack` start empty (None): an
    activation fills its arguments and temporaries and pushes the rest before
    reading them, so compiled code that allocates the context stores nothing
    there; reflection (fetch) reads an empty slot as nil. (No helper answering
    the two lists: its tuple would be recorded at every send a trace inlines.)"""
    w_nil = space.w_nil
    if w_closure is None:
        w_closure = w_nil
    if w_method.heap_frame:
        stack = []
        frame = [w_nil] * w_method.stack_size()
    else:
        stack = [None] * w_method.stack_size()
        frame = NO_FRAME
    w_ctx = instantiate(W_Context)
    w_ctx.init_fields(w_nil, w_class, 0, is_block_context, stack, frame, w_method,
                      w_slot_method, w_receiver, w_closure, w_sender, False, pc, depth)
    return w_ctx


class StackUnderflow(Exception):
    """Bytecodes or the image asked for a stack slot that is not there."""
