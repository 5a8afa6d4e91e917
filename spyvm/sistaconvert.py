"""Re-encode V3PlusClosures methods as SistaV1 (`cogxen-image convert --bytecodes sistav1`).

Host-side only (tools/cogxen-image), never part of the translated VM.

A method is decoded into abstract instructions (push, store, send, jump to an
old offset, ...), which are encoded again in SistaV1: jumps and closure sizes
are re-targeted by growing each one's encoding (1, 2 or 4 bytes for a jump; a
zero extB prefix fills a form shorter than its slot) until no distance changes,
so the loop ends. Block closures stay inline (SistaV1's pushClosureCopy, 250).
The literal frame and the method's trailer (the bytes after its last
instruction) are kept; the header gets its sign bit (SistaV1). The pcs of
suspended contexts and the startpcs of closures move with their instruction.

The code's end: V3 methods end with a trailer, so decoding follows the code only
as far as some instruction can reach (fall-through, jump targets, block ends).
"""

from spyvm import constants, model


class Unconvertible(Exception):
    pass


# ---------------------------------------------------------------- decoding V3

def decode_v3(code):
    """[(old offset, instruction tuple)] and the offset where the code ends."""
    out = []
    pc = 0
    end = 1
    n = len(code)

    def byte(i):
        if i >= n:
            raise Unconvertible("truncated instruction at %d" % pc)
        return ord(code[i])

    while pc < end:
        b = byte(pc)
        size = 1
        stops = False           # no fall-through
        target = -1
        if b < 16:
            ins = ("push_rcvr", b)
        elif b < 32:
            ins = ("push_temp", b - 16)
        elif b < 64:
            ins = ("push_lit", b - 32)
        elif b < 96:
            ins = ("push_litvar", b - 64)
        elif b < 104:
            ins = ("store_rcvr", b - 96, True)
        elif b < 112:
            ins = ("store_temp", b - 104, True)
        elif b < 120:
            ins = ("push_special", b - 112)    # self true false nil -1 0 1 2
        elif b < 124:
            ins = ("return_special", b - 120)
            stops = True
        elif b == 124:
            ins = ("return_top",)
            stops = True
        elif b == 125:
            ins = ("block_return",)
            stops = True
        elif b in (128, 129, 130):
            d = byte(pc + 1)
            size = 2
            kind, index = d >> 6, d & 63
            if b == 128:
                ins = [("push_rcvr", index), ("push_temp", index),
                       ("push_lit", index), ("push_litvar", index)][kind]
            else:
                if kind == 2:
                    raise Unconvertible("store into a literal constant")
                name = ["store_rcvr", "store_temp", None, "store_litvar"][kind]
                ins = (name, index, b == 130)
        elif b == 131:
            d = byte(pc + 1)
            size = 2
            ins = ("send", d & 31, d >> 5, False)
        elif b == 132:
            d, index = byte(pc + 1), byte(pc + 2)
            size = 3
            op, count = d >> 5, d & 31
            ins = [("send", index, count, False), ("send", index, count, True),
                   ("push_rcvr", index), ("push_lit", index), ("push_litvar", index),
                   ("store_rcvr", index, False), ("store_rcvr", index, True),
                   ("store_litvar", index, False)][op]
        elif b == 133:
            d = byte(pc + 1)
            size = 2
            ins = ("send", d & 31, d >> 5, True)
        elif b == 134:
            d = byte(pc + 1)
            size = 2
            ins = ("send", d & 63, d >> 6, False)
        elif b == 135:
            ins = ("pop",)
        elif b == 136:
            ins = ("dup",)
        elif b == 137:
            ins = ("push_context",)
        elif b == 138:
            size = 2
            ins = ("new_array", byte(pc + 1))
        elif b == 139:
            size = 3
            ins = ("call_primitive", byte(pc + 1), byte(pc + 2))
            # Quick primitives (^self, ^true, ^instVar, ...) never fail: such a
            # method's code is its callPrimitive alone.
            stops = 256 <= ins[1] + (ins[2] << 8) <= 519
        elif 140 <= b <= 142:
            size = 3
            ins = ("remote", b - 140, byte(pc + 1), byte(pc + 2))
        elif b == 143:
            d = byte(pc + 1)
            size = 4
            block_size = (byte(pc + 2) << 8) | byte(pc + 3)
            target = pc + 4 + block_size   # the closure is used after its block
            ins = ("closure", d >> 4, d & 15, target)
        elif 144 <= b <= 151:
            target = pc + 1 + b - 143
            ins = ("jump", "always", target)
            stops = True
        elif 152 <= b <= 159:
            target = pc + 1 + b - 151
            ins = ("jump", "false", target)
        elif 160 <= b <= 167:
            size = 2
            target = pc + 2 + (b - 164) * 256 + byte(pc + 1)
            ins = ("jump", "always", target)
            stops = True
        elif 168 <= b <= 175:
            size = 2
            target = pc + 2 + (b & 3) * 256 + byte(pc + 1)
            ins = ("jump", "true" if b < 172 else "false", target)
        elif b >= 176:
            if b < 208:
                ins = ("special_send", b - 176)
            else:
                ins = ("send", b & 15, (b - 208) >> 4, False)
        else:
            raise Unconvertible("unused bytecode %d at %d" % (b, pc))
        if target >= 0:
            if target >= n or target < 0:
                raise Unconvertible("jump out of the method at %d" % pc)
            end = max(end, target + 1)
        if not stops:
            end = max(end, pc + size + 1)
        if end > n:
            raise Unconvertible("code runs past the method's end")
        out.append((pc, ins))
        pc += size
    return out, pc


