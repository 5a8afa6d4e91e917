"""Running an image without a display: resume it, evaluate an expression, file in a script.

The VM does the sending itself (`Compiler evaluate: aString`, then `printString`),
since not every image has a command-line hook. Errors nobody handles would open
a debugger; here the image's debugger entry points are marked so that reaching
one ends the run with the error's description instead.
"""

from spyvm import constants, model
from spyvm.errors import VMFatal
from spyvm.image import reader
from spyvm.image.format import ImageError
from spyvm.interpreter import Interpreter
from spyvm.platform import current as platform


class NoCompiler(Exception):
    def __init__(self, message):
        self.message = message


# (class name, class-side selector) pairs where images open a debugger or notifier.
DEBUGGER_ENTRIES = [
    ("Debugger", "openContext:label:contents:"),
    ("Debugger", "openOn:context:label:contents:fullView:"),
    ("Debugger", "openInterrupt:onProcess:"),
    ("StandardToolSet", "debugContext:label:contents:"),
    ("StandardToolSet", "debug:context:label:contents:fullView:"),
    ("ToolSet", "debugContext:label:contents:"),
    ("ToolSet", "debug:context:label:contents:fullView:"),
    # Squeak 2.x reports compile errors of code with no editor by opening a SyntaxError.
    ("SyntaxError", "errorInClass:withCode:doitFlag:"),
    ("SyntaxError", "errorInClass:withCode:"),
]


class HeadlessVM(object):

    def __init__(self, image, image_path, vm_path, image_args):
        self.image = image
        self.space = image.space
        self.interp = Interpreter(self.space, image)
        self.interp.image_name = image_path
        self.interp.vm_path = vm_path
        self.interp.image_args = image_args
        mark_debugger_entries(self.interp)

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

    def evaluate(self, source):
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
        """Evaluate a file-in: `!expr!` starts a reader that takes the chunks after it."""
        chunks = split_chunks(text)
        i = 0
        while i < len(chunks):
            chunk = chunks[i]
            if chunk.strip() == "":
                # An empty chunk: the next one answers a reader for method definitions.
                if i + 1 < len(chunks):
                    w_reader = self.evaluate(chunks[i + 1])
                    i += 2
                    while i < len(chunks) and chunks[i].strip() != "":
                        self.compile_with_reader(w_reader, chunks[i])
                        i += 1
                i += 1
                continue
            self.evaluate(chunk)
            i += 1

    def compile_with_reader(self, w_reader, source):
        """Give one method chunk to the reader `Foo methodsFor: 'x'` answered."""
        space = self.space
        w_class = self.interp.perform(w_reader, "theClass", []) \
            if self.understands(w_reader, "theClass") else None
        w_category = self.interp.perform(w_reader, "category", []) \
            if self.understands(w_reader, "category") else None
        if w_class is None or w_category is None:
            raise VMFatal("file-in: the method reader cannot say its class and category")
        self.interp.perform(w_class, "compile:classified:",
                            [space.wrap_string(source), w_category])

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
    """File-in chunks: text between single `!`; `!!` stands for a literal `!`."""
    chunks = []
    current = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "!":
            if i + 1 < n and text[i + 1] == "!":
                current.append("!")
                i += 2
                continue
            chunks.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    rest = "".join(current)
    if rest.strip() != "":
        chunks.append(rest)
    # A chunk that is only whitespace between two `!` marks a reader start.
    return chunks


def mark_debugger_entries(interp):
    space = interp.space
    for class_name, selector in DEBUGGER_ENTRIES:
        w_class = space.smalltalk_at(class_name)
        if not isinstance(w_class, model.W_PointersObject):
            continue
        w_selector = interp.symbol(selector)
        if w_selector is None:
            continue
        w_method = interp.lookup(w_class.getclass(space), w_selector)
        if isinstance(w_method, model.W_CompiledMethod):
            w_method.reports_unhandled_error = True


def load(image_path, vm_path, image_args):
    data = platform.read_file(image_path)
    if data is None:
        if platform.file_exists(image_path):
            raise ImageError("cannot read the image file")
        raise ImageError("no such image file")
    image = reader.read_image(data)
    return HeadlessVM(image, image_path, vm_path, image_args)
