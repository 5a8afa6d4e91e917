"""FilePlugin: files and folders, as the OpenSmalltalk VM's plugin of that name.

Named primitives (<primitive: 'primitiveFileOpen' module: 'FilePlugin'>), and the
old numbered ones (150-159, 161, 162) that Squeak 2.2's StandardFileStream and
FileDirectory call, mapped as the OpenSmalltalk VM's obsolete indexed primitives are. A file is
answered as a handle (spyvm/plugins/handles.py). Reads
and writes go straight to the descriptor (no buffer to flush). Any error is a
primitive failure; the image answers it (nil, or an error of its own).
"""

from rpython.rlib.objectmodel import import_from_mixin

from spyvm.errors import PrimitiveFailed
from spyvm.model import W_BytesObject
from spyvm.objspace import WrappingError
from spyvm.primitives import expose, expose_named
from spyvm.plugins.arguments import bool_arg, int_arg
from spyvm.plugins.handles import HandleTable
from spyvm.platform import current as platform
from spyvm.platform import files

FILE_PLUGIN = "FilePlugin"
HANDLE_SIZE = 8
STDIO_SLOTS = 3                 # slots 0-2: stdin, stdout, stderr
INT_MAX = 2147483647            # the largest descriptor number (a C int)


class OpenFile(object):
    def __init__(self, fd, writable, seekable, stdio):
        self.fd = fd
        self.writable = writable
        self.seekable = seekable
        self.stdio = stdio          # not closed by primitiveFileClose
        self.at_end = False         # a read found the end (unseekable files)


class FileTable(object):
    import_from_mixin(HandleTable)

    def __init__(self):
        self.init_handles(HANDLE_SIZE, STDIO_SLOTS)

    def get(self, w_handle):
        open_file = self.slots[self.slot_of(w_handle)]
        assert open_file is not None
        return open_file


table = FileTable()


def path_arg(w_path):
    if not isinstance(w_path, W_BytesObject):
        raise PrimitiveFailed
    path = w_path.as_string()
    if "\x00" in path:
        raise PrimitiveFailed
    return path


def buffer_range(w_array, w_start, w_count):
    """The byte object and its 0-based range [start, start + count) the image named
    with a 1-based start index and a count."""
    if not isinstance(w_array, W_BytesObject):
        raise PrimitiveFailed
    start = int_arg(w_start) - 1
    count = int_arg(w_count)
    if start < 0 or count < 0 or start + count > w_array.size():
        raise PrimitiveFailed
    return w_array, start, count


def wrap_size(space, value):
    try:
        return space.wrap_int(value)
    except WrappingError:
        raise PrimitiveFailed


# --- files ----------------------------------------------------------------------

@expose(153, 2)
@expose_named(FILE_PLUGIN, "primitiveFileOpen", 2)
def prim_file_open(interp, w_rcvr, w_name, w_writable):
    space = interp.space
    path = path_arg(w_name)
    writable = bool_arg(space, w_writable)
    try:
        fd = files.open_file(path, writable)
    except OSError:
        raise PrimitiveFailed
    slot = table.add(OpenFile(fd, writable, files.is_seekable(fd), False))
    return table.handle(space, slot)


@expose(151, 1)
@expose_named(FILE_PLUGIN, "primitiveFileClose", 1)
def prim_file_close(interp, w_rcvr, w_handle):
    slot = table.slot_of(w_handle)
    open_file = table.slots[slot]
    assert open_file is not None
    if not open_file.stdio:
        table.free(slot)
        try:
            files.close(open_file.fd)
        except OSError:
            raise PrimitiveFailed
    return w_rcvr


@expose(150, 1)
@expose_named(FILE_PLUGIN, "primitiveFileAtEnd", 1)
def prim_file_at_end(interp, w_rcvr, w_handle):
    open_file = table.get(w_handle)
    if not open_file.seekable:
        return interp.space.wrap_bool(open_file.at_end)
    try:
        at_end = files.position(open_file.fd) >= files.size(open_file.fd)
    except OSError:
        raise PrimitiveFailed
    return interp.space.wrap_bool(at_end)


