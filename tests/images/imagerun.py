"""Running the VM as a program, the way users do: for the image and bad-input tests.

vm_command() is the argv prefix: the translated binary named by $COGXEN_VM, else
the untranslated VM (this Python running targetcogxen.py). Runs get standard input
from /dev/null, their own process group (so a run that times out is killed with
everything it started), an address-space limit ($COGXEN_TEST_MEMORY_MB, default
2048; 0 for none: a runaway VM fails fast instead of eating the machine's memory)
and, unless told otherwise, an empty working directory. Python 2.7's subprocess
has no timeouts, hence the polling.
"""

import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.path.join(REPO, "targetcogxen.py")

DEFAULT_TIMEOUT = 120
DEFAULT_MEMORY_MB = 2048


def translated_vm():
    """The binary named by $COGXEN_VM, or None to run the VM untranslated."""
    return os.environ.get("COGXEN_VM") or None


def images_dir():
    """$COGXEN_IMAGES, else <repo>/../shared/images (as tests/conftest.py)."""
    return os.environ.get("COGXEN_IMAGES") or \
        os.path.normpath(os.path.join(REPO, "..", "shared", "images"))


def find_image(name):
    """Absolute path of test image `name`; skips the calling test when it is missing."""
    path = os.path.abspath(os.path.join(images_dir(), name))
    if not os.path.isfile(path):
        import pytest
        pytest.skip("test image %s not found in COGXEN_IMAGES=%s" % (name, images_dir()))
    return path


def memory_limit_bytes():
    """The address-space limit for VM runs, in bytes (0: none)."""
    mb = int(os.environ.get("COGXEN_TEST_MEMORY_MB", str(DEFAULT_MEMORY_MB)))
    return max(0, mb) * 1024 * 1024


def _child_setup(limit):
    def setup():
        os.setsid()
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return setup


def vm_command():
    """The argv prefix that starts the VM under test."""
    vm = translated_vm()
    if vm:
        return [os.path.abspath(vm)]
    return [sys.executable, TARGET]


class Result(object):
    def __init__(self, argv, status, stdout, stderr, seconds, timed_out):
        self.argv = argv
        self.status = status          # exit status; -N when killed by signal N
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.timed_out = timed_out

    def describe(self, limit=3000):
        def cut(text):
            if len(text) > limit:
                return text[:limit] + "\n...(%d more characters)" % (len(text) - limit)
            return text
        return ("command: %s\nstatus: %s%s after %.1f s\n--- stdout:\n%s\n--- stderr:\n%s"
                % (" ".join(quote(a) for a in self.argv), self.status,
                   " (TIMED OUT, killed)" if self.timed_out else "", self.seconds,
                   cut(self.stdout), cut(self.stderr)))


