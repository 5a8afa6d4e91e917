"""Robustness of the VM as a program (issue 15): the clock, saving through the file,
odd image paths and output, idling with nothing to do, and running out of memory.

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py).
"""

import hashlib
import os
import re
import shutil
import subprocess

import pytest

from imagerun import (find_image, kill_during_save, memory_limit_bytes, remove_tree, run_vm,
                      translated_vm, vm_command, _child_setup)

SNAPSHOT_AND_QUIT = "Smalltalk snapshot: true andQuit: true"


def copy_image(tmpdir, name="mini.image", folder="img"):
    path = os.path.join(str(tmpdir.mkdir(folder)), name)
    shutil.copyfile(find_image(name), path)
    return path


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def no_crash(result):
    assert not result.timed_out, result.describe()
    assert result.status >= 0, result.describe()          # not killed by a signal
    assert "Traceback" not in result.stderr, result.describe()
    assert "internal error" not in result.stderr, result.describe()


# --- the clock ------------------------------------------------------------------------

DELAY_PROBE = ("Array with: Time primSecondsClock "
               "with: (Time millisecondsToRun: [(Delay forMilliseconds: 500) wait])")


def run_probe(monkeypatch, offset):
    monkeypatch.setenv("COGXEN_TEST_WALL_CLOCK_OFFSET", str(offset))
    result = run_vm(["--eval", DELAY_PROBE, find_image("mini.image")])
    no_crash(result)
    assert result.status == 0, result.describe()
    found = re.match(r"\((\d+) (\d+) \)\s*$", result.stdout)
    assert found, result.describe()
    return int(found.group(1)), int(found.group(2))


@pytest.mark.parametrize("offset", [-20, 3600])
def test_a_stepped_wall_clock_moves_the_date_not_a_delay(monkeypatch, offset):
    seconds, _ = run_probe(monkeypatch, 0)
    stepped_seconds, delay_ms = run_probe(monkeypatch, offset)
    # The time of day follows the step...
    assert abs(stepped_seconds - seconds - offset) < 15
    # ...the Delay keeps its length (neither 20 s longer nor over at once).
    assert 500 <= delay_ms < 5000


def test_a_one_second_delay_ends(tmpdir):
    result = run_vm(["--eval", "Time millisecondsToRun: [(Delay forMilliseconds: 1000) wait]",
                     find_image("mini.image")])
    no_crash(result)
    assert result.status == 0, result.describe()
    assert int(result.stdout) >= 1000


# --- idling -----------------------------------------------------------------------------

@pytest.mark.parametrize("expr", ["Semaphore new wait",
                                  "[Semaphore new wait] fork. Semaphore new wait"])
def test_a_deadlock_is_reported_not_waited_out(expr):
    result = run_vm(["--eval", expr, find_image("mini.image")], timeout=60)
    no_crash(result)
    assert result.status == 1, result.describe()
    assert "cogxen: fatal: deadlock:" in result.stderr, result.describe()
    assert result.stdout == ""


def test_a_process_waiting_on_a_delay_is_no_deadlock():
    expr = ("| s | s := Semaphore new. "
            "[(Delay forMilliseconds: 300) wait. s signal] fork. s wait. 42")
    result = run_vm(["--eval", expr, find_image("mini.image")])
    no_crash(result)
    assert result.status == 0, result.describe()
    assert result.stdout == "42\n"


# --- odd image paths and output -------------------------------------------------------

def assert_refused(result, path):
    no_crash(result)
    assert result.status == 2, result.describe()
    assert result.stderr == "cogxen: %s: not a regular file\n" % path, result.describe()


def test_an_image_path_that_is_a_device_is_refused():
    assert_refused(run_vm(["--eval", "3 + 4", "/dev/zero"], timeout=60), "/dev/zero")


def test_an_image_path_that_is_a_fifo_is_refused_without_blocking(tmpdir):
    fifo = str(tmpdir.join("pipe.image"))
    os.mkfifo(fifo)
    assert_refused(run_vm(["--eval", "3 + 4", fifo], timeout=60), fifo)


def test_an_image_path_that_is_a_folder_is_refused(tmpdir):
    folder = str(tmpdir.mkdir("dir.image"))
    assert_refused(run_vm(["--eval", "3 + 4", folder], timeout=60), folder)


def run_to_full_device(args):
    with open("/dev/full", "wb") as full:
        proc = subprocess.Popen(vm_command() + args, stdin=open(os.devnull),
                                stdout=full, stderr=subprocess.PIPE,
                                preexec_fn=_child_setup(memory_limit_bytes()))
        _, err = proc.communicate()
    return proc.returncode, err


