/* xenport: the socket calls of the C library, over lwIP's raw TCP and UDP API.
 *
 * The translated VM's SocketPlugin makes these calls (spyvm/platform/network.py
 * through RPython's rsocket and rpoll) as it does on Linux: non-blocking IPv4
 * sockets, poll() for readiness, errno for trouble.  Each socket is a slot of
 * `socks`; its descriptor is XP_SOCKET_FD_BASE + slot, above the file
 * descriptors of files.c, which passes descriptors in that range here.
 *
 * lwIP calls back (received data, a new connection, an error, a peer's FIN)
 * only from inside xp_net_pump() or from the lwIP call a socket call makes, so
 * the state below changes only while a socket call, poll() or a wait runs.
 * Received TCP data stays in lwIP's pbufs until read; the window opens again
 * as the program reads (tcp_recved), which is the flow control a slow reader
 * needs.  Without a network interface, socket() fails as on a Linux kernel
 * without networking (EAFNOSUPPORT), so the image's primitives fail cleanly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/dns.h"
#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "net/socket.h"
#include "xenport/net.h"
#include "xenport/platform.h"

#define MAX_SOCKETS      1024
#define UDP_QUEUE_MAX    64
#define DNS_WAIT_NS      5000000000ULL

/* Byte order: the guest is little-endian x86-64. */
uint32_t htonl(uint32_t x) { return __builtin_bswap32(x); }
uint32_t ntohl(uint32_t x) { return __builtin_bswap32(x); }
uint16_t htons(uint16_t x) { return __builtin_bswap16(x); }
uint16_t ntohs(uint16_t x) { return __builtin_bswap16(x); }

enum state { S_NEW, S_CONNECTING, S_CONNECTED, S_LISTENING, S_DEAD };

struct datagram {
    struct pbuf *p;
    ip4_addr_t addr;
    u16_t port;
};

struct sock {
    int used;
    int type;                    /* SOCK_STREAM or SOCK_DGRAM */
    int nonblock;
    enum state state;
    struct tcp_pcb *tcp;         /* NULL once lwIP freed it (error) or we let it go */
    struct udp_pcb *udp;
    int error;                   /* SO_ERROR, errno style: reported once */
    int fin;                     /* the peer sent FIN: reads end after the data */
    int shut_wr;
    int linger_reset;            /* SO_LINGER {1, 0}: close() resets */
    int reuseaddr, keepalive, nodelay, rcvbuf, sndbuf;
    struct pbuf *rx;             /* TCP: received, not yet read */
    /* Listening: connections lwIP accepted, not yet taken by accept(). */
    int *pending;
    int npending, backlog;
    int listener;                /* a pending connection: its listener's slot, else -1 */
    /* UDP: datagrams received, not yet read. */
    struct datagram *dq;         /* UDP_QUEUE_MAX of them, for UDP sockets only */
    int dq_head, dq_len;
};

static struct sock socks[MAX_SOCKETS];

int xp_socket_fd(int fd)
{
    return fd >= XP_SOCKET_FD_BASE && fd < XP_SOCKET_FD_BASE + MAX_SOCKETS;
}

int xp_socket_count(void)
{
    int n = 0;
    for (int i = 0; i < MAX_SOCKETS; i++)
        n += socks[i].used != 0;
    return n;
}

static int fail(int err)
{
    errno = err;
    return -1;
}

static struct sock *get(int fd)
{
    if (!xp_socket_fd(fd) || !socks[fd - XP_SOCKET_FD_BASE].used) {
        errno = EBADF;
        return 0;
    }
    return &socks[fd - XP_SOCKET_FD_BASE];
}

static int fd_of(struct sock *s)
{
    return XP_SOCKET_FD_BASE + (int)(s - socks);
}

static struct sock *new_sock(int type)
{
    for (int i = 0; i < MAX_SOCKETS; i++) {
        struct sock *s = &socks[i];
        if (!s->used) {
            memset(s, 0, sizeof *s);
            s->used = 1;
            s->type = type;
            s->listener = -1;
            return s;
        }
    }
    return 0;
}