# ---------------------------------------------------------------- encoding SistaV1

EXT_A, EXT_B = 224, 225


def ext(kind, value):
    """An extA/extB prefix for value (extB signed), or nothing for 0."""
    if value == 0:
        return []
    if not -128 <= value <= 255 or (kind == EXT_B and value > 127):
        raise Unconvertible("extension %d out of range" % value)
    return [kind, value & 255]


def indexed(short_base, short_count, long_code, index):
    if index < short_count:
        return [short_base + index]
    return ext(EXT_A, index >> 8) + [long_code, index & 255]


def encode_send(lit, nargs, is_super):
    if not is_super and lit < 16 and nargs <= 2:
        return [128 + nargs * 16 + lit]
    if is_super and nargs // 8 >= 64:
        raise Unconvertible("too many arguments for a super send")
    return (ext(EXT_A, lit // 32) + ext(EXT_B, nargs // 8) +
            [235 if is_super else 234, ((lit % 32) << 3) | (nargs % 8)])


def encode_plain(ins):
    """Bytes of an instruction that does not depend on the layout."""
    op = ins[0]
    if op == "push_rcvr":
        return indexed(0, 16, 226, ins[1])
    if op == "push_litvar":
        return indexed(16, 16, 227, ins[1])
    if op == "push_lit":
        return indexed(32, 32, 228, ins[1])
    if op == "push_temp":
        return [64 + ins[1]] if ins[1] < 12 else [229, ins[1]]
    if op == "store_rcvr":
        if ins[2] and ins[1] < 8:
            return [200 + ins[1]]
        return ext(EXT_A, ins[1] >> 8) + [240 if ins[2] else 243, ins[1] & 255]
    if op == "store_temp":
        if ins[2] and ins[1] < 8:
            return [208 + ins[1]]
        return [242 if ins[2] else 245, ins[1]]
    if op == "store_litvar":
        return ext(EXT_A, ins[1] >> 8) + [241 if ins[2] else 244, ins[1] & 255]
    if op == "push_special":
        k = ins[1]
        if k < 4:
            return [76 + k]               # self true false nil
        value = k - 5                      # -1 0 1 2
        if value in (0, 1):
            return [80 + value]
        return ext(EXT_B, value >> 8) + [232, value & 255]
    if op == "return_special":
        return [88 + ins[1]]
    if op == "return_top":
        return [92]
    if op == "block_return":
        return [94]
    if op == "send":
        return encode_send(ins[1], ins[2], ins[3])
    if op == "special_send":
        return [96 + ins[1]]
    if op == "pop":
        return [216]
    if op == "dup":
        return [83]
    if op == "push_context":
        return [82]
    if op == "new_array":
        return [231, ins[1]]
    if op == "call_primitive":
        return [248, ins[1], ins[2]]
    if op == "remote":
        return [251 + ins[1], ins[2], ins[3]]
    raise AssertionError(op)


JUMP_CODES = {"always": (176, 237), "true": (184, 238), "false": (192, 239)}


def encode_jump(kind, distance, size):
    """A jump of distance (from its end) in exactly size bytes, or None."""
    short, long_code = JUMP_CODES[kind]
    if size == 1:
        return [short + distance - 1] if 1 <= distance <= 8 else None
    if kind != "always" and distance < 0:
        raise Unconvertible("a conditional jump backwards")
    high = distance >> 8
    if size == 2:
        return [long_code, distance & 255] if high == 0 else None
    if size == 4 and -128 <= high <= 127:
        return [EXT_B, high & 255, long_code, distance & 255]
    return None


def encode_closure(num_copied, num_args, block_size, size):
    a = (num_copied // 8) * 16 + num_args // 8
    if num_args // 8 > 15 or num_copied // 8 > 15:
        raise Unconvertible("too many block arguments or copied values")
    prefix = ext(EXT_A, a)
    if block_size > 255:
        prefix += ext(EXT_B, block_size >> 8)
    elif size == len(prefix) + 5:
        prefix += [EXT_B, 0]
    if len(prefix) + 3 != size:
        return None
    flags = (len(prefix) // 2) << 6 | (num_copied % 8) << 3 | (num_args % 8)
    return prefix + [250, flags, block_size & 255]


def encode(instructions, end):
    """(SistaV1 bytes, {old offset: new offset}) for decode_v3's answer."""
    sizes = []
    for pc, ins in instructions:
        if ins[0] == "jump":
            sizes.append(1)
        elif ins[0] == "closure":
            sizes.append(len(encode_closure(ins[1], ins[2], 0, 3) or [0] * 5))
        else:
            sizes.append(len(encode_plain(ins)))
    while True:
        new_at = {}
        offset = 0
        for (pc, ins), size in zip(instructions, sizes):
            new_at[pc] = offset
            offset += size
        new_at[end] = offset
        out = []
        grew = False
        for i, (pc, ins) in enumerate(instructions):
            here = new_at[pc] + sizes[i]
            if ins[0] == "jump":
                coded = encode_jump(ins[1], new_at[ins[2]] - here, sizes[i])
                grow = [2, 4] if sizes[i] == 1 else [4]
            elif ins[0] == "closure":
                coded = encode_closure(ins[1], ins[2], new_at[ins[3]] - here, sizes[i])
                grow = [sizes[i] + 2]
            else:
                out.extend(encode_plain(ins))
                continue
            if coded is None:
                if sizes[i] >= 7 or (ins[0] == "jump" and sizes[i] == 4):
                    raise Unconvertible("a jump or block too far")
                sizes[i] = grow[0]
                grew = True
            else:
                out.extend(coded)
        if not grew:
            return "".join(chr(b) for b in out), new_at


def convert_bytes(code):
    """SistaV1 for the V3PlusClosures code at the start of `code` (trailer kept)."""
    instructions, end = decode_v3(code)
    starts = set(pc for pc, ins in instructions)
    starts.add(end)
    for pc, ins in instructions:
        if ins[0] in ("jump", "closure") and ins[-1] not in starts:
            raise Unconvertible("a jump into an instruction at %d" % pc)
    new_code, new_at = encode(instructions, end)
    return new_code + code[end:], new_at


# ---------------------------------------------------------------- whole images

def convert_image(loaded):
    """Convert every V3PlusClosures method of a loaded Spur image. Answers
    (converted, kept as V3, moved context pcs, moved closure startpcs)."""
    space = loaded.space
    if not space.is_spur:
        raise Unconvertible("only Spur images hold SistaV1 methods")
    moved = {}
    kept = 0
    for w_obj in loaded.objects_w:
        if isinstance(w_obj, model.W_CompiledMethod) and w_obj.new_header \
                and not w_obj.sista:
            try:
                new_bytes, new_at = convert_bytes(w_obj.bytes)
            except Unconvertible:
                kept += 1
                continue
            moved[w_obj] = new_at
    contexts = closures = 0
    w_block_closure = space.w_BlockClosure
    for w_obj in loaded.objects_w:
        if isinstance(w_obj, model.W_Context):
            new_at = moved.get(w_obj.w_method)
            if new_at is not None and w_obj.pc >= 0:
                if w_obj.pc not in new_at:
                    raise Unconvertible("a context's pc %d is no instruction's in %r (%s)"
                                        % (w_obj.pc, w_obj.w_method.bytes, sorted(new_at)))
                w_obj.pc = new_at[w_obj.pc]
                contexts += 1
        elif isinstance(w_obj, model.W_PointersObject) and \
                w_block_closure is not None and w_obj.getclass(space) is w_block_closure:
            w_outer = w_obj.slots[constants.CLOSURE_OUTER_CONTEXT]
            w_start = w_obj.slots[constants.CLOSURE_STARTPC]
            if isinstance(w_outer, model.W_Context) and isinstance(w_start, model.W_SmallInteger):
                new_at = moved.get(w_outer.w_method)
                if new_at is not None:
                    base = w_outer.w_method.literal_bytes() + 1
                    w_obj.slots[constants.CLOSURE_STARTPC] = space.wrap_int(
                        new_at[w_start.value - base] + base)
                    closures += 1
    for w_method, new_at in moved.items():
        new_bytes, _ = convert_bytes(w_method.bytes)
        w_method.set_header(w_method.header + space.minint)
        w_method.set_bytes(new_bytes)
    return len(moved), kept, contexts, closures
