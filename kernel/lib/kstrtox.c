/*
 * kstrtox.c - number parsing without errno.
 *
 * picolibc's strtol()/strtoul() report overflow through errno, and its
 * strtok() keeps state, both in thread-local storage addressed through
 * `tp`. In this kernel `tp` holds the current task (thread_info.h), so
 * those writes would land at an arbitrary address. The linker script
 * refuses any thread-local data; these are the replacements (Linux's
 * names: simple_strtoul for prefixes, kstrtol/kstrtoul for whole strings).
 */
#include <ctype.h>
#include "kernel.h"
#include "kstrtox.h"

static int digit(char c, unsigned int base)
{
	int d = -1;
	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'z')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'Z')
		d = c - 'A' + 10;
	return d >= 0 && (unsigned)d < base ? d : -1;
}

/* Base 0 means C's rules: 0x.. hex, 0.. octal, decimal otherwise. */
static const char *prefix(const char *s, unsigned int *base)
{
	if (*base == 0) {
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && digit(s[2], 16) >= 0) {
			*base = 16;
			return s + 2;
		}
		*base = s[0] == '0' && s[1] ? 8 : 10;
	} else if (*base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		return s + 2;
	}
	return s;
}

/* Parse digits; *overflow set if the value does not fit. */
static unsigned long parse(const char *s, unsigned int base, const char **end, bool *overflow)
{
	unsigned long v = 0;
	int d;
	*overflow = false;
	s = prefix(s, &base);
	for (; (d = digit(*s, base)) >= 0; s++) {
		if (v > (~0UL - (unsigned)d) / base)
			*overflow = true;
		v = v * base + (unsigned)d;
	}
	*end = s;
	return *overflow ? ~0UL : v;
}

unsigned long simple_strtoul(const char *s, char **endp, unsigned int base)
{
	const char *end;
	bool overflow;
	unsigned long v = parse(s, base, &end, &overflow);
	if (endp)
		*endp = (char *)end;
	return v;
}

int kstrtoul(const char *s, unsigned int base, unsigned long *res)
{
	const char *end;
	bool overflow;
	if (!s || !*s)
		return -EINVAL;
	unsigned long v = parse(s, base, &end, &overflow);
	if (end == s || *end)
		return -EINVAL;
	if (overflow)
		return -ERANGE;
	*res = v;
	return 0;
}

int kstrtol(const char *s, unsigned int base, long *res)
{
	unsigned long v;
	bool neg = s && *s == '-';
	int rc = kstrtoul(neg || (s && *s == '+') ? s + 1 : s, base, &v);
	if (rc)
		return rc;
	if (v > (unsigned long)LONG_MAX + neg)
		return -ERANGE;
	*res = neg ? (long)(0 - v) : (long)v;
	return 0;
}