static int err_to_errno(err_t e)
{
    switch (e) {
    case ERR_OK:         return 0;
    case ERR_MEM:        return ENOMEM;
    case ERR_BUF:        return ENOBUFS;
    case ERR_TIMEOUT:    return ETIMEDOUT;
    case ERR_RTE:        return EHOSTUNREACH;
    case ERR_INPROGRESS: return EINPROGRESS;
    case ERR_VAL:        return EINVAL;
    case ERR_WOULDBLOCK: return EWOULDBLOCK;
    case ERR_USE:        return EADDRINUSE;
    case ERR_ALREADY:    return EALREADY;
    case ERR_ISCONN:     return EISCONN;
    case ERR_CONN:       return ENOTCONN;
    case ERR_IF:         return EIO;
    case ERR_ABRT:       return ECONNABORTED;
    case ERR_RST:        return ECONNRESET;
    case ERR_CLSD:       return ENOTCONN;
    case ERR_ARG:        return EINVAL;
    default:             return EIO;
    }
}

/* --- addresses ----------------------------------------------------------------- */

static int read_addr(const struct sockaddr *addr, socklen_t len, ip_addr_t *ip, u16_t *port)
{
    if (!addr || len < (socklen_t)sizeof(struct sockaddr_in))
        return EINVAL;
    if (addr->sa_family != AF_INET)
        return EAFNOSUPPORT;
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    ip_addr_set_ip4_u32(ip, in->sin_addr.s_addr);
    *port = ntohs(in->sin_port);
    return 0;
}

static void write_addr(struct sockaddr *addr, socklen_t *len, const ip_addr_t *ip, u16_t port)
{
    if (!addr || !len)
        return;
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = ip ? ip4_addr_get_u32(ip_2_ip4(ip)) : 0;
    socklen_t n = *len < (socklen_t)sizeof in ? *len : (socklen_t)sizeof in;
    memcpy(addr, &in, n);
    *len = sizeof in;
}

/* --- lwIP's callbacks ------------------------------------------------------------- */

static void on_tcp_error(void *arg, err_t e)
{
    /* lwIP has freed the pcb already. */
    struct sock *s = arg;
    if (!s)
        return;
    s->tcp = 0;
    if (s->state == S_CONNECTING)
        s->error = e == ERR_RST ? ECONNREFUSED : e == ERR_ABRT ? ETIMEDOUT : err_to_errno(e);
    else
        s->error = e == ERR_ABRT ? ECONNABORTED : err_to_errno(e);
    s->state = S_DEAD;
}

static void release_tcp(struct sock *s, int reset);

/* Both ways are shut (our FIN is out, the peer's came): the socket needs no more
   of the pcb (sends are refused, what was received is in s->rx).  lwIP frees a
   pcb at the end of TIME-WAIT without calling back, so it is handed over to lwIP
   now, as close() would (its tcp_close then only marks it, in these states). */
static void release_if_done(struct sock *s)
{
    struct tcp_pcb *pcb = s->tcp;
    if (!pcb || !s->fin || !s->shut_wr)
        return;
    if (pcb->state == FIN_WAIT_1 || pcb->state == FIN_WAIT_2 || pcb->state == CLOSING ||
        pcb->state == LAST_ACK || pcb->state == TIME_WAIT)
        release_tcp(s, 0);
}

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e)
{
    struct sock *s = arg;
    if (!p) {
        s->fin = 1;
        release_if_done(s);
        return ERR_OK;
    }
    if (s->rx)
        pbuf_cat(s->rx, p);
    else
        s->rx = p;
    return ERR_OK;
}

static void take_pcb(struct sock *s, struct tcp_pcb *pcb)
{
    s->tcp = pcb;
    tcp_arg(pcb, s);
    tcp_err(pcb, on_tcp_error);
    tcp_recv(pcb, on_tcp_recv);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t e)
{
    struct sock *l = arg;
    if (e != ERR_OK || !pcb)
        return ERR_VAL;
    struct sock *s = l && l->npending < l->backlog ? new_sock(SOCK_STREAM) : 0;
    if (!s)
        return ERR_MEM;              /* lwIP aborts the connection */
    take_pcb(s, pcb);
    s->state = S_CONNECTED;
    s->listener = (int)(l - socks);
    if (l->nodelay)
        tcp_nagle_disable(pcb);
    /* Counted against the listen backlog until accept() takes it. */
    tcp_backlog_delayed(pcb);
    l->pending[l->npending++] = (int)(s - socks);
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t e)
{
    struct sock *s = arg;
    if (s)
        s->state = S_CONNECTED;
    return ERR_OK;
}

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                         const ip_addr_t *addr, u16_t port)
{
    struct sock *s = arg;
    if (!s || s->dq_len == UDP_QUEUE_MAX) {
        pbuf_free(p);                /* a full receive queue drops, as a kernel does */
        return;
    }
    struct datagram *d = &s->dq[(s->dq_head + s->dq_len++) % UDP_QUEUE_MAX];
    d->p = p;
    ip4_addr_copy(d->addr, *ip_2_ip4(addr));
    d->port = port;
}

