"""The guest's file system (xenport/files.c) on the host: the real source built
with gcc, AddressSanitizer and UBSan, driven by files_driver.c.

Differential: the same random file calls (open with every mix of flags, read,
write, pread, lseek, ftruncate, fstat, stat, access, mkdir, rmdir, unlink,
rename, listings) go to the guest's implementation and to the host's own in a
fresh folder; every value, errno, byte read and listing must agree with
Linux's, and the two trees must be the same at the end.  Also: a boot archive
loaded as at boot (folders, a boot file changed in RAM with the module's bytes
untouched, the /proc files read-only) and fsync refusing, since nothing lasts.
"""

import os
import re

import pytest

from hostbuild import build_program, run_driver
from qemurun import REPO

HERE = os.path.dirname(os.path.abspath(__file__))
XENPORT = os.path.join(REPO, "xenport")
ROUNDS = 50000


@pytest.fixture(scope="module")
def driver(tmpdir_factory):
    ours = ["-Wall", "-Werror", "-iquote", XENPORT, "-I", os.path.join(XENPORT, "include")]
    units = [
        (os.path.join(XENPORT, "files.c"),
         ours + ["-include", os.path.join(HERE, "files_rename.h")]),
        (os.path.join(HERE, "files_driver.c"), ours),
    ]
    return build_program(tmpdir_factory, "files_driver", units)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_file_calls_answer_as_linux_does(driver, tmpdir, seed):
    lines = run_driver(driver, ["diff", seed, ROUNDS, str(tmpdir)], timeout=120)
    summary = lines[-2]
    counts = dict((name, int(n)) for n, name in
                  [(m.group(2), m.group(1)) for m in re.finditer(r"(\w+) (\d+)", summary)])
    # Every kind of call was made, and made often.
    for name in ["open", "close", "read", "write", "lseek", "ftruncate", "unlink", "mkdir",
                 "rmdir", "rename", "stat", "fstat", "listings", "pread", "access"]:
        assert counts[name] >= 200, summary


def test_boot_archive_in_ram(driver):
    lines = run_driver(driver, ["boot"], timeout=60)
    assert lines[0] == "image /app/mini.image"
    files = [l for l in lines if l.startswith("file ")]
    assert files[:2] == ["file /work/other.txt 1", "file /app/mini.image 5"]
    assert [f.split()[1] for f in files[2:]] in (["/proc/meminfo", "/proc/cpuinfo"],
                                                  ["/proc/meminfo"])
    assert "stat /app 0 folder" in lines
    assert "append 2" in lines
    assert "read 3 xyz; archive still x" in lines
    assert "write meminfo -1 Permission denied" in lines
    assert "unlink meminfo -1 Permission denied" in lines
