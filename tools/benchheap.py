#!/usr/bin/env python
"""benchheap.py: what a big heap costs (`make bench-heap`).

For each size (20 and 200 MB by default) the VM under test grows a copy of
mini.image with images/bench/heap/HeapBench.st and saves it from a process that,
resumed, runs the action named by its first argument and quits. Both VMs (the
VM under test and squeak-vm, side by side in one run) then resume fresh copies
of that image:

  quit           nothing: the time and peak memory of loading the image;
  save           one snapshot: save time is this run's minus quit's;
  allInstances   ten `Point allInstances` (a Point per record) on the first size.

Times are whole processes (wall clock, the best of --repeat runs), peak memory the
child's maximum resident set size, so the two VMs are measured the same way.
Runs with Python 2.7 (the project's .venv27) or Python 3.
"""

from __future__ import print_function

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the process runner, the peer's location, table printing)

HEAP_BENCH = os.path.join(bench.REPO, "images", "bench", "heap", "HeapBench.st")
DEFAULT_SIZES = [20, 200]
ACTIONS = ["quit", "save", "allInstances"]

PREPARE = """CogXenHeapBench grow: %d!
CogXen stdout: CogXenHeapBench records printString , ' records' , CogXen newline!
Smalltalk snapshotPrimitive ifTrue: [
	CogXenHeapBench run: (Smalltalk getSystemAttribute: 2).
	Smalltalk quitPrimitive]!
"""


class HeapBenchError(Exception):
    pass


def prepare(vm, base_image, megabytes, workdir, timeout):
    """A copy of base_image grown by megabytes and saved; answer (path, records)."""
    folder = os.path.join(workdir, "%dMB" % megabytes)
    os.mkdir(folder)
    image = os.path.join(folder, "heap.image")
    shutil.copyfile(base_image, image)
    script = os.path.join(folder, "prepare.st")
    with open(script, "w") as f:
        for source in (bench.SUPPORT, HEAP_BENCH):
            with open(source) as g:
                f.write(g.read())
            f.write("\n")
        f.write(PREPARE % megabytes)
    run = bench.run_process([vm, image, script], timeout, cwd=folder)
    if run.status != 0 or "records" not in run.stdout:
        raise HeapBenchError("preparing the %d MB image failed: %s" % (megabytes,
                                                                       run.describe()))
    records = int(run.stdout.split(" records")[0].split()[-1])
    return image, records


