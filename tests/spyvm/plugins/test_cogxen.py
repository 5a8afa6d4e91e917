"""CogXenPlugin: stdout, stderr, exit and the shutdown hook, named and numbered
(790-793)."""

import pytest

from spyvm.errors import PrimitiveFailed, Exit
from spyvm.model import W_SmallInteger
from spyvm.plugins import cogxen

COGXEN = "CogXenPlugin"


def i(n):
    return W_SmallInteger(n)


def _write(env, how, which, w_rcvr, w_arg):
    if how == "named":
        name = "primitiveWriteStdout" if which == "out" else "primitiveWriteStderr"
        return env.call_named(COGXEN, name, w_rcvr, w_arg)
    number = cogxen.PRIM_WRITE_STDOUT if which == "out" else cogxen.PRIM_WRITE_STDERR
    return env.call(number, w_rcvr, w_arg)


@pytest.mark.parametrize("how", ["named", "numbered"])
def test_write_stdout(env, capfd, how):
    w_rcvr = env.string("Transcript")
    assert _write(env, how, "out", w_rcvr, env.string("hello\nworld")) is w_rcvr
    captured = capfd.readouterr()
    assert captured.out == "hello\nworld"
    assert captured.err == ""


@pytest.mark.parametrize("how", ["named", "numbered"])
def test_write_stdout_bytes_unchanged(env, capfdbinary, how):
    _write(env, how, "out", env.nil, env.bytearray("\x00\xff\r\n"))
    _write(env, how, "err", env.nil, env.string("\x80"))
    captured = capfdbinary.readouterr()
    assert captured.out == b"\x00\xff\r\n"
    assert captured.err == b"\x80"


@pytest.mark.parametrize("how", ["named", "numbered"])
def test_write_stderr(env, capfd, how):
    w_rcvr = env.string("Transcript")
    assert _write(env, how, "err", w_rcvr, env.string("oops\n")) is w_rcvr
    captured = capfd.readouterr()
    assert captured.err == "oops\n"
    assert captured.out == ""


@pytest.mark.parametrize("how", ["named", "numbered"])
@pytest.mark.parametrize("which", ["out", "err"])
def test_write_failures(env, capfd, how, which):
    for w_bad in [env.nil, i(65), env.array(i(65)), env.char(65)]:
        with pytest.raises(PrimitiveFailed):
            _write(env, how, which, env.nil, w_bad)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_write_empty(env, capfd):
    env.call(cogxen.PRIM_WRITE_STDOUT, env.nil, env.string(""))
    assert capfd.readouterr().out == ""


@pytest.mark.parametrize("status", [0, 1, 42, -3])
def test_exit(env, status):
    with pytest.raises(Exit) as info:
        env.call_named(COGXEN, "primitiveExit", env.nil, i(status))
    assert info.value.status == status
    with pytest.raises(Exit) as info:
        env.call(cogxen.PRIM_EXIT, env.nil, i(status))
    assert info.value.status == status


def test_exit_failures(env):
    for w_bad in [env.nil, env.string("0"), env.space.wrap_float(0.0)]:
        env.named_fails(COGXEN, "primitiveExit", env.nil, w_bad)
        env.fails(cogxen.PRIM_EXIT, env.nil, w_bad)


@pytest.mark.parametrize("number", [790, 791, 792, 793])
def test_numbered_wrong_argument_count(env, number):
    env.run_fails(number, env.nil, [])
    env.run_fails(number, env.nil, [env.string("a"), env.string("b")])


@pytest.mark.parametrize("how", ["named", "numbered"])
def test_set_shutdown_semaphore(env, how):
    from spyvm.platform import alarm

    def call(w_arg):
        if how == "named":
            return env.call_named(COGXEN, "primitiveSetShutdownSemaphore", env.nil, w_arg)
        return env.call(cogxen.PRIM_SET_SHUTDOWN_SEMAPHORE, env.nil, w_arg)
    w_sema = env.new_semaphore()
    try:
        assert call(w_sema) is env.nil
        assert env.interp.w_shutdown_semaphore is w_sema and alarm.state.catching
        assert call(env.nil) is env.nil
        assert env.interp.w_shutdown_semaphore is None and not alarm.state.catching
    finally:
        env.interp.set_shutdown_semaphore(None)


def test_set_shutdown_semaphore_failures(env):
    for w_bad in [i(3), env.string("sema"), env.array(i(1))]:
        env.named_fails(COGXEN, "primitiveSetShutdownSemaphore", env.nil, w_bad)
        env.fails(cogxen.PRIM_SET_SHUTDOWN_SEMAPHORE, env.nil, w_bad)
    assert env.interp.w_shutdown_semaphore is None
