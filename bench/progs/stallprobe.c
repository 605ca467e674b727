// stallprobe.c — how long a CPU stays unavailable: a cyclictest-style probe for bench/manage.bench.ts.
//
//   stallprobe CPU [PERIOD_US]
//
// Prints "ready", then one JSON line of what it saw on each SIGUSR1 (and starts counting
// afresh: a window per phase of the work observed) and a last one on SIGTERM/SIGINT.
//
// Pinned to CPU at SCHED_FIFO priority 90, it sleeps PERIOD_US (default 100) to an absolute
// deadline and notes how late it woke. At that priority nothing in user space delays it, so
// lateness is time the CPU spent where the kernel does not schedule (a long syscall on a kernel
// built without preemption, softirq work, interrupts): the stall the probe exists to catch. It
// sleeps most of the time, so the RT throttle (95% per second) never cuts in.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS 100001 // 1 µs each, the last one for everything from 100 ms on

static volatile sig_atomic_t stop, report;
static unsigned long hist[BUCKETS];

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

// One window's figures as a JSON line; then the window starts afresh.
static void print_window(unsigned long *n, long long *worst)
{
	unsigned long seen = 0, p99 = 0, p999 = 0, over100us = 0, over1ms = 0;
	for (long i = 0; i < BUCKETS; i++) {
		seen += hist[i];
		if (!p99 && seen * 100 >= *n * 99)
			p99 = i;
		if (!p999 && seen * 1000 >= *n * 999)
			p999 = i;
		if (i >= 100)
			over100us += hist[i];
		if (i >= 1000)
			over1ms += hist[i];
	}
	printf("{\"wakeups\":%lu,\"maxUs\":%.1f,\"p99Us\":%lu,\"p999Us\":%lu,\"over100us\":%lu,\"over1ms\":%lu}\n",
	       *n, *worst / 1000.0, p99, p999, over100us, over1ms);
	fflush(stdout);
	memset(hist, 0, sizeof(hist));
	*n = 0;
	*worst = 0;
}

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: stallprobe CPU [PERIOD_US]\n");
		return 2;
	}
	int cpu = atoi(argv[1]);
	long period = (argc > 2 ? atol(argv[2]) : 100) * 1000;
	long long log_over = getenv("STALL_LOG") ? atoll(getenv("STALL_LOG")) * 1000 : 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("stallprobe: sched_setaffinity");
		return 1;
	}
	struct sched_param sp = { .sched_priority = 90 };
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		perror("stallprobe: sched_setscheduler");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	printf("ready\n");
	fflush(stdout);

	struct timespec next, now;
	clock_gettime(CLOCK_MONOTONIC, &next);
	unsigned long n = 0;
	long long worst = 0;
	while (!stop) {
		if (report) { // a window ends: report it, go on from now
			report = 0;
			print_window(&n, &worst);
			clock_gettime(CLOCK_MONOTONIC, &next);
		}
		next.tv_nsec += period;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			continue; // a signal: a window ends, or the probe
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long late = ns(&now) - ns(&next);
		if (late < 0)
			late = 0;
		if (late > worst)
			worst = late;
		if (log_over && late >= log_over) // STALL_LOG=µs: each long one, to place it in time
			fprintf(stderr, "stall cpu %d at %lld ns (CLOCK_MONOTONIC): %lld us\n", cpu, ns(&next), late / 1000);
		long long us = late / 1000;
		hist[us < BUCKETS - 1 ? us : BUCKETS - 1]++;
		n++;
		// Far behind (a stall longer than a period): start again from now, so one stall is
		// counted once, not as a run of late wake-ups.
		if (late > period)
			next = now;
	}
	print_window(&n, &worst);
	return 0;
}
