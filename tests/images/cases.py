"""Image test cases: what the VM must print and answer for real images.

DATA ONLY. Three runners share these definitions: the untranslated VM and the
translated binary (tests/images/test_images.py, the latter when COGXEN_VM is set)
and, later, the QEMU/Xen guest runner. `CASES` is a literal: a runner written in
anything may read it with `ast.literal_eval` (test_images.py checks that it can).
Keep it free of Python logic (no calls, comprehensions, variables).

Each case is a dict:

  name      unique id (used as the pytest id)
  image     file name of the image in $COGXEN_IMAGES (default <repo>/../shared/images)
  options   arguments before the image (default [])
  script    optional list of .st files, relative to the repository root: the runner
            concatenates them in order (each followed by a newline) into ONE temporary
            file and passes its path as SCRIPT.st right after the image
  args      arguments after the image and script (default [])
            => command line: VM + options + [IMAGE] + [SCRIPT.st] + args
  stdout    the exact expected standard output, or
  stdout_re a regular expression (Python `re` syntax, no flags) that must match the
            WHOLE standard output
  status    the expected exit status
  stderr    the exact expected standard error, and/or
  stderr_re a regular expression (re.MULTILINE) that must be found in standard error
            (neither given: standard error is not checked)
  timeout   seconds the untranslated VM may take (default 120); a run that takes
            longer fails (it hung). The translated binary gets a quarter of it, at
            least 30 s
  slow      true: a minute or more untranslated, so only the translated binary and
            the guest run it (the untranslated runner skips it, saying so)
  notes     free text

The runner starts the VM with standard input from /dev/null, in an empty temporary
working directory, with its address space limited to 2 GB (COGXEN_TEST_MEMORY_MB).
"""

