#!/usr/bin/env python
"""bench.py: CogXen's benchmark harness (`make bench`).

Runs `0 tinyBenchmarks` and the Smalltalk suite of images/bench/ on mini.image with
the VM under test and, in the same run, with the peer squeak-vm 4.10, then prints
a table of times, ratios and peak memory.

How the code gets into the image: the VM under test files images/CogXen.st and
images/bench/*.st into a copy of mini.image in a temporary folder and saves it
from a process that, when resumed, runs the spec given as the image's first
argument (`Smalltalk getSystemAttribute: 2`), keeps the report in the global
CogXenBenchReport, saves the image again and quits. squeak-vm has no script hook
for Squeak 2.2 (and cannot open files for it), so each peer run resumes a fresh
copy of that image; the VM under test then reads the report out of the image the
peer saved. The VM under test runs the same specs on the prepared image with a
one-line script and prints its report as it goes (CogXen stdout:).

Every benchmark and every tinyBenchmarks run is a process of its own, so the peak
memory (the child's maximum resident set size, from wait4) belongs to it.
Iteration times are measured inside the image (Time millisecondClockValue) on
both VMs: warm-up is the first iteration, steady state the median of the last
STEADY_LAST ones. A JIT keeps compiling bridges for a dozen iterations of the
bigger benchmarks (DeltaBlue, Richards), so the default runs 20.

Is the peer measured fairly? The in-image clocks are wall clocks, so any other
process that takes the CPU makes a VM look slower. Every run therefore notes its
CPU share (CPU time over wall time, from wait4); the table lists the processes
under CONTENDED_SHARE. And the peer's tinyBenchmarks is checked against a direct
reference (--reference, on by default): squeak-vm resuming a copy of the original
image into which nothing was filed but a start-up action that runs
`0 tinyBenchmarks`. Measured side by side, interleaved and uncontended, the two
agree within noise (both 36-40 M sends/s; 34 benchFib takes 465 ms of CPU in
either image): the suite filed in, the runner and the harness's start-up do not
slow the peer.

SistaV1 vs V3: then, with the VM under test only, the same suite on Cuis 5
(--cuis, default $COGXEN_IMAGES/Cuis5.0-3121-32.image) twice: as Cuis compiled
it (V3PlusClosures) and converted to SistaV1 by `cogxen-image convert --bytecodes
sistav1`, one process per benchmark and image, in a second table: warm-up,
steady state and the Sista/V3 ratio of steady states; each run checks its answer
and the two results must agree. --no-sista skips it, --sista-only runs only it.
The converter needs Python 2.7 with rpython (the project's .venv27).

Runs with Python 2.7 (the project's .venv27) or Python 3.
"""

from __future__ import print_function

import argparse
import glob
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(REPO, "images", "bench")
SUPPORT = os.path.join(REPO, "images", "CogXen.st")

# The suite in table order, with the default size of each: the number of runs
# of the benchmark's fixed kernel in one timed iteration. With the non-JIT -O2
# build an iteration takes about 1.5 s on an idle machine here (so that a JIT
# 20 times faster still takes over 50 ms; Sieve and Mandelbrot, which the JIT
# runs 40 times faster, twice that), and the whole `make bench` about 3
# minutes (5 on a busy machine); --scale and --size change the sizes.
SUITE = [
    ("Richards", 120),
    ("DeltaBlue", 70),
    ("NBody", 70),
    ("Bounce", 440),
    ("Sieve", 1040),
    ("Towers", 140),
    ("Queens", 240),
    ("Permute", 240),
    ("List", 340),
    ("Storage", 500),
    ("Mandelbrot", 100),
    ("WordFreq", 16),
    ("SortBlock", 10),
    ("Streams", 25),
    ("NumberParse", 10),
    ("DictInt", 50),
    ("DictString", 1),
    ("Bag", 2),
    ("Deque", 1),
    ("Recurse", 100),
    ("Reflect", 75),
    ("Parser", 30),
]

DEFAULT_ITERATIONS = 20     # the first is the warm-up
STEADY_LAST = 5             # the steady state: the median of the last 5
DEFAULT_TINY_RUNS = 3
DEFAULT_TIMEOUT = 600       # seconds, per process

PEER_GLOB = "/usr/lib/squeak/*/squeakvm"
PEER_FLAGS = ["-vm-display-null", "-vm-sound-null"]

# The start-up action saved into the prepared image: resumed (by squeak-vm), it
# runs the spec given as the first image argument and saves the report.
RESUME_CHUNK = """Smalltalk snapshotPrimitive ifTrue: [
	CogXenBenchRunner runSpecIntoReport: (Smalltalk getSystemAttribute: 2).
	Smalltalk snapshotPrimitive.
	Smalltalk quitPrimitive]!
"""

# The direct reference for the peer (--reference, on by default): a copy of the
# original image with nothing filed in but this start-up action, so that, resumed
# by squeak-vm, it runs `0 tinyBenchmarks` and nothing else. Its figure, printed
# next to the harness's, shows whether the harness slows the peer.
REFERENCE_EXPRESSION = "0 tinyBenchmarks"
REFERENCE_CHUNK = """Smalltalk snapshotPrimitive ifTrue: [
	Smalltalk at: #CogXenBenchReport put: (%s).
	Smalltalk snapshotPrimitive.
	Smalltalk quitPrimitive]!
"""

