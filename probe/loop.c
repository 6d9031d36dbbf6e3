/* epoll + a binary heap of timers. Callbacks may add or remove fds and
 * timers (their own included) freely: each fd slot carries a generation so a
 * stale event for a closed-and-reused fd number is dropped. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "xmalloc.h"

struct fd_slot {
	loop_fd_cb cb;           /* NULL: not registered */
	void *arg;
	uint32_t gen;
};

struct loop {
	int ep;
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

struct loop *loop_new(char *err, size_t errlen)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->ep);
	free(l->fds);
	free(l->heap);
	free(l);
}

static uint32_t ep_events(unsigned events)
{
	uint32_t e = 0;

	if (events & LOOP_READ)
		e |= EPOLLIN;
	if (events & LOOP_WRITE)
		e |= EPOLLOUT;
	return e;
}

int loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
	struct epoll_event ev;
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
	l->fds[fd].gen++;
	memset(&ev, 0, sizeof(ev));
	ev.events = ep_events(events);
	ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)l->fds[fd].gen << 32);
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	l->fds[fd].cb = cb;
	l->fds[fd].arg = arg;
	l->nwatched++;
	return 0;
}

void loop_mod_fd(struct loop *l, int fd, unsigned events)
{
	struct epoll_event ev;

	if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].cb == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = ep_events(events);
	ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)l->fds[fd].gen << 32);
	/* On a descriptor that ADD accepted, the kernel's only failure is
	 * ENOMEM: the same policy as ours. */
	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) != 0)
		xmalloc_fatal("epoll_ctl");
}

void loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].cb == NULL)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
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
	struct epoll_event evs[64];

	l->stop = false;
	while (!l->stop && (l->nwatched > 0 || l->nheap > 0)) {
		int timeout = -1, n, i;
		double now = loop_now();

		if (l->nheap > 0) {
			double d = l->heap[0]->when - now;

			timeout = d <= 0 ? 0 : (int)(d + 0.999);
		}
		n = epoll_wait(l->ep, evs, 64, timeout);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n && !l->stop; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			unsigned what = 0;
			struct fd_slot *s;

			if ((size_t)fd >= l->nfds)
				continue;
			s = &l->fds[fd];
			if (s->cb == NULL || s->gen != gen)
				continue;    /* removed by an earlier callback */
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				what |= LOOP_READ;
			if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				what |= LOOP_WRITE;
			s->cb(l, fd, what, s->arg);
		}
		now = loop_now();
		while (!l->stop && l->nheap > 0 && l->heap[0]->when <= now) {
			struct loop_timer *t = l->heap[0];

			loop_timer_stop(l, t);
			t->cb(l, t->arg);
		}
	}
}
