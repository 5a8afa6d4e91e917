"""The command line: `cogxen [options] IMAGE [SCRIPT.st] [ARGUMENTS...]`.

Exit status: 0 when the run ends normally (or the image quits with 0), the
image's own status when it quits with one, 1 when an error reaches the top
of a headless run, 2 for bad input (command line, missing or corrupt image).
"""

from rpython.memory.gc import env
from rpython.rlib.objectmodel import we_are_translated

from spyvm import headless, interpreter, memory, version
from spyvm.errors import Exit, VMFatal, UnhandledError
from spyvm.image.format import ImageError
from spyvm.platform import current as platform

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

# What --version reports: set by the translation target (JIT or not).
BUILD_KIND = "untranslated"

USAGE = """Usage: cogxen [options] IMAGE [SCRIPT.st...] [ARGUMENTS...]

Runs a Squeak/Pharo image headless.
  IMAGE                 the image file to load
  SCRIPT.st...          file-in the scripts' chunks (separated by !) in order,
                        one script after the other
  ARGUMENTS             passed to the image (Smalltalk getSystemAttribute: 2, 3, ...)

Options:
  -e, --eval EXPR       evaluate EXPR with the image's Compiler and print the
                        printString of the result
  -h, --help            show this help and exit
  --version             show the version and exit
  --memory SIZE         the most memory the heap may use (e.g. 512M, 2G);
                        default: PYPY_GC_MAX, else half the available memory
                        (at most half of ulimit -v); near it the image gets its
                        low-space signal, beyond it the VM exits with status 1
  --jit ARG             JIT settings: 'off', or RPython's param=value,... list
                        (threshold, function_threshold, trace_limit, ...),
                        RPython's defaults otherwise
  -headless, --headless accepted for compatibility: CogXen is always headless

Without --eval or a script the image resumes where it was saved; with both,
the script is filed in first, then EXPR is evaluated.
Exit status: 0 ok, 1 error in the image, 2 bad input (usage, missing or corrupt image).
"""


class Options(object):
    def __init__(self):
        self.image_path = ""
        self.eval_expr = ""
        self.has_eval = False
        self.script_paths = []
        self.image_args = []
        self.help = False
        self.version = False
        self.jit = ""
        self.memory = 0
        self.vm_options = []    # as given: getSystemAttribute: -1, -2, ...


class UsageError(Exception):
    def __init__(self, message):
        self.message = message


def parse_args(argv):
    opts = Options()
    positional = []
    i = 1
    options_done = False
    while i < len(argv):
        arg = argv[i]
        if options_done or not arg.startswith("-") or arg == "-":
            positional.append(arg)
            if len(positional) >= 1 and opts.image_path == "":
                opts.image_path = arg
            i += 1
            continue
        if arg == "--":
            options_done = True
            i += 1
            continue
        start = i
        assert start >= 0
        if arg in ("-e", "--eval", "-eval"):
            if i + 1 >= len(argv):
                raise UsageError("%s needs an expression" % arg)
            opts.eval_expr = argv[i + 1]
            opts.has_eval = True
            i += 1
        elif arg == "--jit":
            if i + 1 >= len(argv):
                raise UsageError("--jit needs an argument (off, or param=value,...)")
            opts.jit = argv[i + 1]
            i += 1
        elif arg == "--memory":
            if i + 1 >= len(argv):
                raise UsageError("--memory needs a size (e.g. 512M, 2G)")
            opts.memory = memory.parse_size(argv[i + 1])
            if opts.memory < 1024 * 1024:
                raise UsageError("bad --memory size %s (at least 1M)" % argv[i + 1])
            i += 1
        elif arg in ("-h", "--help", "-help"):
            opts.help = True
        elif arg in ("--version", "-version"):
            opts.version = True
        elif arg in ("-headless", "--headless", "-nodisplay", "--nodisplay",
                     "-vm-display-null", "-vm-sound-null"):
            pass
        else:
            raise UsageError("unknown option %s" % arg)
        opts.vm_options.extend(argv[start:i + 1])
        i += 1
    if opts.help or opts.version:
        return opts
    if not positional:
        raise UsageError("no image file given")
    rest = positional[1:]
    # With --eval too, the scripts are filed in first: definitions, then the
    # expression that uses them.
    while rest and rest[0].endswith(".st"):
        opts.script_paths.append(rest[0])
        rest = rest[1:]
    opts.image_args = rest
    return opts


def error(message):
    platform.write_stderr("cogxen: " + message + "\n")


def main(argv):
    status = run_command_line(argv)
    err = platform.stdout_error()
    if err:
        # Output the user asked for was lost (a full disk, a closed pipe).
        error("cannot write to standard output: %s" % platform.error_text(err))
        if status == EXIT_OK:
            status = EXIT_ERROR
    return status


def run_command_line(argv):
    try:
        opts = parse_args(argv)
    except UsageError as e:
        error(e.message)
        platform.write_stderr("Try 'cogxen --help' for more information.\n")
        return EXIT_BAD_INPUT
    if opts.help:
        platform.write_stdout(USAGE)
        return EXIT_OK
    if opts.version:
        platform.write_stdout("cogxen %s (%s)\n" % (version.VERSION, BUILD_KIND))
        return EXIT_OK
    if we_are_translated():     # the GC's own measure, as for its nursery
        interpreter.set_jit_decay(memory.jit_decay(env.get_total_memory()))
    if opts.jit:
        try:
            interpreter.configure_jit(opts.jit)
        except ValueError:
            error("bad --jit argument: %s" % opts.jit)
            platform.write_stderr("Try 'cogxen --help' for more information.\n")
            return EXIT_BAD_INPUT
    memory.install(memory.choose_limit(opts.memory))
    try:
        return run(opts, argv[0])
    except MemoryError:
        memory.lift_limit()
        error("fatal: out of memory (the heap limit is %d MB; see --memory)"
              % (memory.policy.limit / (1024 * 1024)))
        return EXIT_ERROR
    except Exception as e:
        # A VM bug, never the image's fault: say so in one line, no traceback.
        error("internal error: %s" % describe_exception(e))
        return EXIT_INTERNAL


def describe_exception(e):
    from rpython.rlib.objectmodel import we_are_translated
    if we_are_translated():
        return "unexpected exception"
    return "%s: %s" % (e.__class__.__name__, e)


def run(opts, vm_path):
    scripts = []
    for path in opts.script_paths:
        data = platform.read_file(path)
        if data is None:
            error("cannot read script %s" % path)
            return EXIT_BAD_INPUT
        scripts.append(data)
    try:
        vm = headless.load(platform.absolute_path(opts.image_path),
                           platform.executable_path(vm_path), opts.image_args,
                           opts.vm_options)
    except ImageError as e:
        error("%s: %s" % (opts.image_path, e.message))
        return EXIT_BAD_INPUT
    except VMFatal as e:
        error("%s: %s" % (opts.image_path, e.message))
        return EXIT_BAD_INPUT
    try:
        for script in scripts:
            vm.file_in(script)
        if opts.has_eval:
            text = vm.evaluate_and_print(opts.eval_expr)
            platform.write_stdout(text + "\n")
        elif not scripts:
            vm.resume()
    except Exit as e:
        return e.status
    except UnhandledError as e:
        error("error: " + e.message)
        for line in e.trace:
            platform.write_stderr("    " + line + "\n")
        return EXIT_ERROR
    except VMFatal as e:
        error("fatal: " + e.message)
        return EXIT_ERROR
    except headless.NoCompiler as e:
        error(e.message)
        return EXIT_ERROR
    return EXIT_OK
