"""Handles: what a plugin answers for a file or socket it opened, for the image to
keep and pass back.

A handle is a ByteArray naming this VM session (4 bytes) and a slot of the plugin's
table (4 bytes), little-endian, padded to the size the OpenSmalltalk VM's handles
have: a handle saved in a snapshot, one whose slot was freed, or one forged fails
the primitive instead of reaching another file or socket.
"""

from rpython.rlib.rarithmetic import intmask

from spyvm.errors import PrimitiveFailed
from spyvm.model import W_BytesObject
from spyvm.platform import current as platform


class HandleTable(object):
    """Slots holding a plugin's open objects; the first `reserved` slots are filled
    by the plugin itself (FilePlugin's stdin, stdout, stderr). A mixin
    (import_from_mixin), so that each plugin's table holds its own kind of object."""

    def init_handles(self, handle_size, reserved):
        assert handle_size >= 8
        self.handle_size = handle_size
        self.reserved = reserved
        self.session = 0
        self.slots = [None] * reserved

    def session_id(self):
        if self.session == 0:
            # Differs from one run to the next, so saved handles do not match.
            self.session = (intmask(platform.monotonic_microseconds()) & 0x3fffffff) | 1
        return self.session

    def add(self, obj):
        for i in range(self.reserved, len(self.slots)):
            if self.slots[i] is None:
                self.slots[i] = obj
                return i
        self.slots.append(obj)
        return len(self.slots) - 1

    def free(self, slot):
        self.slots[slot] = None

    def handle(self, space, slot):
        w_handle = W_BytesObject(space.w_ByteArray, self.handle_size)
        session = self.session_id()
        for i in range(4):
            w_handle.setbyte(i, (session >> (8 * i)) & 0xff)
            w_handle.setbyte(4 + i, (slot >> (8 * i)) & 0xff)
        return w_handle

    def slot_of(self, w_handle):
        if not isinstance(w_handle, W_BytesObject) or w_handle.size() != self.handle_size:
            raise PrimitiveFailed
        session = 0
        slot = 0
        for i in range(4):
            session |= w_handle.getbyte(i) << (8 * i)
            slot |= w_handle.getbyte(4 + i) << (8 * i)
        if session != self.session_id() or slot >= len(self.slots) or \
                self.slots[slot] is None:
            raise PrimitiveFailed
        return slot

    def count(self):
        """How many slots past the reserved ones are in use."""
        n = 0
        for i in range(self.reserved, len(self.slots)):
            if self.slots[i] is not None:
                n += 1
        return n
