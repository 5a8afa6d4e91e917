"""Hosted implementation of the platform interface, on POSIX file descriptors and clocks.

time.time/time.sleep become translatable once rpython.rlib.rtime is imported; the
target imports it at translation time so untranslated runs skip its C checks.
"""

import os
import time


STDIN = 0
STDOUT = 1
STDERR = 2


def write(fd, s):
    """Write all of s to a file descriptor, retrying on short writes."""
    while s:
        try:
            n = os.write(fd, s)
        except OSError:
            return
        if n <= 0:
            return
        assert n >= 0
        s = s[n:]


def write_stdout(s):
    write(STDOUT, s)


def write_stderr(s):
    write(STDERR, s)


def read_stdin(maxbytes):
    """Up to maxbytes from standard input; "" at end of input or on error."""
    try:
        return os.read(STDIN, maxbytes)
    except OSError:
        return ""


def read_file(path):
    """The whole file as a string, or None if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY, 0)
    except OSError:
        return None
    try:
        chunks = []
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return None
            if not data:
                break
            chunks.append(data)
        return "".join(chunks)
    finally:
        os.close(fd)


def file_exists(path):
    try:
        os.stat(path)
    except OSError:
        return False
    return True


def monotonic_microseconds():
    """Microseconds from an arbitrary start; never goes backwards."""
    return int(time.time() * 1000000.0)


def wall_clock_seconds():
    return time.time()


def sleep_microseconds(usecs):
    if usecs > 0:
        time.sleep(usecs / 1000000.0)