REFERENCE_READER = "Smalltalk at: #CogXenBenchReport ifAbsent: ['no report']"

# A process whose CPU time is under this share of its wall time waited for the
# CPU (other processes ran): its in-image times, measured on the wall clock, are
# too long, and the table says so.
CONTENDED_SHARE = 0.9

REPORT_CHUNK = ("CogXen stdout: (Smalltalk at: #CogXenBenchReport "
                "ifAbsent: ['FAIL peer the image holds no report', (String with: (Character value: 10))])!\n")


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- locating

def default_vm():
    """$COGXEN_VM, else build/cogxen."""
    return os.environ.get("COGXEN_VM") or os.path.join(REPO, "build", "cogxen")


def default_image():
    folder = os.environ.get("COGXEN_IMAGES") or os.path.join(REPO, "..", "shared", "images")
    return os.path.normpath(os.path.join(folder, "mini.image"))


def find_peer():
    """squeak-vm's binary: $SQUEAK_VM, else the newest /usr/lib/squeak/*/squeakvm, else None."""
    named = os.environ.get("SQUEAK_VM")
    if named:
        return named if os.access(named, os.X_OK) else None
    found = sorted(glob.glob(PEER_GLOB))
    return found[-1] if found else None


def suite_sources():
    """The Smalltalk files to file in, in order: CogXen.st, Bench.st, then the others."""
    others = sorted(p for p in glob.glob(os.path.join(BENCH_DIR, "*.st"))
                    if os.path.basename(p) != "Bench.st")
    return [SUPPORT, os.path.join(BENCH_DIR, "Bench.st")] + others


def st_string(text):
    """A Smalltalk string literal."""
    return "'" + text.replace("'", "''") + "'"


def bench_spec(name, size, iterations):
    return "bench %s %d %d" % (name, size, iterations)


def tiny_spec(runs):
    return "tiny %d" % runs


# ---------------------------------------------------------------- processes

class Run(object):
    """The outcome of one process: status (-N: killed by signal N), output, peak RSS."""

    def __init__(self, argv, status, stdout, stderr, seconds, max_rss_kb, timed_out,
                 cpu_seconds=None):
        self.argv = argv
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.max_rss_kb = max_rss_kb
        self.timed_out = timed_out
        self.cpu_seconds = cpu_seconds      # user + system time of the child

    def cpu_share(self):
        """CPU time over wall time: near 1 for a VM that had a CPU to itself (None for
        a run under a second, where start-up and exit weigh too much to tell)."""
        if self.cpu_seconds is None or self.seconds < 1.0:
            return None
        return self.cpu_seconds / self.seconds

    def describe(self):
        return "%s: status %s%s after %.1f s; stderr: %s" % (
            " ".join(self.argv), self.status, " (timed out)" if self.timed_out else "",
            self.seconds, self.stderr.strip()[-800:] or "(empty)")


