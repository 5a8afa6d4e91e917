"""0 tinyBenchmarks in the guest: the same translation as build/cogxen, so with the
JIT when build/cogxen has it (the default, -Ojit); the JIT's own counters
(PYPYLOG=jit-summary:-, on standard error) show that it compiled loops there."""

import re

from qemurun import require_qemu
from qemurun import run_kernel, mini_image


def test_tiny_benchmarks_in_the_guest(kernel):
    require_qemu()
    version = run_kernel(kernel, cmdline="--version", timeout=60)
    assert version.status == 0, version.describe()
    jit = "(JIT)" in version.stdout
    r = run_kernel(kernel, initrd=mini_image(), timeout=300,
                   cmdline="PYPYLOG=jit-summary:- --eval '0 tinyBenchmarks'")
    assert r.status == 0, r.describe()
    assert re.match(r"'\d+ bytecodes/sec; \d+ sends/sec'\n\Z", r.stdout), r.describe()
    if jit:
        loops = re.search(r"Total # of loops:\s+(\d+)", r.stderr)
        assert loops and int(loops.group(1)) > 0, r.describe()