def quote(arg):
    if arg and all(c.isalnum() or c in "-_./=:+@%" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def _read_so_far(f):
    with open("/proc/self/fd/%d" % f.fileno(), "rb") as own:
        return own.read()


class Run(object):
    """One VM process started in the background; finish() waits for it (or kills it)."""

    def __init__(self, args, timeout=DEFAULT_TIMEOUT, cwd=None, stdin=None):
        """stdin: bytes for the VM's standard input (default: none, /dev/null)."""
        self.argv = vm_command() + list(args)
        self.timeout = timeout
        self.own_cwd = cwd is None
        self.cwd = tempfile.mkdtemp(prefix="cogxen-run-") if cwd is None else cwd
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.start = time.time()
        if stdin is None:
            source = open(os.devnull, "rb")
        else:
            source = tempfile.TemporaryFile()
            source.write(stdin)
            source.seek(0)
        with source:
            self.process = subprocess.Popen(
                self.argv, stdin=source, stdout=self.out, stderr=self.err,
                cwd=self.cwd, preexec_fn=_child_setup(memory_limit_bytes()),
                close_fds=True)
        self.result = None
        self.timed_out = False

    def poll(self):
        """True once the process has ended (killing it when its time is up)."""
        if self.process.poll() is not None:
            return True
        if time.time() - self.start > self.timeout:
            self.kill()
            self.timed_out = True
            self.process.wait()
            return True
        return False

    def stdout_so_far(self):
        """What the VM wrote to stdout until now (read through a file description of
        our own: seeking the shared one would move the VM's writes)."""
        return _read_so_far(self.out)

    def stderr_so_far(self):
        return _read_so_far(self.err)

    def wait_for_stdout(self, text, timeout=DEFAULT_TIMEOUT):
        """Wait until stdout holds text; False if the VM ended or time ran out first."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.stdout_so_far():
                return True
            if self.process.poll() is not None:
                return text in self.stdout_so_far()
            time.sleep(0.05)
        return False

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass

    def finish(self):
        if self.result is not None:
            return self.result
        while not self.poll():
            time.sleep(0.02)
        seconds = time.time() - self.start
        self.out.seek(0)
        self.err.seek(0)
        stdout = self.out.read()
        stderr = self.err.read()
        self.out.close()
        self.err.close()
        if self.own_cwd:
            remove_tree(self.cwd)
        self.result = Result(self.argv, self.process.returncode, stdout, stderr,
                             seconds, self.timed_out)
        return self.result


def run_vm(args, timeout=DEFAULT_TIMEOUT, cwd=None, stdin=None):
    """Run the VM with args (after vm_command()) and answer its Result."""
    return Run(args, timeout, cwd, stdin).finish()


def run_many(arg_lists, timeout=DEFAULT_TIMEOUT, jobs=None):
    """Run the VM once per argument list, at most `jobs` at a time; Results in order."""
    if jobs is None:
        jobs = default_jobs()
    results = [None] * len(arg_lists)
    pending = list(enumerate(arg_lists))
    pending.reverse()
    running = []
    while pending or running:
        while pending and len(running) < jobs:
            index, args = pending.pop()
            running.append((index, Run(args, timeout)))
        still = []
        for index, run in running:
            if run.poll():
                results[index] = run.finish()
            else:
                still.append((index, run))
        running = still
        if running:
            time.sleep(0.02)
    return results


def default_jobs():
    """Parallel VM runs: $COGXEN_TEST_JOBS, else the number of CPUs (2 to 4)."""
    value = os.environ.get("COGXEN_TEST_JOBS")
    if value:
        return max(1, int(value))
    try:
        import multiprocessing
        cpus = multiprocessing.cpu_count()
    except (ImportError, NotImplementedError):
        cpus = 2
    return max(2, min(4, cpus))


def kill_during_save(image, expression):
    """Run expression (which saves image) with the save stalled once its temporary
    file exists (COGXEN_TEST_SAVE_STALL), kill the VM there; answer its pid."""
    folder = os.path.dirname(image)
    env = dict(os.environ, COGXEN_TEST_SAVE_STALL="30")
    proc = subprocess.Popen(vm_command() + ["--eval", expression, image],
                            stdin=open(os.devnull), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, preexec_fn=os.setsid)
    deadline = time.time() + 60
    while time.time() < deadline and len(os.listdir(folder)) < 2:
        time.sleep(0.05)
    opened = len(os.listdir(folder)) == 2
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert opened, "the save never opened its temporary file"
    return proc.pid


def remove_tree(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


def expectation_problems(case, result):
    """How a run's status, stdout and stderr differ from a case of cases.py (a list
    of problems; empty: as expected). Shared by every runner of the cases."""
    problems = []
    if result.status != case["status"]:
        problems.append("exit status %s, expected %s" % (result.status, case["status"]))
    if "stdout" in case and result.stdout != case["stdout"]:
        problems.append("stdout differs: expected %r" % case["stdout"])
    if "stdout_re" in case and not re.match("(?:%s)\\Z" % case["stdout_re"], result.stdout):
        problems.append("stdout does not match %r" % case["stdout_re"])
    if "stderr" in case and result.stderr != case["stderr"]:
        problems.append("stderr differs: expected %r" % case["stderr"])
    if "stderr_re" in case and not re.search(case["stderr_re"], result.stderr, re.MULTILINE):
        problems.append("stderr does not match %r" % case["stderr_re"])
    return problems
