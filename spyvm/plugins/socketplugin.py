"""SocketPlugin: TCP and UDP sockets and the name resolver, as the OpenSmalltalk VM's
plugin of that name (its resolver primitives live in the same module).

A socket is answered as a handle (spyvm/plugins/handles.py) of the size the
OpenSmalltalk VM's SQSocket has on 64-bit hosts. As there, network trouble is
not a primitive failure: a refused connect, a reset or a closed peer change the
socket's status and error code and signal its semaphore, and the image reads them.
Primitives fail for bad arguments and for closed, stale or forged handles.

Everything is non-blocking. Each socket has three semaphores (indices into the
image's ExternalObjects array; one index for all three with the older primitives):
the connection semaphore (a connect finished, a listener has a connection to
accept, the peer closed), the read semaphore and the write semaphore. Readiness
is one-shot, as in the OpenSmalltalk VM: ReceiveDataAvailable answering false arms
the read semaphore, SendDone answering false arms the write semaphore; spyvm/aio.py
signals them when poll says so.
"""

from rpython.rlib.objectmodel import import_from_mixin
from rpython.rlib.rarithmetic import intmask, r_uint

from spyvm import aio
from spyvm.errors import PrimitiveFailed
from spyvm.model import W_BytesObject, W_WordsObject
from spyvm.primitives import expose_named
from spyvm.plugins.arguments import bytes_arg, int_arg
from spyvm.plugins.handles import HandleTable
from spyvm.platform import network

SOCKET_PLUGIN = "SocketPlugin"
HANDLE_SIZE = 16            # sizeof(SQSocket) with 64-bit pointers

# Socket types (primitiveSocketCreate's socketType)
TCP = 0
UDP = 1

# Connection status, as Socket class>>initialize names them
INVALID_SOCKET = -1
UNCONNECTED = 0
WAITING_FOR_CONNECTION = 1
CONNECTED = 2
OTHER_END_CLOSED = 3
THIS_END_CLOSED = 4

# Resolver status
RESOLVER_UNINITIALIZED = 0
RESOLVER_READY = 1
RESOLVER_BUSY = 2
RESOLVER_ERROR = 3

MAX_TRANSFER = 65536        # bytes one send or receive primitive moves at most


class SocketState(aio.Watcher):
    """One socket of the image: its descriptor, status and semaphores."""

    def __init__(self, sock, kind, conn_sema, read_sema, write_sema):
        self.sock = sock
        self.fd = sock.fd
        self.kind = kind
        self.status = CONNECTED if kind == UDP else UNCONNECTED
        self.error = 0
        self.conn_sema = conn_sema
        self.read_sema = read_sema
        self.write_sema = write_sema
        self.connecting = False
        self.listening = False
        self.backlog = 0
        self.parked = None          # an accepted connection the image has not taken
        self.want_read = False
        self.want_write = False
        self.remote_address = 0     # UDP: the last datagram's sender
        self.remote_port = 0

    def wanted(self):
        events = 0
        if self.want_read or (self.listening and self.parked is None and
                              self.status == WAITING_FOR_CONNECTION):
            events |= network.POLLIN
        if self.want_write or self.connecting:
            events |= network.POLLOUT
        return events

    def ready(self, interp, revents):
        if self.connecting:
            self.connecting = False
            self.connected(network.pending_error(self.sock))
            interp.signal_semaphore_with_index(self.conn_sema)
            return
        if self.listening and self.parked is None and \
                self.status == WAITING_FOR_CONNECTION and revents & network.POLLIN:
            self.take_connection(interp)
        if self.want_read:
            self.want_read = False
            interp.signal_semaphore_with_index(self.read_sema)
        if self.want_write:
            self.want_write = False
            interp.signal_semaphore_with_index(self.write_sema)

    def connected(self, error):
        if error == 0:
            self.status = CONNECTED
        else:
            self.status = UNCONNECTED
            self.error = error

    def take_connection(self, interp):
        """A connection waits on the listener: accept it now, so that the image's
        Accept cannot find it gone. A listener with a backlog of one becomes the
        connection itself, as the OpenSmalltalk VM's "traditional" listen does."""
        try:
            conn = network.accept(self.sock)
        except network.NetError as e:
            if network.would_block(e.errno):
                return                  # the client gave up first: keep listening
            self.error = e.errno
            self.status = UNCONNECTED
            self.listening = False
            interp.signal_semaphore_with_index(self.conn_sema)
            return
        if self.backlog <= 1:
            network.close(self.sock, False)
            self.sock = conn
            self.fd = conn.fd
            self.listening = False
        else:
            self.parked = conn
        self.status = CONNECTED
        interp.signal_semaphore_with_index(self.conn_sema)

    def peer_closed(self, interp, error):
        """The peer closed or reset the connection (seen by a read or write)."""
        if self.status == CONNECTED:
            self.status = OTHER_END_CLOSED
        self.error = error
        interp.signal_semaphore_with_index(self.conn_sema)

    def close(self, reset):
        if self.parked is not None:
            network.close(self.parked, True)
            self.parked = None
        if self.fd >= 0:
            network.close(self.sock, reset)
        self.fd = -1
        self.want_read = False
        self.want_write = False
        self.connecting = False
        self.listening = False


