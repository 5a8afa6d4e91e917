"""Out of memory in the guest: the heap limit comes from the guest's RAM
(/proc/meminfo), so that an image that recurses or grows without end gets "Space is
low" or a clean "out of memory" (status 1), not a crash, even at -m 64."""


import pytest

from qemurun import command_line, mini_image, require_qemu, run_kernel

RECURSE = ("Object compile: 'cogxenRecurse: n ^(self cogxenRecurse: n + 1) + 1' "
           "classified: 'x' notifying: nil. nil cogxenRecurse: 0")
GROW = "| c | c := OrderedCollection new. [true] whileTrue: [c add: (Array new: 100000)]"


@pytest.fixture(autouse=True)
def _qemu():
    require_qemu()


@pytest.mark.parametrize("expr", [RECURSE, GROW], ids=["recursion", "growth"])
@pytest.mark.parametrize("memory_mb", [64, 128])
def test_running_out_of_memory_in_the_guest_ends_cleanly(kernel, expr, memory_mb):
    r = run_kernel(kernel, mini_image(), command_line(["--eval", expr]), timeout=600,
                   memory_mb=memory_mb)
    assert not r.timed_out, r.describe()
    assert r.status == 1, r.describe()
    assert "Space is low" in r.stderr + r.stdout or \
        "cogxen: fatal: out of memory" in r.stderr + r.stdout, r.describe()
    assert "xenport: CPU exception" not in r.stderr, r.describe()



def test_too_little_memory_for_the_vm_is_said(kernel):
    """Below 10 MiB free once the kernel, the image and the stack are in place
    the VM cannot run: xenport says so (status 2, bad input) instead of the VM
    aborting in malloc."""
    r = run_kernel(kernel, mini_image(), command_line(["--eval", "3 + 4"]), timeout=120,
                   memory_mb=24)
    assert not r.timed_out, r.describe()
    assert r.status == 2, r.describe()
    assert "of memory left for the VM (it needs 10 MiB): give the guest more memory" \
        in r.stderr, r.describe()