def run_process(argv, timeout=DEFAULT_TIMEOUT, cwd=None):
    """Run argv with stdin from /dev/null, in its own process group; answer a Run.

    The child is reaped with wait4, whose resource usage gives its peak RSS."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    start = time.time()
    with open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(argv, stdin=devnull, stdout=out, stderr=err, cwd=cwd,
                                preexec_fn=os.setsid, close_fds=True)
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.time() - start > timeout:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.time() - start
    if os.WIFSIGNALED(status):
        code = -os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
    proc.returncode = code          # reaped here: Popen must not wait for it again
    out.seek(0)
    err.seek(0)
    stdout = out.read().decode("latin-1")
    stderr = err.read().decode("latin-1")
    out.close()
    err.close()
    return Run(argv, code, stdout, stderr, seconds, usage.ru_maxrss, timed_out,
               usage.ru_utime + usage.ru_stime)


# ---------------------------------------------------------------- reports

def parse_report(text):
    """Parse the runner's lines (see images/bench/Bench.st).

    Answers {"tiny": [(bytecodes/s, sends/s), ...], "benchmarks": {name: {"iterations":
    [ms, ...], "result": str or None, "failure": str or None}}, "failures": [(name,
    reason)], "ends": number of END lines}; other lines are ignored."""
    report = {"tiny": [], "benchmarks": {}, "failures": [], "ends": 0}

    def entry(name):
        return report["benchmarks"].setdefault(
            name, {"iterations": [], "result": None, "failure": None})

    for raw in text.splitlines():
        line = raw.strip()
        words = line.split(" ")
        kind = words[0]
        if kind == "ITER" and len(words) == 4:
            entry(words[1])["iterations"].append(int(words[3]))
        elif kind == "RESULT" and len(words) >= 2:
            entry(words[1])["result"] = " ".join(words[2:])
        elif kind == "FAIL" and len(words) >= 2:
            reason = " ".join(words[2:])
            report["failures"].append((words[1], reason))
            if words[1] not in ("tinyBenchmarks", "spec", "peer"):
                entry(words[1])["failure"] = reason
        elif kind == "TINY" and len(words) >= 6:
            # TINY i N bytecodes/sec; M sends/sec
            report["tiny"].append((int(words[2]), int(words[4])))
        elif kind == "END":
            report["ends"] += 1
    return report


def median(values):
    values = sorted(values)
    n = len(values)
    if n == 0:
        return None
    if n % 2:
        return values[n // 2]
    return (values[n // 2 - 1] + values[n // 2]) / 2.0


def warmup_and_steady(iterations):
    """(first iteration, median of the last STEADY_LAST after it); one iteration
    serves as both."""
    if not iterations:
        return None, None
    if len(iterations) == 1:
        return iterations[0], iterations[0]
    return iterations[0], median(iterations[1:][-STEADY_LAST:])


def geometric_mean(values):
    values = [v for v in values if v]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


# ---------------------------------------------------------------- running the suite

class Bench(object):
    """One harness run: the prepared image and the VMs."""

    def __init__(self, vm, image, peer=None, workdir=None, timeout=DEFAULT_TIMEOUT,
                 log=None, extra_sources=()):
        self.vm = os.path.abspath(vm)
        self.image = os.path.abspath(image)
        self.peer = peer
        self.timeout = timeout
        self.log = log or (lambda message: None)
        self.extra_sources = list(extra_sources)
        self.own_workdir = workdir is None
        self.workdir = tempfile.mkdtemp(prefix="cogxen-bench-") if workdir is None else workdir
        self.prepared = os.path.join(self.workdir, "bench.image")

    def cleanup(self):
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def prepare(self):
        """File the suite into a copy of the image and save it with the start-up action."""
        if not os.path.isfile(self.image):
            raise BenchError("image not found: %s" % self.image)
        if not os.access(self.vm, os.X_OK):
            raise BenchError("VM not found or not executable: %s" % self.vm)
        shutil.copyfile(self.image, self.prepared)
        os.chmod(self.prepared, 0o644)
        parts = []
        for path in suite_sources() + self.extra_sources:
            with open(path) as f:
                parts.append(f.read().rstrip("\n") + "\n\n")
        parts.append(RESUME_CHUNK)
        script = self.write("prepare.st", "".join(parts))
        before = os.path.getmtime(self.prepared), os.path.getsize(self.prepared)
        run = run_process([self.vm, self.prepared, script], self.timeout, cwd=self.workdir)
        after = os.path.getmtime(self.prepared), os.path.getsize(self.prepared)
        if run.status != 0 or run.stdout.strip() or before == after:
            raise BenchError("filing the suite in failed: " + run.describe()
                             + ("; stdout: " + run.stdout.strip()[-800:] if run.stdout.strip() else ""))
        return self.prepared

    def run_ours(self, specs, tag="ours"):
        """Run specs (one process) with the VM under test; answer (report, Run)."""
        chunks = "".join("CogXenBenchRunner runSpec: %s!\n" % st_string(s) for s in specs)
        script = self.write("%s.st" % tag, chunks)
        run = run_process([self.vm, self.prepared, script], self.timeout, cwd=self.workdir)
        return parse_report(run.stdout), run

    def run_peer(self, spec, tag="peer"):
        """Run one spec with squeak-vm on a fresh copy of the prepared image; answer (report, Run)."""
        image = os.path.join(self.workdir, "%s.image" % tag)
        shutil.copyfile(self.prepared, image)
        run = self.resume_with_peer(image, [spec])
        script = self.write("%s-report.st" % tag, REPORT_CHUNK)
        reader = run_process([self.vm, image, script], self.timeout, cwd=self.workdir)
        text = reader.stdout
        if reader.status != 0:
            text += "\nFAIL peer reading the report failed: %s\n" % reader.describe()
        elif run.status != 0:
            text += "\nFAIL peer squeak-vm ended with status %s%s\n" % (
                run.status, " (timed out)" if run.timed_out else "")
        os.remove(image)
        return parse_report(text), run

    def resume_with_peer(self, image, args):
        """squeak-vm resumes image (the image saves itself and quits); answer its Run."""
        return run_process([self.peer] + PEER_FLAGS + [image] + args, self.timeout,
                           cwd=self.workdir)

    def prepare_reference(self, expression=REFERENCE_EXPRESSION):
        """The direct reference: a copy of the original image that, resumed, runs
        expression (`0 tinyBenchmarks`) and nothing else (REFERENCE_CHUNK), saved by
        the VM under test as the prepared image is."""
        reference = os.path.join(self.workdir, "reference.image")
        shutil.copyfile(self.image, reference)
        os.chmod(reference, 0o644)
        script = self.write("reference.st", REFERENCE_CHUNK % expression)
        run = run_process([self.vm, reference, script], self.timeout, cwd=self.workdir)
        if run.status != 0 or run.stdout.strip():
            raise BenchError("preparing the peer's direct reference failed: " + run.describe())
        return reference

    def run_peer_reference(self, reference, tag="peer-direct"):
        """squeak-vm resumes a fresh copy of the reference image; answer (report, Run),
        the report in the runner's form (one TINY line, END)."""
        image = os.path.join(self.workdir, "%s.image" % tag)
        shutil.copyfile(reference, image)
        run = self.resume_with_peer(image, [])
        reader = run_process([self.vm, image, "--eval", REFERENCE_READER], self.timeout,
                             cwd=self.workdir)
        os.remove(image)
        return parse_report(reference_report(reader.stdout, reader, run)), run


