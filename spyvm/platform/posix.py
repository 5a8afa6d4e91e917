"""Hosted implementation of the platform interface, on POSIX file descriptors and clocks.

time.time/time.sleep become translatable once rpython.rlib.rtime is imported; the
target imports it at translation time so untranslated runs skip its C checks (the
monotonic clock then comes from ctypes).
"""

import errno
import os
import stat
import time

from rpython.rlib import jit
from rpython.rlib.objectmodel import we_are_translated
from rpython.rlib.rarithmetic import r_uint, intmask


STDIN = 0
STDOUT = 1
STDERR = 2


class OutputState(object):
    # A write to stdout that failed (a full disk, a closed pipe): the run must not
    # end with status 0, as a C program checking its writes would not.
    stdout_error = 0


output_state = OutputState()


def write(fd, s):
    """Write all of s to a file descriptor, retrying on short writes; errno or 0."""
    while s:
        try:
            n = os.write(fd, s)
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            return e.errno or errno.EIO
        if n <= 0:
            return errno.EIO
        assert n >= 0
        s = s[n:]
    return 0


def write_stdout(s):
    err = write(STDOUT, s)
    if err and not output_state.stdout_error:
        output_state.stdout_error = err


def write_stderr(s):
    write(STDERR, s)


def stdout_error():
    """The errno of the first failed write to stdout, 0 if none failed."""
    return output_state.stdout_error


def error_text(err):
    return os.strerror(err)


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


