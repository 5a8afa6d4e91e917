"""The hosted platform layer: saving through the file, clocks, output errors."""

import errno
import os
import stat
import subprocess
import sys

import pytest

from spyvm.platform import posix


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mode", [0600, 0640, 0751])
def test_save_keeps_the_file_mode(tmpdir, mode):
    # A private image stays private, an unusual mode stays as it was.
    path = str(tmpdir.join("a.image"))
    with open(path, "wb") as f:
        f.write("old")
    os.chmod(path, mode)
    assert posix.write_file_atomically(path, "new data")
    assert open(path, "rb").read() == "new data"
    assert mode_of(path) == mode


def test_save_of_a_new_file_follows_the_umask(tmpdir):
    path = str(tmpdir.join("new.image"))
    old = os.umask(022)
    try:
        assert posix.write_file_atomically(path, "data")
    finally:
        os.umask(old)
    assert mode_of(path) == 0644


def test_save_over_a_symlink_updates_the_target_and_keeps_the_link(tmpdir):
    real = tmpdir.mkdir("real")
    target = str(real.join("t.image"))
    with open(target, "wb") as f:
        f.write("old")
    os.chmod(target, 0600)
    links = tmpdir.mkdir("links")
    link = str(links.join("l.image"))
    os.symlink("../real/t.image", link)            # relative, as users make them
    chain = str(links.join("chain.image"))
    os.symlink(link, chain)                         # a link to a link
    assert posix.write_file_atomically(chain, "new")
    assert os.path.islink(link) and os.path.islink(chain)
    assert open(target, "rb").read() == "new"
    assert mode_of(target) == 0600
    assert sorted(os.listdir(str(real))) == ["t.image"]
    assert sorted(os.listdir(str(links))) == ["chain.image", "l.image"]


def test_save_through_a_symlink_loop_fails(tmpdir):
    a = str(tmpdir.join("a.image"))
    b = str(tmpdir.join("b.image"))
    os.symlink(b, a)
    os.symlink(a, b)
    assert not posix.write_file_atomically(a, "data")
    assert os.path.islink(a) and os.path.islink(b)


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_save_removes_temporary_files_of_dead_processes_only(tmpdir):
    path = str(tmpdir.join("a.image"))
    with open(path, "wb") as f:
        f.write("old")
    stale = "%s.%d.tmp" % (path, dead_pid())
    live = "%s.%d.tmp" % (path, os.getppid())      # a running process's save
    other = str(tmpdir.join("b.image.%d.tmp" % dead_pid()))   # another image's
    for name in (stale, live, other):
        with open(name, "wb") as f:
            f.write("partial")
    assert posix.write_file_atomically(path, "new")
    assert not os.path.exists(stale)
    assert os.path.exists(live) and os.path.exists(other)
    assert open(path, "rb").read() == "new"


def test_failed_save_leaves_no_temporary_file(tmpdir):
    folder = tmpdir.mkdir("ro")
    path = str(folder.join("a.image"))
    with open(path, "wb") as f:
        f.write("old")
    os.chmod(path, 0600)
    os.chmod(str(folder), 0500)
    try:
        ok = posix.write_file_atomically(path, "new")
    finally:
        os.chmod(str(folder), 0700)
    if os.geteuid() != 0:                           # root writes anyway
        assert not ok
        assert open(path, "rb").read() == "old"
    assert sorted(os.listdir(str(folder))) == ["a.image"]


def test_only_regular_files_are_images(tmpdir):
    path = str(tmpdir.join("a.image"))
    with open(path, "wb") as f:
        f.write("x")
    fifo = str(tmpdir.join("fifo.image"))
    os.mkfifo(fifo)
    link = str(tmpdir.join("link.image"))
    os.symlink(path, link)
    assert posix.is_regular_file(path) and posix.is_regular_file(link)
    assert not posix.is_regular_file(fifo)
    assert not posix.is_regular_file("/dev/zero")
    assert not posix.is_regular_file(str(tmpdir))
    assert not posix.is_regular_file(str(tmpdir.join("missing")))


def test_write_reports_a_full_device():
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        assert posix.write(fd, "x" * 100) == errno.ENOSPC
    finally:
        os.close(fd)
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        assert posix.write(fd, "x" * 100) == 0
    finally:
        os.close(fd)


def test_monotonic_clock_ignores_a_stepped_wall_clock(monkeypatch):
    monkeypatch.setattr(posix, "wall_clock", posix.WallClock())
    monkeypatch.setenv("COGXEN_TEST_WALL_CLOCK_OFFSET", "-3600")
    before_mono = posix.monotonic_microseconds()
    wall = posix.wall_clock_seconds()
    after_mono = posix.monotonic_microseconds()
    import time
    assert 3590 < time.time() - wall < 3610
    assert 0 <= after_mono - before_mono < 10 * 1000000
    # The monotonic clock is CLOCK_MONOTONIC: the time since boot, not since 1970.
    uptime = float(open("/proc/uptime").read().split()[0])
    assert abs(after_mono / 1e6 - uptime) < 60


def test_memory_sources():
    assert posix.available_memory_bytes() > 0
    assert posix._meminfo_kb("MemTotal:   64000 kB\nMemFree:  51234 kB\n", "MemFree:") == 51234
    assert posix._meminfo_kb("MemTotal:   64000 kB\n", "MemAvailable:") == -1
    assert posix.address_space_limit_bytes() >= 0


@pytest.mark.parametrize("path,absolute", [
    ("/a/b.image", "/a/b.image"),
    ("/a/./b/../c.image", "/a/c.image"),
    ("//a//b/", "/a/b"),
    ("/..", "/"),
    ("", ""),
])
def test_absolute_path_of_an_absolute_path(path, absolute):
    assert posix.absolute_path(path) == absolute


def test_absolute_path_starts_from_the_current_folder(tmpdir, monkeypatch):
    monkeypatch.chdir(str(tmpdir))
    here = os.getcwd()
    assert posix.absolute_path("x.image") == here + "/x.image"
    assert posix.absolute_path("./sub/../x.image") == here + "/x.image"
    assert posix.absolute_path("../x.image") == os.path.dirname(here) + "/x.image"


def test_executable_path_and_its_folder(tmpdir, monkeypatch):
    monkeypatch.chdir(str(tmpdir))
    assert posix.executable_path("build/cogxen") == os.getcwd() + "/build/cogxen"
    # Found on PATH: the kernel's name for the running program.
    assert posix.executable_path("cogxen") == os.path.realpath("/proc/self/exe")
    assert posix.folder_of("/opt/cogxen/cogxen") == "/opt/cogxen/"
    assert posix.folder_of("cogxen") == ""