class SocketTable(object):
    import_from_mixin(HandleTable)

    def __init__(self):
        self.init_handles(HANDLE_SIZE, 0)

    def get(self, w_handle):
        state = self.slots[self.slot_of(w_handle)]
        assert state is not None
        return state


class Resolver(object):
    def __init__(self):
        self.initialized = False
        self.semaphore = 0
        self.status = RESOLVER_UNINITIALIZED
        self.error = 0
        self.address = 0
        self.name = ""


table = SocketTable()
resolver = Resolver()


def open_sockets():
    """How many sockets the image has not destroyed (for tests)."""
    return table.count()


# --- arguments --------------------------------------------------------------------

def address_arg(w_obj):
    """An old-style address: a ByteArray of 4 bytes, most significant first."""
    if not isinstance(w_obj, W_BytesObject) or w_obj.size() != 4:
        raise PrimitiveFailed
    return (w_obj.getbyte(0) << 24) | (w_obj.getbyte(1) << 16) | \
        (w_obj.getbyte(2) << 8) | w_obj.getbyte(3)


def wrap_address(space, address):
    w_bytes = W_BytesObject(space.w_ByteArray, 4)
    for i in range(4):
        w_bytes.setbyte(i, (address >> (24 - 8 * i)) & 0xff)
    return w_bytes


def port_arg(w_obj):
    port = int_arg(w_obj)
    if port < 0 or port > 65535:
        raise PrimitiveFailed
    return port


