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
