/* What differs between Linux and the BSDs/macOS, in one place. Linux-only
 * calls (epoll, signalfd, accept4, SOCK_NONBLOCK, MSG_NOSIGNAL) stay behind
 * these checks so the code builds elsewhere; CI builds and tests Linux with
 * both loop backends (epoll and poll, the one used off Linux). */
#ifndef SP_COMPAT_H
#define SP_COMPAT_H

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0               /* macOS: main() ignores SIGPIPE instead */
#endif

#ifndef SOCK_NONBLOCK
/* Where socket() and accept() take no flags, fcntl sets them after. */
static inline int compat_fd_flags(int fd)
{
	if (fd >= 0 && (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	                fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}
#endif

/* A non-blocking, close-on-exec socket. */
static inline int compat_socket(int family, int type)
{
#ifdef SOCK_NONBLOCK
	return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
	return compat_fd_flags(socket(family, type, 0));
#endif
}

/* accept() giving a non-blocking, close-on-exec fd. */
static inline int compat_accept(int lfd, struct sockaddr *addr, socklen_t *addrlen)
{
#if defined(SOCK_NONBLOCK) && (defined(__linux__) || defined(__FreeBSD__) || \
                               defined(__NetBSD__) || defined(__OpenBSD__))
	return accept4(lfd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	int fd = accept(lfd, addr, addrlen);

	if (fd >= 0 && (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	                fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
#endif
}

#endif
