/*
 * cpumask.c - parsing and printing CPU masks ("0x5", "0-3,6").
 */
#include <stdio.h>
#include <string.h>
#include "cpumask.h"
#include "kernel.h"
#include "kstrtox.h"

static int parse_list(const char *s, cpumask_t *m)
{
	while (*s) {
		char *end;
		unsigned long a = simple_strtoul(s, &end, 10), b = a;
		if (end == s)
			return -EINVAL;
		if (*end == '-') {
			s = end + 1;
			b = simple_strtoul(s, &end, 10);
			if (end == s || b < a)
				return -EINVAL;
		}
		if (b >= NR_CPUS)
			return -EINVAL;
		for (unsigned long c = a; c <= b; c++)
			cpumask_set_cpu((int)c, m);
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cpumask_parse(const char *s, cpumask_t *m)
{
	cpumask_clear(m);
	if (!s || !*s)
		return -EINVAL;
	if (strchr(s, '-') || strchr(s, ',') || (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')))
		return parse_list(s, m);
	s += 2; /* hex mask, most significant digit first */
	size_t n = strlen(s);
	if (n == 0 || n > NR_CPUS / 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = hexval(s[n - 1 - i]);
		if (v < 0)
			return -EINVAL;
		for (int b = 0; b < 4; b++)
			if (v & (1 << b))
				cpumask_set_cpu((int)(i * 4 + (size_t)b), m);
	}
	return 0;
}

char *cpumask_format(const cpumask_t *m, char *buf, int len)
{
	int top = CPUMASK_LONGS - 1, n = 0;
	while (top > 0 && !m->bits[top])
		top--;
	n += snprintf(buf + n, (size_t)(len - n), "0x%lx", m->bits[top]);
	for (int i = top - 1; i >= 0 && n < len; i--)
		n += snprintf(buf + n, (size_t)(len - n), "%016lx", m->bits[i]);
	return buf;
}

char *cpumask_format_list(const cpumask_t *m, char *buf, int len)
{
	int n = 0, cpu = cpumask_first(m);
	buf[0] = '\0';
	while (cpu < NR_CPUS && n < len) {
		int last = cpu;
		while (last + 1 < NR_CPUS && cpumask_test_cpu(last + 1, m))
			last++;
		n += snprintf(buf + n, (size_t)(len - n), last > cpu ? "%s%d-%d" : "%s%d",
			      n ? "," : "", cpu, last);
		cpu = cpumask_next(last, m);
	}
	if (!n)
		snprintf(buf, (size_t)len, "none");
	return buf;
}
