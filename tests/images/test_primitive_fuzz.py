"""Primitive fuzz: every implemented primitive called from Smalltalk with wrong receivers
and arguments must fail (or answer a sane object), never crash the VM.

At test time this file generates a file-in for mini.image (Squeak 2.2, whose compiler
knows `<primitive: N>`): for every numbered primitive of spyvm.primitives.table() and
every named one (reached through primitive 117, whose first literal names module and
primitive, as newer compilers lay out `<primitive: 'name' module: 'module'>`), methods
in Object that call it with 0 to 4 arguments and answer #primFuzzFailed when it
fails; and for each (primitive, argument count) a group that the Smalltalk driver,
images/fuzz/PrimFuzz.st, runs: every receiver of about 100 kinds (nil, true,
SmallIntegers 0/-1/maxVal/minVal, LargeIntegers normalised or not, Floats nan/inf/
-0.0/denormal, Characters, Strings, Symbols, Arrays, ByteArray, Bitmap, empty
objects, classes, metaclasses, a CompiledMethod, contexts running, returned and
block, a Process, Semaphores, Point, Fraction, collections, Processor, Smalltalk,
...) with every kind of argument, then random mixes of kinds. The argument count a
primitive does not take (@expose primitives declare theirs) gets a lighter pass.

A group passes when no call crashes the VM (exit status 3, a signal, a traceback, a
hang), no primitive answers something that is not an object of a class ("BAD"),
and the image still works afterwards ("UNHEALTHY"). When a run dies, the group it
died in is run again alone with every call traced, to name the call that killed it,
and the run goes on with the next group.

Primitives that legitimately end or stop the run are not mixed with the others:
QUIT_PRIMITIVES (quit 113, exit 792 and primitiveExit) and 86 (wait, which may block
the only process forever) run traced in VM processes of their own, each run
resuming after the call that ended the previous one, with a watchdog process that
ends a blocked run. Primitives that change their receiver or arguments get objects
made for their group (`#fresh` values), so that they cannot break the image the
other groups run in; become: (72, 128) only swaps such new objects, and
changeClass: (115, 160) never gets nil, true or false: changing those is excluded
(`EXCLUSIONS`). snapshot (97) saves a copy of mini.image in a temporary folder.

Against the translated binary (COGXEN_VM) every group runs, in COGXEN_TEST_JOBS
parallel VM processes: about 2.2 million calls in a minute or two. Untranslated
(hundreds of times slower) the primitives of UNTRANSLATED_SAMPLE run, with their own
argument count and one more, without the every-receiver-with-every-argument pass;
COGXEN_PRIM_FUZZ=full runs everything.
COGXEN_PRIM_FUZZ=60,p117,LargeIntegers.primDigitAdd runs just those primitives.
COGXEN_PRIM_FUZZ_SEED varies the random mixes.
"""

import os
import re
import shutil
import time

import pytest

from imagerun import Run, default_jobs, find_image, translated_vm

from spyvm import primitives

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUPPORT = [os.path.join(REPO, "images", "CogXen.st"),
           os.path.join(REPO, "images", "fuzz", "PrimFuzz.st")]

TRANSLATED = translated_vm() is not None
MAX_ARITY = 4
SEED = int(os.environ.get("COGXEN_PRIM_FUZZ_SEED", "0"))

# Primitives whose purpose is to end or stop the run: traced, in processes of their own.
QUIT_PRIMITIVES = {
    113: "quit: ends the run",
    792: "CogXen exit: ends the run",
    "CogXenPlugin.primitiveExit": "CogXen exit: ends the run",
}
BLOCKING_PRIMITIVES = {
    86: "wait: blocks the only running process when the semaphore has no signals",
}

