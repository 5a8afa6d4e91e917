"""SIGUSR1 prints the stack of every process on stderr, as the OpenSmalltalk VM does:
the active one first, then the others with where they wait. The image goes on
running afterwards.

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py).
"""

import os
import re
import signal
import time

import pytest

from imagerun import REPO, Run, find_image

COGXEN_ST = os.path.join(REPO, "images", "CogXen.st")

SCRIPT = """%s
Object subclass: #StackProbe
	instanceVariableNames: ''
	classVariableNames: 'Gate Count'
	poolDictionaries: ''
	category: 'CogXen-Tests'!

!StackProbe class methodsFor: 'probing'!
waitAtTheGate
	Gate := Semaphore new.
	Gate wait!
spinUntil: n
	Count := 0.
	[Count < n] whileTrue: [Count := Count + 1].
	^ Count!
spinForever
	CogXen stdout: 'ready' , CogXen newline.
	[true] whileTrue: [self spinUntil: 1000]! !

CogXen whenAskedToStop: [CogXen stdout: 'stopped' , CogXen newline]!
[StackProbe waitAtTheGate] newProcess priority: Processor userSchedulingPriority + 1; resume!
StackProbe spinForever!
"""


HEADER = "cogxen: the stacks of all processes (SIGUSR1)\n"


def wait_for_reports(run, count, timeout):
    """Wait until stderr holds count reports (the VM writes each in one piece)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        err = run.stderr_so_far()
        if err.count(HEADER) >= count and err.endswith("\n"):
            return True
        if run.process.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def test_sigusr1_prints_every_processs_stack_and_the_image_goes_on(tmpdir):
    script = tmpdir.join("stacks.st")
    with open(COGXEN_ST) as f:
        script.write(SCRIPT % f.read())
    run = Run([find_image("mini.image"), str(script)], timeout=180)
    try:
        if not run.wait_for_stdout("ready\n", timeout=120):
            pytest.fail("the script never got ready\n" + run.finish().describe())
        for attempt in (1, 2):
            os.kill(run.process.pid, signal.SIGUSR1)
            if not wait_for_reports(run, attempt, timeout=60):
                pytest.fail("report %d never printed\n%s" % (attempt,
                                                            run.finish().describe()))
        # Still running: the hook answers the stop request.
        os.kill(run.process.pid, signal.SIGTERM)
        result = run.finish()
    finally:
        run.kill()
    assert result.status == 0, result.describe()
    assert result.stdout.endswith("ready\nstopped\n"), result.describe()
    err = result.stderr
    assert err.count(HEADER) == 2, err
    report = err.split(HEADER)[1]
    blocks = report.strip("\n").split("\n\n")
    active = blocks[0].splitlines()
    m = re.match(r"Process priority (\d+), active:$", active[0])
    assert m, report
    assert "    StackProbe class>>spinForever" in active, report
    # The gate's process was made one priority above the script's.
    header = "Process priority %d, waiting on a Semaphore:" % (int(m.group(1)) + 1)
    waiting = [b.splitlines() for b in blocks[1:] if b.startswith(header)]
    assert len(waiting) == 1, report
    assert waiting[0][1] == "    StackProbe class>>waitAtTheGate", report
    assert waiting[0][2].startswith("    [] in UndefinedObject"), report