class Buffer(object):
    """The part of a byte or word object a transfer names (1-based start, count of
    elements); word objects count in 4-byte units, as the OpenSmalltalk VM's do."""

    def __init__(self, w_obj, w_start, w_count):
        if isinstance(w_obj, W_BytesObject):
            unit = 1
            size = w_obj.size()
        elif isinstance(w_obj, W_WordsObject):
            unit = 4
            size = w_obj.size()
        else:
            raise PrimitiveFailed
        start = int_arg(w_start) - 1
        count = int_arg(w_count)
        if start < 0 or count < 0 or start + count > size:
            raise PrimitiveFailed
        self.w_obj = w_obj
        self.unit = unit
        self.start = start * unit
        self.count = count * unit

    def read(self, limit):
        """The named bytes, at most limit of them."""
        n = min(self.count, limit)
        w_obj = self.w_obj
        chars = ['\x00'] * n
        if isinstance(w_obj, W_BytesObject):
            for i in range(n):
                chars[i] = w_obj.bytes[self.start + i]
        else:
            assert isinstance(w_obj, W_WordsObject)
            for i in range(n):
                byte = self.start + i
                word = w_obj.getword(byte >> 2)
                chars[i] = chr(intmask((word >> (8 * (byte & 3))) & r_uint(0xff)))
        return "".join(chars)

    def write(self, data):
        w_obj = self.w_obj
        if isinstance(w_obj, W_BytesObject):
            for i in range(len(data)):
                w_obj.bytes[self.start + i] = data[i]
        else:
            assert isinstance(w_obj, W_WordsObject)
            for i in range(len(data)):
                byte = self.start + i
                shift = 8 * (byte & 3)
                word = w_obj.getword(byte >> 2) & ~(r_uint(0xff) << shift)
                w_obj.setword(byte >> 2, word | (r_uint(ord(data[i])) << shift))

    def elements(self, nbytes):
        return nbytes / self.unit

    def limit(self):
        """The most bytes to move at once: whole elements, at most MAX_TRANSFER."""
        n = min(self.count, MAX_TRANSFER)
        n -= n % self.unit
        assert n >= 0
        return n


# --- network and resolver ------------------------------------------------------------

@expose_named(SOCKET_PLUGIN, "primitiveInitializeNetwork", 1)
def prim_initialize_network(interp, w_rcvr, w_sema_index):
    index = int_arg(w_sema_index)
    if not resolver.initialized:
        network.ignore_broken_pipes()
        resolver.initialized = True
        resolver.semaphore = index
        resolver.status = RESOLVER_READY
    return w_rcvr


@expose_named(SOCKET_PLUGIN, "primitiveHasSocketAccess", 0)
def prim_has_socket_access(interp, w_rcvr):
    return interp.space.w_true


@expose_named(SOCKET_PLUGIN, "primitiveResolverStatus", 0)
def prim_resolver_status(interp, w_rcvr):
    return interp.space.wrap_int(resolver.status)


@expose_named(SOCKET_PLUGIN, "primitiveResolverError", 0)
def prim_resolver_error(interp, w_rcvr):
    return interp.space.wrap_int(resolver.error)


def _require_network():
    if not resolver.initialized:
        raise PrimitiveFailed


@expose_named(SOCKET_PLUGIN, "primitiveResolverStartNameLookup", 1)
def prim_resolver_start_name_lookup(interp, w_rcvr, w_name):
    """Look the name up now (the lookup is synchronous), then signal the resolver's
    semaphore: the image finds the status Ready or Error when it looks."""
    _require_network()
    name = bytes_arg(w_name).as_string()
    try:
        resolver.address = network.address_of_name(name)
        resolver.status = RESOLVER_READY
        resolver.error = 0
    except network.NetError as e:
        resolver.address = 0
        resolver.status = RESOLVER_ERROR
        resolver.error = e.errno
    interp.signal_semaphore_with_index(resolver.semaphore)
    return w_rcvr


@expose_named(SOCKET_PLUGIN, "primitiveResolverNameLookupResult", 0)
def prim_resolver_name_lookup_result(interp, w_rcvr):
    _require_network()
    return wrap_address(interp.space, resolver.address)


@expose_named(SOCKET_PLUGIN, "primitiveResolverStartAddressLookup", 1)
def prim_resolver_start_address_lookup(interp, w_rcvr, w_address):
    _require_network()
    address = address_arg(w_address)
    try:
        resolver.name = network.name_of_address(address)
        resolver.status = RESOLVER_READY
        resolver.error = 0
    except network.NetError as e:
        resolver.name = ""
        resolver.status = RESOLVER_ERROR
        resolver.error = e.errno
    interp.signal_semaphore_with_index(resolver.semaphore)
    return w_rcvr


@expose_named(SOCKET_PLUGIN, "primitiveResolverAddressLookupResult", 0)
def prim_resolver_address_lookup_result(interp, w_rcvr):
    _require_network()
    return interp.space.wrap_string(resolver.name)