/* --- waiting ----------------------------------------------------------------------- */

/* Pump the network until ready() or the deadline (0: none): 1 if ready. */
static int wait_for(struct sock *s, int (*ready)(struct sock *), uint64_t deadline)
{
    for (;;) {
        xp_net_pump();
        if (ready(s))
            return 1;
        if (deadline && xp_monotonic_ns() >= deadline)
            return 0;
        xp_wait_step(deadline);
    }
}

/* --- the calls ---------------------------------------------------------------------- */

int socket(int domain, int type, int protocol)
{
    int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain != AF_INET)
        return fail(EAFNOSUPPORT);
    if (!xp_net_up())
        return fail(EAFNOSUPPORT);
    if (kind != SOCK_STREAM && kind != SOCK_DGRAM)
        return fail(EPROTONOSUPPORT);
    if (protocol && !(kind == SOCK_STREAM && protocol == IPPROTO_TCP) &&
        !(kind == SOCK_DGRAM && protocol == IPPROTO_UDP))
        return fail(EPROTONOSUPPORT);
    struct sock *s = new_sock(kind);
    if (!s)
        return fail(EMFILE);
    s->nonblock = (type & SOCK_NONBLOCK) != 0;
    if (kind == SOCK_STREAM) {
        struct tcp_pcb *pcb = tcp_new();
        if (!pcb) {
            s->used = 0;
            return fail(ENOBUFS);
        }
        take_pcb(s, pcb);
    } else {
        s->dq = malloc(UDP_QUEUE_MAX * sizeof *s->dq);
        s->udp = s->dq ? udp_new() : 0;
        if (!s->udp) {
            free(s->dq);
            s->used = 0;
            return fail(ENOBUFS);
        }
        udp_recv(s->udp, on_udp_recv, s);
    }
    return fd_of(s);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    ip_addr_t ip;
    u16_t port;
    int err = read_addr(addr, len, &ip, &port);
    if (err)
        return fail(err);
    err_t e;
    if (s->type == SOCK_STREAM) {
        if (!s->tcp || s->state != S_NEW)
            return fail(EINVAL);
        e = tcp_bind(s->tcp, &ip, port);
    } else {
        e = udp_bind(s->udp, &ip, port);
    }
    return e == ERR_OK ? 0 : fail(err_to_errno(e));
}

int listen(int fd, int backlog)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    if (s->type != SOCK_STREAM)
        return fail(EOPNOTSUPP);
    if (s->state == S_LISTENING)
        return 0;
    if (!s->tcp || s->state != S_NEW)
        return fail(EINVAL);
    if (backlog < 1)
        backlog = 1;
    if (backlog > 255)
        backlog = 255;                  /* lwIP counts the backlog in a byte */
    s->pending = malloc((size_t)backlog * sizeof(int));
    if (!s->pending)
        return fail(ENOBUFS);
    if (s->tcp->local_port == 0 && tcp_bind(s->tcp, IP_ADDR_ANY, 0) != ERR_OK) {
        free(s->pending);
        s->pending = 0;
        return fail(EADDRINUSE);
    }
    err_t e = ERR_OK;
    struct tcp_pcb *l = tcp_listen_with_backlog_and_err(s->tcp, (u8_t)backlog, &e);
    if (!l) {
        free(s->pending);
        s->pending = 0;
        return fail(err_to_errno(e));
    }
    /* The listening pcb replaces (and freed) the one bound. */
    s->tcp = l;
    s->backlog = backlog;
    s->state = S_LISTENING;
    tcp_arg(l, s);
    tcp_accept(l, on_accept);
    return 0;
}

