/*
 * kthread.h - kernel threads, Linux's API.
 *
 * kthread_create() returns a sleeping thread (start it with
 * wake_up_process()); it runs fn(data) and exits with its return value.
 * kthread_stop() asks it to stop (it must poll kthread_should_stop())
 * and waits for it. The park calls are the per-hart thread model of
 * Linux's smpboot: a parked thread sleeps in kthread_parkme() until
 * unparked. All of these may sleep except kthread_should_*().
 */
#ifndef HARTSTOP_KTHREAD_H
#define HARTSTOP_KTHREAD_H

#include "sched.h"
#include "wait.h"

struct kthread {
	int (*fn)(void *data);
	void *data;
	unsigned long flags; /* KTHREAD_* bits */
	int result;
	int bound_cpu; /* -1 unless per-cpu (kthread_create_on_cpu) */
	struct completion exited;
	struct completion parked;
};
#define KTHREAD_SHOULD_STOP 0
#define KTHREAD_SHOULD_PARK 1
#define KTHREAD_IS_PARKED   2
#define KTHREAD_PARKING	    3 /* a kthread_park() owns the request until unpark */

__attribute__((format(printf, 3, 4))) struct task_struct *
kthread_create(int (*fn)(void *data), void *data, const char *namefmt, ...);
/* namefmt may use %u for the cpu, as "migration/%u". */
struct task_struct *kthread_create_on_cpu(int (*fn)(void *data), void *data, int cpu,
					  const char *namefmt);
struct task_struct *kthread_run_on_cpu(int (*fn)(void *data), void *data, int cpu,
				       const char *namefmt);
/* kthread_run_on_cpu(), holding a reference for the caller, who ends it
 * with kthread_reap() (or kthread_wait_exit() and put_task_struct()). */
struct task_struct *kthread_start_on_cpu(int (*fn)(void *data), void *data, int cpu,
					 const char *namefmt);
void kthread_bind(struct task_struct *p, int cpu);
int kthread_stop(struct task_struct *p);
bool kthread_should_stop(void);
bool kthread_should_park(void);
int kthread_park(struct task_struct *p);
void kthread_unpark(struct task_struct *p);
void kthread_parkme(void);
bool kthread_is_per_cpu(const struct task_struct *p);
/* Wait for a thread to exit (caller holds a reference): its result. */
int kthread_wait_exit(struct task_struct *p);
/* Wait for exit, then drop the caller's reference once the thread is
 * fully switched out, so that it is freed before this returns. */
void kthread_reap(struct task_struct *p);

/* Internal: do_exit() reports the result. */
void kthread_exit_notify(struct task_struct *p, int code);
void sched_task_init(struct task_struct *p, const char *name);

#endif