# What no call does, and why.
EXCLUSIONS = [
    "nil, true, false, classes and Characters of the image are not changed: primitives "
    "that change their receiver or arguments (FRESH) get new objects, made for their group",
    "become: (72, 128) swaps only new objects, never nil, true, false or classes",
    "changeClass: / adoptInstance: (115, 160) get new instances of UndefinedObject, True "
    "and False instead of nil, true, false",
    "the active process is not among the values (suspend 88, resume 87, wait 86 on it "
    "would stop the run); 86 runs in processes of its own",
    "snapshot (97) saves the temporary copy of mini.image the run started from",
    "withArgs:executeMethod: (188) does not get methods of garbage bytecodes, which end "
    "the run (a fatal error, not a crash): test_execute_malformed_method runs those, each "
    "in a VM of its own",
    "the closure primitives (201-206, 221, 222) only fail: mini.image (Squeak 2.2) has no "
    "BlockClosure, and the images that have one have no compiler to call them from",
    "the resolver's lookups (NOT_FUZZED) are not called: random names would be sent to the "
    "machine's DNS; tests/spyvm/plugins/test_socketplugin.py checks their arguments",
]

# Named primitives left out of the fuzz (see EXCLUSIONS).
NOT_FUZZED = set(["SocketPlugin.primitiveResolverStartNameLookup",
                  "SocketPlugin.primitiveResolverStartAddressLookup",
                  "SocketPlugin.primitiveResolverLocalAddress"])

# Primitives that may change their receiver or arguments: #fresh values.
FRESH = set([61, 64, 69, 74, 174, 76, 80, 81, 82, 85, 87, 88, 94, 105, 118, 145, 211,
             201, 202, 203, 204, 205, 206, 221, 222,
             "MiscPrimitivePlugin.primitiveTranslateStringWithTable"])
BECOME = set([72, 128])
NO_SPECIALS = set([115, 160])

# Calls that should work, by value key (see PrimFuzz>>makeValues:): the driver makes
# each, then each again with one position (receiver or argument) replaced by every
# value, which reaches the checks a primitive makes past its first argument. Arity-1
# primitives need none: every receiver meets every argument already.
ABC, ABCABC, TABLE = "'abc'", "'abcabc'", "a table String"
TEMPLATES = {
    61: [("an Array", "1", "7"), ("Array new: 300", "300", "nil"), (ABC, "3", "255"),
         ("a ByteArray", "1", "0"), ("a Bitmap", "4", "2**64-1"), ("a Bitmap", "1", "maxVal+1"),
         ("LargePositiveInteger new: 4", "1", "255"), ("1.5", "2", "0"),
         ("a running context", "1", "nil"), ("a returned context", "1", "nil"),
         ("a CompiledMethod", "1", "0"), ("a CompiledMethod with literals", "7", "7"),
         ("a PrimFuzzVarVictim", "1", "nil"), ("String new: 10000", "10000", "0")],
    64: [(ABC, "1", "$a"), ("a Symbol", "1", "$a"), ("a ByteArray", "1", "$a"),
         ("LargePositiveInteger new: 4", "1", "$a")],
    69: [("a CompiledMethod with literals", "2", "nil"), ("a CompiledMethod", "1", "0"),
         ("a CompiledMethod with literals", "1", "1000000")],
    74: [("a PrimFuzzVictim", "1", "nil"), ("a running context", "1", "nil"),
         ("a running context", "2", "7"), ("a running context", "3", "0"),
         ("a returned context", "4", "nil"), ("a block of 1 argument", "7", "3"),
         ("a Process", "2", "7"), ("a Semaphore", "3", "maxVal"),
         ("a PrimFuzzVarVictim", "4", "7"), ("3 @ 4", "1", "1.5"), ("1 / 3", "1", "0")],
    76: [("a running context", "1"), ("a returned context", "0")],
    79: [("class CompiledMethod", "7", "1000000"), ("class CompiledMethod", "0", "0"),
         ("class CompiledMethod", "300", "maxVal")],
    81: [("a block of 1 argument", "7"), ("a block of 2 arguments", "1", "2")],
    83: [("3", "#yourself"), ("3", "#between:and:", "1", "7")],
    84: [("3", "#yourself", "an empty Array"), ("3", "#between:and:", "an Array of 2")],
    100: [("3", "#yourself", "an empty Array", "class Object"),
          ("3", "#between:and:", "an Array of 2", "class SmallInteger")],
    105: [(ABCABC, "1", "3", ABC, "1"), ("Array new: 300", "1", "4", "an Array", "1"),
          ("a Bitmap", "1", "4", "a Bitmap", "1"), ("String new: 10000", "1", "256", TABLE, "1"),
          ("a ByteArray", "1", "3", ABC, "1"),
          ("a CompiledMethod with literals", "1", "3", "a CompiledMethod", "1")],
    110: [("nil", "1", "1")],
    118: [("3", "1", "an Array of 1"), ("3", "7", "an empty Array")],
    136: [("nil", "a Semaphore", "1000000"), ("nil", "a Semaphore", "0")],
    188: [("3", "an empty Array", "a CompiledMethod"),
          ("3", "an Array of 1", "a CompiledMethod of 1 argument"),
          ("3", "an empty Array", "a CompiledMethod with literals"),
          ("nil", "an empty Array", "Object>>yourself")],
    211: [("a running context", "1", "nil"), ("a returned context", "1", "7")],
    "MiscPrimitivePlugin.primitiveCompareString": [("nil", ABC, ABCABC, TABLE)],
    "MiscPrimitivePlugin.primitiveFindFirstInString": [("nil", ABC, TABLE, "1")],
    "MiscPrimitivePlugin.primitiveFindSubstring": [("nil", ABC, ABCABC, "1", TABLE)],
    "MiscPrimitivePlugin.primitiveIndexOfAsciiInString": [("nil", "255", TABLE, "1")],
    "MiscPrimitivePlugin.primitiveStringHash": [("nil", ABC, "0")],
    "MiscPrimitivePlugin.primitiveTranslateStringWithTable": [("nil", ABCABC, "1", "3", TABLE)],
    "ConsolePlugin.primitiveLog:level:": [("nil", ABC, "a Symbol")],
    "LargeIntegers.primDigitMultiplyNegative": [("2**40", "100 factorial", "true"),
                                                ("1", "-2**40", "false")],
    "LargeIntegers.primDigitDivNegative": [("100 factorial", "2**40", "false"),
                                           ("2**64-1", "3", "true")],
    "LargeIntegers.primAnyBitFromTo": [("2**40", "1", "300"), ("100 factorial", "7", "4")],
}
TEMPLATES[174] = TEMPLATES[74]      # slotAt:put: is instVarAt:put: here

