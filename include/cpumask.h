/*
 * cpumask.h - fixed-size CPU sets of NR_CPUS bits, indexed by logical CPU.
 *
 * Plain operations are not atomic: a mask that several harts update
 * concurrently (cpu_online_mask) uses cpumask_set_cpu_atomic().
 */
#ifndef HARTSTOP_CPUMASK_H
#define HARTSTOP_CPUMASK_H

#include <stdbool.h>
#include <string.h>
#include "config.h"

#define BITS_PER_LONG	   64
#define CPUMASK_LONGS	   ((NR_CPUS + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define ALIGN_NEXT_WORD(c) (((c) / BITS_PER_LONG + 1) * BITS_PER_LONG)

typedef struct cpumask {
	unsigned long bits[CPUMASK_LONGS];
} cpumask_t;

static inline void cpumask_clear(cpumask_t *m)
{
	memset(m, 0, sizeof(*m));
}

static inline void cpumask_set_cpu(int cpu, cpumask_t *m)
{
	m->bits[cpu / BITS_PER_LONG] |= 1UL << (cpu % BITS_PER_LONG);
}

static inline void cpumask_clear_cpu(int cpu, cpumask_t *m)
{
	m->bits[cpu / BITS_PER_LONG] &= ~(1UL << (cpu % BITS_PER_LONG));
}

static inline void cpumask_set_cpu_atomic(int cpu, cpumask_t *m)
{
	__atomic_fetch_or(&m->bits[cpu / BITS_PER_LONG], 1UL << (cpu % BITS_PER_LONG),
			  __ATOMIC_SEQ_CST);
}

static inline void cpumask_clear_cpu_atomic(int cpu, cpumask_t *m)
{
	__atomic_fetch_and(&m->bits[cpu / BITS_PER_LONG], ~(1UL << (cpu % BITS_PER_LONG)),
			   __ATOMIC_SEQ_CST);
}

static inline bool cpumask_test_cpu(int cpu, const cpumask_t *m)
{
	if (cpu < 0 || cpu >= NR_CPUS)
		return false;
	return (__atomic_load_n(&m->bits[cpu / BITS_PER_LONG], __ATOMIC_RELAXED) >>
		(cpu % BITS_PER_LONG)) &
	       1;
}

static inline void cpumask_copy(cpumask_t *dst, const cpumask_t *src)
{
	*dst = *src;
}

/* dst = a & b; returns true if the result is not empty. */
static inline bool cpumask_and(cpumask_t *dst, const cpumask_t *a, const cpumask_t *b)
{
	unsigned long any = 0;
	for (int i = 0; i < CPUMASK_LONGS; i++)
		any |= (dst->bits[i] = a->bits[i] & b->bits[i]);
	return any != 0;
}

static inline void cpumask_or(cpumask_t *dst, const cpumask_t *a, const cpumask_t *b)
{
	for (int i = 0; i < CPUMASK_LONGS; i++)
		dst->bits[i] = a->bits[i] | b->bits[i];
}

static inline void cpumask_andnot(cpumask_t *dst, const cpumask_t *a, const cpumask_t *b)
{
	for (int i = 0; i < CPUMASK_LONGS; i++)
		dst->bits[i] = a->bits[i] & ~b->bits[i];
}

static inline bool cpumask_empty(const cpumask_t *m)
{
	for (int i = 0; i < CPUMASK_LONGS; i++)
		if (m->bits[i])
			return false;
	return true;
}

static inline bool cpumask_equal(const cpumask_t *a, const cpumask_t *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static inline bool cpumask_intersects(const cpumask_t *a, const cpumask_t *b)
{
	for (int i = 0; i < CPUMASK_LONGS; i++)
		if (a->bits[i] & b->bits[i])
			return true;
	return false;
}

static inline bool cpumask_subset(const cpumask_t *a, const cpumask_t *b)
{
	for (int i = 0; i < CPUMASK_LONGS; i++)
		if (a->bits[i] & ~b->bits[i])
			return false;
	return true;
}

static inline int cpumask_weight(const cpumask_t *m)
{
	int n = 0;
	for (int i = 0; i < CPUMASK_LONGS; i++)
		n += __builtin_popcountl(m->bits[i]);
	return n;
}

/* The first set bit at or after @cpu, or NR_CPUS if none. */
static inline int cpumask_next_from(int cpu, const cpumask_t *m)
{
	while (cpu < NR_CPUS) {
		unsigned long w = m->bits[cpu / BITS_PER_LONG] >> (cpu % BITS_PER_LONG);
		if (w)
			return cpu + __builtin_ctzl(w);
		cpu = ALIGN_NEXT_WORD(cpu);
	}
	return NR_CPUS;
}
static inline int cpumask_first(const cpumask_t *m)
{
	return cpumask_next_from(0, m);
}

static inline int cpumask_next(int cpu, const cpumask_t *m)
{
	return cpumask_next_from(cpu + 1, m);
}

static inline int cpumask_last(const cpumask_t *m)
{
	int last = NR_CPUS, cpu;
	for (cpu = cpumask_first(m); cpu < NR_CPUS; cpu = cpumask_next(cpu, m))
		last = cpu;
	return last;
}

#define for_each_cpu(cpu, mask)                                                                    \
	for ((cpu) = cpumask_first(mask); (cpu) < NR_CPUS; (cpu) = cpumask_next((cpu), (mask)))

extern cpumask_t cpu_possible_mask_bits, cpu_online_mask_bits;
#define cpu_possible_mask	   (&cpu_possible_mask_bits)
#define cpu_online_mask		   (&cpu_online_mask_bits)
#define for_each_possible_cpu(cpu) for_each_cpu(cpu, cpu_possible_mask)
#define for_each_online_cpu(cpu)   for_each_cpu(cpu, cpu_online_mask)

static inline bool cpu_online(int cpu)
{
	return cpumask_test_cpu(cpu, cpu_online_mask);
}

static inline int cpumask_last_online(void)
{
	return cpumask_last(cpu_online_mask);
}

static inline int num_online_cpus(void)
{
	return cpumask_weight(cpu_online_mask);
}

/* Parse a hex mask ("0x3", "f") or a list ("0-3,6") into @m; -EINVAL if malformed. */
int cpumask_parse(const char *s, cpumask_t *m);
/* Format @m as a hex string into buf (as Linux shows cpus_allowed). */
char *cpumask_format(const cpumask_t *m, char *buf, int len);
/* Format @m as a list ("0-3,6"; "none" if empty) into buf, truncated to len. */
char *cpumask_format_list(const cpumask_t *m, char *buf, int len);

#endif
