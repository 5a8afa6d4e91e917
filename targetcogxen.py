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
from spyvm import memory as vm_memory  # noqa: E402


def entry_point(argv):
    return vm_main.main(argv)


def jitpolicy(driver):
    from rpython.jit.codewriter.policy import JitPolicy
    return JitPolicy()


# The GC's nursery: RPython sizes it from the "cache size" /proc/cpuinfo reports,
# which is the L2 on some machines (a nursery too small: every minor collection
# copies out what lives across it and walks the whole stack, deep recursion
# included) and the shared L3 on others (a nursery far too big for any cache).
# The VM sets it instead (spyvm/memory.py: nursery_size, and the JIT's counter
# decay that goes with it). PYPY_GC_NURSERY and PYPY_GC_MIN still override.


def set_nursery_size():
    from rpython.memory.gc import env
    if getattr(env.estimate_best_nursery_size, "cogxen", False):
        return
    get_total_memory = env.get_total_memory

    def nursery_size():
        return vm_memory.nursery_size(get_total_memory())
    nursery_size.cogxen = True
    env.estimate_best_nursery_size = nursery_size


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
    set_nursery_size()
    rearm_max_heap_size()
    driver.exe_name = "cogxen"
    vm_main.BUILD_KIND = "JIT" if driver.config.translation.jit else "no JIT"
    return entry_point, None


if __name__ == "__main__":
    sys.exit(entry_point(sys.argv))
