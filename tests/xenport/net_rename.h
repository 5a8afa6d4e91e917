/* Forced include (-include) of xenport/net/socket.c in the hosted network test
 * (tests/xenport/test_net_host.py): socket.c defines the C library's socket
 * calls, which glibc has too.  The host's headers come first, under their own
 * names (glibc may define some of them as macros or inline wrappers); then
 * each name socket.c defines becomes xpt_NAME, declared here with socket.c's
 * (musl's) signature, for net_driver.c to call.
 */
#ifndef XENPORT_TEST_NET_RENAME_H
#define XENPORT_TEST_NET_RENAME_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* glibc's BSD TCP_MSS (512); musl has none and lwIP's options define it. */
#undef TCP_MSS
#undef htonl
#undef ntohl
#undef htons
#undef ntohs
#define htonl          xpt_htonl
#define ntohl          xpt_ntohl
#define htons          xpt_htons
#define ntohs          xpt_ntohs
#define socket         xpt_socket
#define bind           xpt_bind
#define listen         xpt_listen
#define accept4        xpt_accept4
#define accept         xpt_accept
#define connect        xpt_connect
#define recvfrom       xpt_recvfrom
#define recv           xpt_recv
#define sendto         xpt_sendto
#define send           xpt_send
#define shutdown       xpt_shutdown
#define getsockname    xpt_getsockname
#define getpeername    xpt_getpeername
#define setsockopt     xpt_setsockopt
#define getsockopt     xpt_getsockopt
#define poll           xpt_poll
#define getaddrinfo    xpt_getaddrinfo
#define freeaddrinfo   xpt_freeaddrinfo
#define getnameinfo    xpt_getnameinfo
#define gethostbyaddr  xpt_gethostbyaddr
#define ioctl          xpt_ioctl
#define dup3           xpt_dup3

uint32_t htonl(uint32_t x);
uint32_t ntohl(uint32_t x);
uint16_t htons(uint16_t x);
uint16_t ntohs(uint16_t x);
int socket(int domain, int type, int protocol);
int bind(int fd, const struct sockaddr *addr, socklen_t len);
int listen(int fd, int backlog);
int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int accept(int fd, struct sockaddr *addr, socklen_t *len);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                 socklen_t *alen);
ssize_t recv(int fd, void *buf, size_t len, int flags);
ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
               socklen_t alen);
ssize_t send(int fd, const void *buf, size_t len, int flags);
int shutdown(int fd, int how);
int getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int setsockopt(int fd, int level, int name, const void *value, socklen_t len);
int getsockopt(int fd, int level, int name, void *value, socklen_t *len);
int poll(struct pollfd *fds, nfds_t n, int timeout);
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res);
void freeaddrinfo(struct addrinfo *res);
int getnameinfo(const struct sockaddr *addr, socklen_t alen, char *host, socklen_t hlen,
                char *serv, socklen_t slen, int flags);
struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type);
int ioctl(int fd, int request, ...);
int dup3(int oldfd, int newfd, int flags);

#endif
