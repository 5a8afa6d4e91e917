"""Running an image without a display: resume it, evaluate an expression, file in a script.

The VM does the sending itself (`Compiler evaluate: aString`, then `printString`),
since not every image has a command-line hook. Errors nobody handles would open
a debugger; here the image's debugger entry points are marked so that reaching
one ends the run with the error's description instead.

Before evaluating, an image saved from a process of its own that only snapshots
(Cuis forks one: `snapshot:andQuit:embedded:clearAllClassState:` on
`newProcess`) is resumed first: what follows the snapshot there is its start-up
(class cached state, the start-up list, the UI process, command-line arguments).
The evaluation starts when that process has finished (it suspends itself) or
the image first goes idle, whichever comes first, in a new process of user
priority; the processes the start-up made (Morphic's UI process, the idle
process) stay runnable and run when the evaluation waits.
Other images (saved from a UI loop that never idles, or with no start-up code
after the snapshot) only get `Delay startUp` before the evaluation.
"""

from spyvm import constants, model
from spyvm.errors import StartUpFinished, VMFatal
from spyvm.image import reader
from spyvm.image.format import ImageError
from spyvm.interpreter import Interpreter
from spyvm.platform import current as platform


class NoCompiler(Exception):
    def __init__(self, message):
        self.message = message


# (class name, selector, class side?) where images open a debugger or notifier.
DEBUGGER_ENTRIES = [
    ("Debugger", "openContext:label:contents:", True),
    ("Debugger", "openOn:context:label:contents:fullView:", True),
    ("Debugger", "openInterrupt:onProcess:", True),
    ("Debugger", "openOn:context:label:fullView:", True),          # Cuis
    ("StandardToolSet", "debugContext:label:contents:", True),
    ("StandardToolSet", "debug:context:label:contents:fullView:", True),
    ("ToolSet", "debugContext:label:contents:", True),
    ("ToolSet", "debug:context:label:contents:fullView:", True),
    # Squeak 2.x reports compile errors of code with no editor by opening a SyntaxError.
    ("SyntaxError", "errorInClass:withCode:doitFlag:", True),
    ("SyntaxError", "errorInClass:withCode:", True),
    ("SyntaxError", "notify:at:in:", False),
]


# Processor userSchedulingPriority in Squeak, Pharo and Cuis.
USER_PRIORITY = 40