def reference_report(text, reader, run):
    """The reference's answer (printed by --eval, quoted) as runner lines."""
    words = text.strip().strip("'").split()
    if len(words) == 4 and words[1] == "bytecodes/sec;" and words[3] == "sends/sec" \
            and words[0].isdigit() and words[2].isdigit():
        return "TINY 1 %s\nEND\n" % " ".join(words)
    if reader.status != 0:
        return "FAIL peer reading the direct reference failed: %s\n" % reader.describe()
    return "FAIL peer direct reference: squeak-vm ended with status %s%s, report %r\n" % (
        run.status, " (timed out)" if run.timed_out else "", text.strip()[-200:])


def measure(bench, suite, iterations, tiny_runs, with_peer, reference_runs=0, retries=0):
    """Run everything; answer the results dictionary that format_table prints.

    reference_runs: runs of the peer's direct reference (Bench.prepare_reference),
    made right after the peer's own tinyBenchmarks so that both see the same load.
    retries: times a process that waited for the CPU is run again (either VM)."""
    results = {"benchmarks": [], "tiny": {}}
    vms = [("ours", retrying(bench.run_ours, retries, bench.log))]
    if with_peer:
        vms.append(("peer", retrying(lambda specs, tag: bench.run_peer(specs[0], tag),
                                     retries, bench.log)))
    if tiny_runs:
        for who, runner in vms:
            bench.log("%s: %d x 0 tinyBenchmarks" % (who, tiny_runs))
            report, run = runner([tiny_spec(tiny_runs)], "%s-tiny" % who)
            results["tiny"][who] = summarize_tiny(report, run)
        if with_peer and reference_runs:
            results["tiny"]["peer-direct"] = measure_reference(bench, reference_runs, retries)
    for name, size in suite:
        row = {"name": name, "size": size}
        for who, runner in vms:
            bench.log("%s: %s, size %d, %d iterations" % (who, name, size, iterations))
            report, run = runner([bench_spec(name, size, iterations)], "%s-%s" % (who, name))
            row[who] = summarize_benchmark(name, iterations, report, run)
            bench.log("%s: %s: %s" % (who, name, row[who]["failure"] or
                                      " ".join("%d" % ms for ms in row[who]["iterations"]) + " ms"))
        results["benchmarks"].append(row)
    return results


def retrying(runner, retries, log):
    """runner(specs, tag) -> (report, Run), run again up to retries times while its
    process waited for the CPU (CPU share under CONTENDED_SHARE); answers the
    outcome with the highest CPU share."""
    def run(specs, tag):
        best = None
        for attempt in range(retries + 1):
            report, process = runner(specs, tag)
            share = process.cpu_share()
            if best is None or (share or 1.0) > (best[1].cpu_share() or 1.0):
                best = report, process
            if share is None or share >= CONTENDED_SHARE:
                break
            if attempt < retries:
                log("%s: CPU share %.2f (other processes took the CPU): again" % (tag, share))
        return best
    return run


def measure_reference(bench, runs, retries=0):
    """The peer's direct reference, runs times (one process each): the summary of
    summarize_tiny, its CPU share the lowest of the runs."""
    bench.log("peer: direct reference, %d x 0 tinyBenchmarks on a copy of %s with nothing else"
              % (runs, os.path.basename(bench.image)))
    try:
        reference = bench.prepare_reference()
    except BenchError as e:
        return {"runs": [], "bytecodes": None, "sends": None, "failure": str(e),
                "max_rss_kb": None, "cpu_share": None}
    merged = {"tiny": [], "benchmarks": {}, "failures": [], "ends": 0}
    shares, last = [], None
    run_one = retrying(lambda specs, tag: bench.run_peer_reference(reference, tag), retries,
                       bench.log)
    for i in range(runs):
        report, run = run_one([], "peer-direct-%d" % (i + 1))
        merged["tiny"] += report["tiny"]
        merged["failures"] += report["failures"]
        merged["ends"] += report["ends"]
        if run.cpu_share() is not None:
            shares.append(run.cpu_share())
        last = run
    summary = summarize_tiny(merged, last)
    summary["cpu_share"] = min(shares) if shares else None
    return summary


def process_failure(run):
    if run.timed_out:
        return "timed out after %.0f s" % run.seconds
    if run.status != 0:
        detail = run.stderr.strip().splitlines()
        return "VM ended with status %s%s" % (run.status, (": " + detail[0]) if detail else "")
    return "no END line: the run stopped early"


