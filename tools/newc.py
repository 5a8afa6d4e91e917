"""cpio "newc" archives (as `cpio -H newc -o` writes them): how the guest gets
several files as its one boot module (xenport's files.c reads them)."""


def newc_archive(entries):
    """A cpio "newc" archive of [(name, mode, bytes)], in that order, with its trailer."""
    out = []
    ino = 1
    for name, mode, data in list(entries) + [("TRAILER!!!", 0, b"")]:
        name_bytes = name.encode("utf-8") if not isinstance(name, bytes) else name
        header = "070701" + "".join("%08X" % v for v in [
            ino, mode, 0, 0, 2 if mode & 0o040000 else 1, 0, len(data), 0, 0, 0, 0,
            len(name_bytes) + 1, 0])
        ino += 1
        entry = header.encode("ascii") + name_bytes + b"\0"
        entry += b"\0" * (-len(entry) % 4)
        entry += data
        entry += b"\0" * (-len(entry) % 4)
        out.append(entry)
    return b"".join(out)


def cpio_archive(files):
    """A cpio "newc" archive of [(name, bytes)], in that order."""
    return newc_archive([(name, 0o100644, data) for name, data in files])
