/* xenport: the descriptors of sockets (net/socket.c), for the calls on
   descriptors that files and sockets share (close, fcntl; files.c). */
#ifndef XENPORT_NET_SOCKET_H
#define XENPORT_NET_SOCKET_H

/* Sockets are numbered from here up; files and the console streams below. */
#define XP_SOCKET_FD_BASE 64

int xp_socket_fd(int fd);
int xp_socket_close(int fd);
int xp_socket_fcntl(int fd, int cmd, long arg);
int xp_socket_ioctl(int fd, unsigned long request, void *arg);
/* The sockets in use (the hosted network test checks they all get freed). */
int xp_socket_count(void);

#endif
