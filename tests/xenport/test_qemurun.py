"""The QEMU runner's own helpers (no QEMU needed): the cpio archives it packs
image and script into, the command-line quoting xenport splits back, and how
QEMU's exit reads as a guest status; then QEMU's own failures, which must not
read as guest status 0 (QEMU needed)."""

from qemurun import NO_STATUS, command_line, cpio_archive, shell_quote
from qemurun import guest_status, require_qemu, run_kernel


def parse_cpio(data):
    """[(name, bytes)] of a newc archive, as xenport/files.c reads it."""
    files = []
    pos = 0
    while True:
        assert data[pos:pos + 6] == b"070701"
        fields = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        size, namesize = fields[6], fields[11]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        start = (pos + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return files
        files.append((name, data[start:start + size]))
        pos = (start + size + 3) & ~3


def test_cpio_round_trip():
    files = [("mini.image", b"\x00\x01" * 1001), ("script.st", b"3 + 4!\n"), ("e", b"")]
    data = cpio_archive(files)
    assert len(data) % 4 == 0
    assert parse_cpio(data) == files


def test_shell_quoting():
    assert shell_quote("--eval") == "--eval"
    assert shell_quote("3 + 4") == "'3 + 4'"
    assert shell_quote("it's") == "'it'\\''s'"
    assert shell_quote("") == "''"
    assert command_line(["--eval", "'hello' reversed", "x"]) == \
        "--eval ''\\''hello'\\'' reversed' x"


def test_no_status_is_not_an_exit_status():
    assert NO_STATUS < 0


def test_guest_status_from_qemus_exit():
    assert guest_status(1, "") == 0
    assert guest_status(5, "") == 2
    assert guest_status(255, "") == 127
    assert guest_status(0, "") == NO_STATUS               # a reset under -no-reboot
    assert guest_status(None, "") == NO_STATUS
    assert guest_status(-9, "") == NO_STATUS              # killed
    assert guest_status(1, "qemu-system-x86_64: warning: host doesn't support x\n") == 0


def test_qemus_own_error_is_not_guest_status_0():
    err = "qemu: could not open kernel file '/x': No such file or directory\n"
    assert guest_status(1, err) == NO_STATUS
    assert guest_status(1, "qemu-system-x86_64: -kernel /x: bad\n") == NO_STATUS


def test_missing_kernel_is_a_qemu_failure(tmpdir):
    require_qemu()
    r = run_kernel(str(tmpdir.join("no-such-kernel")), cmdline="", timeout=30)
    assert r.status == NO_STATUS, r.describe()
    assert "could not open kernel file" in r.qemu_error, r.describe()
    assert "QEMU FAILED" in r.describe()


def test_initrd_too_large_is_a_qemu_failure(selftest_kernel):
    """An initrd bigger than the guest's memory: QEMU refuses to start."""
    require_qemu()
    r = run_kernel(selftest_kernel, initrd=b"\0" * (64 << 20), cmdline="exit 0",
                   memory_mb=32, timeout=30)
    assert r.status == NO_STATUS, r.describe()
    assert "initrd is too large" in r.qemu_error, r.describe()
    assert "selftest: ok" not in r.stdout
