/* A readiness loop + a binary heap of timers. Two backends, chosen at build
 * time as redis' ae.c does: epoll (Linux, the default) or poll(2) (any POSIX
 * system: `make LOOP=poll`, and the only one off Linux). Callbacks may add or
 * remove fds and timers (their own included) freely: each fd slot carries a
 * generation so a stale event for a closed-and-reused fd number is dropped. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if !defined(LOOP_POLL) && !defined(__linux__)
#define LOOP_POLL 1              /* epoll is Linux-only */
#endif
#ifdef LOOP_POLL
#include <poll.h>
#else
#include <sys/epoll.h>
#endif

#include "loop.h"
#include "xmalloc.h"

struct fd_slot {
	loop_fd_cb cb;           /* NULL: not registered */
	void *arg;
	uint32_t gen;
#ifdef LOOP_POLL
	size_t pidx;             /* its entry in pfds while registered */
#endif
};

/* One ready fd as the backend reported it, recorded before any callback
 * runs (a callback may close and reuse fd numbers). */
struct ready {
	int fd;
	uint32_t gen;
	unsigned what;
};

#define LOOP_MAX_EVENTS 64

struct loop {
#ifdef LOOP_POLL
	struct pollfd *pfds;     /* owned, dense: one per registered fd */
	struct ready *rdy;       /* owned, as long as pfds */
	size_t cappfds;
#else
	int ep;
	struct epoll_event evs[LOOP_MAX_EVENTS];
	struct ready rdy[LOOP_MAX_EVENTS];
#endif
	struct fd_slot *fds;     /* owned, indexed by fd */
	size_t nfds;
	size_t nwatched;
	struct loop_timer **heap;/* owned array of borrowed timers */
	size_t nheap, capheap;
	bool stop;
};

double loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- backends: init, free, add, mod, del, wait ---- */

#ifdef LOOP_POLL

static int backend_init(struct loop *l, char *err, size_t errlen)
{
	(void)l;
	(void)err;
	(void)errlen;
	return 0;
}

static void backend_free(struct loop *l)
{
	free(l->pfds);
	free(l->rdy);
}

static short poll_events(unsigned events)
{
	short e = 0;

	if (events & LOOP_READ)
		e |= POLLIN;
	if (events & LOOP_WRITE)
		e |= POLLOUT;
	return e;
}

static int backend_add(struct loop *l, int fd, unsigned events)
{
	if (l->nwatched == l->cappfds) {
		size_t n = l->cappfds ? l->cappfds * 2 : 64;

		l->pfds = xreallocarray(l->pfds, n, sizeof(*l->pfds));
		l->rdy = xreallocarray(l->rdy, n, sizeof(*l->rdy));
		l->cappfds = n;
	}
	l->pfds[l->nwatched].fd = fd;
	l->pfds[l->nwatched].events = poll_events(events);
	l->pfds[l->nwatched].revents = 0;
	l->fds[fd].pidx = l->nwatched;
	return 0;
}

static void backend_mod(struct loop *l, int fd, unsigned events)
{
	l->pfds[l->fds[fd].pidx].events = poll_events(events);
}

/* The last entry moves into the hole. */
static void backend_del(struct loop *l, int fd)
{
	size_t i = l->fds[fd].pidx, last = l->nwatched - 1;

	if (i != last) {
		l->pfds[i] = l->pfds[last];
		l->fds[l->pfds[i].fd].pidx = i;
	}
}

/* The number of ready fds, recorded in l->rdy; -1 on error. */
static int backend_wait(struct loop *l, int timeout)
{
	size_t i, k = 0;
	int n = poll(l->pfds, (nfds_t)l->nwatched, timeout);

	for (i = 0; n > 0 && i < l->nwatched; i++) {
		short re = l->pfds[i].revents;
		unsigned what = 0;

		if (re == 0)
			continue;
		if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			what |= LOOP_READ;
		if (re & (POLLOUT | POLLHUP | POLLERR | POLLNVAL))
			what |= LOOP_WRITE;
		l->rdy[k].fd = l->pfds[i].fd;
		l->rdy[k].gen = l->fds[l->pfds[i].fd].gen;
		l->rdy[k].what = what;
		k++;
	}
	return n < 0 ? -1 : (int)k;
}

#else /* epoll */

static int backend_init(struct loop *l, char *err, size_t errlen)
{
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void backend_free(struct loop *l)
{
	close(l->ep);
}

/* The fd and its generation travel in the event's data. */
static int ep_ctl(struct loop *l, int op, int fd, unsigned events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	if (events & LOOP_READ)
		ev.events |= EPOLLIN;
	if (events & LOOP_WRITE)
		ev.events |= EPOLLOUT;
	ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)l->fds[fd].gen << 32);
	return epoll_ctl(l->ep, op, fd, &ev);
}

