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


def _fixed_effects():
    """(length, pops, pushes, falls through) of the bytecodes whose effect does not
    depend on their operand bytes; length 0 for the others."""
    table = [(0, 0, 0, False)] * 256
    for b in range(0, 256):
        if b < 96 or 112 <= b < 120 or b == 136 or b == 137:
            table[b] = (1, 0, 1, True)       # pushes: variables, literals, constants
        elif b < 112 or b == 135:
            table[b] = (1, 1, 0, True)       # pop-and-store, pop
        elif b < 124:
            table[b] = (1, 0, 0, False)      # return receiver/true/false/nil
        elif b < 126:
            table[b] = (1, 1, 0, False)      # return top, block return
        elif b in (128, 129, 130):
            table[b] = (2, 1 if b == 130 else 0, 1 if b == 128 else 0, True)
        elif 139 <= b <= 142:
            table[b] = (3, 1 if b == 142 else 0, 1 if b == 140 else 0, True)
        elif 176 <= b < 208:
            table[b] = (1, SPECIAL_ARGCOUNTS[b - 176] + 1, 1, True)
        elif b >= 208:
            table[b] = (1, (b - 208) // 16 + 1, 1, True)   # literal sends, 0-2 args
    return table


FIXED_EFFECTS = _fixed_effects()
NOT_UNDERSTOOD = (0, 0, 0, -1, False, -1, 0)


def _step(bytes, pc):
    """(length, pops, pushes, jump target or -1, falls through, closure body or -1,
    closure body's starting depth). length 0: not understood."""
    b = ord(bytes[pc])
    length, pops, pushes, falls = FIXED_EFFECTS[b]
    if length > 0:
        return length, pops, pushes, -1, falls, -1, 0
    if b < 128:
        return NOT_UNDERSTOOD                # 126 and 127 are unused
    if b == 131 or b == 133 or b == 134:        # extended sends: args in the operand
        d = _byte(bytes, pc + 1)
        if d < 0:
            return NOT_UNDERSTOOD
        nargs = (d >> 6) if b == 134 else (d >> 5)
        return 2, nargs + 1, 1, -1, True, -1, 0
    if b == 132:
        d1 = _byte(bytes, pc + 1)
        if d1 < 0 or _byte(bytes, pc + 2) < 0:
            return NOT_UNDERSTOOD
        op = d1 >> 5
        if op <= 1:
            return 3, (d1 & 31) + 1, 1, -1, True, -1, 0
        if op <= 4:
            return 3, 0, 1, -1, True, -1, 0
        if op == 6:
            return 3, 1, 0, -1, True, -1, 0
        return 3, 0, 0, -1, True, -1, 0
    if b == 138:
        d = _byte(bytes, pc + 1)
        if d < 0:
            return NOT_UNDERSTOOD
        if d & 128:
            return 2, d & 127, 1, -1, True, -1, 0
        return 2, 0, 1, -1, True, -1, 0
    if b == 143:
        d = _byte(bytes, pc + 1)
        hi = _byte(bytes, pc + 2)
        lo = _byte(bytes, pc + 3)
        if d < 0 or hi < 0 or lo < 0:
            return NOT_UNDERSTOOD
        num_copied = d >> 4
        num_args = d & 15
        block_size = (hi << 8) | lo
        # Execution goes on after the body; the body runs in a context of its own.
        return 4, num_copied, 1, pc + 4 + block_size, False, pc + 4, num_args + num_copied
    if b < 152:
        return 1, 0, 0, _jump_target(pc, 1, (b & 7) + 1), False, -1, 0
    if b < 160:
        return 1, 1, 0, _jump_target(pc, 1, (b & 7) + 1), True, -1, 0
    d = _byte(bytes, pc + 1)
    if b < 176 and d < 0:
        return NOT_UNDERSTOOD
    if b < 168:
        return 2, 0, 0, _jump_target(pc, 2, ((b & 7) - 4) * 256 + d), False, -1, 0
    if b < 176:
        return 2, 1, 0, _jump_target(pc, 2, (b & 3) * 256 + d), True, -1, 0
    return NOT_UNDERSTOOD


# SistaV1, by the names of spyvm/bytecodes.py: (pops, pushes, falls through) of the
# bytecodes whose effect their name alone decides.
_SISTA_PLAIN = {
    "pushReceiverVariable": (0, 1), "pushLiteralVariable": (0, 1),
    "pushLiteralConstant": (0, 1), "pushTemporaryVariable": (0, 1),
    "pushConstant": (0, 1), "extPushPseudoVariable": (0, 1), "duplicateTop": (0, 1),
    "extNop": (0, 0), "storeAndPopReceiverVariable": (1, 0),
    "storeAndPopTemporaryVariable": (1, 0), "popStack": (1, 0),
    "extPushReceiverVariable": (0, 1), "extPushLiteralVariable": (0, 1),
    "extPushLiteral": (0, 1), "longPushTemporaryVariable": (0, 1),
    "extPushInteger": (0, 1), "extPushCharacter": (0, 1),
    "extStoreAndPopReceiverVariable": (1, 0), "extStoreAndPopLiteralVariable": (1, 0),
    "longStoreAndPopTemporaryVariable": (1, 0), "extStoreReceiverVariable": (0, 0),
    "extStoreLiteralVariable": (0, 0), "longStoreTemporaryVariable": (0, 0),
    "callPrimitive": (0, 0), "pushRemoteTemp": (0, 1), "storeRemoteTemp": (0, 0),
    "storeAndPopRemoteTemp": (1, 0),
}


def _sista_fixed_effects():
    table = [(0, 0, 0)] * 256
    for b in range(256):
        name = bytecodes.SISTA_NAMES[b]
        if name in _SISTA_PLAIN:
            pops, pushes = _SISTA_PLAIN[name]
            table[b] = (bytecodes.SISTA_LENGTHS[b], pops, pushes)
        elif name == "sendArithmeticSelector" or name == "sendSpecialSelector":
            table[b] = (1, SPECIAL_ARGCOUNTS[b - 96] + 1, 1)
        elif name.startswith("sendLiteralSelector"):
            table[b] = (1, (b - 128) // 16 + 1, 1)
    return table


SISTA_FIXED_EFFECTS = _sista_fixed_effects()
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
    length, pops, pushes = SISTA_FIXED_EFFECTS[b]
    if length > 0:
        if pc + length > len(bytes):
            return NOT_UNDERSTOOD
        return prefix + length, pops, pushes, -1, True, -1, 0
    name = bytecodes.SISTA_NAMES[b]
    length = bytecodes.SISTA_LENGTHS[b]
    if pc + length > len(bytes):
        return NOT_UNDERSTOOD
    d = _byte(bytes, pc + 1)
    total = prefix + length
    if name == "returnSpecial":
        return total, (1 if b == 92 else 0), 0, -1, False, -1, 0
    if name == "unconditionalTrap":
        return total, 0, 0, -1, False, -1, 0
    if name == "blockReturnNil":
        return total, 0, 0, -1, False, -1, 0
    if name == "blockReturn":
        return total, 1, 0, -1, False, -1, 0
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