def general_failure(report, names):
    """The first FAIL line of the report about one of names, as 'name: reason', or None."""
    for who, reason in report["failures"]:
        if who in names:
            return "%s: %s" % (who, reason)
    return None


def summarize_benchmark(name, iterations, report, run):
    data = report["benchmarks"].get(name, {"iterations": [], "result": None, "failure": None})
    failure = data["failure"] or general_failure(report, ("spec", "peer"))
    if failure is None and (len(data["iterations"]) != iterations or report["ends"] < 1):
        failure = process_failure(run)
    warmup, steady = warmup_and_steady(data["iterations"])
    return {"iterations": data["iterations"], "warmup": warmup, "steady": steady,
            "result": data["result"], "failure": failure, "max_rss_kb": run.max_rss_kb,
            "cpu_share": cpu_share_of(run)}


def summarize_tiny(report, run):
    failure = general_failure(report, ("tinyBenchmarks", "spec", "peer"))
    if failure is None and not report["tiny"]:
        failure = process_failure(run)
    return {"runs": report["tiny"],
            "bytecodes": median([b for b, s in report["tiny"]]),
            "sends": median([s for b, s in report["tiny"]]),
            "failure": failure, "max_rss_kb": run.max_rss_kb, "cpu_share": cpu_share_of(run)}


def cpu_share_of(run):
    share = getattr(run, "cpu_share", None)
    return share() if share else None


# ---------------------------------------------------------------- output

def fmt_ms(value):
    if value is None:
        return "-"
    if value == int(value):
        return "%d" % value
    return "%.1f" % value


def fmt_mb(kb):
    if not kb:
        return "-"
    return "%.1f" % (kb / 1024.0)


def fmt_rate(value):
    if value is None:
        return "-"
    return "{:,}".format(int(value))


def fmt_ratio(value):
    if value is None:
        return "-"
    return "%.2f" % value


def ratio(peer, ours):
    if not peer or not ours:
        return None
    return float(peer) / float(ours)


def table(headers, rows):
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]
    def line(cells):
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths)):
            out.append(str(cell).ljust(width) if i == 0 else str(cell).rjust(width))
        return "  ".join(out).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def format_table(results, with_peer):
    """The report: suite table, tinyBenchmarks table, geometric mean, failures."""
    lines = []
    headers = ["benchmark", "size", "ours warm-up ms", "ours steady ms"]
    if with_peer:
        headers += ["peer steady ms", "ratio peer/ours"]
    headers += ["ours MB"] + (["peer MB"] if with_peer else [])
    rows, ratios, failures = [], [], []
    for row in results["benchmarks"]:
        ours = row["ours"]
        cells = [row["name"], row["size"]]
        ok_ours = ours["failure"] is None
        cells += [fmt_ms(ours["warmup"]) if ok_ours else "FAIL",
                  fmt_ms(ours["steady"]) if ok_ours else "FAIL"]
        if ours["failure"]:
            failures.append("ours: %s: %s" % (row["name"], ours["failure"]))
        if with_peer:
            peer = row["peer"]
            ok_peer = peer["failure"] is None
            if peer["failure"]:
                failures.append("peer: %s: %s" % (row["name"], peer["failure"]))
            r = ratio(peer["steady"], ours["steady"]) if ok_ours and ok_peer else None
            if r:
                ratios.append(r)
            cells += [fmt_ms(peer["steady"]) if ok_peer else "FAIL", fmt_ratio(r)]
        cells += [fmt_mb(ours["max_rss_kb"])]
        if with_peer:
            cells += [fmt_mb(row["peer"]["max_rss_kb"])]
        rows.append(cells)
    if rows:
        lines.append(table(headers, rows))
        lines.append("")
    tiny = results.get("tiny") or {}
    direct = with_peer and "peer-direct" in tiny
    if tiny:
        headers = ["tinyBenchmarks", "ours"] + (["peer", "ratio ours/peer"] if with_peer else [])
        if direct:
            headers += ["peer direct", "ratio ours/direct"]
        trows = []
        for key, label in (("bytecodes", "bytecodes/s"), ("sends", "sends/s")):
            ours = tiny.get("ours", {}).get(key)
            cells = [label, fmt_rate(ours)]
            if with_peer:
                peer = tiny.get("peer", {}).get(key)
                cells += [fmt_rate(peer), fmt_ratio(ratio(ours, peer))]
            if direct:
                peer = tiny["peer-direct"].get(key)
                cells += [fmt_rate(peer), fmt_ratio(ratio(ours, peer))]
            trows.append(cells)
        mem = ["peak MB", fmt_mb(tiny.get("ours", {}).get("max_rss_kb"))]
        if with_peer:
            mem += [fmt_mb(tiny.get("peer", {}).get("max_rss_kb")), ""]
        if direct:
            mem += [fmt_mb(tiny["peer-direct"].get("max_rss_kb")), ""]
        trows.append(mem)
        lines.append(table(headers, trows))
        lines.append("")
        for who in ("ours", "peer", "peer-direct"):
            if tiny.get(who, {}).get("failure"):
                failures.append("%s: tinyBenchmarks: %s" % (who, tiny[who]["failure"]))
    lines.extend(fairness_lines(results, with_peer))
    if with_peer and results["benchmarks"]:
        g = geometric_mean(ratios)
        lines.append("geometric mean of the ratios (peer/ours, >1: CogXen faster): %s over %d of %d benchmarks"
                     % (fmt_ratio(g), len(ratios), len(results["benchmarks"])))
    if failures:
        lines.append("")
        lines.append("FAILURES:")
        lines.extend("  " + f for f in failures)
    return "\n".join(lines), failures


