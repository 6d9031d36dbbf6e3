/* Unit tests for the event loop, whichever backend this build uses (epoll,
 * or poll with `make LOOP=poll`): readiness, mod, del, many fds, a callback
 * that closes another ready fd (its stale event is dropped, even when the fd
 * number is reused at once), timer order and cancellation. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "t.h"

#define NPAIRS 100

struct pair {
	int fd[2];
	int reads, writes;
	int replaced, after_replace, reused;
	struct pair *victim;     /* closed and replaced by this pair's callback */
};

static void on_fd(struct loop *l, int fd, unsigned events, void *arg)
{
	struct pair *p = arg;
	char buf[16];

	if (p->replaced)
		p->after_replace++;
	if (events & LOOP_READ) {
		p->reads++;
		if (read(fd, buf, sizeof(buf)) == 0)
			loop_del_fd(l, fd);
	}
	if (events & LOOP_WRITE) {
		p->writes++;
		loop_mod_fd(l, fd, LOOP_READ);
	}
	if (p->victim != NULL) {
		struct pair *v = p->victim;
		int old = v->fd[0];

		/* Close the victim (its event of this round may still be in the
		 * backend's list) and take its number again at once for a new
		 * socket with nothing to read: no callback may reach the victim. */
		loop_del_fd(l, old);
		close(old);
		close(v->fd[1]);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, v->fd) == 0 &&
		    fcntl(v->fd[0], F_SETFL, O_NONBLOCK) == 0) {
			v->reused = v->fd[0] == old &&
			            loop_add_fd(l, v->fd[0], LOOP_READ, on_fd, v) == 0;
		}
		v->replaced = 1;
		p->victim = NULL;
	}
}

static int order[4], norder;

static void on_timer(struct loop *l, void *arg)
{
	(void)l;
	order[norder++] = (int)(size_t)arg;
}

static void on_stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static void test_fds(void)
{
	char err[128];
	struct loop *l = loop_new(err, sizeof(err));
	static struct pair p[NPAIRS];
	struct loop_timer stop;
	int i, ok = 1, reads_ok = 1;

	T_CHECK("loop: new", l != NULL);
	if (l == NULL)
		return;
	for (i = 0; i < NPAIRS; i++) {
		p[i].reads = p[i].writes = 0;
		p[i].victim = NULL;
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, p[i].fd) != 0 ||
		    fcntl(p[i].fd[0], F_SETFL, O_NONBLOCK) != 0 ||
		    loop_add_fd(l, p[i].fd[0], LOOP_READ | LOOP_WRITE, on_fd, &p[i]) != 0)
			ok = 0;
	}
	T_CHECK("loop: add 100 fds", ok);
	T_CHECK("loop: add twice refused", loop_add_fd(l, p[0].fd[0], LOOP_READ, on_fd, &p[0]) != 0);
	for (i = 0; i < NPAIRS; i++)
		p[i].replaced = p[i].after_replace = p[i].reused = 0;
	p[10].victim = &p[11];
	/* Every fd is writable at once; the odd ones also get a byte to read. */
	for (i = 1; i < NPAIRS; i += 2)
		if (write(p[i].fd[1], "x", 1) != 1)
			ok = 0;
	loop_timer_init(&stop, on_stop, NULL);
	loop_timer_set(l, &stop, 200);
	loop_run(l);
	for (i = 0; i < NPAIRS; i++) {
		if (p[i].writes != 1 && i != 11)
			ok = 0;
		if (i % 2 == 1 && i != 11 && p[i].reads < 1)
			reads_ok = 0;
	}
	T_CHECK("loop: each writable once, then read-only (mod)", ok);
	T_CHECK("loop: the odd fds read their byte", reads_ok);
	T_CHECK("loop: the victim was replaced under its own fd number",
	        p[11].replaced && p[11].reused);
	T_CHECK("loop: the closed fd's pending event is not delivered", p[11].after_replace == 0);
	for (i = 0; i < NPAIRS; i++) {
		loop_del_fd(l, p[i].fd[0]);
		if (p[i].fd[0] >= 0)
			close(p[i].fd[0]);
		close(p[i].fd[1]);
	}
	loop_free(l);
}

static void test_timers(void)
{
	char err[128];
	struct loop *l = loop_new(err, sizeof(err));
	struct loop_timer t[4];

	if (l == NULL)
		return;
	norder = 0;
	loop_timer_init(&t[0], on_timer, (void *)1);
	loop_timer_init(&t[1], on_timer, (void *)2);
	loop_timer_init(&t[2], on_timer, (void *)3);
	loop_timer_init(&t[3], on_timer, (void *)4);
	loop_timer_set(l, &t[0], 30);
	loop_timer_set(l, &t[1], 10);
	loop_timer_set(l, &t[2], 20);
	loop_timer_set(l, &t[3], 5);
	loop_timer_stop(l, &t[3]);
	T_CHECK("timer: stopped one is not armed", !loop_timer_armed(&t[3]) && loop_timer_armed(&t[0]));
	loop_run(l);             /* returns when nothing is left */
	T_CHECK("timer: fired in order, the stopped one never",
	        norder == 3 && order[0] == 2 && order[1] == 3 && order[2] == 1);
	loop_free(l);
}

int main(void)
{
	printf("# loop backend: %s\n", loop_backend());
	test_fds();
	test_timers();
	T_DONE();
}