static int has_pending(struct sock *s)
{
    return s->npending > 0 || s->state != S_LISTENING;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    struct sock *l = get(fd);
    if (!l)
        return -1;
    if (l->state != S_LISTENING)
        return fail(EINVAL);
    xp_net_pump();
    if (l->npending == 0) {
        if (l->nonblock)
            return fail(EAGAIN);
        wait_for(l, has_pending, 0);
        if (l->state != S_LISTENING || !l->npending)
            return fail(ECONNABORTED);
    }
    struct sock *s = &socks[l->pending[0]];
    memmove(l->pending, l->pending + 1, (size_t)(--l->npending) * sizeof(int));
    s->listener = -1;
    s->nonblock = (flags & SOCK_NONBLOCK) != 0;
    if (s->tcp) {
        tcp_backlog_accepted(s->tcp);
        write_addr(addr, len, &s->tcp->remote_ip, s->tcp->remote_port);
    } else {
        write_addr(addr, len, 0, 0);   /* reset before it was taken: reads say so */
    }
    return fd_of(s);
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return accept4(fd, addr, len, 0);
}

static int connect_done(struct sock *s)
{
    return s->state != S_CONNECTING;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    ip_addr_t ip;
    u16_t port;
    int err = read_addr(addr, len, &ip, &port);
    if (err)
        return fail(err);
    if (s->type == SOCK_DGRAM) {
        err_t e = udp_connect(s->udp, &ip, port);
        return e == ERR_OK ? 0 : fail(err_to_errno(e));
    }
    if (s->state == S_CONNECTING)
        return fail(EALREADY);
    if (s->state == S_CONNECTED)
        return fail(EISCONN);
    if (s->state != S_NEW || !s->tcp)
        return fail(s->state == S_LISTENING ? EISCONN : EINVAL);
    if (s->nodelay)
        tcp_nagle_disable(s->tcp);
    s->state = S_CONNECTING;
    err_t e = tcp_connect(s->tcp, &ip, port, on_connected);
    if (e != ERR_OK) {
        s->state = S_NEW;
        return fail(err_to_errno(e));
    }
    if (s->nonblock)
        return fail(EINPROGRESS);
    wait_for(s, connect_done, 0);
    if (s->state == S_CONNECTED)
        return 0;
    int got = s->error ? s->error : ECONNREFUSED;
    s->error = 0;
    return fail(got);
}

static int readable(struct sock *s)
{
    if (s->type == SOCK_DGRAM)
        return s->dq_len > 0;
    return s->rx || s->fin || s->error || s->state == S_DEAD;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                 struct sockaddr *addr, socklen_t *alen)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    xp_net_pump();
    if (!readable(s)) {
        if (s->type == SOCK_STREAM && s->state != S_CONNECTED && s->state != S_CONNECTING)
            return fail(ENOTCONN);
        if (s->nonblock || (flags & MSG_DONTWAIT))
            return fail(EAGAIN);
        wait_for(s, readable, 0);
    }
    if (s->type == SOCK_DGRAM) {
        struct datagram *d = &s->dq[s->dq_head];
        size_t n = d->p->tot_len < len ? d->p->tot_len : len;
        pbuf_copy_partial(d->p, buf, (u16_t)n, 0);
        ip_addr_t from;
        ip_addr_copy_from_ip4(from, d->addr);
        write_addr(addr, alen, &from, d->port);
        if (!(flags & MSG_PEEK)) {
            pbuf_free(d->p);
            s->dq_head = (s->dq_head + 1) % UDP_QUEUE_MAX;
            s->dq_len--;
        }
        return (ssize_t)n;
    }
    if (s->rx) {
        size_t n = s->rx->tot_len < len ? s->rx->tot_len : len;
        pbuf_copy_partial(s->rx, buf, (u16_t)n, 0);
        if (!(flags & MSG_PEEK)) {
            s->rx = pbuf_free_header(s->rx, (u16_t)n);
            if (s->tcp)
                tcp_recved(s->tcp, (u16_t)n);
        }
        if (addr)
            write_addr(addr, alen, s->tcp ? &s->tcp->remote_ip : 0,
                       s->tcp ? s->tcp->remote_port : 0);
        return (ssize_t)n;
    }
    if (s->error) {
        int got = s->error;
        s->error = 0;
        return fail(got);
    }
    return 0;                          /* FIN, or the connection is gone: end of stream */
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    return recvfrom(fd, buf, len, flags, 0, 0);
}

