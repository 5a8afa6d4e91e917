"""FilePlugin: files and folders, named and by the old numbers (150-159, 161, 162),
against a real temporary folder."""

import os

import pytest

from spyvm.model import W_SmallInteger, W_BytesObject
from spyvm.plugins import fileplugin

FP = "FilePlugin"
NUMBERS = {"primitiveFileAtEnd": 150, "primitiveFileClose": 151,
           "primitiveFileGetPosition": 152, "primitiveFileOpen": 153,
           "primitiveFileRead": 154, "primitiveFileSetPosition": 155,
           "primitiveFileDelete": 156, "primitiveFileSize": 157,
           "primitiveFileWrite": 158, "primitiveFileRename": 159,
           "primitiveDirectoryDelimitor": 161,
           "primitiveDirectoryLookup": 162}


def i(n):
    return W_SmallInteger(n)


@pytest.fixture(params=["named", "numbered"])
def call(request, env):
    """call(name, rcvr, args...) by name, or by the number old images use."""
    def named(name, *args_w):
        return env.call_named(FP, name, env.nil, *args_w)

    def numbered(name, *args_w):
        return env.call(NUMBERS[name], env.nil, *args_w)
    return named if request.param == "named" else numbered


def fails(env, name, *args_w):
    env.named_fails(FP, name, env.nil, *args_w)


def open_file(env, call, path, writable):
    return call("primitiveFileOpen", env.string(str(path)),
                env.space.w_true if writable else env.space.w_false)


def test_write_then_read_back(env, call, tmpdir):
    path = tmpdir.join("log.txt")
    w_file = open_file(env, call, path, True)
    assert isinstance(w_file, W_BytesObject)
    w_data = env.string("xxhello worldyy")
    assert env.space.unwrap_int(call("primitiveFileWrite", w_file, w_data, i(3), i(11))) == 11
    assert env.space.unwrap_int(call("primitiveFileGetPosition", w_file)) == 11
    assert env.space.unwrap_int(call("primitiveFileSize", w_file)) == 11
    assert call("primitiveFileAtEnd", w_file) is env.space.w_true
    call("primitiveFileClose", w_file)
    assert path.read() == "hello world"

    w_file = open_file(env, call, path, False)
    w_buffer = env.string("." * 8)
    call("primitiveFileSetPosition", w_file, i(6))
    assert call("primitiveFileAtEnd", w_file) is env.space.w_false
    assert env.space.unwrap_int(call("primitiveFileRead", w_file, w_buffer, i(2), i(7))) == 5
    assert w_buffer.as_string() == ".world.."
    assert call("primitiveFileAtEnd", w_file) is env.space.w_true
    # read-only: writing fails, the file is unchanged
    fails(env, "primitiveFileWrite", w_file, w_data, i(1), i(2))
    call("primitiveFileClose", w_file)
    assert path.read() == "hello world"


def test_opening_for_writing_keeps_what_is_there(env, call, tmpdir):
    path = tmpdir.join("keep.txt")
    path.write("abcdef")
    w_file = open_file(env, call, path, True)
    call("primitiveFileWrite", w_file, env.string("XY"), i(1), i(2))
    call("primitiveFileClose", w_file)
    assert path.read() == "XYcdef"


def test_truncate_flush_and_stdio(env, tmpdir, capfd):
    path = tmpdir.join("t.txt")
    path.write("0123456789")
    w_file = env.call_named(FP, "primitiveFileOpen", env.nil, env.string(str(path)),
                            env.space.w_true)
    env.call_named(FP, "primitiveFileTruncate", env.nil, w_file, i(4))
    env.call_named(FP, "primitiveFileFlush", env.nil, w_file)
    env.call_named(FP, "primitiveFileClose", env.nil, w_file)
    assert path.read() == "0123"
    w_stdio = env.call_named(FP, "primitiveFileStdioHandles", env.nil)
    assert w_stdio.size() == 3
    w_stdout = w_stdio.slots[1]
    env.call_named(FP, "primitiveFileWrite", env.nil, w_stdout, env.string("to stdout"),
                   i(1), i(9))
    # closing a standard handle leaves it open
    env.call_named(FP, "primitiveFileClose", env.nil, w_stdout)
    env.call_named(FP, "primitiveFileWrite", env.nil, w_stdout, env.string("!"), i(1), i(1))
    assert capfd.readouterr().out == "to stdout!"


def test_bad_handles_fail(env, call, tmpdir):
    path = tmpdir.join("h.txt")
    path.write("data")
    w_file = open_file(env, call, path, False)
    call("primitiveFileClose", w_file)
    w_buffer = env.string("....")
    for w_handle in [w_file,                                   # closed
                     env.bytearray("\x00" * 8),                # forged
                     env.bytearray("\x01\x02"),                # wrong size
                     env.string("12345678"), i(3), env.nil]:
        fails(env, "primitiveFileRead", w_handle, w_buffer, i(1), i(4))
        fails(env, "primitiveFileSize", w_handle)
        fails(env, "primitiveFileClose", w_handle)
    # a handle of another session (a saved image)
    w_file = open_file(env, call, path, False)
    w_old = env.bytearray(w_file.as_string())
    w_old.setbyte(0, w_old.getbyte(0) ^ 0x40)
    fails(env, "primitiveFileSize", w_old)
    # ranges outside the buffer
    fails(env, "primitiveFileRead", w_file, w_buffer, i(2), i(4))
    fails(env, "primitiveFileRead", w_file, w_buffer, i(0), i(1))
    fails(env, "primitiveFileRead", w_file, w_buffer, i(1), i(-1))
    fails(env, "primitiveFileSetPosition", w_file, i(-5))
    call("primitiveFileClose", w_file)


