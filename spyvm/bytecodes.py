"""The bytecode sets, declared once: which bytes do what, under VMMaker's names.

Each set is a list of (first byte, last byte, name, length in bytes). The
interpreter builds its dispatch tables from these names (interpreter.py), the
frame sizer reads lengths and names (stackdepth.py), and JIT logs print the
names (get_printable_location). A method chooses its set by its header: in Spur
images a negative header SmallInteger selects the alternate set, SistaV1 (see
W_CompiledMethod.set_header).

SistaV1's prefixes extA (224) and extB (225) widen the operand of the bytecode
that follows them: extA accumulates unsigned (extA * 256 + byte), extB's first
byte is signed (-128..127) and later ones accumulate the same way. Their length
here is that of the prefix alone.
"""

# Special selectors: 32 sends whose selectors and argument counts the image keeps
# in its special objects array; V3 sends them with 176-207, SistaV1 with 96-127.

V3_PLUS_CLOSURES = [
    (0, 15, "pushReceiverVariable", 1),
    (16, 31, "pushTemporaryVariable", 1),
    (32, 63, "pushLiteralConstant", 1),
    (64, 95, "pushLiteralVariable", 1),
    (96, 103, "storeAndPopReceiverVariable", 1),
    (104, 111, "storeAndPopTemporaryVariable", 1),
    (112, 119, "pushConstant", 1),          # self true false nil -1 0 1 2
    (120, 124, "returnSpecial", 1),         # self true false nil top
    (125, 125, "blockReturn", 1),
    (126, 127, "unknownBytecode", 1),
    (128, 128, "extendedPush", 2),
    (129, 129, "extendedStore", 2),
    (130, 130, "extendedStoreAndPop", 2),
    (131, 131, "singleExtendedSend", 2),
    (132, 132, "doubleExtendedDoAnything", 3),
    (133, 133, "singleExtendedSuper", 2),
    (134, 134, "secondExtendedSend", 2),
    (135, 135, "popStack", 1),
    (136, 136, "duplicateTop", 1),
    (137, 137, "pushActiveContext", 1),
    (138, 138, "pushNewArray", 2),
    (139, 139, "callPrimitive", 3),
    (140, 140, "pushRemoteTemp", 3),
    (141, 141, "storeRemoteTemp", 3),
    (142, 142, "storeAndPopRemoteTemp", 3),
    (143, 143, "pushClosureCopy", 4),
    (144, 151, "shortUnconditionalJump", 1),
    (152, 159, "shortConditionalJumpFalse", 1),
    (160, 167, "longUnconditionalJump", 2),
    (168, 171, "longJumpIfTrue", 2),
    (172, 175, "longJumpIfFalse", 2),
    (176, 191, "sendArithmeticSelector", 1),
    (192, 207, "sendSpecialSelector", 1),
    (208, 223, "sendLiteralSelector0Args", 1),
    (224, 239, "sendLiteralSelector1Arg", 1),
    (240, 255, "sendLiteralSelector2Args", 1),
]

