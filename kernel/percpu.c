/*
 * percpu.c - allocation of the per-cpu area copies (see percpu.h).
 */
#include <string.h>
#include "kernel.h"
#include "mm.h"
#include "percpu.h"
#include "entry.h"

unsigned long __per_cpu_offset[NR_CPUS];

/* Boot hart only, after the page allocator and before any secondary runs. */
void setup_per_cpu_areas(int ncpus)
{
	size_t size = (uintptr_t)__percpu_end - (uintptr_t)__percpu_start;
	int order = 0;
	while ((PAGE_SIZE << order) < size)
		order++;
	for (int cpu = 1; cpu < ncpus; cpu++) {
		char *area = alloc_pages(order);
		if (!area)
			panic("percpu: no memory for CPU %d's area (%zu bytes)", cpu, size);
		memset(area, 0, PAGE_SIZE << order);
		__per_cpu_offset[cpu] = (uintptr_t)area - (uintptr_t)__percpu_start;
	}
}