def test_open_failures(env, call, tmpdir):
    fails(env, "primitiveFileOpen", env.string(str(tmpdir.join("missing"))), env.space.w_false)
    fails(env, "primitiveFileOpen", env.string(str(tmpdir)), env.space.w_false)      # folder
    fails(env, "primitiveFileOpen", env.string(str(tmpdir.join("no/such/x"))), env.space.w_true)
    fails(env, "primitiveFileOpen", env.string(str(tmpdir.join("a\x00b"))), env.space.w_true)
    fails(env, "primitiveFileOpen", env.string(str(tmpdir.join("x"))), env.nil)
    fails(env, "primitiveFileOpen", i(7), env.space.w_true)


def test_delete_rename_and_folders(env, call, tmpdir):
    env.call_named(FP, "primitiveDirectoryCreate", env.nil, env.string(str(tmpdir.join("sub"))))
    assert tmpdir.join("sub").isdir()
    fails(env, "primitiveDirectoryCreate", env.string(str(tmpdir.join("sub"))))
    tmpdir.join("b.txt").write("12345")
    tmpdir.join("a.txt").write("x")
    call("primitiveFileRename", env.string(str(tmpdir.join("a.txt"))),
         env.string(str(tmpdir.join("c.txt"))))
    assert sorted(os.listdir(str(tmpdir))) == ["b.txt", "c.txt", "sub"]
    fails(env, "primitiveFileRename", env.string(str(tmpdir.join("a.txt"))),
          env.string(str(tmpdir.join("d.txt"))))
    entries = []
    index = 1
    while True:
        w_entry = call("primitiveDirectoryLookup", env.string(str(tmpdir)), i(index))
        if w_entry is env.nil:
            break
        slots = w_entry.slots
        entries.append((slots[0].as_string(), slots[3] is env.space.w_true,
                        env.space.unwrap_int(slots[4])))
        assert env.space.unwrap_int(slots[2]) > 3 * 10 ** 9     # seconds since 1901
        index += 1
    assert entries == [("b.txt", False, 5), ("c.txt", False, 1), ("sub", True, entries[2][2])]
    fails(env, "primitiveDirectoryLookup", env.string(str(tmpdir.join("b.txt"))), i(1))
    assert call("primitiveDirectoryLookup", env.string(str(tmpdir)), i(0)) is env.nil
    call("primitiveFileDelete", env.string(str(tmpdir.join("b.txt"))))
    fails(env, "primitiveFileDelete", env.string(str(tmpdir.join("b.txt"))))
    env.call_named(FP, "primitiveDirectoryDelete", env.nil, env.string(str(tmpdir.join("sub"))))
    assert sorted(os.listdir(str(tmpdir))) == ["c.txt"]
    assert env.space.unwrap_char(call("primitiveDirectoryDelimitor")) == ord("/")
    assert env.call_named(FP, "primitiveHasFileAccess", env.nil) is env.space.w_true


def test_handles_are_byte_arrays_of_this_session(env, tmpdir):
    tmpdir.join("s.txt").write("s")
    w_file = env.call_named(FP, "primitiveFileOpen", env.nil,
                            env.string(str(tmpdir.join("s.txt"))), env.space.w_false)
    assert w_file.getclass(env.space) is env.space.w_ByteArray
    assert w_file.size() == fileplugin.HANDLE_SIZE
    env.call_named(FP, "primitiveFileClose", env.nil, w_file)


def descriptor_type(env, fd):
    w_type = env.call_named(FP, "primitiveFileDescriptorType", env.nil, i(fd))
    assert isinstance(w_type, W_SmallInteger)
    return w_type.value


def test_descriptor_type_tells_terminals_pipes_and_files(env, tmpdir):
    """primitiveFileDescriptorType as OpenSmalltalk's Unix FilePlugin answers it:
    1 a terminal, 2 a pipe, 3 anything else open (a file), -1 no descriptor."""
    fd = os.open(str(tmpdir.join("plain")), os.O_CREAT | os.O_RDWR, 0o600)
    read_end, write_end = os.pipe()
    master, slave = os.openpty()
    try:
        assert descriptor_type(env, fd) == 3
        assert descriptor_type(env, read_end) == 2
        assert descriptor_type(env, write_end) == 2
        assert descriptor_type(env, slave) == 1
    finally:
        for each in (fd, read_end, write_end, master, slave):
            os.close(each)
    # Closed now: no descriptor by these numbers.
    assert descriptor_type(env, fd) == -1
    assert descriptor_type(env, read_end) == -1


def test_descriptor_type_of_no_descriptor(env):
    """Numbers that cannot be a descriptor answer -1 (an error, not a failure):
    negative ones and ones past a C int."""
    assert descriptor_type(env, -1) == -1
    assert descriptor_type(env, 2 ** 31) == -1
    assert descriptor_type(env, 2 ** 40 + 1) == -1


def test_descriptor_type_needs_a_small_integer(env):
    fails(env, "primitiveFileDescriptorType", env.nil)
    fails(env, "primitiveFileDescriptorType", env.string("1"))
    fails(env, "primitiveFileDescriptorType", env.space.wrap_float(1.0))
