"""Exceptions that cross module boundaries inside the VM."""


class PrimitiveFailed(Exception):
    """Raised by a primitive: the method body runs instead."""


class TopLevelReturn(Exception):
    """The context the VM started a computation in has returned."""

    def __init__(self, w_value):
        self.w_value = w_value


class Exit(Exception):
    """The image asked the VM to quit with a status."""

    def __init__(self, status):
        self.status = status


class VMFatal(Exception):
    """A state the VM cannot continue from (malformed method, no runnable process)."""

    def __init__(self, message, trace=None):
        self.message = message
        self.trace = trace if trace is not None else []


class UnhandledError(Exception):
    """Headless: the image tried to open a debugger on an error no one handled."""

    def __init__(self, message, trace=None):
        self.message = message
        self.trace = trace if trace is not None else []


class StartUpFinished(Exception):
    """Headless start-up: the process the image was saved in has suspended itself
    (its start-up code ran to the end), or the image went idle for the first time.
    That process was left as suspending or idling leaves it; the VM then makes
    another process active for its own sends."""