SISTA_V1 = [
    (0, 15, "pushReceiverVariable", 1),
    (16, 31, "pushLiteralVariable", 1),
    (32, 63, "pushLiteralConstant", 1),
    (64, 75, "pushTemporaryVariable", 1),
    (76, 81, "pushConstant", 1),            # self true false nil 0 1
    (82, 82, "extPushPseudoVariable", 1),   # thisContext (extB 0)
    (83, 83, "duplicateTop", 1),
    (84, 87, "unknownBytecode", 1),
    (88, 92, "returnSpecial", 1),           # self true false nil top
    (93, 93, "blockReturnNil", 1),
    (94, 94, "blockReturn", 1),
    (95, 95, "extNop", 1),
    (96, 111, "sendArithmeticSelector", 1),
    (112, 127, "sendSpecialSelector", 1),
    (128, 143, "sendLiteralSelector0Args", 1),
    (144, 159, "sendLiteralSelector1Arg", 1),
    (160, 175, "sendLiteralSelector2Args", 1),
    (176, 183, "shortUnconditionalJump", 1),
    (184, 191, "shortConditionalJumpTrue", 1),
    (192, 199, "shortConditionalJumpFalse", 1),
    (200, 207, "storeAndPopReceiverVariable", 1),
    (208, 215, "storeAndPopTemporaryVariable", 1),
    (216, 216, "popStack", 1),
    (217, 217, "unconditionalTrap", 1),
    (218, 223, "unknownBytecode", 1),
    (224, 224, "extA", 2),
    (225, 225, "extB", 2),
    (226, 226, "extPushReceiverVariable", 2),
    (227, 227, "extPushLiteralVariable", 2),
    (228, 228, "extPushLiteral", 2),
    (229, 229, "longPushTemporaryVariable", 2),
    (230, 230, "unknownBytecode", 1),
    (231, 231, "pushNewArray", 2),
    (232, 232, "extPushInteger", 2),
    (233, 233, "extPushCharacter", 2),
    (234, 234, "extSend", 2),
    (235, 235, "extSendSuper", 2),
    (236, 236, "unknownBytecode", 1),
    (237, 237, "extUnconditionalJump", 2),
    (238, 238, "extJumpIfTrue", 2),
    (239, 239, "extJumpIfFalse", 2),
    (240, 240, "extStoreAndPopReceiverVariable", 2),
    (241, 241, "extStoreAndPopLiteralVariable", 2),
    (242, 242, "longStoreAndPopTemporaryVariable", 2),
    (243, 243, "extStoreReceiverVariable", 2),
    (244, 244, "extStoreLiteralVariable", 2),
    (245, 245, "longStoreTemporaryVariable", 2),
    (246, 247, "unknownBytecode", 1),
    (248, 248, "callPrimitive", 3),
    (249, 249, "pushFullClosure", 3),
    (250, 250, "pushClosureCopy", 3),
    (251, 251, "pushRemoteTemp", 3),
    (252, 252, "storeRemoteTemp", 3),
    (253, 253, "storeAndPopRemoteTemp", 3),
    (254, 255, "unknownBytecode", 1),
]

EXT_A = 224
EXT_B = 225

# pushFullClosure's flag byte: copied values in the low 6 bits, then whether the
# closure has no outer context, then whether its receiver is on the stack (under
# the copied values) rather than the active receiver.
FULL_CLOSURE_NUM_COPIED_MASK = 63
FULL_CLOSURE_IGNORE_OUTER = 64
FULL_CLOSURE_RECEIVER_ON_STACK = 128

# callPrimitive's second byte: the high bit marks an inline primitive (Sista's
# optimized code); a method's own primitive has it clear.
CALL_PRIMITIVE_INLINE = 128

# extSendSuper with extB >= 64: a directed super send, the class to start the
# lookup above is on the stack (above the arguments).
DIRECTED_SUPER_EXT_B = 64


def _expand(table):
    """Per byte: (name, length); every byte covered exactly once."""
    names = [""] * 256
    lengths = [0] * 256
    for first, last, name, length in table:
        for b in range(first, last + 1):
            assert names[b] == "", "byte %d declared twice" % b
            names[b] = name
            lengths[b] = length
    for b in range(256):
        assert names[b] != "", "byte %d not declared" % b
    return names, lengths


V3_NAMES, V3_LENGTHS = _expand(V3_PLUS_CLOSURES)
SISTA_NAMES, SISTA_LENGTHS = _expand(SISTA_V1)


def names_for(sista):
    if sista:
        return SISTA_NAMES
    return V3_NAMES


def lengths_for(sista):
    if sista:
        return SISTA_LENGTHS
    return V3_LENGTHS


def build_dispatch(table_names, handlers):
    """The 256 handlers of a set, looked up by name (a KeyError here means a name
    in the table has no handler: a mistake caught at import)."""
    return [handlers[name] for name in table_names]