UNTRANSLATED_SAMPLE = [60, "LargeIntegers.primDigitMultiplyNegative"]
# Untranslated (unless COGXEN_PRIM_FUZZ=full): the light pass and the templates only.
QUICK = not TRANSLATED and os.environ.get("COGXEN_PRIM_FUZZ", "") != "full"

MAIN_TIMEOUT = 300 if TRANSLATED else 3000
GROUP_TIMEOUT = 120 if TRANSLATED else 1500
QUIT_TIMEOUT = 30 if TRANSLATED else 600


# --- the primitives ----------------------------------------------------------------------


class Primitive(object):
    """One primitive to fuzz: numbered (number) or named (module.name, reached by 117)."""

    def __init__(self, key, fn, index):
        self.key = key
        self.number = key if isinstance(key, int) else None
        self.index = index              # for selector names of named primitives
        self.nargs = getattr(fn, "prim_nargs", None)

    def label(self):
        if self.number is not None:
            return "primitive %d" % self.number
        return "named primitive %s" % self.key

    def test_id(self):
        return "p%d" % self.number if self.number is not None else self.key

    def stem(self):
        if self.number is not None:
            return "fz%d" % self.number
        return "fzn%d" % self.index

    def selector_parts(self, arity):
        stem = "%sa%d" % (self.stem(), arity)
        if arity == 0:
            return [stem]
        return [stem + ":"] + ["%s:" % "bcd"[i] for i in range(arity - 1)]

    def method_source(self, arity):
        parts = self.selector_parts(arity)
        if arity == 0:
            header = parts[0]
        else:
            header = " ".join("%s %s" % (p, "abcd"[i]) for i, p in enumerate(parts))
        if self.number is not None:
            body = "\t<primitive: %d>\n" % self.number
        else:
            module, name = self.key.split(".", 1)
            body = "\t<primitive: 117>\n\t#('%s' '%s' 0 0).\n" % (module, name)
        return "%s\n%s\t^ #primFuzzFailed" % (header, body)

    def call_source(self, arity):
        parts = self.selector_parts(arity)
        if arity == 0:
            return "(t at: 1) %s" % parts[0]
        return "(t at: 1) " + " ".join("%s (t at: %d)" % (p, i + 2) for i, p in enumerate(parts))

    def mode(self):
        if self.key in BECOME:
            return "become"
        if self.key in NO_SPECIALS:
            return "noSpecials"
        if self.key in FRESH:
            return "fresh"
        return "shared"

    def kind(self):
        if self.key in QUIT_PRIMITIVES:
            return "quit"
        if self.key in BLOCKING_PRIMITIVES:
            return "blocking"
        return "main"

    def groups(self):
        arities = range(MAX_ARITY + 1)
        if QUICK and self.nargs is not None and self.nargs >= 0:
            arities = [self.nargs, self.nargs + 1]     # its own, and one it does not take
        return [Group(self, arity) for arity in arities]


