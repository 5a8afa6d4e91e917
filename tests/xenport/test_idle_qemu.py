"""Sleeping under plain QEMU: the VM's waits halt the CPU (hlt) until the local
APIC's one-shot timer fires, instead of spinning on the TSC (pc/lapic.c).  A one
second Delay then costs QEMU a fraction of a second of CPU time and still lasts
a second.
"""

import resource

from qemurun import require_qemu
from qemurun import run_kernel, mini_image

DELAY_MS = 1000


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def test_delay_halts_instead_of_spinning(kernel):
    require_qemu()
    before = children_cpu_seconds()
    r = run_kernel(kernel, initrd=mini_image(), timeout=60,
                   cmdline="--xen-info --eval '| t | t := Time millisecondClockValue. "
                           "(Delay forMilliseconds: %d) wait. "
                           "Time millisecondClockValue - t'" % DELAY_MS)
    cpu = children_cpu_seconds() - before
    assert r.status == 0, r.describe()
    assert "xenport: idle: hlt, LAPIC timer" in r.stderr, r.describe()
    waited = int(r.stdout.split()[0])
    assert DELAY_MS <= waited < DELAY_MS + 500, r.describe()
    # Boot and evaluation take ~0.2 s of CPU here; a busy wait would add the
    # whole second.
    assert cpu < 0.6 * DELAY_MS / 1000.0 + 0.2, "QEMU used %.2f s of CPU\n%s" % (cpu, r.describe())


def test_a_deadlock_is_reported_not_slept_through(kernel):
    # Every process waits and no timer is set: nothing can ever run again.
    require_qemu()
    r = run_kernel(kernel, mini_image(), "--eval 'Semaphore new wait'", timeout=120)
    assert not r.timed_out, r.describe()
    assert r.status == 1, r.describe()
    assert "cogxen: fatal: deadlock:" in r.stderr, r.describe()