CASES = [
    # --- mini.image (Squeak 2.2): --eval prints the printString of the result ----------
    {
        "name": "mini-eval-add",
        "image": "mini.image",
        "options": ["--eval", "3 + 4"],
        "stdout": "7\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-factorial-size",
        "image": "mini.image",
        "options": ["--eval", "100 factorial printString size"],
        "stdout": "158\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-fractions",
        "image": "mini.image",
        "options": ["--eval", "(1/3) + (2/3)"],
        "stdout": "1\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-large-power",
        "image": "mini.image",
        "options": ["--eval", "(2 raisedTo: 64) printString"],
        "stdout": "'18446744073709551616'\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-sorted",
        "image": "mini.image",
        "options": ["--eval", "#(3 1 2) asSortedCollection asArray"],
        "stdout": "(1 2 3 )\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-reversed",
        "image": "mini.image",
        "options": ["--eval", "'hello' reversed"],
        "stdout": "'olleh'\n",
        "stderr": "",
        "status": 0,
    },
    # --- issue 15 (7, 8): block recursion, simulation, division overflow ---------------
    {
        "name": "mini-block-context-recursion-fails",
        "image": "mini.image",
        "options": ["--eval", "| b | b := [:n | n < 1 ifTrue: [0] ifFalse: [(b value: n - 1) + 1]]. "
                              "b value: 3"],
        "stdout": "",
        "stderr_re": "^cogxen: error: Attempt to evaluate a block that is already being "
                     "evaluated\\.\n(.*\n)*    BlockContext>>value:\n",
        "status": 1,
        "notes": "primitive 81 fails on a BlockContext that is running (OpenSmalltalk VM)",
    },
    {
        "name": "mini-block-context-value-again",
        "image": "mini.image",
        "options": ["--eval", "| b | b := [:n | n * 2]. (b value: 3) + (b value: 4) + "
                              "(b valueWithArguments: #(5))"],
        "stdout": "24\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-simulated-block",
        "image": "mini.image",
        "options": ["--eval", "| b r c | r := MethodContext sender: nil receiver: nil "
                              "method: (Object compiledMethodAt: #printString) arguments: #(). "
                              "b := [(3 + 4) printString , ((1 to: 5) inject: 0 into: "
                              "[:a :x | a + x]) printString]. "
                              "b swapSender: r. c := b. [c == r] whileFalse: [c := c step]. r pop"],
        "stdout": "'715'\n",
        "stderr": "",
        "status": 0,
        "notes": "what ContextPart runSimulated: does in later images (mini.image has not "
                 "got it): needs primitives 76 (stackp:) and 118 (tryPrimitive:withArgs:)",
    },
    {
        "name": "mini-try-primitive",
        "image": "mini.image",
        "options": ["--eval", "(3 tryPrimitive: 1 withArgs: #(4)) printString , "
                              "(3 tryPrimitive: 1 withArgs: #(nil)) printString"],
        "stdout": "'7simulatorFail'\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-smallinteger-minval-div-minus-one",
        "image": "mini.image",
        "options": ["--eval", "SmallInteger minVal // -1"],
        "stdout": "",
        "stderr_re": "^cogxen: error: a primitive has failed\n(.*\n)*    SmallInteger>>quo:\n",
        "status": 1,
        "notes": "primitives 12 and 13 fail (the quotient is no SmallInteger); Squeak 2.2's "
                 "fallback then reports the failure, as on squeak-vm",
    },
    {
        "name": "mini-smallinteger-minval-divide-minus-one",
        "image": "mini.image",
        "options": ["--eval", "(SmallInteger minVal / -1) printString , ' ' , "
                              "(SmallInteger minVal / -1) class name"],
        "stdout": "'1073741824 LargePositiveInteger'\n",
        "stderr": "",
        "status": 0,
    },
    # --- issue 15 (1): heap walks, linear overall ----------------------------------------
    {
        "name": "mini-all-instances",
        "image": "mini.image",
        "options": ["--eval", "| a | a := Symbol allInstances. (a size > 4000) & "
                              "(a includes: #printString) & "
                              "((a detect: [:s | s class ~~ Symbol] ifNone: [nil]) isNil)"],
        "stdout": "true\n",
        "stderr": "",
        "status": 0,
        "timeout": 60,
        "notes": "someInstance/nextInstance continue in one snapshot (quadratic before)",
    },
    {
        "name": "mini-all-objects-loop-that-allocates-ends",
        "image": "mini.image",
        "options": ["--eval", "| o n e | n := 0. o := nil someObject. e := Object new. "
                              "[e == o or: [0 == o]] whileFalse: [n := n + 1. Array new: 3. "
                              "o := o nextObject]. (e == o) & (n > 10000)"],
        "stdout": "true\n",
        "stderr": "",
        "status": 0,
        "timeout": 60,
        "notes": "the end marker made after someObject is reached; objects made during the "
                 "loop do not keep it going",
    },
    # --- issue 15 (6): a script and --eval together: the script first -------------------
    {
        "name": "mini-script-then-eval",
        "image": "mini.image",
        "options": ["--eval", "CogXen stdout: 'from eval'; yourself"],
        "script": ["images/CogXen.st"],
        "args": ["arg1"],
        "stdout": "from evalCogXen\n",
        "stderr": "",
        "status": 0,
        "notes": "the script is filed in (it defines CogXen), then the expression runs",
    },
    # --- issue 15 (6): a corrupt scheduler is a clear fatal error ------------------------
    {
        "name": "mini-corrupt-active-process",
        "image": "mini.image",
        "options": ["--eval", "Processor instVarAt: 2 put: 5. Semaphore new wait"],
        "stdout": "",
        "stderr": "cogxen: fatal: corrupt scheduler: Processor's activeProcess is the "
                  "SmallInteger 5, not a Process\n",
        "status": 1,
        "notes": "`Processor yield` ends the same way after the image's own error handling "
                 "(too slow untranslated: test_images.py runs it against the binary)",
    },
    {
        "name": "mini-eval-float",
        "image": "mini.image",
        "options": ["--eval", "1.5e0 + 1"],
        "stdout": "2.5\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-small-times-small-is-large",
        "image": "mini.image",
        "options": ["--eval", "1000000000 * 1000000000"],
        "stdout": "1000000000000000000\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-small-minus-small-is-large-negative",
        "image": "mini.image",
        "options": ["--eval", "SmallInteger minVal - 1"],
        "stdout": "-1073741825\n",
        "stderr": "",
        "status": 0,
        "notes": "SmallInteger overflow below minVal; Squeak 2.2's special objects array "
                 "has no LargeNegativeInteger slot",
    },
    {
        "name": "mini-eval-large-negative-class",
        "image": "mini.image",
        "options": ["--eval", "(SmallInteger minVal - 1) class"],
        "stdout": "LargeNegativeInteger\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-fork-and-wait",
        "image": "mini.image",
        "options": ["--eval", "| s | s := Semaphore new. [s signal] fork. s wait. #forked"],
        "stdout": "forked\n",
        "stderr": "",
        "status": 0,
        "notes": "a Symbol's printString has no # in Squeak 2.2",
    },
    {
        "name": "mini-eval-processes-interleave",
        "image": "mini.image",
        "options": ["--eval",
                    "| log s p | log := WriteStream on: String new. s := Semaphore new. "
                    "p := [log nextPutAll: 'b'. s wait. log nextPutAll: 'd'] newProcess. "
                    "p priority: Processor activePriority + 1. "
                    "log nextPutAll: 'a'. p resume. log nextPutAll: 'c'. "
                    "s signal. log nextPutAll: 'e'. log contents"],
        "stdout": "'abcde'\n",
        "stderr": "",
        "status": 0,
        "notes": "a higher-priority process runs at once when resumed and when its "
                 "semaphore is signalled",
    },
    {
        "name": "mini-eval-delay",
        "image": "mini.image",
        "options": ["--eval",
                    "| t | t := Time millisecondClockValue. (Delay forMilliseconds: 50) wait. "
                    "(Time millisecondClockValue - t) >= 50"],
        "stdout": "true\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-image-argument",
        "image": "mini.image",
        "options": ["--eval", "Smalltalk getSystemAttribute: 2"],
        "args": ["hello"],
        "stdout": "'hello'\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-eval-dnu",
        "image": "mini.image",
        "options": ["--eval", "nil foo"],
        "stdout": "",
        "stderr_re": r"\Acogxen: error: Message not understood: foo\n(    [^\n]*\n)+\Z",
        "status": 1,
    },
    {
        "name": "mini-eval-zero-divide",
        "image": "mini.image",
        "options": ["--eval", "1/0"],
        "stdout": "",
        "stderr_re": r"\Acogxen: error: division by 0\n(    [^\n]*\n)+\Z",
        "status": 1,
    },
    {
        "name": "mini-eval-syntax-error",
        "image": "mini.image",
        "options": ["--eval", "3 +"],
        "stdout": "",
        "stderr_re": r"\Acogxen: error: [^\n]*Argument expected",
        "status": 1,
    },

    # --- mini.image: scripts (chunk format) ----------------------------------------------
    {
        "name": "mini-script-chunks",
        "image": "mini.image",
        "script": ["images/CogXen.st", "tests/images/data/chunks.st"],
        "stdout": "15\n"
                  "a counter at 15\n"
                  "Hello, world!\n"
                  "3\n"
                  "3\n"
                  "CogXen-Examples\n"
                  "last chunk, no terminator\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-script-exit-status",
        "image": "mini.image",
        "script": ["images/CogXen.st", "tests/images/data/exit-status.st"],
        "stdout": "to stdout\n",
        "stderr": "to stderr\n",
        "status": 3,
    },
    {
        "name": "mini-script-error-stops-the-run",
        "image": "mini.image",
        "script": ["images/CogXen.st", "tests/images/data/script-error.st"],
        "stdout": "before\n",
        "stderr_re": r"\Acogxen: error: Message not understood: fooBar\n(    [^\n]*\n)+\Z",
        "status": 1,
    },
    {
        "name": "mini-script-quick-methods",
        "image": "mini.image",
        "script": ["images/CogXen.st", "tests/images/data/quick-methods.st"],
        "stdout": "42\ntrue\nnil\ntrue\n1\ntrue\n",
        "stderr": "",
        "status": 0,
        "notes": "compiling a quick-return method reads its header with at: "
                 "(CompiledMethod>>endPC)",
    },
    {
        "name": "mini-script-processes",
        "image": "mini.image",
        "script": ["images/CogXen.st", "tests/images/data/processes.st"],
        "stdout": "forked\n"
                  "signalled\n"
                  "ping 1\n"
                  "pong 1\n"
                  "ping 2\n"
                  "pong 2\n"
                  "ping 3\n"
                  "ping finished\n"
                  "pong 3\n"
                  "pong finished\n"
                  "one done\n"
                  "both done\n",
        "stderr": "",
        "status": 0,
        "notes": "fork and signal do not preempt a process of the same priority; a "
                 "signalled process goes to the back of its ready list",
    },
    {
        "name": "mini-script-arguments",
        "image": "mini.image",
        "script": ["images/CogXen.st", "tests/images/data/arguments.st"],
        "args": ["first", "second"],
        "stdout": "'first'\n'second'\nnil\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "mini-script-runaway-recursion",
        "image": "mini.image",
        "script": ["images/CogXen.st", "tests/images/data/runaway-recursion.st"],
        "stdout": "recursing\n",
        "stderr_re": r"\Acogxen: ",
        "status": 1,
        "notes": "unbounded recursion must end as an error (like running out of memory "
                 "in the image), not as a crash, a traceback or unbounded memory use; "
                 "runners cap the VM's memory (2 GB)",
    },

    # --- mini.image: the Smalltalk test runner ---------------------------------------------
    {
        "name": "mini-kernel-tests",
        "image": "mini.image",
        "script": ["images/CogXen.st", "images/TestRunner.st",
                   "images/tests/KernelTests.st", "images/run-tests.st"],
        "stdout_re": r"(PASS CogXen\w+Test>>test\w+\n)+(\d+) tests, \2 passed, 0 failed\n",
        "stderr": "",
        "status": 0,
        "timeout": 300,
        "slow": True,
    },
    {
        "name": "mini-test-runner-self-test",
        "image": "mini.image",
        "script": ["images/CogXen.st", "images/TestRunner.st",
                   "tests/images/data/RunnerSelfTest.st", "images/run-tests.st"],
        "stdout": "PASS CogXenRunnerBase>>testInherited\n"
                  "PASS CogXenRunnerBaseSub>>testInherited\n"
                  "PASS CogXenRunnerBaseSub>>testOwn\n"
                  "FAIL CogXenRunnerSelfTest>>testErrorDoesNotUnderstand: "
                  "error: Message not understood: fooBar\n"
                  "FAIL CogXenRunnerSelfTest>>testErrorSignalled: error: something broke\n"
                  "FAIL CogXenRunnerSelfTest>>testFailsAssert: assertion failed\n"
                  "FAIL CogXenRunnerSelfTest>>testFailsEquals: expected 8 but got 7\n"
                  "FAIL CogXenRunnerSelfTest>>testFailsTwiceAndGoesOn: "
                  "denial failed; expected 'abc' but got 'cba'\n"
                  "PASS CogXenRunnerSelfTest>>testPasses\n"
                  "PASS CogXenRunnerSelfTest>>testSetUpRan\n"
                  "10 tests, 5 passed, 5 failed\n",
        "stderr": "",
        "status": 5,
        "notes": "the exit status is the number of failed tests",
    },

    # --- mini-running-something.image: the same Squeak 2.2, saved inside a DoIt ------------
    {
        "name": "something-eval-add",
        "image": "mini-running-something.image",
        "options": ["--eval", "3 + 4"],
        "stdout": "7\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "something-eval-factorial-size",
        "image": "mini-running-something.image",
        "options": ["--eval", "100 factorial printString size"],
        "stdout": "158\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "something-eval-fractions",
        "image": "mini-running-something.image",
        "options": ["--eval", "(1/3) + (2/3)"],
        "stdout": "1\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "something-eval-large-power",
        "image": "mini-running-something.image",
        "options": ["--eval", "(2 raisedTo: 64) printString"],
        "stdout": "'18446744073709551616'\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "something-eval-sorted",
        "image": "mini-running-something.image",
        "options": ["--eval", "#(3 1 2) asSortedCollection asArray"],
        "stdout": "(1 2 3 )\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "something-eval-reversed",
        "image": "mini-running-something.image",
        "options": ["--eval", "'hello' reversed"],
        "stdout": "'olleh'\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "something-eval-float",
        "image": "mini-running-something.image",
        "options": ["--eval", "1.5e0 + 1"],
        "stdout": "2.5\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "something-eval-small-times-small-is-large",
        "image": "mini-running-something.image",
        "options": ["--eval", "1000000000 * 1000000000"],
        "stdout": "1000000000000000000\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "something-eval-dnu",
        "image": "mini-running-something.image",
        "options": ["--eval", "nil foo"],
        "stdout": "",
        "stderr_re": r"\Acogxen: error: Message not understood: foo\n(    [^\n]*\n)+\Z",
        "status": 1,
    },
    {
        "name": "something-eval-syntax-error",
        "image": "mini-running-something.image",
        "options": ["--eval", "3 +"],
        "stdout": "",
        "stderr_re": r"\Acogxen: error: [^\n]*Argument expected",
        "status": 1,
    },
    {
        "name": "something-script-chunks",
        "image": "mini-running-something.image",
        "script": ["images/CogXen.st", "tests/images/data/chunks.st"],
        "stdout": "15\n"
                  "a counter at 15\n"
                  "Hello, world!\n"
                  "3\n"
                  "3\n"
                  "CogXen-Examples\n"
                  "last chunk, no terminator\n",
        "stderr": "",
        "status": 0,
    },

    # --- resuming images --------------------------------------------------------------------
    {
        "name": "running-exit-resume",
        "image": "mini-running-exit.image",
        "stdout": "",
        "stderr": "",
        "status": 0,
        "notes": "saved inside a DoIt that snapshots and quits: resuming it quits at once",
    },
    {
        "name": "running-exit-eval",
        "image": "mini-running-exit.image",
        "options": ["--eval", "3 + 4"],
        "stdout": "7\n",
        "stderr": "",
        "status": 0,
    },
    {
        "name": "headless-resume",
        "image": "headless.image",
        "stdout": "Smalltalk image fired up!\nFixing the world\n3 + 4 = 7\n",
        "stderr": "",
        "status": 0,
        "notes": "Spur; its start-up logs three lines, all at level 'log', through "
                 "ConsolePlugin primitiveLog:level:, then quits",
    },
    {
        "name": "bootstrapped-eval-no-compiler",
        "image": "bootstrapped.image",
        "options": ["--eval", "3 + 4"],
        "stdout": "",
        "stderr_re": r"\Acogxen: [^\n]*no Compiler[^\n]*\n\Z",
        "status": 1,
    },
    {
        "name": "bootstrapped-resume",
        "image": "bootstrapped.image",
        "stdout": "",
        "stderr": "",
        "status": 0,
        "timeout": 300,
        "slow": True,
        "notes": "its start process runs tinyBenchmarks, logs through a file "
                 "(PCSystem class>>log: appends to log.txt) and quits; untranslated it "
                 "takes about a minute",
    },
]
