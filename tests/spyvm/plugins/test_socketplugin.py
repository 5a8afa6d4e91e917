"""SocketPlugin: sockets over loopback, the resolver, options, bad handles, and the
readiness semaphores as the interpreter's poll signals them."""

import errno
import socket as pysocket
import time

import pytest

from spyvm import aio
from spyvm.model import W_SmallInteger, W_BytesObject, W_PointersObject
from spyvm.plugins import socketplugin as sp

SP = "SocketPlugin"
LOOPBACK = "\x7f\x00\x00\x01"
CONN, READ, WRITE = 1, 2, 3         # the semaphore indices the sockets are made with


def i(n):
    return W_SmallInteger(n)


@pytest.fixture(autouse=True)
def fresh_plugin(monkeypatch):
    """Each test starts with no sockets, the network not initialized, nothing watched."""
    monkeypatch.setattr(sp, "table", sp.SocketTable())
    monkeypatch.setattr(sp, "resolver", sp.Resolver())
    monkeypatch.setattr(aio, "watchers", aio.Watchers())
    yield
    for slot, state in enumerate(sp.table.slots):
        if state is not None:
            state.close(True)


class Net(object):
    def __init__(self, env):
        self.env = env
        self.space = env.space

    def call(self, name, *args_w):
        return self.env.call_named(SP, name, self.env.nil, *args_w)

    def fails(self, name, *args_w):
        self.env.named_fails(SP, name, self.env.nil, *args_w)

    def int(self, name, *args_w):
        return self.space.unwrap_int(self.call(name, *args_w))

    def init(self, sema=9):
        self.call("primitiveInitializeNetwork", i(sema))

    def tcp(self, conn=CONN, read=READ, write=WRITE):
        if not sp.resolver.initialized:
            self.init()
        return self.call("primitiveSocketCreate3Semaphores", i(0), i(sp.TCP), i(8192),
                         i(8192), i(conn), i(read), i(write))

    def udp(self):
        if not sp.resolver.initialized:
            self.init()
        return self.call("primitiveSocketCreate3Semaphores", i(0), i(sp.UDP), i(8192),
                         i(8192), i(CONN), i(READ), i(WRITE))

    def status(self, w_sock):
        return self.int("primitiveSocketConnectionStatus", w_sock)

    def poll_until(self, condition, seconds=5):
        deadline = time.time() + seconds
        while not condition():
            assert time.time() < deadline, "timed out"
            self.env.interp.poll_io(100000)

    def signalled(self):
        got = list(self.env.interp.pending_semaphores)
        del self.env.interp.pending_semaphores[:]
        return got

    def listener(self, backlog=5):
        w_server = self.tcp()
        self.call("primitiveSocketListenOnPortBacklog", w_server, i(0), i(backlog))
        port = self.int("primitiveSocketLocalPort", w_server)
        assert port > 0
        return w_server, port

    def connected_pair(self):
        """(server, client, accepted) over loopback."""
        w_server, port = self.listener()
        w_client = self.tcp(11, 12, 13)
        self.call("primitiveSocketConnectToPort", w_client, self.env.bytearray(LOOPBACK),
                  i(port))
        self.poll_until(lambda: self.status(w_server) == sp.CONNECTED and
                        self.status(w_client) == sp.CONNECTED)
        w_conn = self.call("primitiveSocketAccept3Semaphores", w_server, i(8192), i(8192),
                           i(21), i(22), i(23))
        self.signalled()
        return w_server, w_client, w_conn

    def send(self, w_sock, data):
        return self.int("primitiveSocketSendDataBufCount", w_sock, self.env.string(data),
                        i(1), i(len(data)))

    def receive(self, w_sock, size=100):
        w_buf = self.env.string("\x00" * size)
        n = self.int("primitiveSocketReceiveDataBufCount", w_sock, w_buf, i(1), i(size))
        return w_buf.as_string()[:n]


@pytest.fixture
def net(env):
    return Net(env)


def test_the_resolver_starts_uninitialized_and_answers_names(net):
    assert net.int("primitiveResolverStatus") == sp.RESOLVER_UNINITIALIZED
    net.fails("primitiveResolverStartNameLookup", net.env.string("localhost"))
    net.init(sema=7)
    assert net.int("primitiveResolverStatus") == sp.RESOLVER_READY
    net.call("primitiveResolverStartNameLookup", net.env.string("localhost"))
    assert net.signalled() == [7]
    assert net.call("primitiveResolverNameLookupResult").as_string() == LOOPBACK
    net.call("primitiveResolverStartNameLookup", net.env.string("10.1.2.3"))
    assert net.call("primitiveResolverNameLookupResult").as_string() == "\x0a\x01\x02\x03"


def test_a_name_that_does_not_exist_is_a_resolver_error_not_a_failure(net):
    net.init()
    net.call("primitiveResolverStartNameLookup", net.env.string("no-such-host.invalid"))
    assert net.int("primitiveResolverStatus") == sp.RESOLVER_ERROR
    assert net.int("primitiveResolverError") != 0
    assert net.call("primitiveResolverNameLookupResult").as_string() == "\x00" * 4
    net.fails("primitiveResolverStartAddressLookup", net.env.bytearray("\x7f\x00"))
    net.fails("primitiveResolverStartNameLookup", i(3))