@expose_named(SOCKET_PLUGIN, "primitiveResolverAbortLookup", 0)
def prim_resolver_abort_lookup(interp, w_rcvr):
    return w_rcvr       # lookups finish before the primitive answers


@expose_named(SOCKET_PLUGIN, "primitiveResolverLocalAddress", 0)
def prim_resolver_local_address(interp, w_rcvr):
    """This host's address as others reach it: its name's address, else 127.0.0.1
    (the image's own fallback for 0.0.0.0)."""
    _require_network()
    try:
        address = network.address_of_name(network.host_name())
    except network.NetError:
        address = 0
    return wrap_address(interp.space, address)


# --- sockets: life -------------------------------------------------------------------

def _create(interp, w_net_type, w_type, w_rcv_size, w_snd_size, conn, read, write):
    net_type = int_arg(w_net_type)  # 0 (unspecified) and 2 (IPv4) both mean IPv4
    kind = int_arg(w_type)
    int_arg(w_rcv_size)         # buffer sizes: the host's defaults serve
    int_arg(w_snd_size)
    _require_network()
    if (net_type != 0 and net_type != 2) or (kind != TCP and kind != UDP):
        raise PrimitiveFailed
    for index in [conn, read, write]:
        if index < 0:
            raise PrimitiveFailed
    try:
        sock = network.open_socket(kind == UDP)
    except network.NetError:
        raise PrimitiveFailed
    if kind == TCP:
        try:
            network.set_option(sock, network.SOL_SOCKET, network.SO_REUSEADDR, 1)
        except network.NetError:
            pass
    state = SocketState(sock, kind, conn, read, write)
    aio.watchers.add(state)
    return table.handle(interp.space, table.add(state))


@expose_named(SOCKET_PLUGIN, "primitiveSocketCreate", 5)
def prim_socket_create(interp, w_rcvr, w_net_type, w_type, w_rcv_size, w_snd_size,
                       w_sema):
    index = int_arg(w_sema)
    return _create(interp, w_net_type, w_type, w_rcv_size, w_snd_size,
                   index, index, index)


@expose_named(SOCKET_PLUGIN, "primitiveSocketCreate3Semaphores", 7)
def prim_socket_create3(interp, w_rcvr, w_net_type, w_type, w_rcv_size, w_snd_size,
                        w_conn, w_read, w_write):
    return _create(interp, w_net_type, w_type, w_rcv_size, w_snd_size,
                   int_arg(w_conn), int_arg(w_read), int_arg(w_write))


@expose_named(SOCKET_PLUGIN, "primitiveSocketDestroy", 1)
def prim_socket_destroy(interp, w_rcvr, w_handle):
    """Free the socket; one still open is aborted."""
    slot = table.slot_of(w_handle)
    state = table.slots[slot]
    assert state is not None
    state.close(True)
    aio.watchers.remove(state)
    table.free(slot)
    return w_rcvr


@expose_named(SOCKET_PLUGIN, "primitiveSocketConnectionStatus", 1)
def prim_socket_connection_status(interp, w_rcvr, w_handle):
    return interp.space.wrap_int(table.get(w_handle).status)


@expose_named(SOCKET_PLUGIN, "primitiveSocketError", 1)
def prim_socket_error(interp, w_rcvr, w_handle):
    return interp.space.wrap_int(table.get(w_handle).error)


def _open(w_handle):
    """The socket of a handle, which must still have its descriptor."""
    state = table.get(w_handle)
    if state.fd < 0:
        raise PrimitiveFailed
    return state


# --- sockets: connecting -------------------------------------------------------------

