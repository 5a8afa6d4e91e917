/* xenport: the socket calls of the C library, for a guest without a network yet.
 *
 * The translated VM's SocketPlugin makes these calls (spyvm/platform/network.py).
 * Until the guest has a TCP/IP stack and a network device (lwIP over netfront or
 * virtio-net), every call fails as a Linux kernel without networking would:
 * socket() with EAFNOSUPPORT, so the image's socket primitives fail cleanly, and
 * name lookups with "no such name". No socket is ever made, so nothing else is
 * reached; the rest fail with EBADF for a descriptor that is not a socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Byte order: the guest is little-endian x86-64. */
uint32_t htonl(uint32_t x) { return __builtin_bswap32(x); }
uint32_t ntohl(uint32_t x) { return __builtin_bswap32(x); }
uint16_t htons(uint16_t x) { return __builtin_bswap16(x); }
uint16_t ntohs(uint16_t x) { return __builtin_bswap16(x); }

static int not_a_socket(void)
{
    errno = EBADF;
    return -1;
}

int socket(int domain, int type, int protocol)
{
    errno = EAFNOSUPPORT;
    return -1;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) { return not_a_socket(); }
int listen(int fd, int backlog) { return not_a_socket(); }
int accept(int fd, struct sockaddr *addr, socklen_t *len) { return not_a_socket(); }
int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) { return not_a_socket(); }
int connect(int fd, const struct sockaddr *addr, socklen_t len) { return not_a_socket(); }
int getsockname(int fd, struct sockaddr *addr, socklen_t *len) { return not_a_socket(); }
int getpeername(int fd, struct sockaddr *addr, socklen_t *len) { return not_a_socket(); }

int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
    return not_a_socket();
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    return not_a_socket();
}

ssize_t send(int fd, const void *buf, size_t len, int flags) { return not_a_socket(); }
ssize_t recv(int fd, void *buf, size_t len, int flags) { return not_a_socket(); }

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
               const struct sockaddr *addr, socklen_t alen)
{
    return not_a_socket();
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                 struct sockaddr *addr, socklen_t *alen)
{
    return not_a_socket();
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    /* Only sockets are polled, and there are none. */
    for (nfds_t i = 0; i < n; i++)
        fds[i].revents = POLLNVAL;
    return (int)n;
}

int ioctl(int fd, int request, ...) { return not_a_socket(); }

int dup3(int oldfd, int newfd, int flags)
{
    errno = EBADF;
    return -1;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    *res = 0;
    return EAI_NONAME;
}

void freeaddrinfo(struct addrinfo *res) { }

int getnameinfo(const struct sockaddr *addr, socklen_t alen, char *host, socklen_t hlen,
                char *serv, socklen_t slen, int flags)
{
    return EAI_NONAME;
}

struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
    return 0;
}