def test_tcp_connect_accept_send_receive_close(net):
    w_server, w_client, w_conn = net.connected_pair()
    assert net.status(w_server) == sp.WAITING_FOR_CONNECTION     # listening again
    assert net.status(w_conn) == sp.CONNECTED
    # nothing yet: answering false arms the read semaphore, which data then signals
    assert net.call("primitiveSocketReceiveDataAvailable", w_conn) is net.space.w_false
    assert net.receive(w_conn) == ""
    assert net.send(w_client, "hello") == 5
    net.poll_until(lambda: 22 in net.signalled())
    assert net.call("primitiveSocketReceiveDataAvailable", w_conn) is net.space.w_true
    assert net.receive(w_conn) == "hello"
    assert net.call("primitiveSocketSendDone", w_conn) is net.space.w_true
    assert net.send(w_conn, "HELLO") == 5
    net.poll_until(lambda: net.call("primitiveSocketReceiveDataAvailable", w_client)
                   is net.space.w_true)
    assert net.receive(w_client) == "HELLO"
    # addresses of both ends
    assert net.call("primitiveSocketRemoteAddress", w_conn).as_string() == LOOPBACK
    assert net.int("primitiveSocketRemotePort", w_conn) == \
        net.int("primitiveSocketLocalPort", w_client)
    # the client closes: the server's side sees the other end closed
    net.call("primitiveSocketCloseConnection", w_client)
    assert net.status(w_client) == sp.UNCONNECTED
    net.poll_until(lambda: net.call("primitiveSocketReceiveDataAvailable", w_conn)
                   is net.space.w_false and net.status(w_conn) == sp.OTHER_END_CLOSED)
    assert 21 in net.signalled()
    for w_sock in [w_client, w_conn, w_server]:
        net.call("primitiveSocketDestroy", w_sock)
    assert sp.open_sockets() == 0
    assert not aio.watchers.watchers


def test_a_traditional_listener_becomes_the_connection(net):
    w_server, port = net.listener(backlog=1)
    client = pysocket.create_connection(("127.0.0.1", port))
    try:
        net.poll_until(lambda: net.status(w_server) == sp.CONNECTED)
        client.sendall("ping")
        net.poll_until(lambda: net.call("primitiveSocketReceiveDataAvailable", w_server)
                       is net.space.w_true)
        assert net.receive(w_server) == "ping"
    finally:
        client.close()


def test_a_refused_connection_is_a_status_and_an_error_not_a_failure(net):
    probe = pysocket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()                       # nothing listens there now
    net.init()
    w_client = net.tcp()
    net.call("primitiveSocketConnectToPort", w_client, net.env.bytearray(LOOPBACK), i(port))
    net.poll_until(lambda: net.status(w_client) != sp.WAITING_FOR_CONNECTION)
    assert net.status(w_client) == sp.UNCONNECTED
    assert net.int("primitiveSocketError", w_client) == errno.ECONNREFUSED
    assert CONN in net.signalled()


def test_a_peer_reset_makes_the_other_end_closed(net):
    w_server, port = net.listener()
    client = pysocket.create_connection(("127.0.0.1", port))
    net.poll_until(lambda: net.status(w_server) == sp.CONNECTED)
    w_conn = net.call("primitiveSocketAccept", w_server, i(0), i(0), i(5))
    import struct
    client.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()                      # RST
    net.poll_until(lambda: net.receive(w_conn) == "" and
                   net.status(w_conn) == sp.OTHER_END_CLOSED)
    # sending to it now is 0 bytes, not a crash or a failure
    assert net.send(w_conn, "x" * 10) == 0


def test_udp_datagrams_carry_their_sender(net):
    w_a = net.udp()
    w_b = net.udp()
    assert net.status(w_a) == sp.CONNECTED
    net.call("primitiveSocketListenOnPort", w_a, i(0))
    port_a = net.int("primitiveSocketLocalPort", w_a)
    net.call("primitiveSocketListenOnPort", w_b, i(0))
    port_b = net.int("primitiveSocketLocalPort", w_b)
    w_data = net.env.string("datagram")
    assert net.int("primitiveSocketSendUDPDataBufCount", w_b, w_data,
                   net.env.bytearray(LOOPBACK), i(port_a), i(1), i(8)) == 8
    w_buf = net.env.string("\x00" * 20)
    net.poll_until(lambda: net.call("primitiveSocketReceiveDataAvailable", w_a)
                   is net.space.w_true)
    w_result = net.call("primitiveSocketReceiveUDPDataBufCount", w_a, w_buf, i(1), i(20))
    count, w_address, w_port, w_more = w_result.slots
    assert count.value == 8 and w_buf.as_string()[:8] == "datagram"
    assert w_address.as_string() == LOOPBACK and w_port.value == port_b
    assert w_more is net.space.w_false
    # nothing more waits: count 0
    w_result = net.call("primitiveSocketReceiveUDPDataBufCount", w_a, w_buf, i(1), i(20))
    assert w_result.slots[0].value == 0
    # a TCP socket is no UDP socket
    net.fails("primitiveSocketReceiveUDPDataBufCount", net.tcp(), w_buf, i(1), i(20))


