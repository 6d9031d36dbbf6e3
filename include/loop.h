/* The event loop: epoll readiness for fds, a heap of monotonic timers.
 * Small enough to read in one sitting; everything in a run goes through it. */
#ifndef SP_LOOP_H
#define SP_LOOP_H

#include <stdbool.h>
#include <stddef.h>

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

struct loop;
typedef void (*loop_fd_cb)(struct loop *l, int fd, unsigned events, void *arg);
typedef void (*loop_timer_cb)(struct loop *l, void *arg);

/* Embedded in its owner; armed while idx != (size_t)-1. */
struct loop_timer {
	double when;             /* monotonic ms */
	loop_timer_cb cb;
	void *arg;
	size_t idx;              /* position in the heap, or (size_t)-1 */
};

struct loop *loop_new(char *err, size_t errlen);
void loop_free(struct loop *l);

/* 0, or -1 (errno set) when the descriptor cannot be watched. */
int loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
	__attribute__((warn_unused_result));
/* Changes what a watched descriptor waits for (nothing when it is not
 * watched). Out of memory is fatal (xmalloc.h), so this cannot fail. */
void loop_mod_fd(struct loop *l, int fd, unsigned events);
void loop_del_fd(struct loop *l, int fd);

void loop_timer_init(struct loop_timer *t, loop_timer_cb cb, void *arg);
/* (Re)arms t to fire after ms milliseconds. Cannot fail (out of memory
 * is fatal), so a step never runs without its deadline. */
void loop_timer_set(struct loop *l, struct loop_timer *t, double ms);
void loop_timer_stop(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t) { return t->idx != (size_t)-1; }

/* Runs until loop_stop() or nothing is left to wait for. */
void loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* Monotonic clock in milliseconds. */
double loop_now(void);

#endif
