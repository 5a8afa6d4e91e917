"""How deep a method's operand stack really gets (V3PlusClosures and SistaV1).

A context is as big as its method's frame. The header only says "small" (16 slots)
or "large" (56), but a send allocates the frame and compiled code carries every slot
of it in registers, so the frame is sized from the bytecodes instead: the deepest
stack any path reaches, over the method body and the bodies of its closures.

max_slots() follows every path from pc 0 (the stack starts above the temporaries)
and from each closure body (above the block's arguments and copied values), and
answers the largest slot count seen, or -1 when the bytecodes are not understood
(then the caller keeps the header's frame size).
"""

from spyvm import bytecodes

# Arguments of the special selectors 176-207; the same table in every Squeak image
# since the Blue Book (at:put: takes 2, the unary ones 0).
SPECIAL_ARGCOUNTS = [1] * 16 + [1, 2, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0]

UNKNOWN = -1


def _jump_target(pc, length, offset):
    return pc + length + offset


def _byte(bytes, i):
    if i < len(bytes):
        return ord(bytes[i])
    return -1


# (pops, pushes) of the bytecodes whose effect their name alone decides, in both
# sets (names of spyvm/bytecodes.py); they all fall through to the next bytecode.
_PLAIN = {
    "pushReceiverVariable": (0, 1), "pushTemporaryVariable": (0, 1),
    "pushLiteralConstant": (0, 1), "pushLiteralVariable": (0, 1), "pushConstant": (0, 1),
    "duplicateTop": (0, 1), "pushActiveContext": (0, 1), "extPushPseudoVariable": (0, 1),
    "storeAndPopReceiverVariable": (1, 0), "storeAndPopTemporaryVariable": (1, 0),
    "popStack": (1, 0), "extNop": (0, 0),
    "extendedPush": (0, 1), "extendedStore": (0, 0), "extendedStoreAndPop": (1, 0),
    "extPushReceiverVariable": (0, 1), "extPushLiteralVariable": (0, 1),
    "extPushLiteral": (0, 1), "longPushTemporaryVariable": (0, 1),
    "extPushInteger": (0, 1), "extPushCharacter": (0, 1),
    "extStoreAndPopReceiverVariable": (1, 0), "extStoreAndPopLiteralVariable": (1, 0),
    "longStoreAndPopTemporaryVariable": (1, 0), "extStoreReceiverVariable": (0, 0),
    "extStoreLiteralVariable": (0, 0), "longStoreTemporaryVariable": (0, 0),
    "callPrimitive": (0, 0), "pushRemoteTemp": (0, 1), "storeRemoteTemp": (0, 0),
    "storeAndPopRemoteTemp": (1, 0),
}

_LITERAL_SEND_ARGS = {"sendLiteralSelector0Args": 0, "sendLiteralSelector1Arg": 1,
                      "sendLiteralSelector2Args": 2}


def _fixed_effects(names, lengths, first_special, return_top):
    """(length, pops, pushes, falls through) of the bytecodes whose effect does not
    depend on their operand bytes; length 0 for the others. first_special: the
    byte of the first special-selector send; return_top: returnTop's byte."""
    table = [(0, 0, 0, False)] * 256
    for b in range(0, 256):
        name = names[b]
        length = lengths[b]
        if name in _PLAIN:
            pops, pushes = _PLAIN[name]
            table[b] = (length, pops, pushes, True)
        elif name == "returnSpecial":
            table[b] = (length, 1 if b == return_top else 0, 0, False)
        elif name == "blockReturn":
            table[b] = (length, 1, 0, False)
        elif name == "blockReturnNil":
            table[b] = (length, 0, 0, False)
        elif name == "sendArithmeticSelector" or name == "sendSpecialSelector":
            table[b] = (length, SPECIAL_ARGCOUNTS[b - first_special] + 1, 1, True)
        elif name in _LITERAL_SEND_ARGS:
            table[b] = (length, _LITERAL_SEND_ARGS[name] + 1, 1, True)
    return table


FIXED_EFFECTS = _fixed_effects(bytecodes.V3_NAMES, bytecodes.V3_LENGTHS, 176, 124)
NOT_UNDERSTOOD = (0, 0, 0, -1, False, -1, 0)