static size_t send_room(struct sock *s)
{
    if (!s->tcp || s->state != S_CONNECTED)
        return 0;
    if (tcp_sndqueuelen(s->tcp) >= TCP_SND_QUEUELEN - 4)
        return 0;
    return tcp_sndbuf(s->tcp);
}

static int writable(struct sock *s)
{
    if (s->type == SOCK_DGRAM)
        return 1;
    return send_room(s) > 0 || s->error || s->state == S_DEAD;
}

static ssize_t send_udp(struct sock *s, const void *buf, size_t len, const ip_addr_t *ip, u16_t port)
{
    if (len > 65507)
        return fail(EMSGSIZE);
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p)
        return fail(ENOBUFS);
    if (len)
        pbuf_take(p, buf, (u16_t)len);
    err_t e = ip ? udp_sendto(s->udp, p, ip, port) : udp_send(s->udp, p);
    pbuf_free(p);
    if (e != ERR_OK)
        return fail(err_to_errno(e));
    return (ssize_t)len;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
               const struct sockaddr *addr, socklen_t alen)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    if (s->type == SOCK_DGRAM) {
        if (!addr) {
            if (ip_addr_isany(&s->udp->remote_ip) && s->udp->remote_port == 0)
                return fail(EDESTADDRREQ);
            return send_udp(s, buf, len, 0, 0);
        }
        ip_addr_t ip;
        u16_t port;
        int err = read_addr(addr, alen, &ip, &port);
        if (err)
            return fail(err);
        return send_udp(s, buf, len, &ip, port);
    }
    xp_net_pump();
    if (s->error) {
        int got = s->error;
        s->error = 0;
        return fail(got);
    }
    if (s->shut_wr || s->state == S_DEAD)
        return fail(EPIPE);
    if (s->state == S_CONNECTING && (s->nonblock || (flags & MSG_DONTWAIT)))
        return fail(EAGAIN);
    if (s->state != S_CONNECTED && s->state != S_CONNECTING)
        return fail(ENOTCONN);
    size_t room = send_room(s);
    if (room == 0) {
        if (s->nonblock || (flags & MSG_DONTWAIT))
            return fail(EAGAIN);
        wait_for(s, writable, 0);
        if (s->error || s->state != S_CONNECTED) {
            int got = s->error ? s->error : EPIPE;
            s->error = 0;
            return fail(got);
        }
        room = send_room(s);
    }
    size_t n = len < room ? len : room;
    if (n > 0xffff)
        n = 0xffff;
    err_t e = tcp_write(s->tcp, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
    if (e == ERR_MEM)
        return fail(EAGAIN);
    if (e != ERR_OK)
        return fail(err_to_errno(e));
    tcp_output(s->tcp);
    return (ssize_t)n;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    return sendto(fd, buf, len, flags, 0, 0);
}

static void drop_rx(struct sock *s)
{
    if (s->rx) {
        pbuf_free(s->rx);
        s->rx = 0;
    }
    while (s->dq_len > 0) {
        pbuf_free(s->dq[s->dq_head].p);
        s->dq_head = (s->dq_head + 1) % UDP_QUEUE_MAX;
        s->dq_len--;
    }
}

