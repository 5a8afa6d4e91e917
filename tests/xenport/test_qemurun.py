"""The QEMU runner's own helpers (no QEMU needed): the cpio archives it packs
image and script into, and the command-line quoting xenport splits back."""


from qemurun import NO_STATUS, command_line, cpio_archive, shell_quote


def parse_cpio(data):
    """[(name, bytes)] of a newc archive, as xenport/bootfs.c reads it."""
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