class Group(object):
    """A primitive called with one argument count."""

    def __init__(self, prim, arity):
        self.prim = prim
        self.arity = arity
        self.name = "%sa%d" % (prim.stem()[2:], arity)     # p60a2, n3a1
        if prim.number is not None:
            self.name = "p" + self.name
        self.selector = "g" + self.name

    def full(self):
        """Every receiver with every argument, or (another argument count than the
        primitive declares) a light pass; quit primitives: a sample of receivers."""
        if self.prim.kind() == "quit":
            return "#sample"
        if QUICK:
            return "false"
        if self.prim.nargs is None or self.prim.nargs == self.arity:
            return "true"
        return "false"

    def seed(self):
        """The seed of the group's random mixes: from its name and COGXEN_PRIM_FUZZ_SEED."""
        text = "%s/%d" % (self.name, SEED)
        return (sum(ord(c) * (i + 1) for i, c in enumerate(text)) * 7919) % 244944

    def templates(self):
        return [t for t in TEMPLATES.get(self.prim.key, []) if len(t) == self.arity + 1]

    def runner_source(self):
        templates = "#(%s)" % " ".join(
            "(%s)" % " ".join("'%s'" % key.replace("'", "''") for key in t)
            for t in self.templates())
        return ("%s\n\t^ self group: '%s' arity: %d mode: #%s full: %s seed: %d\n"
                "\t\ttemplates: %s\n\t\tblock: [:t | %s]"
                % (self.selector, self.name, self.arity, self.prim.mode(), self.full(),
                   self.seed(), templates, self.prim.call_source(self.arity)))


class BadExternalCall(Primitive):
    """Primitive 117 with a first literal that names no primitive (or badly): it must fail."""

    def __init__(self, index, literal):
        Primitive.__init__(self, "p117-bad%d" % index, None, index)
        self.literal = literal
        self.nargs = -1         # a light pass for every argument count

    def label(self):
        return "primitive 117 with first literal %s" % self.literal

    def test_id(self):
        return self.key

    def stem(self):
        return "fzb%d" % self.index

    def method_source(self, arity):
        parts = self.selector_parts(arity)
        if arity == 0:
            header = parts[0]
        else:
            header = " ".join("%s %s" % (p, "abcd"[i]) for i, p in enumerate(parts))
        return "%s\n\t<primitive: 117>\n\t%s.\n\t^ #primFuzzFailed" % (header, self.literal)


BAD_EXTERNAL_LITERALS = [
    "#('NoSuchModule' 'primitiveNothing' 0 0)",
    "#('CogXenPlugin' 'primitiveNothing' 0 0)",
    "#('' '' 0 0)",
    "#(1 2 3 4)",
    "#('CogXenPlugin')",
    "#()",
    "'CogXenPlugin'",
    "#(nil nil nil nil)",
]


