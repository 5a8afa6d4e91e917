"""The image cases of tests/images/cases.py, a third runner: the VM as a guest
kernel ($COGXEN_XEN, build/cogxen.xen) booted under QEMU.

Each case becomes one boot: the image is the initrd (with a script, image and
script go in one cpio archive: /IMAGE and /script.st), the command line is the
case's options, script and arguments; xenport puts the image's path first in
argv.  Standard output is the serial port, standard error QEMU's debug console,
the exit status comes through isa-debug-exit.  The expectations are the case's
own: same output, same status as the hosted VM.

The selected cases are booted together, COGXEN_TEST_JOBS (default 2) at a time,
the first time a test needs its result.
"""

import imp
import os

import pytest

from qemurun import REPO, require_qemu, images_dir
from qemurun import command_line, cpio_archive, run_many

CASES_FILE = os.path.join(REPO, "tests", "images", "cases.py")
CASES = imp.load_source("cogxen_image_cases_for_qemu", CASES_FILE).CASES
# The expectation checks every runner of the cases shares.
imagerun = imp.load_source("cogxen_imagerun_for_qemu",
                           os.path.join(REPO, "tests", "images", "imagerun.py"))


def case_timeout(case):
    """QEMU's TCG runs the VM 10-20 times slower than the host: the untranslated
    timeout of the case (default 120 s) is about right, at least 60 s."""
    return max(60, case.get("timeout", 120))


def boot_args(case, kernel):
    with open(os.path.join(images_dir(), case["image"]), "rb") as f:
        image = f.read()
    words = list(case.get("options", []))
    if case.get("script"):
        script = b"".join(open(os.path.join(REPO, name), "rb").read() + b"\n"
                          for name in case["script"])
        initrd = cpio_archive([(case["image"], image), ("script.st", script)])
        words.append("/script.st")
    else:
        initrd = image
    words += case.get("args", [])
    return dict(kernel=kernel, initrd=initrd, cmdline=command_line(words),
                timeout=case_timeout(case))


def check(case, result):
    """The case's expectations; a list of problems (empty: it passed)."""
    problems = []
    if result.timed_out:
        problems.append("did not finish within %s s" % case_timeout(case))
    problems += imagerun.expectation_problems(case, result)
    if "xenport: CPU exception" in result.stderr or "xenport: panic" in result.stderr:
        problems.append("the guest crashed")
    return problems


_results = {}


def _selected_cases(session):
    names = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and item.module.__name__ == __name__.split(".")[-1] \
                and "case" in callspec.params:
            names.append(callspec.params["case"]["name"])
    return names


def result_of(case, kernel, session):
    """Boot every selected case that has not run yet (in parallel), then answer
    this case's result."""
    if case["name"] not in _results:
        wanted = [c for c in CASES if c["name"] in set(_selected_cases(session))
                  and c["name"] not in _results
                  and os.path.isfile(os.path.join(images_dir(), c["image"]))]
        if case not in wanted:
            wanted.append(case)
        jobs = max(1, int(os.environ.get("COGXEN_TEST_JOBS", "2")))
        results = run_many([boot_args(c, kernel) for c in wanted], jobs)
        for c, result in zip(wanted, results):
            _results[c["name"]] = result
    return _results[case["name"]]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_image_in_qemu(case, kernel, request):
    require_qemu()
    if not os.path.isfile(os.path.join(images_dir(), case["image"])):
        pytest.skip("test image %s not found in %s" % (case["image"], images_dir()))
    result = result_of(case, kernel, request.session)
    problems = check(case, result)
    assert not problems, "%s: %s\n%s" % (case["name"], "; ".join(problems), result.describe())