@expose_named(SOCKET_PLUGIN, "primitiveSocketConnectToPort", 3)
def prim_socket_connect_to_port(interp, w_rcvr, w_handle, w_address, w_port):
    """Start connecting; the connection semaphore is signalled when it is done.
    A refused connection is status Unconnected and an error code, not a failure.
    UDP: the peer that sends without an address go to."""
    state = _open(w_handle)
    address = address_arg(w_address)
    port = port_arg(w_port)
    if state.kind == TCP and state.status != UNCONNECTED:
        raise PrimitiveFailed
    error = network.connect(state.sock, address, port)
    if state.kind == UDP:
        if error == 0:
            state.remote_address = address
            state.remote_port = port
        else:
            state.error = error
        return w_rcvr
    if error == network.EINPROGRESS or network.would_block(error):
        state.status = WAITING_FOR_CONNECTION
        state.connecting = True
        interp.watch_io()
    else:
        state.connected(error)
        interp.signal_semaphore_with_index(state.conn_sema)
    return w_rcvr


def _listen(interp, state, port, backlog, address):
    if backlog < 1 or (state.kind != TCP and backlog > 1):
        raise PrimitiveFailed
    if state.status != UNCONNECTED and not (state.kind == UDP and state.status == CONNECTED):
        raise PrimitiveFailed
    try:
        network.bind(state.sock, address, port)
    except network.NetError as e:
        # As the OpenSmalltalk VM: the image learns of it from the status and error
        # (a TCP socket that cannot listen never has a connection to accept).
        state.error = e.errno
        return
    if state.kind == UDP:
        return
    try:
        network.listen(state.sock, max(backlog, 1))
    except network.NetError as e:
        state.error = e.errno
        return
    state.listening = True
    state.backlog = backlog
    state.status = WAITING_FOR_CONNECTION
    interp.watch_io()


@expose_named(SOCKET_PLUGIN, "primitiveSocketListenOnPort", 2)
def prim_socket_listen_on_port(interp, w_rcvr, w_handle, w_port):
    _listen(interp, _open(w_handle), port_arg(w_port), 1, 0)
    return w_rcvr


@expose_named(SOCKET_PLUGIN, "primitiveSocketListenOnPortBacklog", 3)
def prim_socket_listen_on_port_backlog(interp, w_rcvr, w_handle, w_port, w_backlog):
    _listen(interp, _open(w_handle), port_arg(w_port), int_arg(w_backlog), 0)
    return w_rcvr


@expose_named(SOCKET_PLUGIN, "primitiveSocketListenOnPortBacklogInterface", 4)
def prim_socket_listen_on_port_backlog_interface(interp, w_rcvr, w_handle, w_port,
                                                 w_backlog, w_address):
    _listen(interp, _open(w_handle), port_arg(w_port), int_arg(w_backlog),
            address_arg(w_address))
    return w_rcvr


@expose_named(SOCKET_PLUGIN, "primitiveSocketListenWithOrWithoutBacklog")
def prim_socket_listen_with_or_without_backlog(interp, ctx, argcount, w_method):
    """listenOn: port, or listenOn: port backlogSize: n (Pharo's one entry point)."""
    if argcount == 2:
        w_handle, w_port, w_backlog = ctx.peek(1), ctx.peek(0), None
    elif argcount == 3:
        w_handle, w_port, w_backlog = ctx.peek(2), ctx.peek(1), ctx.peek(0)
    else:
        raise PrimitiveFailed
    backlog = 1 if w_backlog is None else int_arg(w_backlog)
    _listen(interp, _open(w_handle), port_arg(w_port), backlog, 0)
    ctx.pop_n(argcount)
    return ctx


def _accept(interp, w_server, w_rcv_size, w_snd_size, conn, read, write):
    server = _open(w_server)
    int_arg(w_rcv_size)
    int_arg(w_snd_size)
    if not server.listening or server.parked is None:
        raise PrimitiveFailed
    for index in [conn, read, write]:
        if index < 0:
            raise PrimitiveFailed
    sock = server.parked
    server.parked = None
    server.status = WAITING_FOR_CONNECTION
    interp.watch_io()
    state = SocketState(sock, TCP, conn, read, write)
    state.status = CONNECTED
    aio.watchers.add(state)
    return table.handle(interp.space, table.add(state))


