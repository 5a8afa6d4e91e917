"""Booting a xenport kernel under QEMU, the way `make qemu-test` does: the runner.

run_kernel(kernel, initrd=..., cmdline=...) boots the ELF with QEMU's direct PVH
boot (-M microvm, TCG: KVM here is unusable) and answers a Result like
tests/images/imagerun.py's: the guest's exit status, its standard output (the
serial port) and standard error (QEMU's debug console at port 0xe9, which
xenport uses for stderr when it is present), the time taken, whether it timed
out.

Exit status: xenport leaves through isa-debug-exit, so QEMU exits with
(status << 1) | 1; any other QEMU exit (0 after a reset, a QEMU error) has no
guest status and is reported as NO_STATUS with QEMU's own stderr kept in
Result.qemu_stderr.  QEMU's own failures (a missing kernel, an initrd too large
for the memory) also exit with 1, which would read as guest status 0: when
QEMU's stderr holds its error lines, the status is NO_STATUS and the lines are
Result.qemu_error.

The image cases pack the image and the script into one cpio archive (the
initrd is one module): xenport exposes its files under / and puts the first
*.image file first in argv.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
from newc import cpio_archive, newc_archive  # noqa: E402,F401  (the tests import them from here)

QEMU = os.environ.get("COGXEN_QEMU", "qemu-system-x86_64")
DEFAULT_MEMORY_MB = 256
NO_STATUS = -1000


def qemu_available():
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if os.access(os.path.join(folder, QEMU), os.X_OK):
            return True
    return os.access(QEMU, os.X_OK)



def require_qemu():
    """Skip the calling test when QEMU is not installed."""
    import pytest
    if not qemu_available():
        pytest.skip("qemu-system-x86_64 is not installed (make setup installs it)")

def images_dir():
    """The real images: $COGXEN_IMAGES, else ../shared/images beside the checkout."""
    return os.environ.get("COGXEN_IMAGES") or \
        os.path.normpath(os.path.join(REPO, "..", "shared", "images"))


def mini_image():
    """mini.image's bytes; skips the calling test when it is missing."""
    import pytest
    path = os.path.join(images_dir(), "mini.image")
    if not os.path.isfile(path):
        pytest.skip("mini.image not found in %s" % images_dir())
    with open(path, "rb") as f:
        return f.read()


