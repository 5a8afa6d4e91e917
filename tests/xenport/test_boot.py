"""xenport on its own: the self-test kernel (xenport/selftest.c instead of the VM)
booted under QEMU.  It checks the C library subset inside the guest (formatting,
malloc, mmap of executable memory, TLS, clocks, files, math) and gives the
harness small commands to check boot-level behaviour: exit statuses, the
command line as argv and environment, the boot file system, the consoles, the
crash report of every kind of fault.
"""

import pytest

from qemurun import require_qemu
from qemurun import cpio_archive, run_kernel


@pytest.fixture(autouse=True)
def _qemu():
    require_qemu()


def boot(kernel, cmdline, **kw):
    kw.setdefault("timeout", 30)
    return run_kernel(kernel, cmdline=cmdline, **kw)


@pytest.mark.parametrize("cpu", [None, "max"])
def test_selftest_passes(selftest_kernel, cpu):
    """On QEMU's default CPU and on its richest one (AVX: xenport enables XSAVE)."""
    r = boot(selftest_kernel, "--xen-no-image", cpu=cpu)
    assert (r.status, r.stdout) == (0, "selftest: ok\n"), r.describe()


@pytest.mark.parametrize("status", [0, 1, 2, 42, 127])
def test_exit_status_reaches_the_host(selftest_kernel, status):
    r = boot(selftest_kernel, "exit %d" % status)
    assert r.status == status, r.describe()
    assert r.qemu_status == (status << 1) | 1


def test_command_line_words_are_split_like_a_shell(selftest_kernel):
    r = boot(selftest_kernel, """args plain 'single quoted' "double \\"quoted\\"" back\\ slash '' x""")
    assert r.stdout == 'plain\nsingle quoted\ndouble "quoted"\nback slash\n\nx\n', r.describe()


def test_leading_assignments_are_the_environment(selftest_kernel):
    r = boot(selftest_kernel, "COGXEN_A=1 COGXEN_B='two words' env COGXEN_B")
    assert r.stdout == "two words\n", r.describe()
    r = boot(selftest_kernel, "env COGXEN_A")
    assert r.stdout == "(unset)\n", r.describe()


def test_unterminated_quote_is_bad_input(selftest_kernel):
    r = boot(selftest_kernel, "args 'open")
    assert r.status == 2, r.describe()
    assert "xenport: bad command line: unterminated ' quote" in r.stderr


def test_unknown_xenport_option(selftest_kernel):
    r = boot(selftest_kernel, "--xen-bogus exit 0")
    assert r.status == 2, r.describe()
    assert "xenport: unknown option --xen-bogus" in r.stderr


def test_raw_initrd_is_a_file_and_comes_first_in_argv(selftest_kernel):
    r = boot(selftest_kernel, "--xen-info", initrd=b"hello, initrd\n")
    assert 'argv[1] = "/initrd"' in r.stderr, r.describe()
    r = boot(selftest_kernel, "--xen-no-image cat /initrd", initrd=b"hello, initrd\n")
    assert (r.status, r.stdout) == (0, "hello, initrd\n"), r.describe()


def test_cpio_initrd_files(selftest_kernel):
    archive = cpio_archive([("a.image", b"IMAGE"), ("dir/notes.txt", b"some notes\n")])
    r = boot(selftest_kernel, "--xen-info", initrd=archive)
    assert 'argv[1] = "/a.image"' in r.stderr, r.describe()
    r = boot(selftest_kernel, "--xen-no-image cat dir/notes.txt", initrd=archive)
    assert r.stdout == "some notes\n", r.describe()
    r = boot(selftest_kernel, "--xen-no-image cat /missing", initrd=archive)
    assert r.status == 1 and "No such file or directory" in r.stderr, r.describe()


def test_proc_meminfo_reports_guest_memory(selftest_kernel):
    r = boot(selftest_kernel, "--xen-no-image cat /proc/meminfo", memory_mb=128)
    kb = int(r.stdout.split()[1])
    assert 100 * 1024 < kb <= 128 * 1024, r.describe()


def test_stderr_goes_to_the_debug_console_when_there_is_one(selftest_kernel):
    r = boot(selftest_kernel, "stderr to-stderr")
    assert (r.stdout, r.stderr) == ("", "to-stderr\n"), r.describe()
    r = boot(selftest_kernel, "stderr to-stderr", separate_stderr=False)
    assert r.stdout == "to-stderr\n", r.describe()


def test_standard_input_is_the_serial_line(selftest_kernel):
    text = b"first line\nsecond line\n" + b"x" * 100 + b"\n"
    r = boot(selftest_kernel, "stdin", stdin=text + b"\x04")
    assert r.stdout == text.decode() + "<eof>\n", r.describe()


def test_sleep_follows_the_host_clock(selftest_kernel):
    r = boot(selftest_kernel, "sleep 300")
    assert r.status == 0
    ms = int(r.stdout)
    assert 300 <= ms < 400, r.describe()
    assert r.seconds >= 0.3


def test_memory_beyond_4_gib(selftest_kernel):
    """RAM above 4 GiB is mapped and allocated from: take most of a 5 GiB guest."""
    r = boot(selftest_kernel, "alloc 4600", memory_mb=5 * 1024, timeout=60)
    assert (r.status, r.stdout) == (0, "allocated\n"), r.describe()
    highest = int(r.stderr.split("highest address ")[1].split()[0], 16)
    assert highest > 4 << 30, r.describe()


def test_out_of_memory_is_reported(selftest_kernel):
    r = boot(selftest_kernel, "alloc 256", memory_mb=128)
    assert r.status == 1 and "out of memory" in r.stderr, r.describe()


@pytest.mark.parametrize("kind,what", [
    ("unmapped", "#PF page fault"),
    ("null", "NULL pointer dereference"),
    ("stack", "stack overflow"),
    ("ud", "#UD invalid opcode"),
    ("div", "#DE divide error"),
])
def test_faults_print_a_crash_report(selftest_kernel, kind, what):
    r = boot(selftest_kernel, "--xen-fault=%s exit 0" % kind)
    assert r.status == 127, r.describe()
    assert r.seconds < 10
    assert "xenport: CPU exception" in r.stderr, r.describe()
    assert what in r.stderr, r.describe()
    assert " rip " in r.stderr and "frames" in r.stderr, r.describe()


def test_no_status_without_the_exit_device(selftest_kernel):
    """Without isa-debug-exit xenport says so and resets: QEMU (-no-reboot) quits."""
    import qemurun
    argv = qemurun.qemu_argv(selftest_kernel, cmdline="exit 3")
    argv.remove("isa-debug-exit,iobase=0xf4,iosize=0x04")
    argv.remove("-device")
    import subprocess
    proc = subprocess.Popen(argv, stdin=open("/dev/null"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = proc.communicate()[0].decode("latin-1")
    assert "exit status 3; no isa-debug-exit device" in out
    assert proc.returncode == 0
