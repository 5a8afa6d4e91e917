"""Network for the SocketPlugin: non-blocking IPv4 sockets, one poll over many
descriptors, and name lookup.

Hosted on POSIX sockets through RPython's rsocket and rpoll; the Xen guest provides
the same C calls (socket, connect, poll, getaddrinfo, ...) from xenport/. Addresses
are IPv4 addresses as integers, most significant byte first (127.0.0.1 is
0x7f000001). Every call that can fail raises NetError with an errno.
"""

import errno

from rpython.rlib import rsocket, rpoll, jit
from rpython.rlib.objectmodel import we_are_translated
from rpython.rlib.rarithmetic import intmask

POLLIN = rpoll.POLLIN
POLLOUT = rpoll.POLLOUT
POLLERR = rpoll.POLLERR
POLLHUP = rpoll.POLLHUP
POLLNVAL = rpoll.POLLNVAL

EINTR = errno.EINTR
EINPROGRESS = errno.EINPROGRESS
EWOULDBLOCK = errno.EWOULDBLOCK
EAGAIN = errno.EAGAIN
EINVAL = errno.EINVAL

SOL_SOCKET = rsocket.SOL_SOCKET
IPPROTO_IP = rsocket.IPPROTO_IP
IPPROTO_TCP = rsocket.IPPROTO_TCP
SO_ERROR = rsocket.SO_ERROR
SO_LINGER = rsocket.SO_LINGER
SO_REUSEADDR = rsocket.SO_REUSEADDR
MSG_PEEK = rsocket.MSG_PEEK


class NetError(Exception):
    def __init__(self, err):
        self.errno = err


def _errno_of(e):
    if isinstance(e, rsocket.SocketErrorWithErrno):
        return e.errno
    return EINVAL


def would_block(err):
    return err == EAGAIN or err == EWOULDBLOCK or err == EINTR


# --- addresses --------------------------------------------------------------------

def address_string(address):
    return "%d.%d.%d.%d" % ((address >> 24) & 0xff, (address >> 16) & 0xff,
                            (address >> 8) & 0xff, address & 0xff)


def parse_address(text):
    """The integer of a dotted quad, or -1 if text is not one."""
    parts = text.split(".")
    if len(parts) != 4:
        return -1
    address = 0
    for part in parts:
        if not part or len(part) > 3 or not part.isdigit():
            return -1
        byte = int(part)
        if byte > 255:
            return -1
        address = (address << 8) | byte
    return address


def _inet(address, port):
    try:
        return rsocket.INETAddress(address_string(address), port)
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))


def _split(addr):
    """(address, port) of an rsocket address; (0, 0) for one that is not IPv4."""
    if not isinstance(addr, rsocket.INETAddress):
        return 0, 0
    try:
        return parse_address(addr.get_host()), addr.get_port()
    except rsocket.SocketError:
        return 0, 0


# --- sockets ----------------------------------------------------------------------

class Socket(object):
    """One non-blocking socket (an rsocket, closed by close() or by the GC)."""

    def __init__(self, rsock):
        self.rsock = rsock
        self.fd = intmask(rsock.fd)


@jit.dont_look_inside
def open_socket(udp):
    kind = rsocket.SOCK_DGRAM if udp else rsocket.SOCK_STREAM
    try:
        rsock = rsocket.RSocket(rsocket.AF_INET, kind, 0, inheritable=False)
        rsock.setblocking(False)
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))
    return Socket(rsock)


@jit.dont_look_inside
def close(sock, reset):
    """Close sock; with reset, drop unsent data and send RST (SO_LINGER 0)."""
    if reset:
        try:
            sock.rsock.setsockopt(SOL_SOCKET, SO_LINGER, "\x01\x00\x00\x00\x00\x00\x00\x00")
        except rsocket.SocketError:
            pass
    try:
        sock.rsock.close()
    except rsocket.SocketError:
        pass
    sock.fd = -1


@jit.dont_look_inside
def bind(sock, address, port):
    try:
        sock.rsock.bind(_inet(address, port))
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))


@jit.dont_look_inside
def listen(sock, backlog):
    try:
        sock.rsock.listen(backlog)
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))


@jit.dont_look_inside
def accept(sock):
    """A new non-blocking Socket for a pending connection; NetError(EAGAIN) if none."""
    try:
        fd, _ = sock.rsock.accept(inheritable=False)
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))
    rsock = rsocket.make_socket(fd, rsocket.AF_INET, rsocket.SOCK_STREAM, 0)
    try:
        rsock.setblocking(False)
    except rsocket.SocketError as e:
        rsock.close()
        raise NetError(_errno_of(e))
    return Socket(rsock)


