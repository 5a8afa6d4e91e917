"""ConsolePlugin: primitiveLog:level: writes one line."""

from spyvm.model import W_SmallInteger


def i(n):
    return W_SmallInteger(n)


def test_console_log_writes_a_line(env, capfd):
    w_rcvr = env.string("Console")
    w_result = env.call_named("ConsolePlugin", "primitiveLog:level:", w_rcvr,
                              env.string("something happened"), env.string("info"))
    assert w_result is w_rcvr
    env.call_named("ConsolePlugin", "primitiveLog:level:", w_rcvr,
                   env.string(""), env.string("debug"))
    captured = capfd.readouterr()
    assert captured.out == "something happened\n\n"
    assert captured.err == ""


def test_console_log_failures(env, capfd):
    f = lambda *args: env.named_fails("ConsolePlugin", "primitiveLog:level:", env.nil,
                                      *args)
    f(env.array(), env.string("info"))
    f(i(3), env.string("info"))
    f(env.nil, env.string("info"))
    assert capfd.readouterr().out == ""
