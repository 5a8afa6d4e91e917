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


def target(driver, args):
    from rpython.rlib import rtime  # noqa: makes time.time/time.sleep translatable
    driver.exe_name = "cogxen"
    vm_main.BUILD_KIND = "JIT" if driver.config.translation.jit else "no JIT"
    return entry_point, None


if __name__ == "__main__":
    sys.exit(entry_point(sys.argv))