@jit.dont_look_inside
def connect(sock, address, port):
    """Start connecting: 0 (connected), EINPROGRESS, or another errno."""
    try:
        return sock.rsock.connect_ex(_inet(address, port))
    except NetError as e:
        return e.errno


@jit.dont_look_inside
def pending_error(sock):
    """SO_ERROR: the outcome of a connect that was in progress (0: connected)."""
    try:
        return sock.rsock.getsockopt_int(SOL_SOCKET, SO_ERROR)
    except rsocket.SocketError as e:
        return _errno_of(e)


@jit.dont_look_inside
def send(sock, data):
    """How many bytes of data went out (0 if it would block)."""
    try:
        return sock.rsock.send(data)
    except rsocket.SocketError as e:
        err = _errno_of(e)
        if would_block(err):
            return 0
        raise NetError(err)


@jit.dont_look_inside
def receive(sock, count, peek=False):
    """Up to count bytes; "" at end of stream; None if nothing is there yet."""
    try:
        return sock.rsock.recv(count, MSG_PEEK if peek else 0)
    except rsocket.SocketError as e:
        err = _errno_of(e)
        if would_block(err):
            return None
        raise NetError(err)


@jit.dont_look_inside
def send_to(sock, data, address, port):
    try:
        return sock.rsock.sendto(data, len(data), 0, _inet(address, port))
    except rsocket.SocketError as e:
        err = _errno_of(e)
        if would_block(err):
            return 0
        raise NetError(err)


class Datagram(object):
    def __init__(self, data, address, port):
        self.data = data
        self.address = address
        self.port = port


@jit.dont_look_inside
def receive_from(sock, count):
    """A Datagram, or None if none is waiting."""
    try:
        data, addr = sock.rsock.recvfrom(count)
    except rsocket.SocketError as e:
        err = _errno_of(e)
        if would_block(err):
            return None
        raise NetError(err)
    address, port = _split(addr)
    return Datagram(data, address, port)


@jit.dont_look_inside
def local_address(sock):
    try:
        return _split(sock.rsock.getsockname())
    except rsocket.SocketError:
        return 0, 0


@jit.dont_look_inside
def remote_address(sock):
    try:
        return _split(sock.rsock.getpeername())
    except rsocket.SocketError:
        return 0, 0


@jit.dont_look_inside
def set_option(sock, level, name, value):
    try:
        sock.rsock.setsockopt_int(level, name, value)
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))


@jit.dont_look_inside
def get_option(sock, level, name):
    try:
        return sock.rsock.getsockopt_int(level, name)
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))


@jit.dont_look_inside
def poll(fds, events, timeout_ms):
    """Wait up to timeout_ms (-1: no limit) for events[i] on fds[i]; answer the
    events that came, one per descriptor (0 for none). A signal ends the wait early."""
    fddict = {}
    for i in range(len(fds)):
        fddict[fds[i]] = events[i]
    revents = [0] * len(fds)
    try:
        ready = rpoll.poll(fddict, timeout_ms)
    except rpoll.PollError as e:
        if e.errno == EINTR:
            return revents
        raise NetError(e.errno)
    for fd, got in ready:
        for i in range(len(fds)):
            if fds[i] == fd:
                revents[i] = got
    return revents


def ignore_broken_pipes():
    """A write to a socket the peer closed answers EPIPE instead of killing the VM
    (SIGPIPE), as the OpenSmalltalk VM's aio does."""
    if we_are_translated():
        from rpython.rlib import rsignal
        rsignal.pypysig_ignore(rsignal.SIGPIPE)
    # Untranslated, CPython ignores SIGPIPE already.


# --- names --------------------------------------------------------------------------

@jit.dont_look_inside
def address_of_name(name):
    """The first IPv4 address of a host name (or dotted quad); NetError with a
    getaddrinfo code (negative: EAI_*) when it has none."""
    numeric = parse_address(name)
    if numeric >= 0:
        return numeric
    try:
        infos = rsocket.getaddrinfo(name, None, rsocket.AF_INET, rsocket.SOCK_STREAM)
    except rsocket.GAIError as e:
        raise NetError(e.errno)
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))
    for info in infos:
        address, _ = _split(info[4])
        if address >= 0:
            return address
    raise NetError(EINVAL)


@jit.dont_look_inside
def host_name():
    try:
        return rsocket.gethostname()
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))


@jit.dont_look_inside
def name_of_address(address):
    """The host name of an IPv4 address; NetError when it has none."""
    try:
        hostname, _, _ = rsocket.gethostbyaddr(address_string(address))
    except rsocket.SocketError as e:
        raise NetError(_errno_of(e))
    return hostname