@expose(152, 1)
@expose_named(FILE_PLUGIN, "primitiveFileGetPosition", 1)
def prim_file_get_position(interp, w_rcvr, w_handle):
    open_file = table.get(w_handle)
    try:
        return wrap_size(interp.space, files.position(open_file.fd))
    except OSError:
        raise PrimitiveFailed


@expose(155, 2)
@expose_named(FILE_PLUGIN, "primitiveFileSetPosition", 2)
def prim_file_set_position(interp, w_rcvr, w_handle, w_position):
    open_file = table.get(w_handle)
    offset = int_arg(w_position)
    if offset < 0:
        raise PrimitiveFailed
    try:
        files.set_position(open_file.fd, offset)
    except OSError:
        raise PrimitiveFailed
    return w_rcvr


@expose(157, 1)
@expose_named(FILE_PLUGIN, "primitiveFileSize", 1)
def prim_file_size(interp, w_rcvr, w_handle):
    open_file = table.get(w_handle)
    try:
        return wrap_size(interp.space, files.size(open_file.fd))
    except OSError:
        raise PrimitiveFailed


@expose(154, 4)
@expose_named(FILE_PLUGIN, "primitiveFileRead", 4)
def prim_file_read(interp, w_rcvr, w_handle, w_array, w_start, w_count):
    """Answer how many bytes were read into the array: count, or fewer at the end
    (from a terminal or a pipe, what one read gives)."""
    open_file = table.get(w_handle)
    w_array, start, count = buffer_range(w_array, w_start, w_count)
    done = 0
    while done < count:
        try:
            data = files.read(open_file.fd, count - done)
        except OSError:
            raise PrimitiveFailed
        if not data:
            open_file.at_end = True
            break
        for i in range(len(data)):
            w_array.bytes[start + done + i] = data[i]
        done += len(data)
        if not open_file.seekable:
            break
    return interp.space.wrap_int(done)


@expose(158, 4)
@expose_named(FILE_PLUGIN, "primitiveFileWrite", 4)
def prim_file_write(interp, w_rcvr, w_handle, w_array, w_start, w_count):
    """Answer how many bytes were written."""
    open_file = table.get(w_handle)
    if not open_file.writable:
        raise PrimitiveFailed
    w_array, start, count = buffer_range(w_array, w_start, w_count)
    stop = start + count
    assert start >= 0 and stop >= 0
    try:
        written = files.write(open_file.fd, "".join(w_array.bytes[start:stop]))
    except OSError:
        raise PrimitiveFailed
    return interp.space.wrap_int(written)


@expose_named(FILE_PLUGIN, "primitiveFileTruncate", 2)
def prim_file_truncate(interp, w_rcvr, w_handle, w_length):
    open_file = table.get(w_handle)
    length = int_arg(w_length)
    if length < 0 or not open_file.writable:
        raise PrimitiveFailed
    try:
        files.truncate(open_file.fd, length)
    except OSError:
        raise PrimitiveFailed
    return w_rcvr


@expose_named(FILE_PLUGIN, "primitiveFileFlush", 1)
def prim_file_flush(interp, w_rcvr, w_handle):
    table.get(w_handle)         # writes are unbuffered: nothing waits to be flushed
    return w_rcvr


@expose_named(FILE_PLUGIN, "primitiveFileSync", 1)
def prim_file_sync(interp, w_rcvr, w_handle):
    open_file = table.get(w_handle)
    try:
        files.sync(open_file.fd)
    except OSError:
        raise PrimitiveFailed
    return w_rcvr


@expose_named(FILE_PLUGIN, "primitiveFileStdioHandles", 0)
def prim_file_stdio_handles(interp, w_rcvr):
    """stdin, stdout and stderr as handles (an Array of three)."""
    space = interp.space
    handles_w = []
    for slot in range(STDIO_SLOTS):
        if table.slots[slot] is None:
            table.slots[slot] = OpenFile(slot, slot != 0, files.is_seekable(slot), True)
        handles_w.append(table.handle(space, slot))
    return space.wrap_list(handles_w)