static void release_tcp(struct sock *s, int reset)
{
    struct tcp_pcb *pcb = s->tcp;
    s->tcp = 0;
    if (!pcb)
        return;
    tcp_arg(pcb, 0);
    if (pcb->state == LISTEN) {
        /* (lwIP asserts that a listening pcb gets no err or recv callback.) */
        tcp_accept(pcb, 0);
        tcp_close(pcb);
        return;
    }
    tcp_err(pcb, 0);
    /* lwIP's default receive handler takes over: it frees what still arrives. */
    tcp_recv(pcb, 0);
    if (reset || tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

int xp_socket_close(int fd)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    if (s->type == SOCK_DGRAM) {
        drop_rx(s);
        if (s->udp)
            udp_remove(s->udp);
        s->udp = 0;
        free(s->dq);
        s->dq = 0;
    } else {
        for (int i = 0; i < s->npending; i++) {
            struct sock *c = &socks[s->pending[i]];
            release_tcp(c, 1);
            drop_rx(c);
            c->used = 0;
        }
        free(s->pending);
        s->pending = 0;
        s->npending = 0;
        /* Unread data makes the close a reset, as Linux does. */
        int reset = s->linger_reset || s->rx;
        drop_rx(s);
        release_tcp(s, reset);
    }
    s->used = 0;
    return 0;
}

int shutdown(int fd, int how)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    if (s->type != SOCK_STREAM || s->state != S_CONNECTED || !s->tcp)
        return fail(ENOTCONN);
    int rd = how == SHUT_RD || how == SHUT_RDWR, wr = how == SHUT_WR || how == SHUT_RDWR;
    if (!rd && !wr)
        return fail(EINVAL);
    if (wr)
        s->shut_wr = 1;
    err_t e = tcp_shutdown(s->tcp, 0, wr);
    if (e != ERR_OK)
        return fail(err_to_errno(e));
    release_if_done(s);
    return 0;
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    if (s->type == SOCK_DGRAM)
        write_addr(addr, len, &s->udp->local_ip, s->udp->local_port);
    else if (s->tcp)
        write_addr(addr, len, &s->tcp->local_ip, s->tcp->local_port);
    else
        write_addr(addr, len, 0, 0);
    return 0;
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    if (s->type == SOCK_DGRAM) {
        if (!(s->udp->flags & UDP_FLAGS_CONNECTED))
            return fail(ENOTCONN);
        write_addr(addr, len, &s->udp->remote_ip, s->udp->remote_port);
        return 0;
    }
    if (!s->tcp || s->state != S_CONNECTED)
        return fail(ENOTCONN);
    write_addr(addr, len, &s->tcp->remote_ip, s->tcp->remote_port);
    return 0;
}

static int int_value(const void *value, socklen_t len, int *out)
{
    if (!value || len < (socklen_t)sizeof(int))
        return -1;
    memcpy(out, value, sizeof(int));
    return 0;
}

static void set_pcb_option(struct sock *s, u8_t option, int on)
{
    if (s->type == SOCK_STREAM && s->tcp) {
        if (on)
            ip_set_option(s->tcp, option);
        else
            ip_reset_option(s->tcp, option);
    } else if (s->type == SOCK_DGRAM && s->udp) {
        if (on)
            ip_set_option(s->udp, option);
        else
            ip_reset_option(s->udp, option);
    }
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    int v = 0;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (!value || len < (socklen_t)sizeof l)
            return fail(EINVAL);
        memcpy(&l, value, sizeof l);
        s->linger_reset = l.l_onoff && l.l_linger == 0;
        return 0;
    }
    if (int_value(value, len, &v))
        return fail(EINVAL);
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR:
            s->reuseaddr = v != 0;
            set_pcb_option(s, SOF_REUSEADDR, v != 0);
            return 0;
        case SO_KEEPALIVE:
            s->keepalive = v != 0;
            set_pcb_option(s, SOF_KEEPALIVE, v != 0);
            return 0;
        case SO_BROADCAST:
            set_pcb_option(s, SOF_BROADCAST, v != 0);
            return 0;
        case SO_RCVBUF:
            s->rcvbuf = v;                /* lwIP's window is fixed: remembered only */
            return 0;
        case SO_SNDBUF:
            s->sndbuf = v;
            return 0;
        }
    } else if (level == IPPROTO_TCP && s->type == SOCK_STREAM) {
        if (name == TCP_NODELAY) {
            s->nodelay = v != 0;
            if (s->tcp && s->state != S_LISTENING) {
                if (v)
                    tcp_nagle_disable(s->tcp);
                else
                    tcp_nagle_enable(s->tcp);
            }
            return 0;
        }
    }
    return fail(ENOPROTOOPT);
}

