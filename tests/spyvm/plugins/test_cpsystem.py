"""CpSystemPlugin (spyvm/plugins/cpsystem.py): logging, the Symbol table, strings."""

import pytest

from spyvm import constants, model
from spyvm.plugins import cpsystem

M = "CpSystemPlugin"


def test_trace_warn_and_error_write_lines(env, capfd):
    w_rcvr = env.string("x")
    assert env.call_named(M, "primitiveObjectTraceCr:", w_rcvr, env.string("hello")) is w_rcvr
    env.call_named(M, "primitiveObjectWarnCr:", w_rcvr, env.string("careful"))
    env.call_named(M, "primitiveObjectErrorCr:", w_rcvr, env.string("broken"))
    captured = capfd.readouterr()
    assert captured.out == "hello\n"
    assert captured.err == "careful\nbroken\n"
    env.named_fails(M, "primitiveObjectTraceCr:", w_rcvr, env.nil)


def test_symbols_are_unique_by_name(env):
    w_symbol_class = env.cls("Symbol", spec=constants.FMT_BYTES)
    w_foo = model.W_BytesObject(w_symbol_class, 3)
    w_foo.set_string("foo")
    env.call_named(M, "primitiveSymbolRegister:", w_symbol_class, w_foo)
    assert env.call_named(M, "primitiveSymbolFromString:", w_symbol_class,
                          env.string("foo")) is w_foo
    w_bar = env.call_named(M, "primitiveSymbolFromString:", w_symbol_class, env.string("bar"))
    assert w_bar.getclass(env.space) is w_symbol_class and w_bar.as_string() == "bar"
    assert env.call_named(M, "primitiveSymbolFromString:", w_symbol_class,
                          env.string("bar")) is w_bar
    # a second Symbol under a registered name is refused
    w_other = model.W_BytesObject(w_symbol_class, 3)
    w_other.set_string("foo")
    env.named_fails(M, "primitiveSymbolRegister:", w_symbol_class, w_other)
    # the receiver must be a class of byte objects (the fuzz sent nil)
    env.named_fails(M, "primitiveSymbolFromString:", env.nil, env.string("baz"))
    env.named_fails(M, "primitiveSymbolFromString:", env.cls("Point", 2, constants.FMT_FIXED),
                    env.string("foo"))


def test_symbol_equals_compares_bytes(env):
    assert env.call_named(M, "primitiveSymbolEquals:", env.string("ab"),
                          env.string("ab")) is env.space.w_true
    assert env.call_named(M, "primitiveSymbolEquals:", env.string("ab"),
                          env.string("abc")) is env.space.w_false
    assert env.call_named(M, "primitiveSymbolEquals:", env.string("ab"),
                          env.nil) is env.space.w_false


def test_string_concatenate_and_hash(env):
    w_result = env.call_named(M, "primitiveStringConcatenate:", env.string("ab"),
                              env.string("cd"))
    assert w_result.as_string() == "abcd"
    env.named_fails(M, "primitiveStringConcatenate:", env.string("ab"), env.nil)
    w_hash = env.call_named(M, "primitiveStringHash", env.string("abcd"))
    assert w_hash.value == cpsystem.string_hash("abcd")
    assert cpsystem.string_hash("") == 0x3400
    assert cpsystem.string_hash("abcd") != cpsystem.string_hash("abce")
    assert 0 <= cpsystem.string_hash("x" * 1000) < 1 << 28


def test_process_primitives(env):
    w_process = env.obj(env.cls("Process"))
    assert env.call_named(M, "primitiveProcessBeIdleProcess", w_process) is w_process
    assert env.call_named(M, "primitiveProcessIsSyncProcess", w_process) is env.space.w_false
    assert env.call_named(M, "primitiveProcessAllowAwaitPromise", w_process) is env.space.w_true
