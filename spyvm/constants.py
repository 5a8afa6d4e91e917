"""Well-known indices shared by the image and the VM (Blue Book / Squeak ObjectMemory).

The image finds its VM-visible objects through the special objects array; classes
and kernel objects have fixed instance variable layouts the VM reads directly.
"""

# Special objects array (Smalltalk specialObjectsArray), 0-based.
SO_NIL = 0
SO_FALSE = 1
SO_TRUE = 2
SO_SCHEDULER_ASSOCIATION = 3
SO_BITMAP_CLASS = 4
SO_SMALLINTEGER_CLASS = 5
SO_STRING_CLASS = 6
SO_ARRAY_CLASS = 7
SO_SMALLTALK = 8
SO_FLOAT_CLASS = 9
SO_METHODCONTEXT_CLASS = 10
SO_BLOCKCONTEXT_CLASS = 11
SO_POINT_CLASS = 12
SO_LARGEPOSITIVEINTEGER_CLASS = 13
SO_DISPLAY = 14
SO_MESSAGE_CLASS = 15
SO_COMPILEDMETHOD_CLASS = 16
SO_LOW_SPACE_SEMAPHORE = 17
SO_SEMAPHORE_CLASS = 18
SO_CHARACTER_CLASS = 19
SO_DOES_NOT_UNDERSTAND = 20
SO_CANNOT_RETURN = 21
SO_PROCESS_SIGNALING_LOW_SPACE = 22
SO_SPECIAL_SELECTORS = 23
SO_CHARACTER_TABLE = 24
SO_MUST_BE_BOOLEAN = 25
SO_BYTEARRAY_CLASS = 26
SO_PROCESS_CLASS = 27
SO_COMPACT_CLASSES = 28
SO_TIMER_SEMAPHORE = 29
SO_USER_INTERRUPT_SEMAPHORE = 30
SO_CANNOT_INTERPRET = 34
SO_BLOCKCLOSURE_CLASS = 36
SO_FULLBLOCKCLOSURE_CLASS = 37     # Spur images with SistaV1 code
SO_EXTERNAL_OBJECTS_ARRAY = 38
SO_FINALIZATION_SEMAPHORE = 41
SO_LARGENEGATIVEINTEGER_CLASS = 42
SO_ABOUT_TO_RETURN = 48
SO_RUN_WITH_IN = 49

# Image format numbers.
FORMAT_V3_NO_CLOSURES = 6502
FORMAT_V3_CLOSURES = 6504
FORMAT_V3_CLOSURES_FLOATS_NATIVE = 6505
FORMAT_SPUR_32 = 6521
FORMAT_SPUR_64 = 68021

V3_FORMATS = [FORMAT_V3_NO_CLOSURES, FORMAT_V3_CLOSURES,
              FORMAT_V3_CLOSURES_FLOATS_NATIVE]

# Class layout (Behavior / ClassDescription / Class).
CLASS_SUPERCLASS = 0
CLASS_METHODDICT = 1
CLASS_FORMAT = 2
CLASS_NAME = 6        # Class>>name; a Metaclass holds thisClass at 5
METACLASS_THISCLASS = 5

# MethodDictionary: tally, array of methods, then the indexable selectors.
METHODDICT_TALLY = 0
METHODDICT_VALUES = 1
METHODDICT_FIXED = 2

# Association / Message / Point.
ASSOCIATION_KEY = 0
ASSOCIATION_VALUE = 1
MESSAGE_SELECTOR = 0
MESSAGE_ARGUMENTS = 1
MESSAGE_LOOKUP_CLASS = 2
POINT_X = 0
POINT_Y = 1

# Contexts: both kinds have six fixed fields before the stack.
CTX_SENDER = 0
CTX_PC = 1
CTX_STACKP = 2
MCTX_METHOD = 3
MCTX_CLOSURE_OR_NIL = 4
MCTX_RECEIVER = 5
BCTX_NARGS = 3
BCTX_STARTPC = 4
BCTX_HOME = 5
CTX_FIXED_SIZE = 6

# BlockClosure: outerContext, startpc, numArgs, then copied values.
CLOSURE_OUTER_CONTEXT = 0
CLOSURE_STARTPC = 1
CLOSURE_NUMARGS = 2
CLOSURE_FIXED_SIZE = 3

# FullBlockClosure: outerContext (nil when the block needs none), the CompiledBlock
# in BlockClosure's startpc slot, numArgs, receiver, then copied values.
FULL_CLOSURE_COMPILED_BLOCK = 1
FULL_CLOSURE_RECEIVER = 3
FULL_CLOSURE_FIXED_SIZE = 4

# Processes and semaphores.
SCHEDULER_PROCESS_LISTS = 0
SCHEDULER_ACTIVE_PROCESS = 1
LINK_NEXT = 0
LINKEDLIST_FIRST = 0
LINKEDLIST_LAST = 1
PROCESS_SUSPENDED_CONTEXT = 1
PROCESS_PRIORITY = 2
PROCESS_MY_LIST = 3
SEMAPHORE_EXCESS_SIGNALS = 2

# Character (V3: an ordinary object holding its value).
CHARACTER_VALUE = 0

# Object formats as the VM sees them (V3 numbering; Spur formats map onto these).
FMT_EMPTY = 0
FMT_FIXED = 1
FMT_VARIABLE = 2
FMT_FIXED_VARIABLE = 3
FMT_WEAK = 4
FMT_WORDS = 6
FMT_BYTES = 8
FMT_COMPILED_METHOD = 12

FRAME_SMALL = 16
FRAME_LARGE = 56
# Slots above a method's deepest stack for the VM's own pushes (see W_CompiledMethod).
FRAME_SLACK = 3
FMT_INVALID = -1        # Spur formats with no instances the image may create
FMT_LONGS = 5           # Spur 64-bit indexable (internal numbering)
FMT_SHORTS = 7          # Spur 16-bit indexable (internal numbering)
