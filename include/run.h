/* The set of probes of one run: targets from the command line and/or a
 * targets file, at most --concurrency in flight, --per-host and --rate
 * limits, each result rendered as it finishes (batch) or in order at the
 * end (targets on the command line). Memory is bounded by the concurrency,
 * not by the number of targets. */
#ifndef SP_RUN_H
#define SP_RUN_H

#include <stdio.h>
#include "probe.h"

struct run_counts {
	size_t total;
	size_t by_status[ST_UNKNOWN + 1];
};

/* Runs every target; returns the worst status. targets_file is borrowed
 * (NULL: none). Nothing stops the run but running out of memory, which
 * exits (xmalloc.h). */
enum status run_all(const struct probe_env *env, FILE *targets_file,
                    struct run_counts *counts);

#endif
