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


def write_file_atomically(path, data):
    """Replace path with data so that a crash never leaves a half-written file.

    The data goes to a temporary file in the same folder, is flushed to the disk,
    then renamed over path. False (and path untouched) when any step fails.
    """
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0644)
    except OSError:
        return False
    ok = True
    try:
        _stall_for_tests()
        while data:
            n = os.write(fd, data)
            if n <= 0:
                ok = False
                break
            assert n >= 0
            data = data[n:]
        if ok:
            os.fsync(fd)
    except OSError:
        ok = False
    os.close(fd)
    if ok:
        try:
            os.rename(tmp, path)
        except OSError:
            ok = False
    if not ok:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return ok


def _stall_for_tests():
    # Lets a test kill the VM while a save is under way (COGXEN_TEST_SAVE_STALL=secs).
    stall = os.environ.get("COGXEN_TEST_SAVE_STALL")
    if stall:
        try:
            seconds = float(stall)
        except ValueError:
            return
        time.sleep(seconds)


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
