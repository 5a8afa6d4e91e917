"""RPython target for CogXen; run it with Python 2.7 to use the VM untranslated.

    rpython --batch targetcogxen.py          # translate into ./cogxen-c
    python targetcogxen.py IMAGE [...]       # the same command line, untranslated
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Naming the usession keeps RPython from asking Mercurial (and warning on stderr).
os.environ.setdefault("PYPY_USESSION_BASENAME", "cogxen")

from spyvm import main as vm_main  # noqa: E402


def entry_point(argv):
    return vm_main.main(argv)


def jitpolicy(driver):
    from rpython.jit.codewriter.policy import JitPolicy
    return JitPolicy()


# The GC's nursery: RPython sizes it at half the "cache size" /proc/cpuinfo reports,
# which on current Xeons is the shared L3 (260 MB here): a 130 MB nursery that
# misses every cache and makes each run's memory 150 MB. Capped at 16 MB, with the
# heap's first major collection at 32 MB instead of 8 nurseries (128 MB): on the
# suite, 4, 8 and 16 MB nurseries run alike except where a large structure lives
# across minor collections (Storage's trees, WordFreq's dictionaries), which every
# minor collection copies out: 213 ms at 4 MB, 150 ms at 16 MB; peak memory stays
# 30-65 MB. The Xen guest reports its L2 cache, below the cap: RPython's defaults.
# PYPY_GC_NURSERY and PYPY_GC_MIN still override both.
NURSERY_MAX = 16 * 1024 * 1024
MIN_HEAP_WHEN_CAPPED = 32 * 1024 * 1024


class CapState(object):
    active = False      # the nursery estimate was capped


def cap_nursery_size():
    from rpython.memory.gc import env
    estimate = env.estimate_best_nursery_size
    if getattr(estimate, "capped", False):
        return
    read_uint = env.read_uint_from_env
    # The GC asks for the estimate (unless PYPY_GC_NURSERY is set), then PYPY_GC_MIN.
    capped = CapState()

    def capped_estimate():
        size = estimate()
        capped.active = size > NURSERY_MAX
        return min(size, NURSERY_MAX)

    def read_uint_with_min_heap(varname):
        value = read_uint(varname)
        if value == 0 and varname == "PYPY_GC_MIN" and capped.active:
            return MIN_HEAP_WHEN_CAPPED
        return value
    capped_estimate.capped = True
    env.estimate_best_nursery_size = capped_estimate
    env.read_uint_from_env = read_uint_with_min_heap


def rearm_max_heap_size():
    """Setting the max heap size re-arms the GC's MemoryError.

    Past its limit the GC raises MemoryError once and aborts the next time; the VM
    catches the first at a soft limit (spyvm/memory.py) and raises the limit to
    the reserve, where the GC must raise MemoryError again instead of aborting."""
    from rpython.memory.gc.incminimark import IncrementalMiniMarkGC
    set_max = IncrementalMiniMarkGC.set_max_heap_size
    if getattr(set_max, "rearms", False):
        return

    def set_max_heap_size(self, size):
        self.max_heap_size_already_raised = False
        set_max(self, size)
    set_max_heap_size.rearms = True
    IncrementalMiniMarkGC.set_max_heap_size = set_max_heap_size


def target(driver, args):
    from rpython.rlib import rtime  # noqa: makes time.time/time.sleep translatable
    cap_nursery_size()
    rearm_max_heap_size()
    driver.exe_name = "cogxen"
    vm_main.BUILD_KIND = "JIT" if driver.config.translation.jit else "no JIT"
    return entry_point, None


if __name__ == "__main__":
    sys.exit(entry_point(sys.argv))
