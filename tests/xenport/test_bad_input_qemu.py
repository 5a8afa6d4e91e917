"""Bad input to the guest: each ends with a clear message on the console and a
non-zero exit status within seconds, never a hang or a silent reset.

No initrd, an empty or corrupt image, an archive without an image, an unknown
VM option, an unknown xenport option, a broken command line, a forced CPU fault
(--xen-fault: the crash report), and a snapshot, which cannot be written.
"""


import pytest

from qemurun import require_qemu, mini_image
from qemurun import cpio_archive, run_kernel

QUICK = 30          # seconds: these all end at once


@pytest.fixture(autouse=True)
def _qemu():
    require_qemu()


def assert_quick_failure(r, status):
    assert not r.timed_out, r.describe()
    assert r.status == status, r.describe()
    assert r.seconds < QUICK, r.describe()
    assert "xenport: CPU exception" not in r.stderr or status == 127, r.describe()


def test_no_initrd(kernel):
    r = run_kernel(kernel, cmdline="--eval '3 + 4'", timeout=QUICK)
    assert_quick_failure(r, 2)
    assert r.stderr.startswith("cogxen: no image file given\n"), r.describe()
    assert "xenport: no boot module: give the image as the initrd" in r.stderr


def test_empty_initrd(kernel):
    r = run_kernel(kernel, initrd=b"", cmdline="--eval '3 + 4'", timeout=QUICK)
    assert_quick_failure(r, 2)
    assert r.stderr.startswith("cogxen: "), r.describe()


def test_corrupt_image(kernel):
    data = mini_image()
    corrupt = data[:64] + b"\xff" * 4096 + data[64 + 4096:]
    r = run_kernel(kernel, initrd=corrupt[:len(corrupt) // 3], cmdline="--eval '3 + 4'",
                   timeout=QUICK)
    assert_quick_failure(r, 2)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cogxen: /initrd: "), r.describe()
    assert r.stdout == ""


def test_not_an_image(kernel):
    r = run_kernel(kernel, initrd=b"this is not a Smalltalk image\n" * 100,
                   cmdline="--eval '3 + 4'", timeout=QUICK)
    assert_quick_failure(r, 2)
    assert r.stderr.startswith("cogxen: /initrd: "), r.describe()


def test_archive_without_an_image(kernel):
    r = run_kernel(kernel, initrd=cpio_archive([("notes.txt", b"hello\n")]),
                   cmdline="--eval '3 + 4'", timeout=QUICK)
    assert_quick_failure(r, 2)
    assert "cogxen: no image file given" in r.stderr
    assert "xenport: the initrd archive has no *.image file" in r.stderr


def test_unknown_option(kernel):
    r = run_kernel(kernel, initrd=mini_image(), cmdline="--frobnicate", timeout=QUICK)
    assert_quick_failure(r, 2)
    assert r.stderr.startswith("cogxen: unknown option --frobnicate\n"), r.describe()


def test_unknown_xenport_option(kernel):
    r = run_kernel(kernel, initrd=mini_image(), cmdline="--xen-frobnicate --eval 1", timeout=QUICK)
    assert_quick_failure(r, 2)
    assert "xenport: unknown option --xen-frobnicate" in r.stderr


def test_unterminated_quote(kernel):
    r = run_kernel(kernel, initrd=mini_image(), cmdline="--eval '3 + 4", timeout=QUICK)
    assert_quick_failure(r, 2)
    assert "xenport: bad command line: unterminated ' quote" in r.stderr


def test_missing_script(kernel):
    r = run_kernel(kernel, initrd=mini_image(), cmdline="/nowhere.st", timeout=QUICK)
    assert_quick_failure(r, 2)
    assert r.stderr.startswith("cogxen: cannot read script /nowhere.st"), r.describe()


@pytest.mark.parametrize("kind", ["unmapped", "null", "stack"])
def test_forced_fault_prints_a_crash_report(kernel, kind):
    r = run_kernel(kernel, initrd=mini_image(), cmdline="--xen-fault=%s --eval '3 + 4'" % kind,
                   timeout=QUICK)
    assert_quick_failure(r, 127)
    assert r.qemu_status == 255
    assert "xenport: CPU exception 14 (#PF page fault)" in r.stderr, r.describe()
    assert "cr2" in r.stderr and "frames" in r.stderr
    assert r.stdout == ""


def test_snapshot_cannot_be_written(kernel):
    """Files live in RAM and cannot be made durable (fsync fails): the snapshot
    primitive fails and the image reports the failure, as on a full disk."""
    r = run_kernel(kernel, initrd=mini_image(),
                   cmdline="--eval 'Smalltalk snapshot: true andQuit: true'", timeout=120)
    assert r.status == 1, r.describe()
    assert "cogxen: error:" in r.stderr, r.describe()
    assert "xenport: CPU exception" not in r.stderr


@pytest.mark.parametrize("word", ["--xen-fault=bogus", "--xen-fault="])
def test_unknown_fault_kind_is_refused(kernel, word):
    """A misspelt kind is bad input, not some other crash (issue 15)."""
    r = run_kernel(kernel, initrd=mini_image(), cmdline="%s --eval '3 + 4'" % word, timeout=QUICK)
    assert_quick_failure(r, 2)
    assert "xenport: unknown fault kind in %s" % word in r.stderr, r.describe()
    assert "CPU exception" not in r.stderr
    assert r.stdout == ""


def test_selftest_on_a_pc_without_devices_passes(kernel):
    """--xen-selftest checks the platform's drivers; on a PC without a virtio-net
    device there is nothing to check (test_virtio_net_qemu.py has the device)."""
    r = run_kernel(kernel, initrd=mini_image(), cmdline="--xen-selftest", timeout=QUICK)
    assert r.status == 0, r.describe()
    assert "selftest: virtio-net: no virtio-net device" in r.stderr, r.describe()
    assert r.stdout == ""