def fairness_lines(results, with_peer):
    """Whether the figures can be trusted: the harness's peer against its direct
    reference, and the processes that waited for a CPU (CPU share under
    CONTENDED_SHARE: their in-image wall-clock times are too long)."""
    lines = []
    tiny = results.get("tiny") or {}
    harness = tiny.get("peer", {}).get("sends")
    reference = tiny.get("peer-direct", {}).get("sends")
    if with_peer and harness and reference:
        r = float(harness) / reference
        lines.append("peer check: squeak-vm in the harness %s sends/s, run directly (a copy of the "
                     "image that runs 0 tinyBenchmarks and nothing else) %s sends/s: "
                     "harness/direct %.2f%s" % (
                         fmt_rate(harness), fmt_rate(reference), r,
                         "" if 0.9 <= r <= 1.1 else
                         "  WARNING: the peer is not measured as it runs by itself"))
    contended = []
    for who in ("ours", "peer", "peer-direct"):
        share = tiny.get(who, {}).get("cpu_share")
        if share is not None and share < CONTENDED_SHARE:
            contended.append("%s tinyBenchmarks %.2f" % (who, share))
    for row in results.get("benchmarks", []):
        for who in ("ours", "peer"):
            share = row.get(who, {}).get("cpu_share")
            if share is not None and share < CONTENDED_SHARE:
                contended.append("%s %s %.2f" % (who, row["name"], share))
    shares = ["%s %.2f" % (who, tiny[who]["cpu_share"]) for who in ("ours", "peer", "peer-direct")
              if tiny.get(who, {}).get("cpu_share") is not None]
    if shares:
        lines.append("CPU share (CPU time / wall time) of the tinyBenchmarks processes: "
                     + ", ".join(shares))
    if contended:
        lines.append("CONTENDED (CPU share under %.2f: other processes took the CPU, so these "
                     "times are too long; run again on a quieter machine): %s"
                     % (CONTENDED_SHARE, ", ".join(contended)))
    if lines:
        lines.append("")
    return lines


# ---------------------------------------------------------------- command line

def parse_sizes(items):
    sizes = {}
    for item in items or []:
        name, _, value = item.partition("=")
        if not value.isdigit() or int(value) < 1:
            raise SystemExit("bench.py: --size wants NAME=N with N >= 1, not %r" % item)
        sizes[name] = int(value)
    return sizes


