/*
 * tap.h - "ok N - ..." / "not ok N - ..." lines for the host test
 * programs, and the counts their summaries print.
 */
#ifndef HARTSTOP_TEST_HOST_TAP_H
#define HARTSTOP_TEST_HOST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int nchecks, nfailed;

__attribute__((format(printf, 2, 3))) static void report(bool pass, const char *fmt, ...)
{
	va_list ap;

	nchecks++;
	if (!pass)
		nfailed++;
	printf("%sok %d - ", pass ? "" : "not ", nchecks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout); /* interleaves right with a sanitizer report */
}

#endif
