"""Compiling parts of xenport for the host, with a test driver: the parsers
that read what Xen hands the guest (xenstore replies, start_info) are pure C,
so the tests run them natively, with AddressSanitizer and UBSan when the
compiler has them, and feed them anything."""

import os
import signal
import subprocess
import threading
import time

import pytest

from qemurun import REPO


SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


def _run(argv):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc.communicate()[0], proc.returncode


def _compile(sources, out, sanitize):
    argv = ["gcc", "-std=gnu11", "-O1", "-g", "-Wall", "-Werror",
            "-iquote", os.path.join(REPO, "xenport")] + list(sources) + ["-o", out]
    if sanitize:
        argv[1:1] = SANITIZE
    return _run(argv)


def build_driver(tmpdir_factory, name, xenport_sources, driver, needs_header):
    """The driver program linked with xenport's sources (paths under xenport/);
    skips the calling test when Xen's public header needs_header is missing."""
    if not os.path.isfile(needs_header):
        pytest.skip("Xen's public headers are not installed (libxen-dev)")
    out = str(tmpdir_factory.mktemp(name).join("driver"))
    sources = [os.path.join(REPO, "xenport", s) for s in xenport_sources] + [driver]
    log, rc = _compile(sources, out, True)
    if rc != 0:
        log, rc = _compile(sources, out, False)
    assert rc == 0, log
    return out


_sanitizers = []


def sanitizers_available(tmpdir_factory):
    """Whether gcc builds and links a program with ASan and UBSan."""
    if not _sanitizers:
        folder = tmpdir_factory.mktemp("sanitizers")
        source = folder.join("probe.c")
        source.write("int main(void) { return 0; }\n")
        _sanitizers.append(_run(["gcc"] + SANITIZE + [str(source), "-o",
                                                       str(folder.join("probe"))])[1] == 0)
    return _sanitizers[0]


def build_program(tmpdir_factory, name, units):
    """A program of several units, each (source, gcc flags) compiled by itself (its
    own include folders, defines, warnings), then linked; with ASan and UBSan when
    the compiler has them."""
    folder = tmpdir_factory.mktemp(name)
    sanitize = SANITIZE if sanitizers_available(tmpdir_factory) else []
    objects = []
    for i, (source, flags) in enumerate(units):
        obj = str(folder.join("%03d-%s.o" % (i, os.path.basename(source))))
        log, rc = _run(["gcc", "-std=gnu11", "-O1", "-g"] + sanitize + list(flags) +
                       ["-c", source, "-o", obj])
        assert rc == 0, "compiling %s:\n%s" % (source, log)
        objects.append(obj)
    out = str(folder.join(name))
    log, rc = _run(["gcc"] + sanitize + objects + ["-o", out])
    assert rc == 0, "linking %s:\n%s" % (out, log)
    return out


def run_driver(driver, args, timeout, asan_options="detect_leaks=1:abort_on_error=0"):
    """Run a test driver (a build_program) that prints a line per check and ends with
    "done 0"; fail the test on any other ending, a "FAIL" line or a sanitizer report
    (its exit status), with the ends of its output. Answers its stdout lines."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = asan_options
    env["UBSAN_OPTIONS"] = "print_stacktrace=1"
    argv = [driver] + [str(a) for a in args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    timer = threading.Timer(timeout, lambda: os.kill(proc.pid, signal.SIGKILL))
    timer.start()
    start = time.time()
    try:
        out, err = proc.communicate()
    finally:
        timer.cancel()
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    lines = out.splitlines()
    detail = "%s %s: exit %d after %.1f s\n--- stdout (end)\n%s\n--- stderr (end)\n%s" % (
        os.path.basename(driver), " ".join(argv[1:]), proc.returncode,
        time.time() - start, "\n".join(lines[-40:]), err[-6000:])
    assert proc.returncode == 0, detail
    assert lines and lines[-1] == "done 0", detail
    assert not [l for l in lines if l.startswith("FAIL")], detail
    return lines