def _step(bytes, pc):
    """(length, pops, pushes, jump target or -1, falls through, closure body or -1,
    closure body's starting depth). length 0: not understood."""
    b = ord(bytes[pc])
    length, pops, pushes, falls = FIXED_EFFECTS[b]
    if length > 0:
        return length, pops, pushes, -1, falls, -1, 0
    name = bytecodes.V3_NAMES[b]
    length = bytecodes.V3_LENGTHS[b]
    for i in range(1, length):
        if _byte(bytes, pc + i) < 0:
            return NOT_UNDERSTOOD
    d = _byte(bytes, pc + 1)
    if name == "singleExtendedSend" or name == "singleExtendedSuper":
        return length, (d >> 5) + 1, 1, -1, True, -1, 0      # args in the operand
    if name == "secondExtendedSend":
        return length, (d >> 6) + 1, 1, -1, True, -1, 0
    if name == "doubleExtendedDoAnything":
        op = d >> 5
        if op <= 1:
            return length, (d & 31) + 1, 1, -1, True, -1, 0
        if op <= 4:
            return length, 0, 1, -1, True, -1, 0
        if op == 6:
            return length, 1, 0, -1, True, -1, 0
        return length, 0, 0, -1, True, -1, 0
    if name == "pushNewArray":
        if d & 128:
            return length, d & 127, 1, -1, True, -1, 0
        return length, 0, 1, -1, True, -1, 0
    if name == "pushClosureCopy":
        num_copied = d >> 4
        num_args = d & 15
        block_size = (_byte(bytes, pc + 2) << 8) | _byte(bytes, pc + 3)
        # Execution goes on after the body; the body runs in a context of its own.
        return (length, num_copied, 1, pc + length + block_size, False, pc + length,
                num_args + num_copied)
    if name == "shortUnconditionalJump":
        return length, 0, 0, _jump_target(pc, length, (b & 7) + 1), False, -1, 0
    if name == "shortConditionalJumpFalse":
        return length, 1, 0, _jump_target(pc, length, (b & 7) + 1), True, -1, 0
    if name == "longUnconditionalJump":
        return length, 0, 0, _jump_target(pc, length, ((b & 7) - 4) * 256 + d), False, -1, 0
    if name == "longJumpIfTrue" or name == "longJumpIfFalse":
        return length, 1, 0, _jump_target(pc, length, (b & 3) * 256 + d), True, -1, 0
    return NOT_UNDERSTOOD                # 126 and 127 are unused


SISTA_FIXED_EFFECTS = _fixed_effects(bytecodes.SISTA_NAMES, bytecodes.SISTA_LENGTHS, 96, 92)
# Prefixes before one bytecode: more than this many is not a method a compiler made.
MAX_EXTENSIONS = 4


