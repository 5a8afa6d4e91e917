"""Snapshots: the image saves itself, safely, in its own format.

Each test works on a copy of a real image in a temporary folder. The saved image
is checked by running it again: with this VM, and with Debian's squeak-vm (the
classic interpreter VM), the independent check that the writer is right.
"""

import glob
import hashlib
import os
import shutil
import signal
import subprocess
import time

import pytest

from imagerun import find_image, kill_during_save, remove_tree, run_vm, vm_command

SNAPSHOT_AND_QUIT = "Smalltalk snapshot: true andQuit: true"


def copy_image(name, tmpdir):
    folder = str(tmpdir.mkdir("img"))
    path = os.path.join(folder, name)
    shutil.copyfile(find_image(name), path)
    return path


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def eval_in(image, expr, timeout=120):
    return run_vm(["--eval", expr, image], timeout=timeout)


def squeak_vm():
    found = sorted(glob.glob("/usr/lib/squeak/*/squeakvm"))
    if not found:
        pytest.skip("Debian's squeak-vm is not installed (make setup installs it)")
    return found[-1]


def test_snapshot_writes_an_image_this_vm_resumes(tmpdir):
    image = copy_image("mini.image", tmpdir)
    before = digest(image)
    result = eval_in(image, SNAPSHOT_AND_QUIT)
    assert result.status == 0, result.describe()
    assert digest(image) != before
    assert os.listdir(os.path.dirname(image)) == ["mini.image"]   # no temporary left
    # Resumed, the saved process finishes the evaluation and the VM quits.
    resumed = run_vm([image], timeout=120)
    assert resumed.status == 0, resumed.describe()
    assert eval_in(image, "3 + 4").stdout == "7\n"


def test_snapshot_answers_false_running_and_true_resumed(tmpdir):
    from imagerun import REPO
    image = copy_image("mini.image", tmpdir)
    script = os.path.join(str(tmpdir), "resume.st")
    with open(os.path.join(REPO, "images", "CogXen.st")) as f:
        support = f.read()
    with open(script, "w") as f:
        f.write(support + "\n| saved | saved := Smalltalk snapshotPrimitive. "
                "CogXen stdout: saved printString , CogXen newline!\n")
    result = run_vm([image, script], timeout=120)
    assert (result.status, result.stdout) == (0, "false\n"), result.describe()
    # Resumed, the saved process goes on from the same place with true.
    resumed = run_vm([image], timeout=120)
    assert (resumed.status, resumed.stdout) == (0, "true\n"), resumed.describe()


def test_state_survives_a_snapshot(tmpdir):
    image = copy_image("mini.image", tmpdir)
    result = eval_in(image, "Smalltalk at: #Probe put: 42. " + SNAPSHOT_AND_QUIT)
    assert result.status == 0, result.describe()
    assert eval_in(image, "Smalltalk at: #Probe").stdout == "42\n"


@pytest.mark.parametrize("byte_order", ["little", "big"])
def test_snapshot_keeps_format_and_byte_order(byte_order, tmpdir):
    """Saved in the format and byte order it was loaded from (no forced conversion)."""
    from spyvm.image import v3
    from spyvm.image.format import detect_format
    image = copy_image("mini.image", tmpdir)
    if byte_order == "big":
        with open(image, "rb") as f:
            data = v3.swap_byte_order(f.read())
        with open(image, "wb") as f:
            f.write(data)
    result = eval_in(image, "Smalltalk at: #Probe put: 42. " + SNAPSHOT_AND_QUIT)
    assert result.status == 0, result.describe()
    with open(image, "rb") as f:
        assert detect_format(f.read(64)) == (6502, byte_order == "little")
    assert eval_in(image, "Smalltalk at: #Probe").stdout == "42\n"


def run_squeak_vm(image, seconds):
    """Run squeak-vm headless on image for at most seconds: (status or None, output)."""
    proc = subprocess.Popen([squeak_vm(), "-vm-display-null", "-vm-sound-null", image],
                            stdin=open(os.devnull), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=os.setsid)
    deadline = time.time() + seconds
    while proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    status = proc.poll()
    if status is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return status, proc.stdout.read()


def test_squeak_vm_resumes_the_saved_image_and_sees_its_state(tmpdir):
    squeak_vm()
    image = copy_image("mini.image", tmpdir)
    # Resumed, the saved process checks the probe: quit if it is there, else spin
    # forever (squeak-vm then runs into the timeout).
    result = eval_in(image, "Smalltalk at: #Probe put: 42. "
                            "Smalltalk snapshotPrimitive ifTrue: ["
                            "(Smalltalk at: #Probe) = 42 ifTrue: [Smalltalk quitPrimitive]. "
                            "[true] whileTrue]. #saved")
    assert (result.status, result.stdout) == (0, "saved\n"), result.describe()
    status, output = run_squeak_vm(image, 60)
    assert status == 0, "squeak-vm: status %s, output %r" % (status, output)


def test_squeak_vm_runs_an_image_saved_by_snapshot_and_quit(tmpdir):
    squeak_vm()
    image = copy_image("mini.image", tmpdir)
    assert eval_in(image, SNAPSHOT_AND_QUIT).status == 0
    # The image's start-up list brings Squeak 2.2's user interface back: without a
    # display it keeps running, which is what must happen (no crash, no abort).
    status, output = run_squeak_vm(image, 5)
    assert status is None, "squeak-vm ended with %s: %r" % (status, output)


def test_failed_save_into_a_read_only_folder_keeps_the_old_file(tmpdir):
    if not os.path.exists("/usr/bin/unshare"):
        pytest.skip("needs unshare(1) to mount the folder read-only")
    image = copy_image("mini.image", tmpdir)
    folder = os.path.dirname(image)
    before = digest(image)
    # A read-only bind mount: root ignores file modes, not a read-only mount.
    argv = ["unshare", "-m", "sh", "-c",
            'mount --bind -o ro "$0" "$0" && exec "$@"', folder] + \
        vm_command() + ["--eval", SNAPSHOT_AND_QUIT, image]
    proc = subprocess.Popen(argv, stdin=open(os.devnull), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate()
    if "mount" in err and proc.returncode != 1:
        pytest.skip("cannot mount read-only here: %s" % err.strip())
    # The primitive failed: Squeak 2.2 reports it as an error; nothing was written.
    assert proc.returncode == 1, (out, err)
    assert "cogxen: error:" in err
    assert digest(image) == before
    assert os.listdir(folder) == ["mini.image"]


def test_save_killed_midway_keeps_the_old_file(tmpdir):
    image = copy_image("mini.image", tmpdir)
    folder = os.path.dirname(image)
    before = digest(image)
    kill_during_save(image, SNAPSHOT_AND_QUIT)
    assert digest(image) == before
    leftovers = [n for n in os.listdir(folder) if n != "mini.image"]
    assert all(n.endswith(".tmp") for n in leftovers)
    remove_tree(folder)
