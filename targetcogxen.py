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
# misses every cache and makes each run's memory 150 MB. Measured on the suite:
# 2-8 MB are equally fast and 3x faster than 130 MB on allocation-heavy code.
# PYPY_GC_NURSERY still overrides it.
NURSERY_MAX = 4 * 1024 * 1024


def cap_nursery_size():
    from rpython.memory.gc import env
    estimate = env.estimate_best_nursery_size
    if getattr(estimate, "capped", False):
        return

    def capped_estimate():
        return min(estimate(), NURSERY_MAX)
    capped_estimate.capped = True
    env.estimate_best_nursery_size = capped_estimate


def target(driver, args):
    from rpython.rlib import rtime  # noqa: makes time.time/time.sleep translatable
    cap_nursery_size()
    driver.exe_name = "cogxen"
    vm_main.BUILD_KIND = "JIT" if driver.config.translation.jit else "no JIT"
    return entry_point, None


if __name__ == "__main__":
    sys.exit(entry_point(sys.argv))
