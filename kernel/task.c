/*
 * task.c - the task list, pids and task references.
 *
 * Every task is on task_list from sched_task_init() until its last
 * reference is dropped; tasklist_lock guards the list and the pid
 * counter, and nothing but printk is taken under it. A task struct and
 * its stack are freed by put_task_struct() when the count reaches 0:
 * the task itself holds one reference until it is reaped (kthread.c).
 */
#include "kthread.h"
#include "mm.h"
#include "sched.h"

LIST_HEAD(task_list);
DEFINE_SPINLOCK_CLASS(tasklist_lock, LOCK_CLASS_TASKLIST);
static int next_pid = 1;

/* Give p the next pid and put it on the task list. */
void task_list_add(struct task_struct *p)
{
	unsigned long flags = spin_lock_irqsave(&tasklist_lock);
	p->pid = next_pid++;
	list_add_tail(&p->tasks, &task_list);
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

void get_task_struct(struct task_struct *p)
{
	__atomic_fetch_add(&p->refcount, 1, __ATOMIC_RELAXED);
}

void put_task_struct(struct task_struct *p)
{
	if (__atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	unsigned long flags = spin_lock_irqsave(&tasklist_lock);
	list_del_init(&p->tasks);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	free_kernel_stack(p->stack);
	kfree(p->kthread);
	kfree(p);
}

struct task_struct *find_task_by_pid(int pid)
{
	struct task_struct *p, *found = NULL;
	unsigned long flags = spin_lock_irqsave(&tasklist_lock);
	list_for_each_entry(p, &task_list, tasks) {
		if (p->pid == pid && p->state != TASK_DEAD) {
			get_task_struct(p);
			found = p;
			break;
		}
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return found;
}