int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    if (!value || !len)
        return fail(EFAULT);
    int v;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR:
            xp_net_pump();
            v = s->error;
            s->error = 0;
            break;
        case SO_TYPE:      v = s->type; break;
        case SO_REUSEADDR: v = s->reuseaddr; break;
        case SO_KEEPALIVE: v = s->keepalive; break;
        case SO_RCVBUF:    v = s->rcvbuf ? s->rcvbuf : TCP_WND; break;
        case SO_SNDBUF:    v = s->sndbuf ? s->sndbuf : TCP_SND_BUF; break;
        case SO_ACCEPTCONN: v = s->state == S_LISTENING; break;
        case SO_LINGER: {
            struct linger l = { s->linger_reset, 0 };
            if (*len < (socklen_t)sizeof l)
                return fail(EINVAL);
            memcpy(value, &l, sizeof l);
            *len = sizeof l;
            return 0;
        }
        default:
            return fail(ENOPROTOOPT);
        }
    } else if (level == IPPROTO_TCP && name == TCP_NODELAY && s->type == SOCK_STREAM) {
        v = s->nodelay;
    } else {
        return fail(ENOPROTOOPT);
    }
    if (*len < (socklen_t)sizeof v)
        return fail(EINVAL);
    memcpy(value, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

int xp_socket_fcntl(int fd, int cmd, long arg)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    switch (cmd) {
    case F_GETFL:
        return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        s->nonblock = (arg & O_NONBLOCK) != 0;
        return 0;
    case F_GETFD:
        return FD_CLOEXEC;
    case F_SETFD:
        return 0;
    default:
        return fail(EINVAL);
    }
}

int xp_socket_ioctl(int fd, unsigned long request, void *arg)
{
    struct sock *s = get(fd);
    if (!s)
        return -1;
    if (request == FIONBIO && arg) {
        s->nonblock = *(int *)arg != 0;
        return 0;
    }
    if (request == FIONREAD && arg) {
        xp_net_pump();
        *(int *)arg = s->type == SOCK_DGRAM ? (s->dq_len ? s->dq[s->dq_head].p->tot_len : 0)
                                            : (s->rx ? s->rx->tot_len : 0);
        return 0;
    }
    return fail(ENOTTY);
}

/* --- poll --------------------------------------------------------------------------- */

static short revents_of(struct pollfd *p)
{
    struct sock *s = xp_socket_fd(p->fd) ? &socks[p->fd - XP_SOCKET_FD_BASE] : 0;
    if (p->fd < 0)
        return 0;
    if (!s || !s->used)
        return POLLNVAL;
    short r = 0;
    if (s->type == SOCK_DGRAM) {
        if (s->dq_len)
            r |= POLLIN;
        r |= POLLOUT;
    } else if (s->state == S_LISTENING) {
        if (s->npending)
            r |= POLLIN;
    } else {
        if (s->rx || s->fin)
            r |= POLLIN;
        if (s->fin)
            r |= POLLRDHUP;
        if (send_room(s) > 0 && !s->shut_wr)
            r |= POLLOUT;
        if (s->error)
            r |= POLLERR;
        if (s->state == S_DEAD || (s->fin && s->shut_wr))
            r |= POLLHUP | POLLIN;
    }
    return r & (p->events | POLLERR | POLLHUP | POLLNVAL);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    uint64_t deadline = timeout > 0 ? xp_monotonic_ns() + (uint64_t)timeout * 1000000ULL : 0;
    unsigned long signals = xp_signals_delivered();
    for (;;) {
        xp_net_pump();
        int ready = 0;
        for (nfds_t i = 0; i < n; i++) {
            fds[i].revents = revents_of(&fds[i]);
            if (fds[i].revents)
                ready++;
        }
        if (ready || timeout == 0)
            return ready;
        if (timeout > 0 && xp_monotonic_ns() >= deadline)
            return 0;
        xp_wait_step(deadline);
        if (xp_signals_delivered() != signals)
            return fail(EINTR);
    }
}

/* --- names --------------------------------------------------------------------------- */

struct lookup {
    int done;
    int found;
    ip4_addr_t addr;
};

static void dns_found(const char *name, const ip_addr_t *ip, void *arg)
{
    struct lookup *l = arg;
    l->done = 1;
    if (ip) {
        l->found = 1;
        ip4_addr_copy(l->addr, *ip_2_ip4(ip));
    }
}

/* A name's IPv4 address: a dotted quad, or a DNS query through lwIP (the servers
   DHCP named, or --xen-net's); EAI_* on failure. */