class HeadlessVM(object):

    def __init__(self, image, image_path, vm_path, image_args):
        self.image = image
        self.space = image.space
        self.interp = Interpreter(self.space, image)
        self.interp.image_name = image_path
        self.interp.vm_path = vm_path
        self.interp.image_args = image_args
        mark_debugger_entries(self.interp)
        self.delays_restarted = False
        self.started_up = False

    def symbol(self, name):
        w_symbol = self.interp.symbol(name)
        if w_symbol is None:
            raise VMFatal("the image has no symbol #%s" % name)
        return w_symbol

    def compiler(self):
        w_compiler = self.space.smalltalk_at("Compiler")
        if w_compiler is None or w_compiler is self.space.w_nil:
            raise NoCompiler("this image has no Compiler, so it cannot evaluate source code")
        return w_compiler

    def restart_delays(self):
        """Run the image's Delay start-up once before code the VM sends in.

        Evaluating borrows the active process without running the image's start-up
        list. Images that save with `Delay shutDown` hold the Delay lock and keep the
        saved delays inert until `Delay startUp`; without it every Delay would wait
        forever. Nothing else of the start-up (display, input) is wanted headless.
        """
        if self.delays_restarted:
            return
        self.delays_restarted = True
        w_delay = self.space.smalltalk_at("Delay")
        if w_delay is not None and self.understands(w_delay, "startUp"):
            self.interp.perform(w_delay, "startUp", [])

    def saved_in_startup_process(self):
        """Whether the image was saved by a process that only snapshots: its
        suspended context is a snapshot method right above the process's block."""
        w_process = self.interp.scheduler.active_process()
        w_ctx = w_process.fetch(self.space, constants.PROCESS_SUSPENDED_CONTEXT)
        if not isinstance(w_ctx, model.W_Context) or w_ctx.w_method is None:
            return False
        name = self.interp.method_name(w_ctx)
        if name.find(">>snapshot") < 0:
            return False
        w_sender = w_ctx.sender()
        return isinstance(w_sender, model.W_Context) and \
            self.interp.method_name(w_sender).endswith(">>newProcess")

    def start_up(self):
        """Run the image's own start-up until it first goes idle (see the module's
        doc), then make a new user-priority process the active one for the VM's
        sends. Without a start-up to run, only Delay's."""
        if self.started_up:
            return
        self.started_up = True
        if not self.saved_in_startup_process():
            self.restart_delays()
            return
        self.delays_restarted = True
        scheduler = self.interp.scheduler
        self.interp.stop_when_idle = True
        scheduler.w_watched_process = scheduler.active_process()
        try:
            self.resume()
        except StartUpFinished:
            pass
        finally:
            self.interp.stop_when_idle = False
            scheduler.w_watched_process = None
        self.interp.scheduler.make_active(self.new_process(USER_PRIORITY))

    def new_process(self, priority):
        w_class = self.space.w_Process
        if w_class is None:
            raise VMFatal("the image has no Process class")
        size = self.space.class_format(w_class).inst_size
        w_process = model.W_PointersObject(w_class, size, self.space.w_nil)
        w_process.store(self.space, constants.PROCESS_PRIORITY, self.space.wrap_int(priority))
        return w_process

    def evaluate(self, source):
        self.start_up()
        w_source = self.space.wrap_string(source)
        return self.interp.perform(self.compiler(), "evaluate:", [w_source])

    def print_string(self, w_obj):
        w_string = self.interp.perform(w_obj, "printString", [])
        if not isinstance(w_string, model.W_BytesObject):
            raise VMFatal("printString did not answer a String")
        return w_string.as_string()

    def evaluate_and_print(self, source):
        return self.print_string(self.evaluate(source))

    def file_in(self, text):
        """Evaluate a file-in's chunks in order.

        `!expr!` (a chunk after an empty one) answers a reader such as
        `Foo methodsFor: 'x'`; the method chunks after it, up to the next empty
        chunk, go to the reader's own scanFrom:, so the image compiles them.
        """
        chunks = split_chunks(text)
        i = 0
        while i < len(chunks):
            source, start, end = chunks[i]
            if source.strip() == "" and i + 1 < len(chunks):
                w_reader = self.evaluate(chunks[i + 1][0])
                i += 2
                methods_start = chunks[i - 1][2]
                while i < len(chunks) and chunks[i][0].strip() != "":
                    i += 1
                methods_end = chunks[i][2] if i < len(chunks) else len(text)
                assert methods_start >= 0 and methods_end >= methods_start
                self.scan_methods(w_reader, text[methods_start:methods_end])
            elif source.strip() != "":
                self.evaluate(source)
            i += 1

    def scan_methods(self, w_reader, text):
        w_stream_class = self.space.smalltalk_at("ReadStream")
        if w_stream_class is None:
            raise VMFatal("file-in needs ReadStream in the image")
        w_stream = self.interp.perform(w_stream_class, "on:", [self.space.wrap_string(text)])
        self.interp.perform(w_reader, "scanFrom:", [w_stream])

    def understands(self, w_obj, selector):
        w_selector = self.interp.symbol(selector)
        if w_selector is None:
            return False
        return self.interp.lookup(w_obj.getclass(self.space), w_selector) is not None

    def resume(self):
        """Continue the image's active process where it was saved."""
        scheduler = self.interp.scheduler
        w_process = scheduler.active_process()
        w_ctx = w_process.fetch(self.space, constants.PROCESS_SUSPENDED_CONTEXT)
        if not isinstance(w_ctx, model.W_Context) or w_ctx.is_dead():
            raise VMFatal("the active process has no context to resume")
        w_process.store(self.space, constants.PROCESS_SUSPENDED_CONTEXT, self.space.w_nil)
        self.interp.run(w_ctx)


def split_chunks(text):
    """File-in chunks as (source, start, end): text between single `!` marks, where
    `!!` stands for `!`; end is the offset just after the terminating `!`."""
    chunks = []
    current = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "!":
            if i + 1 < n and text[i + 1] == "!":
                current.append("!")
                i += 2
                continue
            chunks.append(("".join(current), start, i + 1))
            current = []
            start = i + 1
        else:
            current.append(c)
        i += 1
    rest = "".join(current)
    if rest.strip() != "":
        chunks.append((rest, start, n))
    return chunks


def mark_debugger_entries(interp):
    space = interp.space
    for class_name, selector, class_side in DEBUGGER_ENTRIES:
        w_class = space.smalltalk_at(class_name)
        if not isinstance(w_class, model.W_PointersObject):
            continue
        w_selector = interp.symbol(selector)
        if w_selector is None:
            continue
        if class_side:
            w_class = w_class.getclass(space)
        w_method = interp.lookup(w_class, w_selector)
        if isinstance(w_method, model.W_CompiledMethod):
            w_method.reports_unhandled_error = True


def load(image_path, vm_path, image_args, vm_options=None):
    if platform.file_exists(image_path) and not platform.is_regular_file(image_path):
        # A device or a FIFO would be read forever or block.
        raise ImageError("not a regular file")
    data = platform.read_file(image_path)
    if data is None:
        if platform.file_exists(image_path):
            raise ImageError("cannot read the image file")
        raise ImageError("no such image file")
    image = reader.read_image(data)
    vm = HeadlessVM(image, image_path, vm_path, image_args)
    if vm_options is not None:
        vm.interp.vm_options = vm_options
    return vm