def all_primitives():
    table = primitives.table()
    prims = [Primitive(n, fn, n) for n, fn in enumerate(table) if fn is not None]
    named = sorted((key, fn) for key, fn in primitives._NAMED.items() if key not in NOT_FUZZED)
    prims += [Primitive(key, fn, i) for i, (key, fn) in enumerate(named)]
    prims += [BadExternalCall(i, literal) for i, literal in enumerate(BAD_EXTERNAL_LITERALS)]
    return prims


PRIMITIVES = all_primitives()


def selected_primitives():
    choice = os.environ.get("COGXEN_PRIM_FUZZ", "")
    if choice in ("all", "full") or (not choice and TRANSLATED):
        return PRIMITIVES
    if choice:
        wanted = set(w.strip() for w in choice.split(","))
    else:
        wanted = set(str(k) for k in UNTRANSLATED_SAMPLE)
    return [p for p in PRIMITIVES
            if str(p.key) in wanted or p.test_id() in wanted]


def file_in(groups, calls):
    """The generated file-in: support files, the methods the groups need, the calls."""
    chunks = []
    for path in SUPPORT:
        with open(path) as f:
            chunks.append(f.read())
    prims = []
    for g in groups:
        if g.prim not in prims:
            prims.append(g.prim)
    methods = []
    for p in prims:
        for arity in range(MAX_ARITY + 1):
            methods.append(p.method_source(arity))
    chunks.append("!Object methodsFor: 'primitive fuzz'!\n%s! !\n" % "!\n".join(methods))
    chunks.append("!PrimFuzz methodsFor: 'groups'!\n%s! !\n"
                  % "!\n".join(g.runner_source() for g in groups))
    chunks.append(calls)
    return "\n".join(chunks)


def main_calls(groups):
    return "PrimFuzz new run: #(%s)!\n" % " ".join("#" + g.selector for g in groups)


def traced_calls(group, start_at, watchdog):
    text = ""
    if watchdog:
        # A run stopped by a call (wait on a semaphore nobody signals) ends here.
        text += ("| p | p := [(Delay forMilliseconds: 1000) wait. PrimFuzz new say: 'WATCHDOG'. "
                 "CogXen exit: 0] newProcess. p priority: Processor activePriority + 1. "
                 "p resume!\n")
    text += ("PrimFuzz new trace: true; startAt: %d; run: #(#%s)!\n"
             % (start_at, group.selector))
    return text


# --- running -----------------------------------------------------------------------------


LINE = re.compile(r"@@FZ (\S+) ?(.*)$")


class Output(object):
    """The @@FZ lines of a run."""

    def __init__(self, stdout):
        self.started = []       # group names, in order
        self.sums = {}          # group -> (calls, failed, answered, errors, bad)
        self.bad = []           # (group, text)
        self.unhealthy = []
        self.no_template = []   # (group, template) naming values the group does not have
        self.calls = []         # (number, description) of traced calls
        self.end = False
        self.watchdog = False
        for line in stdout.splitlines():
            m = LINE.search(line)
            if not m:
                continue
            tag, rest = m.group(1), m.group(2)
            if tag == "G":
                self.started.append(rest.strip())
            elif tag == "S":
                fields = rest.split()
                self.sums[fields[0]] = tuple(int(x) for x in fields[1:6])
            elif tag == "BAD":
                self.bad.append((self.started[-1] if self.started else "?", rest))
            elif tag == "UNHEALTHY":
                name, _, check = rest.strip().partition(" ")
                self.unhealthy.append((name, check))
            elif tag == "C":
                number, _, description = rest.partition(" ")
                self.calls.append((int(number), description.strip()))
            elif tag == "NOTEMPLATE":
                name, _, template = rest.strip().partition(" ")
                self.no_template.append((name, template))
            elif tag == "END":
                self.end = True
            elif tag == "WATCHDOG":
                self.watchdog = True