static int resolve(const char *node, ip4_addr_t *out)
{
    if (ip4addr_aton(node, out))
        return 0;
    if (strcmp(node, "localhost") == 0) {
        ip4_addr_set_u32(out, PP_HTONL(0x7f000001UL));
        return 0;
    }
    if (!xp_net_up())
        return EAI_NONAME;
    if (strlen(node) > 255)
        return EAI_NONAME;
    static struct lookup l;            /* the callback may come after a timeout */
    memset(&l, 0, sizeof l);
    ip_addr_t ip;
    err_t e = dns_gethostbyname(node, &ip, dns_found, &l);
    if (e == ERR_OK) {
        ip4_addr_copy(*out, *ip_2_ip4(&ip));
        return 0;
    }
    if (e != ERR_INPROGRESS)
        return EAI_NONAME;
    uint64_t deadline = xp_monotonic_ns() + DNS_WAIT_NS;
    while (!l.done && xp_monotonic_ns() < deadline) {
        xp_net_pump();
        if (!l.done)
            xp_wait_step(deadline);
    }
    if (!l.done)
        return EAI_AGAIN;
    if (!l.found)
        return EAI_NONAME;
    *out = l.addr;
    return 0;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    *res = 0;
    if (hints && hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET)
        return EAI_FAMILY;
    if (!node && !service)
        return EAI_NONAME;
    ip4_addr_t ip;
    ip4_addr_set_zero(&ip);
    if (node) {
        if (hints && (hints->ai_flags & AI_NUMERICHOST)) {
            if (!ip4addr_aton(node, &ip))
                return EAI_NONAME;
        } else {
            int rc = resolve(node, &ip);
            if (rc)
                return rc;
        }
    } else if (!(hints && (hints->ai_flags & AI_PASSIVE))) {
        ip4_addr_set_u32(&ip, PP_HTONL(0x7f000001UL));
    }
    long port = 0;
    if (service) {
        char *end;
        port = strtol(service, &end, 10);
        if (*end || port < 0 || port > 65535)
            return EAI_SERVICE;
    }
    struct {
        struct addrinfo ai;
        struct sockaddr_in sin;
        char name[256];
    } *r = calloc(1, sizeof *r);
    if (!r)
        return EAI_MEMORY;
    r->sin.sin_family = AF_INET;
    r->sin.sin_port = htons((uint16_t)port);
    r->sin.sin_addr.s_addr = ip4_addr_get_u32(&ip);
    r->ai.ai_family = AF_INET;
    r->ai.ai_socktype = hints && hints->ai_socktype ? hints->ai_socktype : SOCK_STREAM;
    r->ai.ai_protocol = hints ? hints->ai_protocol : 0;
    r->ai.ai_addrlen = sizeof r->sin;
    r->ai.ai_addr = (struct sockaddr *)&r->sin;
    if (node && hints && (hints->ai_flags & AI_CANONNAME)) {
        strncpy(r->name, node, sizeof r->name - 1);
        r->ai.ai_canonname = r->name;
    }
    *res = &r->ai;
    return 0;
}

void freeaddrinfo(struct addrinfo *res)
{
    free(res);                          /* one block: the answer holds a single address */
}

int getnameinfo(const struct sockaddr *addr, socklen_t alen, char *host, socklen_t hlen,
                char *serv, socklen_t slen, int flags)
{
    /* No reverse DNS: the numeric form when asked for it, else no name. */
    if (!addr || alen < (socklen_t)sizeof(struct sockaddr_in) || addr->sa_family != AF_INET)
        return EAI_FAMILY;
    if (!(flags & NI_NUMERICHOST))
        return EAI_NONAME;
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    if (host && hlen) {
        ip4_addr_t ip;
        ip4_addr_set_u32(&ip, in->sin_addr.s_addr);
        if (!ip4addr_ntoa_r(&ip, host, (int)hlen))
            return EAI_OVERFLOW;
    }
    if (serv && slen) {
        char text[8];
        int n = 0, p = ntohs(in->sin_port);
        char digits[6];
        int k = 0;
        do {
            digits[k++] = (char)('0' + p % 10);
            p /= 10;
        } while (p);
        while (k)
            text[n++] = digits[--k];
        text[n] = 0;
        if ((socklen_t)n + 1 > slen)
            return EAI_OVERFLOW;
        memcpy(serv, text, (size_t)n + 1);
    }
    return 0;
}

struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
    return 0;                           /* no reverse DNS */
}

int ioctl(int fd, int request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (xp_socket_fd(fd))
        return xp_socket_ioctl(fd, (unsigned long)request, arg);
    return fail(fd >= 0 && fd < XP_SOCKET_FD_BASE ? ENOTTY : EBADF);
}

int dup3(int oldfd, int newfd, int flags)
{
    errno = EBADF;
    return -1;
}