@expose_named(SOCKET_PLUGIN, "primitiveSocketAccept", 4)
def prim_socket_accept(interp, w_rcvr, w_server, w_rcv_size, w_snd_size, w_sema):
    index = int_arg(w_sema)
    return _accept(interp, w_server, w_rcv_size, w_snd_size, index, index, index)


@expose_named(SOCKET_PLUGIN, "primitiveSocketAccept3Semaphores", 6)
def prim_socket_accept3(interp, w_rcvr, w_server, w_rcv_size, w_snd_size, w_conn,
                        w_read, w_write):
    return _accept(interp, w_server, w_rcv_size, w_snd_size, int_arg(w_conn),
                   int_arg(w_read), int_arg(w_write))


@expose_named(SOCKET_PLUGIN, "primitiveSocketCloseConnection", 1)
def prim_socket_close_connection(interp, w_rcvr, w_handle):
    """Close gracefully: data already sent still goes out, then FIN."""
    state = table.get(w_handle)
    state.close(False)
    state.status = UNCONNECTED
    return w_rcvr


@expose_named(SOCKET_PLUGIN, "primitiveSocketAbortConnection", 1)
def prim_socket_abort_connection(interp, w_rcvr, w_handle):
    """Close at once: unsent data is dropped and the peer gets a reset."""
    state = table.get(w_handle)
    state.close(True)
    state.status = UNCONNECTED
    return w_rcvr


# --- sockets: data ---------------------------------------------------------------------

@expose_named(SOCKET_PLUGIN, "primitiveSocketReceiveDataAvailable", 1)
def prim_socket_receive_data_available(interp, w_rcvr, w_handle):
    """Whether a receive would find data now. When not, the read semaphore is
    signalled once some comes (or the peer closes)."""
    space = interp.space
    state = table.get(w_handle)
    if state.fd < 0 or state.listening:
        return space.w_false
    if state.kind == TCP and state.status != CONNECTED:
        return space.w_false
    try:
        data = network.receive(state.sock, 1, peek=True)
    except network.NetError as e:
        state.peer_closed(interp, e.errno)
        return space.w_false
    if data is None:
        state.want_read = True
        interp.watch_io()
        return space.w_false
    if not data and state.kind == TCP:
        state.peer_closed(interp, 0)
        return space.w_false
    return space.w_true


@expose_named(SOCKET_PLUGIN, "primitiveSocketReceiveDataBufCount", 4)
def prim_socket_receive_data_buf_count(interp, w_rcvr, w_handle, w_buffer, w_start,
                                       w_count):
    """Read into the buffer what is there now; answer how many elements: 0 when
    nothing is, or the peer closed (the status says which)."""
    buf = Buffer(w_buffer, w_start, w_count)
    state = _open(w_handle)
    if buf.limit() == 0:
        return interp.space.wrap_int(0)
    try:
        data = network.receive(state.sock, buf.limit())
    except network.NetError as e:
        state.peer_closed(interp, e.errno)
        return interp.space.wrap_int(0)
    if data is None:
        return interp.space.wrap_int(0)
    if not data:
        if state.kind == TCP:
            state.peer_closed(interp, 0)
        return interp.space.wrap_int(0)
    buf.write(data)
    return interp.space.wrap_int(buf.elements(len(data)))


@expose_named(SOCKET_PLUGIN, "primitiveSocketSendDone", 1)
def prim_socket_send_done(interp, w_rcvr, w_handle):
    """Whether a send would take data now. When not, the write semaphore is
    signalled once it would."""
    space = interp.space
    state = table.get(w_handle)
    if state.fd < 0 or state.status != CONNECTED:
        return space.w_false
    revents = network.poll([state.fd], [network.POLLOUT], 0)[0]
    if revents & network.POLLOUT:
        return space.w_true
    state.want_write = True
    interp.watch_io()
    return space.w_false


