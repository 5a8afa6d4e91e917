"""CogXenPlugin: the project's own channel for Smalltalk code to write to stdout and
stderr, to exit with a status, and to hear the host ask the VM to stop."""

from spyvm.errors import Exit, PrimitiveFailed
from spyvm.model import W_PointersObject
from spyvm.primitives import expose, expose_named
from spyvm.plugins.arguments import bytes_arg, int_arg
from spyvm.platform import current as platform

# Named for images whose compiler knows <primitive: 'name' module: 'CogXenPlugin'>,
# numbered (790-793, a range no Squeak VM assigns) for older compilers without that
# syntax, such as Squeak 2.2's.

COGXEN = "CogXenPlugin"
PRIM_WRITE_STDOUT = 790
PRIM_WRITE_STDERR = 791
PRIM_EXIT = 792
PRIM_SET_SHUTDOWN_SEMAPHORE = 793


@expose(PRIM_WRITE_STDOUT, 1)
@expose_named(COGXEN, "primitiveWriteStdout", 1)
def prim_write_stdout(interp, w_rcvr, w_string):
    platform.write_stdout(bytes_arg(w_string).as_string())
    return w_rcvr


@expose(PRIM_WRITE_STDERR, 1)
@expose_named(COGXEN, "primitiveWriteStderr", 1)
def prim_write_stderr(interp, w_rcvr, w_string):
    platform.write_stderr(bytes_arg(w_string).as_string())
    return w_rcvr


@expose(PRIM_EXIT, 1)
@expose_named(COGXEN, "primitiveExit", 1)
def prim_exit(interp, w_rcvr, w_status):
    raise Exit(int_arg(w_status))


@expose(PRIM_SET_SHUTDOWN_SEMAPHORE, 1)
@expose_named(COGXEN, "primitiveSetShutdownSemaphore", 1)
def prim_set_shutdown_semaphore(interp, w_rcvr, w_sema):
    """A Semaphore to signal when the host asks the VM to stop (SIGTERM; `xl shutdown`
    or `xl reboot` in the guest), or nil for the host's default (the VM ends)."""
    space = interp.space
    if w_sema is space.w_nil:
        interp.set_shutdown_semaphore(None)
    elif isinstance(w_sema, W_PointersObject) and w_sema.getclass(space) is space.w_Semaphore:
        interp.set_shutdown_semaphore(w_sema)
    else:
        raise PrimitiveFailed
    return w_rcvr
