/*
 * fuzz_dt - libFuzzer entry point for dt_parse() and dt_isa_has().
 *
 * Build (done by "make fuzz"):
 *   clang -fsanitize=fuzzer,address,undefined -I include test/host/fuzz_dt.c \
 *         kernel/lib/fdt.c kernel/lib/devicetree.c
 * libFuzzer hands us an exact-size heap buffer, so ASan catches any read
 * past @size. Beyond memory safety, the dt_parse() contract is asserted:
 * 0, or -EINVAL/-E2BIG with a non-empty reason.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devicetree.h"

static struct dt_info info;

static void fuzz_isa(const uint8_t *data, size_t size)
{
	char isa[96], ext[16];
	size_t n = size < sizeof(isa) - 1 ? size : sizeof(isa) - 1;
	size_t m = n < sizeof(ext) - 1 ? n : sizeof(ext) - 1;

	memcpy(isa, data, n);
	isa[n] = '\0';
	memcpy(ext, data + size - m, m);
	ext[m] = '\0';
	(void)dt_isa_has(isa, "sstc");
	(void)dt_isa_has(isa, ext);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	int rc;

	rc = dt_parse(data, size, &info, err, sizeof(err));
	if (rc != 0 && ((rc != -EINVAL && rc != -E2BIG) || err[0] == '\0'))
		abort();
	if (rc == 0 && (info.ncpus < 1 || info.ncpus > DT_MAX_CPUS || info.nmem < 1 ||
			info.nmem > DT_MAX_MEM || info.nresv > DT_MAX_RESV))
		abort();
	fuzz_isa(data, size);
	return 0;
}
