"""The image cases of cases.py, run against the VM as a program.

Untranslated (`python targetcogxen.py ...`) by default; with COGXEN_VM=/path/to/cogxen
the same cases run against that binary (`make test-translated`). Images come from
$COGXEN_IMAGES (default <repo>/../shared/images); a case whose image is missing is
skipped.
"""

import ast
import imp
import os
import re
import shutil

import pytest

from imagerun import (REPO, expectation_problems, find_image, remove_tree, run_vm,
                      translated_vm, vm_command)

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_FILE = os.path.join(HERE, "cases.py")

cases_module = imp.load_source("cogxen_image_cases", CASES_FILE)
CASES = cases_module.CASES

KEYS = set(["name", "image", "options", "script", "args", "stdout", "stdout_re",
            "status", "stderr", "stderr_re", "timeout", "slow", "notes"])


# --- the case file itself -----------------------------------------------------------------


def test_cases_are_a_literal():
    """Runners other than this one read CASES with ast.literal_eval: keep it pure data."""
    with open(CASES_FILE) as f:
        tree = ast.parse(f.read(), CASES_FILE)
    values = [node.value for node in tree.body
              if isinstance(node, ast.Assign) and
              [getattr(t, "id", None) for t in node.targets] == ["CASES"]]
    assert len(values) == 1, "cases.py must assign CASES exactly once"
    assert ast.literal_eval(values[0]) == CASES


def test_cases_are_well_formed():
    names = set()
    for case in CASES:
        assert set(case) <= KEYS, "unknown keys in %r" % (set(case) - KEYS,)
        assert case["name"] not in names, "duplicate case name %s" % case["name"]
        names.add(case["name"])
        assert isinstance(case["status"], int)
        assert ("stdout" in case) != ("stdout_re" in case), case["name"]
        for pattern in [case.get("stdout_re"), case.get("stderr_re")]:
            if pattern is not None:
                re.compile(pattern)
        for path in case.get("script", []):
            assert os.path.isfile(os.path.join(REPO, path)), "%s: no %s" % (case["name"], path)


# --- running them -------------------------------------------------------------------------


def write_script(case, folder):
    """Concatenate the case's script files into one SCRIPT.st in folder; its path."""
    path = os.path.join(folder, "script.st")
    with open(path, "wb") as out:
        for name in case["script"]:
            with open(os.path.join(REPO, name), "rb") as f:
                out.write(f.read())
            out.write("\n")
    return path


def case_argv(case, image, script):
    argv = list(case.get("options", [])) + [image]
    if script is not None:
        argv.append(script)
    return argv + list(case.get("args", []))


def case_timeout(case):
    """The case's timeout (for the untranslated VM); the binary gets a quarter, >= 30 s."""
    timeout = case.get("timeout", 120)
    if translated_vm():
        timeout = max(30, timeout // 4)
    return timeout


def check(case, result):
    """Compare a run with the case; answer a list of problems (empty: it passed)."""
    problems = []
    if result.timed_out:
        problems.append("did not finish within %s s" % case_timeout(case))
    problems += expectation_problems(case, result)
    if "Traceback (most recent call last)" in result.stdout + result.stderr:
        problems.append("a Python traceback was printed")
    return problems


def case_image(case, tmpdir):
    """A copy of the case's image: images write beside themselves
    (bootstrapped.image's log.txt), and the shared folder must stay as it is."""
    image = str(tmpdir.join(case["image"]))
    shutil.copyfile(find_image(case["image"]), image)
    return image


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_image(case, tmpdir):
    if case.get("slow") and not translated_vm():
        pytest.skip("a minute or more untranslated: runs against COGXEN_VM and in the guest")
    image = case_image(case, tmpdir)
    folder = str(tmpdir.mkdir("run"))
    script = write_script(case, str(tmpdir)) if case.get("script") else None
    result = run_vm(case_argv(case, image, script), timeout=case_timeout(case), cwd=folder)
    problems = check(case, result)
    remove_tree(folder)
    assert not problems, "%s: %s\n%s" % (case["name"], "; ".join(problems),
                                         result.describe())


def test_corrupt_scheduler_on_yield_is_a_clear_fatal_error(tmpdir):
    """Issue 15: `Processor yield` with a corrupt activeProcess. The image first runs
    its own error handling for a while (minutes untranslated): the binary only."""
    if not translated_vm():
        pytest.skip("needs COGXEN_VM (the image's error handling is slow untranslated)")
    folder = str(tmpdir.mkdir("run"))
    result = run_vm(["--eval", "Processor instVarAt: 2 put: 5. Processor yield",
                     find_image("mini.image")], timeout=60, cwd=folder)
    remove_tree(folder)
    assert (result.status, result.stdout) == (1, ""), result.describe()
    assert result.stderr == ("cogxen: fatal: corrupt scheduler: Processor's activeProcess "
                             "is the SmallInteger 5, not a Process\n"), result.describe()


def test_vm_command_switch(monkeypatch):
    """COGXEN_VM selects the binary; without it the VM runs untranslated in this Python."""
    monkeypatch.setenv("COGXEN_VM", "/opt/cogxen/bin/cogxen")
    assert vm_command() == ["/opt/cogxen/bin/cogxen"]
    assert translated_vm() == "/opt/cogxen/bin/cogxen"
    monkeypatch.delenv("COGXEN_VM")
    command = vm_command()
    assert command[-1] == os.path.join(REPO, "targetcogxen.py")
    assert translated_vm() is None


def test_expectation_problems_name_each_difference():
    class Run(object):
        status, stdout, stderr = 1, "8\n", "cogxen: oops\n"
    case = {"status": 0, "stdout": "7\n", "stderr_re": r"\Aok"}
    problems = expectation_problems(case, Run())
    assert problems == ["exit status 1, expected 0", "stdout differs: expected '7\\n'",
                        "stderr does not match '\\\\Aok'"]
    assert expectation_problems({"status": 1, "stdout_re": r"\d\n"}, Run()) == []