@expose_named(SOCKET_PLUGIN, "primitiveSocketSendDataBufCount", 4)
def prim_socket_send_data_buf_count(interp, w_rcvr, w_handle, w_buffer, w_start,
                                    w_count):
    """Send what the host takes now; answer how many elements went (0 if none
    could, or the peer is gone: the status says which)."""
    buf = Buffer(w_buffer, w_start, w_count)
    state = _open(w_handle)
    if buf.limit() == 0:
        return interp.space.wrap_int(0)
    try:
        sent = network.send(state.sock, buf.read(buf.limit()))
    except network.NetError as e:
        state.peer_closed(interp, e.errno)
        return interp.space.wrap_int(0)
    return interp.space.wrap_int(buf.elements(sent))


@expose_named(SOCKET_PLUGIN, "primitiveSocketSendUDPDataBufCount", 6)
def prim_socket_send_udp_data_buf_count(interp, w_rcvr, w_handle, w_buffer, w_address,
                                        w_port, w_start, w_count):
    buf = Buffer(w_buffer, w_start, w_count)
    state = _open(w_handle)
    address = address_arg(w_address)
    port = port_arg(w_port)
    if state.kind != UDP:
        raise PrimitiveFailed
    try:
        sent = network.send_to(state.sock, buf.read(buf.limit()), address, port)
    except network.NetError as e:
        state.error = e.errno
        raise PrimitiveFailed
    return interp.space.wrap_int(buf.elements(sent))


@expose_named(SOCKET_PLUGIN, "primitiveSocketReceiveUDPDataBufCount", 4)
def prim_socket_receive_udp_data_buf_count(interp, w_rcvr, w_handle, w_buffer, w_start,
                                           w_count):
    """{count. sender address. sender port. more}: count 0 when nothing waits;
    a datagram longer than the buffer is cut (more is always false)."""
    space = interp.space
    buf = Buffer(w_buffer, w_start, w_count)
    state = _open(w_handle)
    if state.kind != UDP:
        raise PrimitiveFailed
    try:
        datagram = network.receive_from(state.sock, max(buf.limit(), 1))
    except network.NetError as e:
        state.error = e.errno
        raise PrimitiveFailed
    if datagram is None:
        return space.wrap_list([space.wrap_int(0), wrap_address(space, 0),
                                space.wrap_int(0), space.w_false])
    data = datagram.data
    limit = buf.limit()
    if len(data) > limit:
        assert limit >= 0
        data = data[:limit]
    buf.write(data)
    state.remote_address = datagram.address
    state.remote_port = datagram.port
    return space.wrap_list([space.wrap_int(buf.elements(len(data))),
                            wrap_address(space, datagram.address),
                            space.wrap_int(datagram.port), space.w_false])


# --- sockets: addresses and options ---------------------------------------------------

@expose_named(SOCKET_PLUGIN, "primitiveSocketLocalAddress", 1)
def prim_socket_local_address(interp, w_rcvr, w_handle):
    state = table.get(w_handle)
    address = network.local_address(state.sock)[0] if state.fd >= 0 else 0
    return wrap_address(interp.space, address)


@expose_named(SOCKET_PLUGIN, "primitiveSocketLocalPort", 1)
def prim_socket_local_port(interp, w_rcvr, w_handle):
    state = table.get(w_handle)
    port = network.local_address(state.sock)[1] if state.fd >= 0 else 0
    return interp.space.wrap_int(port)


def _remote(state):
    if state.kind == UDP:
        return state.remote_address, state.remote_port
    if state.fd < 0:
        return 0, 0
    return network.remote_address(state.sock)


@expose_named(SOCKET_PLUGIN, "primitiveSocketRemoteAddress", 1)
def prim_socket_remote_address(interp, w_rcvr, w_handle):
    return wrap_address(interp.space, _remote(table.get(w_handle))[0])