def select_suite(only, scale, sizes):
    names = [n for n, _ in SUITE]
    chosen = SUITE
    if only:
        wanted = [w for w in only.split(",") if w]
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise SystemExit("bench.py: unknown benchmark(s) %s; the suite: %s"
                             % (", ".join(unknown), ", ".join(names)))
        chosen = [(n, s) for n, s in SUITE if n in wanted]
    unknown = [n for n in sizes if n not in names]
    if unknown:
        raise SystemExit("bench.py: --size for unknown benchmark(s) %s" % ", ".join(unknown))
    return [(n, sizes.get(n, max(1, int(round(s * scale))))) for n, s in chosen]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Run tinyBenchmarks and the images/bench suite on mini.image with CogXen "
                    "and squeak-vm; print times, ratios and peak memory.")
    parser.add_argument("--vm", default=default_vm(),
                        help="the VM under test (default: $COGXEN_VM, else build/cogxen)")
    parser.add_argument("--image", default=default_image(),
                        help="the image (default: $COGXEN_IMAGES/mini.image)")
    parser.add_argument("--peer", default=None,
                        help="squeak-vm binary (default: $SQUEAK_VM, else %s)" % PEER_GLOB)
    parser.add_argument("--no-peer", action="store_true", help="run the VM under test only")
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS,
                        help="timed iterations per benchmark: the first is the warm-up, "
                             "the median of the last %d the steady state (default "
                             "%%(default)s)" % STEADY_LAST)
    parser.add_argument("--tiny", type=int, default=DEFAULT_TINY_RUNS,
                        help="runs of 0 tinyBenchmarks per VM, median reported; 0: none (default %(default)s)")
    parser.add_argument("--reference", type=int, default=1, metavar="N",
                        help="runs of the peer's direct reference (a copy of the image that runs "
                             "0 tinyBenchmarks and nothing else), printed next to the harness's "
                             "peer figure; 0: none (default %(default)s)")
    parser.add_argument("--retries", type=int, default=1, metavar="N",
                        help="run a process again, up to N times, when its CPU share shows that "
                             "other processes took the CPU (either VM; default %(default)s)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every default size (default 1)")
    parser.add_argument("--size", action="append", metavar="NAME=N",
                        help="the size of one benchmark (repeatable)")
    parser.add_argument("--only", default="", help="comma-separated benchmarks to run")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds per VM process (default %(default)s)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep", help="work in this folder and keep it (images, scripts)")
    parser.add_argument("--list", action="store_true", help="list the suite and its default sizes")
    parser.add_argument("--cuis", default=default_cuis(),
                        help="Cuis 5 image for the SistaV1-vs-V3 table (default: "
                             "$COGXEN_IMAGES/%s)" % CUIS_IMAGE)
    parser.add_argument("--no-sista", action="store_true",
                        help="skip the SistaV1-vs-V3 table on Cuis")
    parser.add_argument("--sista-only", action="store_true",
                        help="only the SistaV1-vs-V3 table (no mini.image table, no peer)")
    args = parser.parse_args(argv)

    if args.list:
        for name, size in SUITE:
            print("%-12s %d" % (name, size))
        return 0
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")
    suite = select_suite(args.only, args.scale, parse_sizes(args.size))

    def log(message):
        sys.stderr.write("bench: %s\n" % message)
        sys.stderr.flush()

    peer = None
    if not args.no_peer:
        peer = args.peer or find_peer()
        if peer and not os.access(peer, os.X_OK):
            peer = None
    workdir = None
    if args.keep:
        workdir = os.path.abspath(args.keep)
        if not os.path.isdir(workdir):
            os.makedirs(workdir)
    vm, image = os.path.abspath(args.vm), os.path.abspath(args.image)
    print("CogXen benchmarks on %s" % image)
    print("VM under test: %s (modified %s)" % (
        vm, time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(vm)))
        if os.path.exists(vm) else "missing"))
    if args.no_peer:
        print("peer: not run (--no-peer)")
    elif peer:
        print("peer: %s %s" % (peer, " ".join(PEER_FLAGS)))
    else:
        print("peer: squeak-vm NOT FOUND (looked for $SQUEAK_VM, %s; Debian package squeak-vm, "
              "installed by `make setup`): CogXen's numbers only" % PEER_GLOB)
    print("iterations: %d (first = warm-up, steady = median of the last %d); sizes: %s"
          % (args.iterations, max(min(args.iterations - 1, STEADY_LAST), 1),
             " ".join("%s=%d" % item for item in suite)))
    print("fairness: the peer's direct reference %d run(s) (--reference); a process whose CPU "
          "share is under %.2f runs again up to %d time(s) (--retries)"
          % (args.reference if peer and args.tiny else 0, CONTENDED_SHARE, args.retries))
    load = os.getloadavg()
    print("load average at start: %.2f %.2f %.2f (%d CPUs)" % (load + (cpu_count(),)))
    sys.stdout.flush()
    start = time.time()
    bench = Bench(vm, image, peer, workdir=workdir, timeout=args.timeout, log=log)
    results, failures, sista_results = {}, [], None
    try:
        if not args.sista_only:
            log("filing the suite into a copy of the image (%s)" % bench.workdir)
            bench.prepare()
            results = measure(bench, suite, args.iterations, args.tiny, peer is not None,
                              args.reference, args.retries)
            text, failures = format_table(results, peer is not None)
            print("")
            print(text)
            sys.stdout.flush()
        if not args.no_sista:
            sista_failures, sista_results = run_sista_section(args, vm, suite, bench.workdir, log)
            failures = list(failures) + list(sista_failures)
    except BenchError as e:
        print("bench.py: %s" % e, file=sys.stderr)
        return 2
    finally:
        bench.cleanup()
    load = os.getloadavg()
    print("")
    print("total %.0f s; load average at end: %.2f %.2f %.2f" % ((time.time() - start,) + load))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"vm": bench.vm, "peer": peer, "image": bench.image,
                       "iterations": args.iterations, "results": results,
                       "sista": sista_results}, f, indent=1, sort_keys=True)
    return 1 if failures else 0


# ---------------------------------------------------------------- SistaV1 vs V3 (Cuis)
#
# The same suite as V3PlusClosures code and as SistaV1 code, on the same VM
# (the VM under test): Cuis 5 (Spur, closures) files in the suite with
# images/bench/dialect/Cuis.st after Bench.st, saves itself with the snapshot primitive (no
# UI process, so not by its own snapshot:andQuit:), and `cogxen-image convert
# --bytecodes sistav1` re-encodes every method of the saved copy in SistaV1.
# Each benchmark then runs in a process of its own on each of the two images.

CUIS_IMAGE = "Cuis5.0-3121-32.image"
CUIS_SHIM = os.path.join(BENCH_DIR, "dialect", "Cuis.st")
CUIS_SAVE = ("Smalltalk snapshotPrimitive ifFalse: [Smalltalk quitPrimitive]. "
             "Processor activeProcess suspend")


def default_cuis():
    folder = os.environ.get("COGXEN_IMAGES") or os.path.join(REPO, "..", "shared", "images")
    return os.path.normpath(os.path.join(folder, CUIS_IMAGE))