static int backend_add(struct loop *l, int fd, unsigned events)
{
	return ep_ctl(l, EPOLL_CTL_ADD, fd, events);
}

static void backend_mod(struct loop *l, int fd, unsigned events)
{
	/* On a descriptor that ADD accepted, the kernel's only failure is
	 * ENOMEM: the same policy as ours. */
	if (ep_ctl(l, EPOLL_CTL_MOD, fd, events) != 0)
		xmalloc_fatal("epoll_ctl");
}

static void backend_del(struct loop *l, int fd)
{
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
}

static int backend_wait(struct loop *l, int timeout)
{
	int n = epoll_wait(l->ep, l->evs, LOOP_MAX_EVENTS, timeout), i;

	for (i = 0; i < n; i++) {
		uint32_t e = l->evs[i].events;

		l->rdy[i].fd = (int)(uint32_t)l->evs[i].data.u64;
		l->rdy[i].gen = (uint32_t)(l->evs[i].data.u64 >> 32);
		l->rdy[i].what = ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? LOOP_READ : 0U) |
		                 ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ? LOOP_WRITE : 0U);
	}
	return n;
}

#endif

struct loop *loop_new(char *err, size_t errlen)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	if (backend_init(l, err, errlen) != 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	backend_free(l);
	free(l->fds);
	free(l->heap);
	free(l);
}

int loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
	size_t need = (size_t)fd + 1;

	if (fd < 0)
		return -1;
	if (need > l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		struct fd_slot *p;

		while (n < need)
			n *= 2;
		p = xreallocarray(l->fds, n, sizeof(*p));
		memset(p + l->nfds, 0, (n - l->nfds) * sizeof(*p));
		l->fds = p;
		l->nfds = n;
	}
	if (l->fds[fd].cb != NULL)
		return -1;               /* already registered (epoll: EEXIST) */
	l->fds[fd].gen++;
	if (backend_add(l, fd, events) < 0)
		return -1;
	l->fds[fd].cb = cb;
	l->fds[fd].arg = arg;
	l->nwatched++;
	return 0;
}

void loop_mod_fd(struct loop *l, int fd, unsigned events)
{
	if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].cb == NULL)
		return;
	backend_mod(l, fd, events);
}

void loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].cb == NULL)
		return;
	backend_del(l, fd);
	l->fds[fd].cb = NULL;
	l->fds[fd].arg = NULL;
	l->fds[fd].gen++;
	l->nwatched--;
}

/* ---- timer heap ---- */

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = a;
	l->heap[b]->idx = b;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (l->heap[p]->when <= l->heap[i]->when)
			break;
		heap_swap(l, p, i);
		i = p;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;

		if (c < l->nheap && l->heap[c]->when < l->heap[m]->when)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[m]->when)
			m = c + 1;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}

void loop_timer_init(struct loop_timer *t, loop_timer_cb cb, void *arg)
{
	t->when = 0;
	t->cb = cb;
	t->arg = arg;
	t->idx = (size_t)-1;
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
	size_t i = t->idx;

	if (i == (size_t)-1)
		return;
	t->idx = (size_t)-1;
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	l->heap[i]->idx = i;
	heap_up(l, i);
	heap_down(l, l->heap[i]->idx);
}

void loop_timer_set(struct loop *l, struct loop_timer *t, double ms)
{
	loop_timer_stop(l, t);
	if (l->nheap == l->capheap) {
		size_t n = l->capheap ? l->capheap * 2 : 64;

		l->heap = xreallocarray(l->heap, n, sizeof(*l->heap));
		l->capheap = n;
	}
	t->when = loop_now() + (ms > 0 ? ms : 0);
	t->idx = l->nheap;
	l->heap[l->nheap++] = t;
	heap_up(l, t->idx);
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

void loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop && (l->nwatched > 0 || l->nheap > 0)) {
		int timeout = -1, n, i;
		double now = loop_now();

		if (l->nheap > 0) {
			double d = l->heap[0]->when - now;

			timeout = d <= 0 ? 0 : (int)(d + 0.999);
		}
		n = backend_wait(l, timeout);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n && !l->stop; i++) {
			const struct ready *r = &l->rdy[i];
			struct fd_slot *s;

			if (r->fd < 0 || (size_t)r->fd >= l->nfds)
				continue;
			s = &l->fds[r->fd];
			if (s->cb == NULL || s->gen != r->gen)
				continue;    /* removed by an earlier callback */
			s->cb(l, r->fd, r->what, s->arg);
		}
		now = loop_now();
		while (!l->stop && l->nheap > 0 && l->heap[0]->when <= now) {
			struct loop_timer *t = l->heap[0];

			loop_timer_stop(l, t);
			t->cb(l, t->arg);
		}
	}
}

const char *loop_backend(void)
{
#ifdef LOOP_POLL
	return "poll";
#else
	return "epoll";
#endif
}