@expose_named(FILE_PLUGIN, "primitiveFileDescriptorType", 1)
def prim_file_descriptor_type(interp, w_rcvr, w_fd):
    """What descriptor fd (0-2: stdin, stdout, stderr) is connected to: 1 a
    terminal, 2 a pipe, 3 a file, -1 none (Pharo's Stdio asks before it makes a
    stream of one). Fails only for an argument that is no SmallInteger."""
    fd = int_arg(w_fd)
    if fd < 0 or fd > INT_MAX:
        # Not a C int descriptor: no descriptor by that number.
        return interp.space.wrap_int(files.DESCRIPTOR_ERROR)
    return interp.space.wrap_int(files.descriptor_type(fd))


@expose(156, 1)
@expose_named(FILE_PLUGIN, "primitiveFileDelete", 1)
def prim_file_delete(interp, w_rcvr, w_name):
    try:
        files.delete(path_arg(w_name))
    except OSError:
        raise PrimitiveFailed
    return w_rcvr


@expose(159, 2)
@expose_named(FILE_PLUGIN, "primitiveFileRename", 2)
def prim_file_rename(interp, w_rcvr, w_old, w_new):
    try:
        files.rename(path_arg(w_old), path_arg(w_new))
    except OSError:
        raise PrimitiveFailed
    return w_rcvr


@expose_named(FILE_PLUGIN, "primitiveHasFileAccess", 0)
def prim_has_file_access(interp, w_rcvr):
    return interp.space.w_true


# --- folders --------------------------------------------------------------------

# Not numbered: 160 was primitiveDirectoryCreate once, and is primitiveAdoptInstance
# since Squeak 4 (spyvm/primitives/objects.py).
@expose_named(FILE_PLUGIN, "primitiveDirectoryCreate", 1)
def prim_directory_create(interp, w_rcvr, w_path):
    try:
        files.make_directory(path_arg(w_path))
    except OSError:
        raise PrimitiveFailed
    return w_rcvr


@expose_named(FILE_PLUGIN, "primitiveDirectoryDelete", 1)
def prim_directory_delete(interp, w_rcvr, w_path):
    try:
        files.delete_directory(path_arg(w_path))
    except OSError:
        raise PrimitiveFailed
    return w_rcvr


@expose(161, 0)
@expose_named(FILE_PLUGIN, "primitiveDirectoryDelimitor", 0)
def prim_directory_delimitor(interp, w_rcvr):
    try:
        return interp.space.wrap_char(ord("/"))
    except WrappingError:
        raise PrimitiveFailed


@expose(162, 2)
@expose_named(FILE_PLUGIN, "primitiveDirectoryLookup", 2)
def prim_directory_lookup(interp, w_rcvr, w_path, w_index):
    """The index-th entry (1-based, in name order) of a folder as an Array: name,
    creation and modification time (seconds since 1901), whether it is a folder,
    size. nil past the last entry; the empty path is the root."""
    space = interp.space
    path = path_arg(w_path)
    index = int_arg(w_index)
    if path == "":
        path = "/"
    try:
        names = files.directory_entries(path)
    except OSError:
        raise PrimitiveFailed
    if index < 1 or index > len(names):
        return space.w_nil
    name = names[index - 1]
    full = path + name if path.endswith("/") else path + "/" + name
    try:
        info = files.entry_info(full)
    except OSError:
        # Gone since the listing, or a dangling link: named, with nothing known.
        info = files.EntryInfo(False, 0, 0, 0)
    return space.wrap_list([space.wrap_string(name),
                            wrap_size(space, info.created),
                            wrap_size(space, info.modified),
                            space.wrap_bool(info.is_directory),
                            wrap_size(space, info.size)])