def sista_prepare(vm, cuis, workdir, timeout):
    """Answer the paths of the V3 and the SistaV1 Cuis images holding the suite."""
    folder = os.path.join(workdir, "cuis")
    os.makedirs(folder)
    v3 = os.path.join(folder, "bench-v3.image")
    shutil.copyfile(cuis, v3)
    os.chmod(v3, 0o644)
    base = os.path.splitext(cuis)[0]
    for suffix, name in ((".changes", "bench-v3.changes"), (".changes", "bench-sista.changes")):
        if os.path.exists(base + suffix):
            shutil.copyfile(base + suffix, os.path.join(folder, name))
            os.chmod(os.path.join(folder, name), 0o644)
    for sources in glob.glob(os.path.join(os.path.dirname(cuis), "*.sources")):
        os.symlink(sources, os.path.join(folder, os.path.basename(sources)))
    files = suite_sources()
    files.insert(2, CUIS_SHIM)      # after CogXen.st and Bench.st: it overrides CogXenBench
    before = os.path.getsize(v3), os.path.getmtime(v3)
    run = run_process([vm, v3] + files + ["--eval", CUIS_SAVE], timeout, cwd=folder)
    if run.status != 0 or (os.path.getsize(v3), os.path.getmtime(v3)) == before:
        raise BenchError("filing the suite into Cuis failed: " + run.describe())
    sista = os.path.join(folder, "bench-sista.image")
    env = dict(os.environ, PYTHONPATH=REPO)
    conv = subprocess.Popen([sys.executable, "-m", "spyvm.imagetool", "convert",
                             "--bytecodes", "sistav1", v3, sista], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = conv.communicate()
    if conv.returncode != 0:
        raise BenchError("converting Cuis to SistaV1 failed: %s" % err.decode("utf-8", "replace"))
    return v3, sista, err.decode("utf-8", "replace").strip().splitlines()[-1:]


def measure_sista(vm, images, suite, iterations, timeout, workdir, log):
    """{name: {"v3": summary, "sista": summary}} (see summarize_benchmark)."""
    results = {}
    for name, size in suite:
        results[name] = {}
        for tag, image in (("v3", images[0]), ("sista", images[1])):
            log("%s on Cuis (%s)" % (name, tag))
            spec = bench_spec(name, size, iterations)
            script = os.path.join(workdir, "cuis", "%s-%s.st" % (tag, name))
            with open(script, "w") as f:
                f.write("CogXenBenchRunner runSpec: %s!\n" % st_string(spec))
            run = run_process([vm, image, script], timeout, cwd=os.path.dirname(image))
            results[name][tag] = summarize_benchmark(name, iterations, parse_report(run.stdout), run)
    return results


def format_sista_table(results, suite):
    """The table of V3 and SistaV1 times; answers (text, failures)."""
    headers = ["benchmark", "V3 warm-up", "V3 steady", "Sista warm-up", "Sista steady",
               "Sista/V3 steady", "result"]
    rows, failures, ratios = [], [], []
    for name, size in suite:
        v3, sista = results[name]["v3"], results[name]["sista"]
        notes = []
        for tag, r in (("V3", v3), ("Sista", sista)):
            if r["failure"]:
                notes.append("%s FAIL %s" % (tag, r["failure"]))
                failures.append((name, tag, r["failure"]))
        if not notes and v3["result"] != sista["result"]:
            notes.append("results differ")
            failures.append((name, "Sista", "result differs from V3"))
        ok = not notes
        r = (sista["steady"] / float(v3["steady"])) if ok and v3["steady"] and sista["steady"] else None
        if r:
            ratios.append(r)
        rows.append([name, fmt_ms(v3["warmup"]), fmt_ms(v3["steady"]), fmt_ms(sista["warmup"]),
                     fmt_ms(sista["steady"]), "%.2f" % r if r else "-",
                     ("; ".join(notes)[:120]) if notes else "ok"])
    mean = geometric_mean(ratios)
    rows.append(["geomean", "", "", "", "", "%.2f" % mean if mean else "-", ""])
    return table(headers, rows), failures


def run_sista_section(args, vm, suite, workdir, log):
    """Print the SistaV1-vs-V3 table; answer (failures, results: None if skipped)."""
    cuis = os.path.abspath(args.cuis)
    if not os.path.isfile(cuis):
        print("\nSistaV1 vs V3: skipped, no Cuis image at %s (--cuis)" % cuis)
        return [], None
    log("filing the suite into Cuis and converting it to SistaV1")
    images = sista_prepare(vm, cuis, workdir, args.timeout)
    print("\nSistaV1 vs V3PlusClosures, the same suite on %s (VM under test; %s)"
          % (CUIS_IMAGE, " ".join(images[2])))
    results = measure_sista(vm, images[:2], suite, args.iterations, args.timeout, workdir, log)
    text, failures = format_sista_table(results, suite)
    print(text)
    sys.stdout.flush()
    return failures, results


def cpu_count():
    try:
        import multiprocessing
        return multiprocessing.cpu_count()
    except (ImportError, NotImplementedError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
