"""The host asks the VM to stop (SIGTERM hosted; xenport turns `xl shutdown` and
`xl reboot` into the same request in the guest): the image's hook runs, then the VM
exits with status 0; a hook that does not finish is cut short; without a hook the
host's default applies.

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py).
"""

import os
import signal
import time

import pytest

from imagerun import REPO, Run, find_image, translated_vm

COGXEN_ST = os.path.join(REPO, "images", "CogXen.st")


def start(tmpdir, setup, waiting="Semaphore new wait"):
    """mini.image running CogXen.st and a script: the setup chunk, a line 'ready',
    then the chunk waiting, which keeps the script's process until the VM stops."""
    script = tmpdir.join("hook.st")
    with open(COGXEN_ST) as f:
        support = f.read()
    script.write("%s\n%s\nCogXen stdout: 'ready' , CogXen newline!\n%s!\n"
                 % (support, setup, waiting))
    run = Run([find_image("mini.image"), str(script)], timeout=120)
    if not run.wait_for_stdout("ready\n", timeout=120):
        result = run.finish()
        pytest.fail("the script never got ready\n" + result.describe())
    return run


def stop(run, times=1):
    """SIGTERM (as often as asked); the Result and the seconds it took to end."""
    asked = time.time()
    for _ in range(times):
        os.kill(run.process.pid, signal.SIGTERM)
        time.sleep(0.2)
    result = run.finish()
    return result, time.time() - asked


HOOK = "CogXen whenAskedToStop: [CogXen stdout: 'the hook ran' , CogXen newline]!"
STUCK = "CogXen whenAskedToStop: [CogXen stdout: 'stuck' , CogXen newline. Semaphore new wait]!"


@pytest.mark.parametrize("waiting", [
    "Semaphore new wait",                                   # forever: no timer at all
    "(Delay forMilliseconds: 1000000) wait",
    "[true] whileTrue: [Smalltalk at: #CogXenCount put: 3 + 4]",  # busy
])
def test_the_hook_runs_then_the_vm_exits_0(tmpdir, waiting):
    run = start(tmpdir, HOOK, waiting)
    result, seconds = stop(run)
    assert (result.status, result.stderr) == (0, ""), result.describe()
    assert result.stdout.endswith("ready\nthe hook ran\n"), result.describe()


def test_the_images_shutdown_list_runs(tmpdir):
    if not translated_vm():
        pytest.skip("untranslated, Squeak 2.2's shutdown list takes longer than the "
                    "2 s the VM gives a hook (runs against the translated VM)")
    run = start(tmpdir, "CogXen shutDownListWhenAskedToStop!")
    result, _ = stop(run)
    assert (result.status, result.stderr) == (0, ""), result.describe()


def test_a_hook_that_never_finishes_is_cut_short(tmpdir):
    run = start(tmpdir, STUCK)
    result, seconds = stop(run)
    assert result.status == 0, result.describe()
    assert result.stdout.endswith("stuck\n"), result.describe()
    assert "asked to stop (SIGTERM): the image's shutdown hook did not finish in time" \
        in result.stderr, result.describe()


def test_a_second_request_stops_the_vm_at_once(tmpdir):
    run = start(tmpdir, STUCK)
    result, seconds = stop(run, times=2)
    assert result.status == 0, result.describe()
    assert "asked to stop (SIGTERM): asked again" in result.stderr, result.describe()


def test_without_a_hook_sigterm_ends_the_vm_as_usual(tmpdir):
    # waits on a Delay: a bare Semaphore wait with no hook is a deadlock the VM reports
    run = start(tmpdir, "CogXen shutdownSemaphore: Semaphore new. "
                        "CogXen shutdownSemaphore: nil!",
                "(Delay forMilliseconds: 1000000) wait")
    result, _ = stop(run)
    assert result.status == -signal.SIGTERM, result.describe()