def crash_signs(result):
    """Why a run's end is a VM crash (empty: a clean end)."""
    signs = []
    if result.timed_out:
        signs.append("hung: killed after %.0f s" % result.seconds)
    elif result.status < 0:
        signs.append("killed by signal %d" % -result.status)
    text = result.stdout + result.stderr
    if "Traceback" in text:
        signs.append("a Python traceback")
    if "RPython" in text:
        signs.append("an RPython fatal error")
    if "internal error" in result.stderr:
        signs.append("an internal VM error (exit %s)" % result.status)
    return signs


class Workspace(object):
    """A temporary folder with a copy of mini.image (snapshot writes over it)."""

    def __init__(self, folder):
        self.folder = folder
        self.image_source = find_image("mini.image")
        self.count = 0

    def start(self, text, timeout):
        self.count += 1
        run_dir = os.path.join(self.folder, "run-%05d" % self.count)
        os.mkdir(run_dir)
        image = os.path.join(run_dir, "fuzz.image")
        shutil.copyfile(self.image_source, image)
        os.chmod(image, 0o644)
        script = os.path.join(run_dir, "fuzz.st")
        with open(script, "w") as f:
            f.write(text)
        return run_dir, Run([image, script], timeout=timeout, cwd=run_dir)


class Finding(object):
    def __init__(self, group, what, call, result):
        self.group = group
        self.what = what
        self.call = call
        self.result = result

    def report(self):
        text = "%s, group %s (%d arguments): %s" % (self.group.prim.label(), self.group.name,
                                                    self.group.arity, self.what)
        if self.call:
            text += "\n  call %d: %s" % self.call
        if self.result is not None:
            text += "\n" + self.result.describe(limit=1500)
        return text


class FuzzResults(object):
    def __init__(self):
        self.sums = {}
        self.findings = []
        self.runs = 0
        self.restarts = {}      # group name -> runs ended by a call (quit, blocked wait)
        self.seconds = 0.0

    def add_output(self, out):
        """Add a run's group sums (a traced group's runs each count their part)."""
        for name, sums in out.sums.items():
            old = self.sums.get(name, (0, 0, 0, 0, 0))
            self.sums[name] = tuple(a + b for a, b in zip(old, sums))

    def calls(self):
        return sum(s[0] for s in self.sums.values())


def traced_rerun(ws, group, start_at):
    """Run one group alone with tracing from call start_at; (Output, Result)."""
    run_dir, run = ws.start(file_in([group], traced_calls(group, start_at, False)),
                            GROUP_TIMEOUT)
    result = run.finish()
    return Output(result.stdout), result


def locate(ws, results, group, why, result):
    """A run died in `group`: name the call, by running the group again traced."""
    out, rerun = traced_rerun(ws, group, 0)
    results.runs += 1
    call = out.calls[-1] if out.calls else None
    if out.end:
        what = "%s in the full run, but not when run alone" % why
        call = None
    else:
        signs = crash_signs(rerun)
        what = "%s; alone: %s" % (why, "; ".join(signs) if signs else
                                  "ended early (exit %s)" % rerun.status)
        result = rerun
    results.findings.append(Finding(group, what, call, result))


def record_findings(results, out, groups):
    """The findings a run reports itself: BAD answers, broken image, unknown templates."""
    by_name = dict((g.name, g) for g in groups)
    for name, text in out.bad:
        results.findings.append(Finding(by_name[name], "BAD answer: " + text, None, None))
    for name, template in out.no_template:
        results.findings.append(Finding(by_name[name], "a template names values the group "
                                        "does not have: %s" % template, None, None))
    for name, check in out.unhealthy:
        results.findings.append(Finding(by_name[name], "the image is broken after the "
                                        "group: %s fails" % check, None, None))


