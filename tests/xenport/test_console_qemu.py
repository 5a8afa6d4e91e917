"""Console input in the guest: the image opens /dev/stdin as a file (FilePlugin)
and reads the line typed on the serial port, as the hosted VM reads its own
standard input (tests/images/test_files.py runs the same script)."""

import os

import pytest

from qemurun import REPO, command_line, cpio_archive, mini_image, require_qemu, run_kernel

SCRIPTS = [os.path.join(REPO, "images", "CogXen.st"),
           os.path.join(REPO, "tests", "images", "data", "read-stdin.st")]


@pytest.fixture(autouse=True)
def _qemu():
    require_qemu()


def read_stdin_ramdisk():
    script = b"".join(open(p, "rb").read() + b"\n" for p in SCRIPTS)
    return cpio_archive([("mini.image", mini_image()), ("script.st", script)])


def test_a_line_on_the_serial_port_reaches_the_image(kernel):
    r = run_kernel(kernel, read_stdin_ramdisk(), command_line(["/script.st"]), timeout=300,
                   stdin=b"typed on the serial line\n")
    assert not r.timed_out, r.describe()
    assert r.status == 0, r.describe()
    assert "the console said: typed on the serial line" in r.stdout.splitlines(), r.describe()


def test_end_of_input_is_an_empty_line_not_a_hang(kernel):
    """Ctrl-D at the start of a read is the end of input on the guest's console."""
    r = run_kernel(kernel, read_stdin_ramdisk(), command_line(["/script.st"]), timeout=300,
                   stdin=b"\x04")
    assert not r.timed_out, r.describe()
    assert r.status == 0, r.describe()
    assert "the console said: " in r.stdout.splitlines(), r.describe()