def _step_sista(bytes, pc):
    """_step for SistaV1: extA/extB prefixes count as part of the bytecode they
    extend."""
    start = pc
    ext_a = 0
    ext_b = 0
    n_ext_b = 0
    b = _byte(bytes, pc)
    count = 0
    while b == bytecodes.EXT_A or b == bytecodes.EXT_B:
        d = _byte(bytes, pc + 1)
        if d < 0 or count >= MAX_EXTENSIONS:
            return NOT_UNDERSTOOD
        if b == bytecodes.EXT_A:
            ext_a = (ext_a << 8) + d
        elif n_ext_b == 0 and d > 127:
            ext_b = d - 256
            n_ext_b += 1
        else:
            ext_b = (ext_b << 8) + d
            n_ext_b += 1
        count += 1
        pc += 2
        b = _byte(bytes, pc)
    if b < 0:
        return NOT_UNDERSTOOD
    prefix = pc - start
    length, pops, pushes, falls = SISTA_FIXED_EFFECTS[b]
    if length > 0:
        if pc + length > len(bytes):
            return NOT_UNDERSTOOD
        return prefix + length, pops, pushes, -1, falls, -1, 0
    name = bytecodes.SISTA_NAMES[b]
    length = bytecodes.SISTA_LENGTHS[b]
    if pc + length > len(bytes):
        return NOT_UNDERSTOOD
    d = _byte(bytes, pc + 1)
    total = prefix + length
    if name == "unconditionalTrap":
        return total, 0, 0, -1, False, -1, 0
    if name == "shortUnconditionalJump":
        return total, 0, 0, start + total + (b & 7) + 1, False, -1, 0
    if name == "shortConditionalJumpTrue" or name == "shortConditionalJumpFalse":
        return total, 1, 0, start + total + (b & 7) + 1, True, -1, 0
    if name == "extUnconditionalJump":
        return total, 0, 0, start + total + d + (ext_b << 8), False, -1, 0
    if name == "extJumpIfTrue" or name == "extJumpIfFalse":
        return total, 1, 0, start + total + d + (ext_b << 8), True, -1, 0
    if name == "extSend" or name == "extSendSuper":
        nargs = (d & 7) + (ext_b << 3)
        directed = 0
        if name == "extSendSuper" and ext_b >= bytecodes.DIRECTED_SUPER_EXT_B:
            nargs = (d & 7) + ((ext_b & 63) << 3)
            directed = 1
        if nargs < 0:
            return NOT_UNDERSTOOD
        return total, nargs + 1 + directed, 1, -1, True, -1, 0
    if name == "pushNewArray":
        if d & 128:
            return total, d & 127, 1, -1, True, -1, 0
        return total, 0, 1, -1, True, -1, 0
    if name == "pushFullClosure":
        flags = _byte(bytes, pc + 2)
        pops = flags & bytecodes.FULL_CLOSURE_NUM_COPIED_MASK
        if flags & bytecodes.FULL_CLOSURE_RECEIVER_ON_STACK:
            pops += 1
        return total, pops, 1, -1, True, -1, 0
    if name == "pushClosureCopy":
        if ext_a < 0:
            return NOT_UNDERSTOOD
        num_args = (d & 7) + (ext_a & 15) * 8
        num_copied = ((d >> 3) & 7) + (ext_a >> 4) * 8
        block_size = _byte(bytes, pc + 2) + (ext_b << 8)
        if block_size < 0:
            return NOT_UNDERSTOOD
        body = start + total
        return total, num_copied, 1, body + block_size, False, body, num_args + num_copied
    return NOT_UNDERSTOOD        # unknown bytes, trap, a prefix without a bytecode


def max_slots(bytes, start, num_temps, limit, sista=False):
    """The most slots (temporaries and operand stack) a context running these
    bytecodes holds, following every path from `start` (the first bytecode) and
    from every closure body; -1 if a path leaves the bytecodes, pops below the
    temporaries, runs an unknown bytecode or needs more than `limit` slots."""
    n = len(bytes)
    if start < 0 or start > n:
        return UNKNOWN
    depth_at = [-1] * (n + 1)
    floor_at = [0] * (n + 1)       # slots that belong to the activation, not the stack
    work = []
    depth_at[start] = num_temps
    floor_at[start] = num_temps
    work.append(start)
    deepest = num_temps
    while work:
        pc = work.pop()
        depth = depth_at[pc]
        floor = floor_at[pc]
        if pc >= n:
            return UNKNOWN       # ran off the end
        if sista:
            length, pops, pushes, target, falls, body, body_depth = _step_sista(bytes, pc)
        else:
            length, pops, pushes, target, falls, body, body_depth = _step(bytes, pc)
        if length == 0:
            return UNKNOWN
        if depth - pops < floor:
            return UNKNOWN       # pops into the temporaries
        after = depth - pops + pushes
        if after > deepest:
            deepest = after
        if deepest > limit:
            return UNKNOWN
        nexts = []
        if falls:
            nexts.append((pc + length, after, floor))
        if target >= 0:
            nexts.append((target, after, floor))
        if body >= 0:
            nexts.append((body, body_depth, body_depth))
            if body_depth > deepest:
                deepest = body_depth
        for next_pc, next_depth, next_floor in nexts:
            if next_pc < 0 or next_pc > n:
                return UNKNOWN
            if next_depth > depth_at[next_pc]:
                # A deeper arrival; the first one decides the floor.
                if depth_at[next_pc] < 0:
                    floor_at[next_pc] = next_floor
                depth_at[next_pc] = next_depth
                work.append(next_pc)
    return deepest