def run_main(ws, results, shards, jobs):
    """Run the shards (lists of groups) jobs at a time; a shard that dies resumes after
    the group it died in, once that group's fatal call is located."""
    pending = [list(s) for s in shards if s]
    running = []
    while pending or running:
        while pending and len(running) < jobs:
            groups = pending.pop(0)
            run_dir, run = ws.start(file_in(groups, main_calls(groups)), MAIN_TIMEOUT)
            running.append((groups, run))
            results.runs += 1
        still = []
        for groups, run in running:
            if not run.poll():
                still.append((groups, run))
                continue
            result = run.finish()
            out = Output(result.stdout)
            results.add_output(out)
            record_findings(results, out, groups)
            if out.end and not crash_signs(result) and result.status == 0:
                continue
            # Died (or ended early) in the last group started.
            if not out.started:
                results.findings.append(Finding(groups[0], "the run died before any group "
                                                "started", None, result))
                continue
            last = out.started[-1]
            index = [g.name for g in groups].index(last)
            signs = crash_signs(result)
            why = "; ".join(signs) if signs else "the run ended early (exit %s)" % result.status
            locate(ws, results, groups[index], why, result)
            if index + 1 < len(groups):
                pending.append(groups[index + 1:])
        running = still
        if running:
            time.sleep(0.01)


def run_traced_group(ws, results, group):
    """A quit or blocking primitive's group: traced runs, each resuming after the call
    that ended the one before."""
    start_at = 0
    restarts = 0
    watchdog = group.prim.kind() == "blocking"
    while True:
        run_dir, run = ws.start(file_in([group], traced_calls(group, start_at, watchdog)),
                                QUIT_TIMEOUT)
        result = run.finish()
        results.runs += 1
        out = Output(result.stdout)
        results.add_output(out)
        record_findings(results, out, [group])
        signs = crash_signs(result)
        last = out.calls[-1] if out.calls else None
        if signs:
            results.findings.append(Finding(group, "; ".join(signs), last, result))
        if out.end:
            break
        if last is None or last[0] < start_at:
            results.findings.append(Finding(group, "a run ended before its first call "
                                            "(exit %s)" % result.status, None, result))
            break
        restarts += 1
        start_at = last[0] + 1
    results.restarts[group.name] = restarts


def run_parallel_traced(ws, results, groups, jobs):
    """The traced groups, `jobs` at a time (each on its own thread of runs)."""
    import threading
    queue = list(groups)
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                group = queue.pop(0)
            run_traced_group(ws, results, group)

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def shard(groups, count):
    """Split groups into `count` lists of about the same cost (calls)."""
    values = 100

    def cost(g):
        calls = sum((len(t)) * values for t in g.templates())
        if g.full() != "true" or g.arity == 0:
            return calls + 2 * values
        calls += values * values
        if g.arity > 1:
            calls += 10 * values
        return calls
    shards = [[] for _ in range(count)]
    totals = [0] * count
    for g in sorted(groups, key=cost, reverse=True):
        i = totals.index(min(totals))
        shards[i].append(g)
        totals[i] += cost(g)
    for s in shards:
        s.sort(key=lambda g: (str(type(g.prim.key)), g.prim.key, g.arity))
    return shards