def test_word_buffers_count_in_words(net):
    w_server, w_client, w_conn = net.connected_pair()
    net.send(w_client, "abcdefgh")
    net.poll_until(lambda: net.call("primitiveSocketReceiveDataAvailable", w_conn)
                   is net.space.w_true)
    w_words = net.env.words(0, 0, 0)
    assert net.int("primitiveSocketReceiveDataBufCount", w_conn, w_words, i(2), i(2)) == 2
    assert [w_words.getword(k) for k in range(3)] == [0, 0x64636261, 0x68676665]
    assert net.int("primitiveSocketSendDataBufCount", w_conn, w_words, i(2), i(1)) == 1
    net.poll_until(lambda: net.call("primitiveSocketReceiveDataAvailable", w_client)
                   is net.space.w_true)
    assert net.receive(w_client) == "abcd"


def test_options_by_name(net):
    net.init()
    w_sock = net.tcp()
    w_result = net.call("primitiveSocketSetOptions", w_sock, net.env.string("TCP_NODELAY"),
                        net.env.string("1"))
    assert [w.value for w in w_result.slots] == [0, 1]
    w_result = net.call("primitiveSocketGetOptions", w_sock, net.env.string("TCP_NODELAY"))
    assert w_result.slots[0].value == 0 and w_result.slots[1].value != 0
    net.call("primitiveSocketSetOptions", w_sock, net.env.string("SO_RCVBUF"),
             net.env.string("0x4000"))
    net.fails("primitiveSocketSetOptions", w_sock, net.env.string("SO_PRIORITY"),
              net.env.string("1"))
    net.fails("primitiveSocketSetOptions", w_sock, net.env.string("TCP_NODELAY"),
              net.env.string("yes"))
    net.fails("primitiveSocketGetOptions", w_sock, i(1))


@pytest.mark.parametrize("text,value", [("1", 1), ("0", 0), ("4096", 4096), ("0x10", 16),
                                        ("010", 8), ("-1", -1)])
def test_option_values_read_as_c_reads_them(text, value):
    assert sp.parse_option_value(text) == value


def test_closed_stale_and_forged_handles_fail(net):
    net.init()
    w_sock = net.tcp()
    net.call("primitiveSocketDestroy", w_sock)
    net.fails("primitiveSocketConnectionStatus", w_sock)
    net.fails("primitiveSocketDestroy", w_sock)
    assert sp.open_sockets() == 0
    forged = W_BytesObject(net.space.w_ByteArray, sp.HANDLE_SIZE)
    for w_bad in [forged, net.env.bytearray("short"), i(3), net.env.nil]:
        net.fails("primitiveSocketConnectionStatus", w_bad)
        net.fails("primitiveSocketSendDataBufCount", w_bad, net.env.string("x"), i(1), i(1))
    w_sock = net.tcp()
    # a closed socket: its status reads, data primitives fail
    net.call("primitiveSocketCloseConnection", w_sock)
    assert net.status(w_sock) == sp.UNCONNECTED
    net.fails("primitiveSocketReceiveDataBufCount", w_sock, net.env.string("x"), i(1), i(1))
    # bad buffer ranges
    w_live = net.tcp()
    net.fails("primitiveSocketSendDataBufCount", w_live, net.env.string("abc"), i(2), i(3))
    net.fails("primitiveSocketSendDataBufCount", w_live, net.env.string("abc"), i(0), i(1))
    net.fails("primitiveSocketSendDataBufCount", w_live, net.env.array(), i(1), i(0))
    net.fails("primitiveSocketConnectToPort", w_live, net.env.bytearray("\x7f\x00\x00"), i(80))
    net.fails("primitiveSocketConnectToPort", w_live, net.env.bytearray(LOOPBACK), i(70000))
    net.fails("primitiveSocketCreate3Semaphores", i(0), i(7), i(0), i(0), i(1), i(2), i(3))


def test_signalled_indices_signal_the_external_semaphores(env):
    from spyvm import constants
    w_sema = env.new_semaphore()
    w_objects = env.array(env.nil, w_sema)
    env.space.w_special_objects.store(env.space, constants.SO_EXTERNAL_OBJECTS_ARRAY,
                                      w_objects)
    interp = env.interp
    for index in [2, 1, 9, 0]:      # 1 holds nil, 9 is out of range, 0 is none
        interp.signal_semaphore_with_index(index)
    assert interp.pending_semaphores == [2, 1, 9]
    assert interp.take_pending_semaphore() is w_sema
    assert interp.take_pending_semaphore() is None      # nil and out of range: skipped
    assert interp.pending_semaphores == []
    interp.signal_semaphore_with_index(2)
    interp.check_interrupts(env.context())
    assert env.space.unwrap_int(w_sema.fetch(env.space, constants.SEMAPHORE_EXCESS_SIGNALS)) == 1
