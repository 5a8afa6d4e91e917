"""tools/benchheap.py (`make bench-heap`): growing images, timing, the table.

The report is checked on made-up measurements; one small run (1 MB) grows a real
image and measures it with the translated VM ($COGXEN_VM or build/cogxen; skipped
when there is none) and squeak-vm when it is installed.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

import benchheap  # noqa: E402
from test_bench import vm_under_test  # noqa: E402


def test_report_subtracts_the_load_and_compares_the_vms(tmpdir):
    image = tmpdir.join("heap.image")
    image.write("x" * 1048576)
    images = {20: (str(image), 1000)}
    vms = [("cogxen", []), ("squeak-vm", [])]
    results = {
        ("cogxen", 20, "quit"): (0.5, 102400, None),
        ("squeak-vm", 20, "quit"): (0.1, 20480, None),
        ("cogxen", 20, "save"): (1.5, 204800, None),
        ("squeak-vm", 20, "save"): (0.6, 30720, None),
        ("cogxen", 20, "allInstances"): (None, None, "status 1"),
        ("squeak-vm", 20, "allInstances"): (0.3, 20480, None),
    }
    text, failures = benchheap.report(vms, images, results)
    load = [l for l in text.splitlines() if " load " in l][0].split()
    assert load[-5:] == ["0.50", "100.0", "0.10", "20.0", "0.20"]
    save = [l for l in text.splitlines() if " save " in l][0].split()
    assert save[-5:] == ["1.00", "200.0", "0.50", "30.0", "0.50"]
    walk = [l for l in text.splitlines() if "allInstances" in l and "x Point" in l][0].split()
    assert walk[-5:] == ["-", "-", "0.20", "20.0", "-"]
    assert failures == ["cogxen 20 MB allInstances: status 1"]
    assert "FAILED cogxen 20 MB allInstances: status 1" in text


def test_bad_command_lines_exit_2(capsys, tmpdir):
    missing = str(tmpdir.join("nope"))
    assert benchheap.main(["--vm", missing]) == 2
    vm = tmpdir.join("vm")
    vm.write("#!/bin/sh\n")
    vm.chmod(0o755)
    assert benchheap.main(["--vm", str(vm), "--image", missing]) == 2
    image = tmpdir.join("i.image")
    image.write("")
    assert benchheap.main(["--vm", str(vm), "--image", str(image), "--sizes", "big"]) == 2
    assert benchheap.main(["--vm", str(vm), "--image", str(image), "--actions", "fly"]) == 2
    err = capsys.readouterr().err
    assert "no VM" in err and "image not found" in err and "--sizes" in err
    assert "unknown action fly" in err


def test_a_small_heap_is_grown_and_measured(capsys, image_path):
    vm = vm_under_test()
    status = benchheap.main(["--vm", vm, "--image", image_path("mini.image"), "--sizes", "1",
                             "--repeat", "1", "--timeout", "300"]
                            + ([] if benchheap.bench.find_peer() else ["--no-peer"]))
    out = capsys.readouterr().out
    assert status == 0, out
    lines = [l for l in out.splitlines() if not l.startswith("load:")]   # not the legend
    assert "1 MB (8738 records" in out
    for measure in (" load ", " save ", "10 x Point allInstances"):
        row = [l for l in lines if measure in l]
        assert len(row) == 1, out
        assert row[0].split()[-5 if benchheap.bench.find_peer() else -2] != "-", out