@pytest.fixture(scope="module")
def prim_fuzz(tmpdir_factory):
    ws = Workspace(str(tmpdir_factory.mktemp("primfuzz")))
    results = FuzzResults()
    start = time.time()
    prims = selected_primitives()
    groups = [g for p in prims for g in p.groups()]
    main = [g for g in groups if g.prim.kind() == "main"]
    traced = [g for g in groups if g.prim.kind() != "main"]
    jobs = default_jobs()
    # Traced (quit, blocking) groups first, on their own; then the others in shards.
    run_parallel_traced(ws, results, traced, jobs)
    traced_seconds = time.time() - start
    run_main(ws, results, shard(main, min(len(main), max(jobs, min(4 * jobs, len(main) // 5)))),
             jobs)
    results.seconds = time.time() - start
    import warnings
    warnings.warn("primitive fuzz: %d primitives, %d groups, %d calls in %d VM runs, %.0f s "
                  "(%.0f s of them for the quit and wait primitives)"
                  % (len(prims), len(groups), results.calls(), results.runs,
                     results.seconds, traced_seconds))
    return results


SELECTED = selected_primitives()


@pytest.mark.parametrize("prim", SELECTED, ids=[p.test_id() for p in SELECTED])
def test_primitive_fuzz(prim, prim_fuzz):
    findings = [f for f in prim_fuzz.findings if f.group.prim is prim]
    assert not findings, "%d findings:\n\n%s" % (
        len(findings), "\n\n".join(f.report() for f in findings[:5]))
    for g in prim.groups():
        assert g.name in prim_fuzz.sums, "group %s did not run" % g.name
        calls = prim_fuzz.sums[g.name][0]
        assert calls > 0 or g.name in prim_fuzz.restarts, "group %s made no call" % g.name


def test_primitive_fuzz_covers_every_primitive():
    """Every primitive the VM implements is fuzzed (or traced apart); nothing else is left out."""
    keys = set(p.key for p in PRIMITIVES if not isinstance(p, BadExternalCall))
    assert len([k for k in keys if isinstance(k, int)]) == \
        len([f for f in primitives.table() if f is not None])
    assert set(k for k in keys if not isinstance(k, int)) | NOT_FUZZED == set(primitives._NAMED)
    for key in list(QUIT_PRIMITIVES) + list(BLOCKING_PRIMITIVES):
        assert key in keys, key


# --- running malformed methods -------------------------------------------------------------
# withArgs:executeMethod: (188) runs any CompiledMethod; one whose bytecodes are garbage
# legitimately ends the run (the VM stops with `cogxen: fatal: malformed method ...`),
# so the fuzz above keeps such methods from 188 and they run here, each in a VM of its
# own: any clean end will do, a crash will not.

# (receiver, header, bytecode count, seed of random bytecodes: 0 leaves them 0)
MALFORMED_METHODS = [
    (receiver, header, size, 0)
    for receiver in ["3", "nil"]
    for header, size in [(0, 0), (0, 3)]       # no bytecodes; pushes of instance variables
] + [
    (["3", "nil", "'abc' copy", "Object new"][seed % 4],
     [5 << 18,                      # 5 temporaries
      (3 << 9) | (2 << 18),         # 3 literals (nil), 2 temporaries
      (1 << 17) | (60 << 18),       # a large frame of 60 temporaries
      60 | (4 << 18)][seed % 4],    # primitive 60 (which fails), 4 temporaries
     40, seed)
    for seed in range(1, 25)]


def random_bytecodes(size, seed):
    import random
    rng = random.Random(seed)
    return [rng.randint(0, 255) for _ in range(size)]


@pytest.mark.parametrize("receiver,header,size,seed",
                         MALFORMED_METHODS if TRANSLATED else MALFORMED_METHODS[1:4])
def test_execute_malformed_method(receiver, header, size, seed, tmpdir):
    """A method of garbage bytecodes, run by withArgs:executeMethod:, ends the run cleanly."""
    prim = [p for p in PRIMITIVES if p.key == 188][0]
    with open(SUPPORT[0]) as f:
        chunks = [f.read()]         # CogXen.st
    chunks.append("!Object methodsFor: 'primitive fuzz'!\n%s! !\n" % prim.method_source(2))
    fill = ""
    if seed:
        fill = ("#(%s) doWithIndex: [:byte :i | m basicAt: m initialPC - 1 + i put: byte]. "
                % " ".join(str(b) for b in random_bytecodes(size, seed)))
    chunks.append("| m | m := CompiledMethod newMethod: %d header: %d. %s"
                  "CogXen stdout: '@@FZ RAN' , CogXen newline. "
                  "CogXen stdout: '@@FZ ANSWER ' , (%s fz188a2: #() b: m) class name!\n"
                  % (size, header, fill, receiver))
    ws = Workspace(str(tmpdir))
    run_dir, run = ws.start("\n".join(chunks), GROUP_TIMEOUT)
    result = run.finish()
    assert not crash_signs(result), result.describe()
    assert "@@FZ RAN" in result.stdout, result.describe()
    for line in result.stderr.splitlines():
        assert line.startswith("cogxen: ") or line.startswith("    "), result.describe()