def test_output_to_a_full_device_fails_the_run():
    status, err = run_to_full_device(["--eval", "3 + 4", find_image("mini.image")])
    assert status == 1, err
    assert err == "cogxen: cannot write to standard output: No space left on device\n"


def test_help_to_a_full_device_fails_too():
    status, err = run_to_full_device(["--help"])
    assert status == 1, err
    assert "cannot write to standard output" in err


# --- saving through the file -----------------------------------------------------------

def test_saving_keeps_a_private_image_private(tmpdir):
    image = copy_image(tmpdir)
    os.chmod(image, 0600)
    before = digest(image)
    result = run_vm(["--eval", SNAPSHOT_AND_QUIT, image])
    no_crash(result)
    assert result.status == 0, result.describe()
    assert digest(image) != before
    assert os.stat(image).st_mode & 0777 == 0600
    assert os.listdir(os.path.dirname(image)) == ["mini.image"]


def test_saving_through_a_symlink_updates_its_target(tmpdir):
    image = copy_image(tmpdir, folder="real")
    os.chmod(image, 0640)
    before = digest(image)
    links = str(tmpdir.mkdir("links"))
    link = os.path.join(links, "work.image")
    os.symlink("../real/mini.image", link)
    result = run_vm(["--eval", "Smalltalk at: #Saved put: 42. " + SNAPSHOT_AND_QUIT, link])
    no_crash(result)
    assert result.status == 0, result.describe()
    assert os.path.islink(link) and os.readlink(link) == "../real/mini.image"
    assert digest(image) != before
    assert os.stat(image).st_mode & 0777 == 0640
    assert sorted(os.listdir(links)) == ["work.image"]
    assert sorted(os.listdir(os.path.dirname(image))) == ["mini.image"]
    again = run_vm(["--eval", "Smalltalk at: #Saved", link])
    assert again.stdout == "42\n", again.describe()


def test_a_killed_save_is_cleaned_up_by_the_next_one(tmpdir):
    image = copy_image(tmpdir)
    folder = os.path.dirname(image)
    pid = kill_during_save(image, SNAPSHOT_AND_QUIT)
    stale = "mini.image.%d.tmp" % pid
    assert sorted(os.listdir(folder)) == sorted(["mini.image", stale])
    result = run_vm(["--eval", SNAPSHOT_AND_QUIT, image])
    no_crash(result)
    assert result.status == 0, result.describe()
    assert os.listdir(folder) == ["mini.image"]
    remove_tree(folder)


# --- memory -----------------------------------------------------------------------------

GROW_FOREVER = "| c | c := OrderedCollection new. [true] whileTrue: [c add: (Array new: 100000)]"


def assert_ran_out_cleanly(result):
    no_crash(result)
    assert result.status == 1, result.describe()
    assert "out of memory" in result.stderr or "Space is low" in result.stderr, \
        result.describe()


def test_an_array_beyond_16m_elements():
    result = run_vm(["--eval", "(Array new: 20000000) size", find_image("mini.image")])
    no_crash(result)
    assert result.stdout == "20000000\n", result.describe()


def test_an_image_that_grows_without_end_stops_at_the_memory_option():
    if not translated_vm():
        pytest.skip("untranslated, the heap is CPython's and --memory does not bind")
    result = run_vm(["--memory", "64M", "--eval", GROW_FOREVER, find_image("mini.image")],
                    timeout=120)
    assert_ran_out_cleanly(result)


def test_an_image_that_grows_without_end_stops_under_ulimit_v(monkeypatch):
    # The default limit stays under the address-space limit: no abort (SIGABRT).
    monkeypatch.setenv("COGXEN_TEST_MEMORY_MB", "400")
    result = run_vm(["--eval", GROW_FOREVER, find_image("mini.image")], timeout=120)
    assert_ran_out_cleanly(result)


def test_pypy_gc_max_is_the_limit(monkeypatch):
    if not translated_vm():
        pytest.skip("untranslated, the heap is CPython's and PYPY_GC_MAX does not bind")
    monkeypatch.setenv("PYPY_GC_MAX", "48MB")
    result = run_vm(["--eval", GROW_FOREVER, find_image("mini.image")], timeout=120)
    assert_ran_out_cleanly(result)


@pytest.mark.parametrize("size", ["0", "12X", "100"])
def test_a_bad_memory_option_is_bad_input(size):
    result = run_vm(["--memory", size, "--eval", "3 + 4", find_image("mini.image")])
    no_crash(result)
    assert result.status == 2, result.describe()
    assert result.stderr.startswith("cogxen: bad --memory size %s" % size), result.describe()
