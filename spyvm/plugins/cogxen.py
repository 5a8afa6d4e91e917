"""CogXenPlugin: the project's own channel for Smalltalk code to write to stdout and
stderr and to exit with a status."""

from spyvm.errors import Exit
from spyvm.primitives import expose, expose_named
from spyvm.plugins.arguments import bytes_arg, int_arg
from spyvm.platform import current as platform

# Named for images whose compiler knows <primitive: 'name' module: 'CogXenPlugin'>,
# numbered (790-792, a range no Squeak VM assigns) for older compilers without that
# syntax, such as Squeak 2.2's.

COGXEN = "CogXenPlugin"
PRIM_WRITE_STDOUT = 790
PRIM_WRITE_STDERR = 791
PRIM_EXIT = 792


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
