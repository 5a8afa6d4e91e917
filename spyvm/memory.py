"""The memory policy: how big the heap may grow, and what happens near the limit.

The limit is `--memory SIZE`, else PYPY_GC_MAX, else half of the memory the machine
has available (/proc/meminfo; in the Xen guest, the RAM left after the kernel and the
boot files), and at most half of an address-space or data limit (ulimit -v, -d), so
that the GC runs out before malloc does. The GC is first held to seven eighths of it:
reaching that raises MemoryError, which the VM turns into the image's low-space
signal and hands the image the last eighth to recover in. Running out of that too is
a fatal "out of memory" (exit 1), never an abort.
"""

import os

from rpython.rlib import rgc

from spyvm.platform import current as platform

# The GC's nursery (targetcogxen.py installs nursery_size): NURSERY_SIZE, or
# NURSERY_MIN on machines with less than SMALL_MACHINE of memory (guests: at
# 64 MB, nurseries of 1.75, 1.77 and 3 MB made a runaway recursion abort instead
# of ending with "out of memory"; 1, 1.5 and 2 MB did not). The first major
# collection comes at 8 nurseries, RPython's default.
NURSERY_SIZE = 8 * 1024 * 1024
NURSERY_MIN = 1024 * 1024
SMALL_MACHINE = 128 * 1024 * 1024
# RPython decays the JIT's counters at every minor collection, by 4% (decay 40)
# unless told, which suited the 4 MB nursery this VM had: with twice the
# nursery, twice the decay, so that code must run as often per byte allocated
# to be compiled (else rarely failing guards get bridges, and a sort spends its
# time compiling).
JIT_DECAY = 80
JIT_DECAY_SMALL = 40

MAX_LIMIT = 1 << 50
FALLBACK_LIMIT = 1 << 30    # when the machine says nothing about its memory


class Policy(object):
    limit = FALLBACK_LIMIT  # bytes the heap may use in all
    reserve_granted = False


policy = Policy()


def nursery_size(total_memory):
    """The nursery for a machine with total_memory bytes (a float, up to 2**63)."""
    if total_memory < SMALL_MACHINE:
        return NURSERY_MIN
    return NURSERY_SIZE


def jit_decay(total_memory):
    """The JIT's counter decay that goes with nursery_size(total_memory)."""
    if nursery_size(total_memory) == NURSERY_MIN:
        return JIT_DECAY_SMALL
    return JIT_DECAY


def parse_size(text):
    """Bytes for '512M', '2GB', '1.5g', '65536'; -1 if text is not a size."""
    text = text.strip().lower()
    if text.endswith("b"):
        text = text[:-1]
    factor = 1
    if text.endswith("k"):
        factor = 1024
    elif text.endswith("m"):
        factor = 1024 * 1024
    elif text.endswith("g"):
        factor = 1024 * 1024 * 1024
    if factor != 1:
        text = text[:-1]
    if not text:
        return -1
    dot = 0
    for c in text:
        if c == ".":
            dot += 1
        elif not c.isdigit():
            return -1
    if dot > 1 or text == ".":
        return -1
    value = float(text) * factor
    if value < 1.0 or value > float(MAX_LIMIT):
        return -1
    return int(value)


def default_limit():
    """Half the available memory, at most half an address-space limit."""
    limit = platform.available_memory_bytes() / 2
    cap = platform.address_space_limit_bytes() / 2
    if cap > 0 and (limit <= 0 or cap < limit):
        limit = cap
    if limit <= 0:
        limit = FALLBACK_LIMIT
    return limit


def choose_limit(option_bytes):
    if option_bytes > 0:
        return option_bytes
    env = os.environ.get("PYPY_GC_MAX")
    if env:
        size = parse_size(env)
        if size > 0:
            return size
    return default_limit()


def soft_limit(limit):
    return limit - limit / 8


def install(limit):
    """Hold the GC to the soft limit of `limit` bytes."""
    policy.limit = limit
    policy.reserve_granted = False
    rgc.set_max_heap_size(soft_limit(limit))


def grant_reserve():
    """The GC reached the soft limit: let it use the reserve. False if that was
    already done (the heap is really full)."""
    if policy.reserve_granted:
        return False
    policy.reserve_granted = True
    rgc.set_max_heap_size(policy.limit)
    return True


def lift_limit():
    # Out of memory for good: the VM only prints a message and exits, and must
    # not have the GC abort it meanwhile.
    rgc.set_max_heap_size(0)


def max_new_bytes():
    """The largest object new: may make: half the heap limit."""
    return policy.limit / 2