def shell_quote(word):
    """Quote a word for xenport's command line (POSIX shell single quotes)."""
    if word and all(c.isalnum() or c in "-_./=:+@%,^" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def command_line(words):
    return " ".join(shell_quote(w) for w in words)


def qemu_errors(qemu_stderr):
    """QEMU's own error lines ("qemu: ..." or "qemu-system-x86_64: ..."), not
    its warnings."""
    prefixes = ("qemu:", os.path.basename(QEMU) + ":")
    return [line for line in qemu_stderr.splitlines()
            if line.startswith(prefixes) and "warning:" not in line]


def guest_status(qemu_status, qemu_stderr):
    """The guest's exit status from QEMU's, or NO_STATUS."""
    if qemu_status is None or qemu_status <= 0 or not qemu_status & 1:
        return NO_STATUS
    if qemu_status == 1 and qemu_errors(qemu_stderr):
        return NO_STATUS
    return qemu_status >> 1


class Result(object):
    def __init__(self, argv, status, stdout, stderr, qemu_stderr, seconds, timed_out,
                 qemu_status):
        self.argv = argv
        self.status = status            # the guest's exit status, or NO_STATUS
        self.stdout = stdout
        self.stderr = stderr
        self.qemu_stderr = qemu_stderr
        self.seconds = seconds
        self.timed_out = timed_out
        self.qemu_status = qemu_status
        # QEMU's own failure: no guest ran (or it did not finish).
        self.qemu_error = "\n".join(qemu_errors(qemu_stderr)) if status == NO_STATUS else ""

    def describe(self, limit=3000):
        def cut(text):
            if len(text) > limit:
                return text[:limit] + "\n...(%d more characters)" % (len(text) - limit)
            return text
        return ("command: %s\nguest status: %s (QEMU exit %s)%s%s after %.1f s\n"
                "--- stdout:\n%s\n--- stderr:\n%s\n--- QEMU's stderr:\n%s"
                % (" ".join(shell_quote(a) for a in self.argv), self.status,
                   self.qemu_status, " (TIMED OUT, killed)" if self.timed_out else "",
                   " (QEMU FAILED: %s)" % self.qemu_error if self.qemu_error else "",
                   self.seconds, cut(self.stdout), cut(self.stderr), cut(self.qemu_stderr)))


def qemu_argv(kernel, initrd=None, cmdline="", memory_mb=DEFAULT_MEMORY_MB, stderr_path=None,
              cpu=None, extra_args=None):
    argv = [QEMU, "-accel", "tcg", "-M", "microvm", "-m", str(memory_mb),
            "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
            "-monitor", "none", "-display", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", kernel, "-append", cmdline]
    if initrd is not None:
        argv += ["-initrd", initrd]
    if cpu is not None:
        argv += ["-cpu", cpu]
    if stderr_path is not None:
        argv += ["-chardev", "file,id=xpstderr,path=%s" % stderr_path,
                 "-device", "isa-debugcon,iobase=0xe9,chardev=xpstderr"]
    if extra_args:
        argv += list(extra_args)        # more devices: ["-device", "virtio-net-device,..."]
    return argv


class Boot(object):
    """One QEMU run in the background; finish() waits for it (or kills it)."""

    def __init__(self, kernel, initrd=None, cmdline="", timeout=60,
                 memory_mb=DEFAULT_MEMORY_MB, separate_stderr=True, stdin=None, cpu=None,
                 extra_args=None):
        self.folder = tempfile.mkdtemp(prefix="cogxen-qemu-")
        self.stderr_path = os.path.join(self.folder, "stderr") if separate_stderr else None
        if isinstance(initrd, bytes):
            path = os.path.join(self.folder, "initrd")
            with open(path, "wb") as f:
                f.write(initrd)
            initrd = path
        self.argv = qemu_argv(kernel, initrd, cmdline, memory_mb, self.stderr_path, cpu,
                              extra_args)
        self.timeout = timeout
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.start = time.time()
        # Standard input: the serial line (a guest reads Ctrl-D as its end).
        stdin_path = os.devnull
        if stdin is not None:
            stdin_path = os.path.join(self.folder, "stdin")
            with open(stdin_path, "wb") as f:
                f.write(stdin)
        with open(stdin_path, "rb") as input_file:
            self.process = subprocess.Popen(self.argv, stdin=input_file, stdout=self.out,
                                            stderr=self.err, preexec_fn=os.setsid,
                                            close_fds=True)
        self.timed_out = False
        self.result = None

    def poll(self):
        if self.process.poll() is not None:
            return True
        if time.time() - self.start > self.timeout:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            self.timed_out = True
            self.process.wait()
            return True
        return False

    def finish(self):
        if self.result is not None:
            return self.result
        while not self.poll():
            time.sleep(0.01)
        seconds = time.time() - self.start
        self.out.seek(0)
        self.err.seek(0)
        stdout = self.out.read()
        qemu_stderr = self.err.read()
        self.out.close()
        self.err.close()
        stderr = b""
        if self.stderr_path and os.path.exists(self.stderr_path):
            with open(self.stderr_path, "rb") as f:
                stderr = f.read()
        import shutil
        shutil.rmtree(self.folder, ignore_errors=True)
        rc = self.process.returncode
        qemu_stderr = _text(qemu_stderr)
        self.result = Result(self.argv, guest_status(rc, qemu_stderr), _text(stdout),
                             _text(stderr), qemu_stderr, seconds, self.timed_out, rc)
        return self.result


def _text(data):
    if isinstance(data, str):
        return data
    return data.decode("latin-1")


def run_kernel(kernel, initrd=None, cmdline="", timeout=60, memory_mb=DEFAULT_MEMORY_MB,
               separate_stderr=True, stdin=None, cpu=None, extra_args=None):
    return Boot(kernel, initrd, cmdline, timeout, memory_mb, separate_stderr, stdin,
                cpu, extra_args).finish()


def run_many(boots_args, jobs=2):
    """Run several boots (each a dict of run_kernel's keyword arguments), at most
    `jobs` at a time; their Results in order."""
    results = [None] * len(boots_args)
    pending = list(enumerate(boots_args))
    pending.reverse()
    running = []
    while pending or running:
        while pending and len(running) < jobs:
            index, kwargs = pending.pop()
            running.append((index, Boot(**kwargs)))
        still = []
        for index, boot in running:
            if boot.poll():
                results[index] = boot.finish()
            else:
                still.append((index, boot))
        running = still
        if running:
            time.sleep(0.01)
    return results