def is_regular_file(path):
    """True when path (after symlinks) is a regular file: not a device, FIFO or folder,
    which would be read forever or block."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode)


# --- saving ---------------------------------------------------------------------

MAX_SYMLINKS = 32


def resolve_symlinks(path):
    """The file path names once symlinks are followed (the path itself if none);
    None for a loop or an unreadable link."""
    for i in range(MAX_SYMLINKS):
        try:
            st = os.lstat(path)
        except OSError:
            return path                 # a new file: saved under its own name
        if not stat.S_ISLNK(st.st_mode):
            return path
        try:
            target = os.readlink(path)
        except OSError:
            return None
        if not target.startswith("/"):
            target = _dirname(path) + "/" + target
        path = target
    return None


def absolute_path(path):
    """path from the root, its "." and ".." steps taken lexically (as a shell's
    cd does): images ask for their own name and folder and expect them absolute,
    as OpenSmalltalk VMs answer them. path itself if the current folder is gone."""
    if path == "":
        return path
    if not path.startswith("/"):
        try:
            cwd = os.getcwd()
        except OSError:
            return path
        path = cwd + "/" + path
    parts = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def executable_path(argv0):
    """The VM's own file, absolute: argv[0], or the kernel's link when the shell
    found the VM on PATH (argv[0] then has no folder in it)."""
    if "/" in argv0:
        return absolute_path(argv0)
    try:
        return os.readlink("/proc/self/exe")
    except OSError:
        return argv0


def folder_of(path):
    """The folder holding path, with the trailing "/" that vmPath answers carry."""
    i = path.rfind("/")
    if i < 0:
        return ""
    return path[:i + 1]


def _dirname(path):
    i = path.rfind("/")
    if i < 0:
        return "."
    if i == 0:
        return "/"
    return path[:i]


def _basename(path):
    i = path.rfind("/")
    if i < 0:
        return path
    return path[i + 1:]


def process_alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM   # someone else's live process
    return True


def remove_stale_temps(path):
    """Remove NAME.PID.tmp files beside path left by saves whose process died."""
    folder = _dirname(path)
    prefix = _basename(path) + "."
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        stop = len(name) - 4
        start = len(prefix)
        if stop <= start:
            continue
        digits = name[start:stop]
        if not digits.isdigit() or len(digits) > 9:
            continue
        pid = int(digits)
        if pid == os.getpid() or process_alive(pid):
            continue
        try:
            os.unlink(folder + "/" + name)
        except OSError:
            pass


def write_file_atomically(path, data):
    """Replace the file at path with data so that a crash never leaves a half-written
    file, keeping the file's identity as far as rename allows.

    A symlink is followed: its target is replaced and the link kept. The data goes
    to a temporary file beside the target, with the target's mode (and owner when
    permitted), is flushed to the disk, then renamed over the target. Temporary
    files of saves whose process died are removed first. False (and the file
    untouched) when any step fails. Hard links to the old file keep the old data.
    """
    target = resolve_symlinks(path)
    if target is None:
        return False
    remove_stale_temps(target)
    mode = 0666
    uid = -1
    gid = -1
    try:
        st = os.stat(target)
        mode = stat.S_IMODE(st.st_mode)
        uid = st.st_uid
        gid = st.st_gid
    except OSError:
        mode = 0644
    tmp = "%s.%d.tmp" % (target, os.getpid())
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0600)
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
        if uid >= 0:
            try:
                os.chown(tmp, uid, gid)
            except OSError:
                pass                    # not permitted: the file becomes ours
        try:
            os.chmod(tmp, mode)
        except OSError:
            ok = False
    if ok:
        try:
            os.rename(tmp, target)
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


# --- clocks ---------------------------------------------------------------------

@jit.dont_look_inside      # a C call on a raw struct: a residual call for traces
def monotonic_microseconds():
    """Microseconds from an arbitrary start; never goes backwards, whatever is done
    to the time of day (CLOCK_MONOTONIC)."""
    if not we_are_translated():
        return _untranslated_monotonic()
    from rpython.rtyper.lltypesystem import lltype, rffi
    with lltype.scoped_alloc(TIMESPEC) as ts:
        if rffi.cast(lltype.Signed, c_clock_gettime(rffi.cast(rffi.INT, CLOCK_MONOTONIC),
                                                    ts)) != 0:
            return int(time.time() * 1000000.0)
        return intmask(ts.c_tv_sec) * 1000000 + intmask(ts.c_tv_nsec) / 1000


CLOCK_MONOTONIC = 1     # Linux's, and xenport's


def _declare_clock_gettime():
    # A declaration of our own: RPython's rtime.c_clock_gettime is also called by the
    # JIT with another constant clock id, and one function cannot be specialised for
    # both.
    from rpython.rtyper.lltypesystem import lltype, rffi
    from rpython.translator.tool.cbuild import ExternalCompilationInfo
    eci = ExternalCompilationInfo(includes=['time.h'])
    struct = rffi.CStruct('timespec', ('tv_sec', rffi.LONG), ('tv_nsec', rffi.LONG))
    fn = rffi.llexternal('clock_gettime', [rffi.INT, lltype.Ptr(struct)], rffi.INT,
                         compilation_info=eci, _nowrapper=True)
    return struct, fn


TIMESPEC, c_clock_gettime = _declare_clock_gettime()


def _untranslated_monotonic():
    import ctypes

    class Timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]
    ts = Timespec()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.clock_gettime(1, ctypes.byref(ts)) != 0:     # 1: CLOCK_MONOTONIC on Linux
        return int(time.time() * 1000000.0)
    return ts.tv_sec * 1000000 + ts.tv_nsec // 1000


class WallClock(object):
    offset = 0.0
    read = False


wall_clock = WallClock()


def wall_clock_seconds():
    """Seconds since 1970 (the time of day): for dates and clocks, never for Delays.

    COGXEN_TEST_WALL_CLOCK_OFFSET=secs shifts it, as if the system clock had been
    stepped, so that tests can show the monotonic clock is unaffected."""
    if not wall_clock.read:
        wall_clock.read = True
        text = os.environ.get("COGXEN_TEST_WALL_CLOCK_OFFSET")
        if text:
            try:
                wall_clock.offset = float(text)
            except ValueError:
                pass
    return time.time() + wall_clock.offset


def sleep_microseconds(usecs):
    if usecs > 0:
        time.sleep(usecs / 1000000.0)


# --- memory ---------------------------------------------------------------------

def _meminfo_kb(text, key):
    i = text.find(key)
    if i < 0:
        return -1
    i += len(key)
    while i < len(text) and text[i] == ' ':
        i += 1
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    if j == i or j - i > 15:
        return -1
    return int(text[i:j])


def available_memory_bytes():
    """The memory this machine (the guest: its RAM left after the kernel and the boot
    files) can give the VM, from /proc/meminfo; 0 if unknown."""
    text = read_file("/proc/meminfo")
    if text is None:
        return 0
    kb = _meminfo_kb(text, "MemAvailable:")
    if kb < 0:
        kb = _meminfo_kb(text, "MemFree:")
    if kb < 0:
        kb = _meminfo_kb(text, "MemTotal:")
    if kb < 0:
        return 0
    return kb * 1024


RLIMIT_DATA = 2     # Linux's numbers (the guest has no limits to report)
RLIMIT_AS = 9


def address_space_limit_bytes():
    """The smaller of the address-space and data-size limits (ulimit -v, -d); 0: none."""
    best = _getrlimit(RLIMIT_AS)
    data = _getrlimit(RLIMIT_DATA)
    if data > 0 and (best == 0 or data < best):
        best = data
    return best


def _getrlimit(resource_id):
    if not we_are_translated():
        import resource
        soft = resource.getrlimit(resource_id)[0]
        if soft == resource.RLIM_INFINITY or soft < 0:
            return 0
        return soft
    from rpython.rtyper.lltypesystem import lltype, rffi
    with lltype.scoped_alloc(RLIMIT) as r:
        if rffi.cast(lltype.Signed, c_getrlimit(rffi.cast(rffi.INT, resource_id), r)) != 0:
            return 0
        soft = r.c_rlim_cur
        if soft >= r_uint(1 << 62):       # RLIM_INFINITY
            return 0
        return intmask(soft)


def _declare_getrlimit():
    from rpython.rtyper.lltypesystem import lltype, rffi
    from rpython.translator.tool.cbuild import ExternalCompilationInfo
    eci = ExternalCompilationInfo(includes=['sys/resource.h'])
    struct = rffi.CStruct('rlimit', ('rlim_cur', rffi.ULONG), ('rlim_max', rffi.ULONG))
    fn = rffi.llexternal('getrlimit', [rffi.INT, lltype.Ptr(struct)], rffi.INT,
                         compilation_info=eci, _nowrapper=True)
    return struct, fn


RLIMIT, c_getrlimit = _declare_getrlimit()