@expose_named(SOCKET_PLUGIN, "primitiveSocketRemotePort", 1)
def prim_socket_remote_port(interp, w_rcvr, w_handle):
    return interp.space.wrap_int(_remote(table.get(w_handle))[1])


# The options the OpenSmalltalk VM knows by name whose value is an int: (name,
# level, number). Numbers are Linux's, which musl's and lwIP's headers share.
OPTIONS = [
    ("SO_DEBUG", network.SOL_SOCKET, 1),
    ("SO_REUSEADDR", network.SOL_SOCKET, 2),
    ("SO_DONTROUTE", network.SOL_SOCKET, 5),
    ("SO_BROADCAST", network.SOL_SOCKET, 6),
    ("SO_SNDBUF", network.SOL_SOCKET, 7),
    ("SO_RCVBUF", network.SOL_SOCKET, 8),
    ("SO_KEEPALIVE", network.SOL_SOCKET, 9),
    ("SO_OOBINLINE", network.SOL_SOCKET, 10),
    ("SO_REUSEPORT", network.SOL_SOCKET, 15),
    ("IP_TTL", network.IPPROTO_IP, 2),
    ("IP_HDRINCL", network.IPPROTO_IP, 3),
    ("IP_MULTICAST_TTL", network.IPPROTO_IP, 33),
    ("IP_MULTICAST_LOOP", network.IPPROTO_IP, 34),
    ("TCP_NODELAY", network.IPPROTO_TCP, 1),
    ("TCP_MAXSEG", network.IPPROTO_TCP, 2),
    ("TCP_CORK", network.IPPROTO_TCP, 3),
]


def _option(w_name):
    name = bytes_arg(w_name).as_string()
    for option_name, level, number in OPTIONS:
        if option_name == name:
            return level, number
    raise PrimitiveFailed


def parse_option_value(text):
    """The int an option's value String names (decimal, 0x hex or 0 octal, as C's
    strtol with base 0), or raise PrimitiveFailed."""
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    base = 10
    digits = text
    if text.startswith("0x") or text.startswith("0X"):
        base = 16
        digits = text[2:]
    elif len(text) > 1 and text.startswith("0"):
        base = 8
        digits = text[1:]
    if not digits or len(digits) > 9:
        raise PrimitiveFailed
    value = 0
    for c in digits:
        if "0" <= c <= "9":
            d = ord(c) - ord("0")
        elif "a" <= c <= "f":
            d = ord(c) - ord("a") + 10
        elif "A" <= c <= "F":
            d = ord(c) - ord("A") + 10
        else:
            raise PrimitiveFailed
        if d >= base:
            raise PrimitiveFailed
        value = value * base + d
    return -value if negative else value


@expose_named(SOCKET_PLUGIN, "primitiveSocketSetOptions", 3)
def prim_socket_set_options(interp, w_rcvr, w_handle, w_name, w_value):
    """{0. value}; an unknown option, a value that is not an integer or one the
    host refuses fails the primitive."""
    space = interp.space
    state = _open(w_handle)
    level, number = _option(w_name)
    value = parse_option_value(bytes_arg(w_value).as_string())
    try:
        network.set_option(state.sock, level, number, value)
    except network.NetError:
        raise PrimitiveFailed
    return space.wrap_list([space.wrap_int(0), space.wrap_int(value)])


@expose_named(SOCKET_PLUGIN, "primitiveSocketGetOptions", 2)
def prim_socket_get_options(interp, w_rcvr, w_handle, w_name):
    space = interp.space
    state = _open(w_handle)
    level, number = _option(w_name)
    try:
        value = network.get_option(state.sock, level, number)
    except network.NetError:
        raise PrimitiveFailed
    return space.wrap_list([space.wrap_int(0), space.wrap_int(value)])