def resume(argv_prefix, image, action, timeout):
    """Resume a fresh copy of image running action; answer the Run."""
    folder = tempfile.mkdtemp(prefix="run-", dir=os.path.dirname(image))
    try:
        copy = os.path.join(folder, "heap.image")
        shutil.copyfile(image, copy)
        return bench.run_process(argv_prefix + [copy, action], timeout, cwd=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def best(argv_prefix, image, action, repeat, timeout):
    """The fastest of repeat runs: (seconds, peak RSS KB) or (None, None) with the failure."""
    runs = []
    for _ in range(repeat):
        run = resume(argv_prefix, image, action, timeout)
        if run.status != 0 or run.timed_out:
            return None, None, run.describe()
        runs.append(run)
    fastest = min(runs, key=lambda r: r.seconds)
    return fastest.seconds, max(r.max_rss_kb for r in runs), None


def measure(vms, images, actions, repeat, timeout, log):
    """{(who, size, action): (seconds, rss_kb, failure)}."""
    results = {}
    for size, (image, records) in sorted(images.items()):
        for action in actions:
            if action == "allInstances" and size != min(images):
                continue
            for who, prefix in vms:
                log("%s: %d MB, %s" % (who, size, action))
                results[(who, size, action)] = best(prefix, image, action, repeat, timeout)
    return results


def fmt_s(value):
    return "-" if value is None else "%.2f" % value


def report(vms, images, results):
    names = [who for who, _ in vms]
    headers = ["image", "measure"]
    for who in names:
        headers += ["%s s" % who, "%s MB" % who]
    if len(names) == 2:
        headers.append("ratio %s/%s" % (names[1], names[0]))
    rows = []
    failures = []

    def cost(who, size, action):
        seconds, rss, failure = results.get((who, size, action), (None, None, None))
        if failure:
            failures.append("%s %d MB %s: %s" % (who, size, action, failure))
        return seconds, rss

    for size, (image, records) in sorted(images.items()):
        label = "%d MB (%d records, %.0f MB file)" % (
            size, records, os.path.getsize(image) / 1048576.0)
        for action, title in (("quit", "load"), ("save", "save"),
                              ("allInstances", "10 x Point allInstances")):
            if (names[0], size, action) not in results:
                continue
            cells = [label, title]
            label = ""
            times = []
            for who in names:
                seconds, rss = cost(who, size, action)
                if action != "quit" and seconds is not None:
                    base = cost(who, size, "quit")[0]
                    seconds = None if base is None else max(seconds - base, 0.0)
                times.append(seconds)
                cells += [fmt_s(seconds), bench.fmt_mb(rss)]
            if len(names) == 2:
                cells.append(bench.fmt_ratio(bench.ratio(times[1], times[0])))
            rows.append(cells)
    lines = [bench.table(headers, rows)]
    lines.append("load: resume and quit; save and allInstances: that run minus the load; "
                 "best of the runs; MB: peak resident memory of the process")
    for failure in failures:
        lines.append("FAILED " + failure)
    return "\n".join(lines), failures


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Load, save and heap-walk costs of big images, CogXen and squeak-vm.")
    parser.add_argument("--vm", default=bench.default_vm(), help="the VM under test")
    parser.add_argument("--image", default=bench.default_image(), help="the base image")
    parser.add_argument("--peer", default=None, help="squeak-vm binary")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="image sizes to grow, in MB (default: %(default)s)")
    parser.add_argument("--actions", default=",".join(ACTIONS),
                        help="what to measure (default: %(default)s; quit is always run)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measure (the best counts)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per process")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)

    def log(message):
        print("bench-heap: " + message, file=sys.stderr)
        sys.stderr.flush()

    if not os.access(args.vm, os.X_OK):
        print("bench-heap: no VM at %s (make translate)" % args.vm, file=sys.stderr)
        return 2
    if not os.path.isfile(args.image):
        print("bench-heap: image not found: %s" % args.image, file=sys.stderr)
        return 2
    try:
        sizes = sorted(set(int(s) for s in args.sizes.split(",") if s.strip()))
    except ValueError:
        print("bench-heap: --sizes takes megabytes, e.g. 20,200", file=sys.stderr)
        return 2
    actions = ["quit"] + [a for a in args.actions.split(",") if a in ACTIONS and a != "quit"]
    unknown = [a for a in args.actions.split(",") if a and a not in ACTIONS]
    if unknown:
        print("bench-heap: unknown action %s (known: %s)" % (unknown[0], ", ".join(ACTIONS)),
              file=sys.stderr)
        return 2
    vms = [("cogxen", [os.path.abspath(args.vm)])]
    if not args.no_peer:
        peer = args.peer or bench.find_peer()
        if peer is None:
            print("bench-heap: squeak-vm not found (make setup installs it; --no-peer "
                  "runs without it)", file=sys.stderr)
            return 2
        vms.append(("squeak-vm", [peer] + bench.PEER_FLAGS))
    workdir = tempfile.mkdtemp(prefix="cogxen-bench-heap-")
    try:
        images = {}
        for size in sizes:
            log("growing a %d MB image" % size)
            images[size] = prepare(os.path.abspath(args.vm), args.image, size, workdir,
                                   args.timeout)
        results = measure(vms, images, actions, args.repeat, args.timeout, log)
        text, failures = report(vms, images, results)
        print(text)
        return 1 if failures else 0
    except HeapBenchError as e:
        print("bench-heap: %s" % e, file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log("work folder kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
