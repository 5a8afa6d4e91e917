"""Fixtures for the guest tests (tests/xenport/).

The kernel under test is $COGXEN_XEN (set by `make qemu-test`: build/cogxen.xen).
Without it the tests that boot or inspect the VM kernel are skipped, so that
`make test-quick` stays quick; the tests of the self-test kernel (xenport's own
program instead of the VM, built here with `make -C xenport selftest`) run
whenever COGXEN_XEN is set too.
"""

import os
import subprocess

import pytest

# Helpers live in qemurun.py: `from conftest import ...` would find tests/conftest.py
# when pytest runs the whole tree.
from qemurun import REPO  # noqa: F401  (fixtures below use it)

HERE = os.path.dirname(os.path.abspath(__file__))


def xen_kernel():
    return os.environ.get("COGXEN_XEN") or None


@pytest.fixture(name="kernel", scope="session")
def kernel_fixture():
    """The VM kernel (build/cogxen.xen) under test."""
    path = xen_kernel()
    if not path:
        pytest.skip("no guest kernel: set COGXEN_XEN (make qemu-test does)")
    if not os.path.isfile(path):
        pytest.fail("COGXEN_XEN=%s does not exist (make xen)" % path)
    return path


@pytest.fixture(name="selftest_kernel", scope="session")
def selftest_kernel_fixture(tmpdir_factory):
    """xenport's self-test kernel, built into a temporary folder."""
    if not xen_kernel():
        pytest.skip("guest tests run under make qemu-test (COGXEN_XEN)")
    build = str(tmpdir_factory.mktemp("xenport-selftest"))
    proc = subprocess.Popen(["make", "-C", os.path.join(REPO, "xenport"), "selftest",
                             "BUILD=" + build], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = proc.communicate()[0]
    assert proc.returncode == 0, "building the self-test kernel failed:\n%s" % out
    return os.path.join(build, "selftest.xen")
