"""Files in the guest: the RAM file system (xenport/files.c) under the image's
own file code.  Squeak 2.2's StandardFileStream and FileDirectory write, read,
list, rename and delete in a folder of the boot archive, as the hosted test
does in a host folder (tests/images/test_files.py runs the same script and
expects the same output).  Nothing is kept: a snapshot still fails
(test_bad_input_qemu.py), since a RAM file cannot be made durable."""

import os

import pytest

from qemurun import REPO, command_line, cpio_archive, mini_image, require_qemu, run_kernel

COGXEN_ST = os.path.join(REPO, "images", "CogXen.st")
FILES_ST = os.path.join(REPO, "tests", "images", "data", "files.st")


@pytest.fixture(autouse=True)
def _qemu():
    require_qemu()


def test_a_file_written_read_renamed_and_deleted(kernel):
    with open(COGXEN_ST, "rb") as f, open(FILES_ST, "rb") as g:
        script = f.read() + b"\n" + g.read().replace(b"FOLDER", b"/work")
    ramdisk = cpio_archive([("mini.image", mini_image()), ("files.st", script),
                            ("work/other.txt", b"x")])
    r = run_kernel(kernel, ramdisk, command_line(["/files.st"]), timeout=300)
    assert not r.timed_out, r.describe()
    assert r.status == 0, r.describe()
    with open(FILES_ST + ".out") as f:
        assert r.stdout == f.read(), r.describe()
