"""Files for the FilePlugin: POSIX file descriptors, unbuffered.

Every function raises OSError (with errno) on failure and retries EINTR, so the
plugin turns any failure into a primitive failure. The Xen guest provides the same
calls from xenport/bootfs.c (the boot module's files, read-only)."""

import errno
import os
import stat

from rpython.rlib.listsort import TimSort
from rpython.rlib.rarithmetic import intmask

O_BINARY = getattr(os, "O_BINARY", 0)

# Squeak counts time in seconds from 1901-01-01; Unix from 1970-01-01.
SQUEAK_EPOCH_DELTA = 2177452800


def open_file(path, writable):
    """A descriptor for path: read-only, or read-write, created if missing (as the
    OpenSmalltalk VM's primitiveFileOpen: an existing file is not truncated)."""
    if writable:
        flags = os.O_RDWR | os.O_CREAT | O_BINARY
    else:
        flags = os.O_RDONLY | O_BINARY
    while True:
        try:
            fd = os.open(path, flags, 0666)
            break
        except OSError as e:
            if e.errno != errno.EINTR:
                raise
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EISDIR, "is a directory")
    except OSError:
        os.close(fd)
        raise
    return fd


def close(fd):
    os.close(fd)


def read(fd, count):
    while True:
        try:
            return os.read(fd, count)
        except OSError as e:
            if e.errno != errno.EINTR:
                raise


def write(fd, data):
    """Write data; answer how many bytes were written (all unless an error came
    after some were)."""
    done = 0
    while done < len(data):
        try:
            n = os.write(fd, data[done:])
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            if done > 0:
                return done
            raise
        if n <= 0:
            break
        done += n
    return done


def position(fd):
    return intmask(os.lseek(fd, 0, os.SEEK_CUR))


def set_position(fd, offset):
    os.lseek(fd, offset, os.SEEK_SET)


def size(fd):
    return intmask(os.fstat(fd).st_size)


def truncate(fd, length):
    os.ftruncate(fd, length)


def sync(fd):
    os.fsync(fd)


def is_seekable(fd):
    try:
        os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return False
    return True


# What primitiveFileDescriptorType answers (OpenSmalltalk's Unix numbers).
DESCRIPTOR_ERROR = -1
DESCRIPTOR_TERMINAL = 1
DESCRIPTOR_PIPE = 2
DESCRIPTOR_FILE = 3


def descriptor_type(fd):
    """What fd is connected to: a terminal, a pipe (or FIFO), anything else
    that fstat knows (a file, a socket, a device), or -1 for no descriptor."""
    if os.isatty(fd):
        return DESCRIPTOR_TERMINAL
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return DESCRIPTOR_ERROR
    if stat.S_ISFIFO(mode):
        return DESCRIPTOR_PIPE
    return DESCRIPTOR_FILE


def delete(path):
    os.unlink(path)


def rename(old, new):
    os.rename(old, new)


def make_directory(path):
    os.mkdir(path, 0777)


def delete_directory(path):
    os.rmdir(path)


def directory_entries(path):
    """The names in folder path, sorted (so that an index means the same entry
    from one call to the next), without '.' and '..'."""
    names = [name for name in os.listdir(path) if name != "." and name != ".."]
    TimSort(names).sort()
    return names


class EntryInfo(object):
    """What primitiveDirectoryLookup answers about one entry."""

    def __init__(self, is_directory, size, created, modified):
        self.is_directory = is_directory
        self.size = size
        self.created = created          # Squeak seconds
        self.modified = modified


def entry_info(path):
    st = os.stat(path)
    modified = intmask(int(st.st_mtime)) + SQUEAK_EPOCH_DELTA
    created = intmask(int(st.st_ctime)) + SQUEAK_EPOCH_DELTA
    return EntryInfo(stat.S_ISDIR(st.st_mode), intmask(st.st_size), created, modified)
