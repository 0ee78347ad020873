/*
 * dt_corrupt - dt_parse() must survive any blob.
 *
 * Usage: dt_corrupt FILE.dtb...
 *   SEED=n   replay a run (the seed is printed first)
 *   ITER=n   random mutations per file (default: scaled by file size)
 *
 * Contract checked for every call: no sanitizer report (the binary is
 * built with ASan/UBSan and aborts on the first finding), and the result
 * is either 0 or -EINVAL/-E2BIG with a non-empty, NUL-terminated reason
 * that stays inside errlen. Every blob is passed in an exact-size heap
 * copy so any read past bufsize hits an ASan redzone.
 *
 * Output: TAP-like "ok N - desc" / "not ok N - desc" lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devicetree.h"
#include "fdt.h"
#include "fdt_build.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define ERRLEN 160

static struct dt_info info;
#include "tap.h"

/* ---- PRNG: xorshift64*, so runs replay identically everywhere ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(uint64_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* ---- calling dt_parse under the contract ---- */

struct tally {
	unsigned long calls, accepted, rejected, violations;
	char first[320]; /* first contract violation */
};

static uint32_t get32(const uint8_t *p)
{
	return fdt_be32(p);
}

static void put32(uint8_t *p, uint32_t v)
{
	fb_be32(p, v);
}

static void violation(struct tally *t, const char *what, int rc, const char *err)
{
	if (t->violations++ == 0)
		snprintf(t->first, sizeof(t->first), "%s: rc=%d err=\"%.120s\"", what, rc, err);
}

/* Call dt_parse on @buf as is and check the contract. Returns rc. */
static int parse_buf(const uint8_t *buf, size_t bufsize, size_t errlen, struct tally *t,
		     const char *what)
{
	char err[ERRLEN + 16];
	int rc;

	memset(err, 0x5a, sizeof(err));
	rc = dt_parse(buf, bufsize, &info, err, errlen);
	t->calls++;

	for (size_t i = errlen; i < sizeof(err); i++) {
		if ((uint8_t)err[i] != 0x5a) {
			violation(t, "wrote past errlen", rc, "");
			return rc;
		}
	}
	if (errlen && !memchr(err, 0, errlen)) {
		violation(t, "err not NUL-terminated", rc, "");
		return rc;
	}
	if (rc == 0) {
		t->accepted++;
		if (info.ncpus < 1 || info.ncpus > DT_MAX_CPUS || info.nmem < 1 ||
		    info.nmem > DT_MAX_MEM || info.nresv < 0 || info.nresv > DT_MAX_RESV ||
		    !memchr(info.bootargs, 0, sizeof(info.bootargs)))
			violation(t, "accepted with inconsistent dt_info", rc, "");
		for (int i = 0; i < info.ncpus; i++)
			if (!memchr(info.cpus[i].isa, 0, sizeof(info.cpus[i].isa)))
				violation(t, "unterminated isa", rc, "");
		return rc;
	}
	t->rejected++;
	if (rc != -EINVAL && rc != -E2BIG)
		violation(t, what, rc, errlen ? err : "");
	else if (errlen > 1 && err[0] == '\0')
		violation(t, "empty reason", rc, "");
	return rc;
}

/*
 * Parse @bufsize bytes taken from @data (zero-extended past @len) in an
 * exact-size heap copy, so ASan flags any read past bufsize.
 */
static int parse_checked(const uint8_t *data, size_t len, size_t bufsize, size_t errlen,
			 struct tally *t, const char *what)
{
	uint8_t *buf = malloc(bufsize ? bufsize : 1);
	int rc;

	if (!buf)
		abort();
	memset(buf, 0, bufsize);
	memcpy(buf, data, len < bufsize ? len : bufsize);
	rc = parse_buf(buf, bufsize, errlen, t, what);
	free(buf);
	return rc;
}

static int parse_simple(const uint8_t *data, size_t len, struct tally *t, const char *what)
{
	return parse_checked(data, len, len, ERRLEN, t, what);
}

static void report_tally(const struct tally *t, const char *name, const char *desc)
{
	if (t->violations)
		report(false, "%s: %s: %lu of %lu calls broke the contract, first: %s", name, desc,
		       t->violations, t->calls, t->first);
	else
		report(true, "%s: %s (%lu calls, %lu accepted, %lu rejected)", name, desc, t->calls,
		       t->accepted, t->rejected);
}

/* ---- per-file sweeps ---- */

static uint8_t *load(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(fp);
	return buf;
}

/*
 * Every bufsize below totalsize must be rejected. Copying the blob for
 * each length would be quadratic, so under ASan one buffer is used and
 * its tail poisoned: walking len downwards, [len + 1, size) is already
 * poisoned and only the granule holding byte len needs updating.
 */
static void sweep_truncations(const char *name, const uint8_t *d, size_t size)
{
	struct tally t = {0};
#ifdef HAVE_ASAN
	uint8_t *buf = malloc(size);

	if (!buf)
		abort();
	memcpy(buf, d, size);
	for (size_t len = size; len-- > 0;) {
		size_t gend = (len | 7) + 1; /* end of the 8-byte shadow granule */

		__asan_poison_memory_region(buf + len, (gend < size ? gend : size) - len);
		if (parse_buf(buf, len, ERRLEN, &t, "truncation") == 0)
			violation(&t, "truncated blob accepted", 0, "");
	}
	__asan_unpoison_memory_region(buf, size);
	free(buf);
#else
	for (size_t len = 0; len < size; len++)
		if (parse_checked(d, len, len, ERRLEN, &t, "truncation") == 0)
			violation(&t, "truncated blob accepted", 0, "");
#endif
	report_tally(&t, name, "every truncation 0..totalsize-1 rejected");
}

/* Header totalsize lies, with the real buffer and with an exact buffer. */
static void sweep_totalsize(const char *name, const uint8_t *d, size_t size)
{
	static const uint32_t special[] = {
		0,	    1,		39,	    40,	       41, DT_MAX_BLOB, DT_MAX_BLOB + 1,
		0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff};
	uint8_t *buf = malloc(size + 64);
	struct tally t = {0};
	size_t stride = size <= 16384 ? 1 : 61;

	if (!buf)
		abort();
	memset(buf, 0, size + 64);
	memcpy(buf, d, size);
	for (size_t ts = 0; ts <= size + 64;
	     ts += (ts + 8 >= size && ts <= size + 8) ? 1 : stride) {
		put32(buf + 4, (uint32_t)ts);
		if (parse_checked(buf, size + 64, size, ERRLEN, &t, "totalsize lie") == 0 &&
		    ts > size)
			violation(&t, "totalsize beyond bufsize accepted", 0, "");
		parse_checked(buf, size + 64, ts, ERRLEN, &t, "totalsize lie, exact buffer");
	}
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		put32(buf + 4, special[i]);
		if (parse_checked(buf, size + 64, size, ERRLEN, &t, "totalsize special") == 0 &&
		    special[i] != size)
			violation(&t, "bogus totalsize accepted", 0, "");
	}
	free(buf);
	report_tally(&t, name, "header totalsize lies");
}

/* Every other header field set to values chosen to wrap, overlap or overrun. */
static void sweep_header(const char *name, const uint8_t *d, size_t size)
{
	uint8_t *buf = malloc(size);
	struct tally t = {0};

	if (!buf)
		abort();
	for (uint32_t field = 8; field < 40; field += 4) {
		uint32_t orig = get32(d + field), sz = (uint32_t)size;
		const uint32_t vals[] = {0,
					 1,
					 3,
					 4,
					 8,
					 16,
					 17,
					 18,
					 36,
					 40,
					 0x38,
					 orig - 4,
					 orig - 1,
					 orig + 1,
					 orig + 4,
					 orig + 8,
					 sz - 4,
					 sz - 1,
					 sz,
					 sz + 1,
					 sz + 4,
					 0x7fffffff,
					 0x80000000,
					 0xfffffffc,
					 0xffffffff,
					 0u - orig,
					 0u - orig + 8,
					 0u - sz,
					 0u - sz + 0x40,
					 orig + (0u - sz)};

		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			memcpy(buf, d, size);
			put32(buf + field, vals[i]);
			parse_simple(buf, size, &t, "header field");
		}
	}
	free(buf);
	report_tally(&t, name, "header offset/size/version fields corrupted");
}

static uint32_t interesting(uint32_t size)
{
	static const uint32_t v[] = {0,		 1,	     2,		 3,	     4,
				     9,		 0x28,	     0x38,	 0x7fffffff, 0x80000000,
				     0xfffffffc, 0xffffffff, 0x0000ffff, 0x00010000};

	switch (rnd_below(4)) {
	case 0:
		return size - rnd_below(16);
	case 1:
		return (uint32_t)rnd();
	default:
		return v[rnd_below(sizeof(v) / sizeof(v[0]))];
	}
}

static void mutate_once(uint8_t *buf, size_t size)
{
	uint32_t soff = get32(buf + 8), ssize = get32(buf + 36);
	uint32_t words = (uint32_t)(size / 4);

	switch (rnd_below(7)) {
	case 0: /* random byte */
		buf[rnd_below(size)] = (uint8_t)rnd();
		break;
	case 1: /* bit flip */
		buf[rnd_below(size)] ^= (uint8_t)(1u << rnd_below(8));
		break;
	case 2: /* aligned word anywhere */
		put32(buf + 4 * rnd_below(words), interesting((uint32_t)size));
		break;
	case 3: /* header field */
		put32(buf + 4 + 4 * rnd_below(9), interesting((uint32_t)size));
		break;
	case 4: /* struct-block word: tokens, lengths, nameoffs */
		if (soff < size && ssize >= 4 && ssize <= size - soff)
			put32(buf + soff + 4 * rnd_below(ssize / 4),
			      rnd_below(2) ? rnd_below(10) : interesting((uint32_t)size));
		break;
	case 5: { /* move a chunk: duplicates or drops tokens */
		size_t from = rnd_below(size), to = rnd_below(size), n = rnd_below(64);

		if (n > size - from)
			n = size - from;
		if (n > size - to)
			n = size - to;
		memmove(buf + to, buf + from, n);
		break;
	}
	default: /* NUL or non-NUL into the strings block */
		buf[rnd_below(size)] = rnd_below(2) ? 0 : 'x';
		break;
	}
}

static void fuzz_random(const char *name, const uint8_t *d, size_t size, long iters)
{
	uint8_t *buf = malloc(size);
	struct tally t = {0};

	if (!buf)
		abort();
	for (long it = 0; it < iters; it++) {
		size_t bufsize = size, errlen = ERRLEN;
		int n = 1 + (int)rnd_below(8);

		memcpy(buf, d, size);
		for (int i = 0; i < n; i++)
			mutate_once(buf, size);
		if (rnd_below(8) == 0)
			bufsize = rnd_below(size + 1);
		if (rnd_below(16) == 0)
			errlen = rnd_below(ERRLEN + 1);
		parse_checked(buf, size, bufsize, errlen, &t, "random mutation");
	}
	free(buf);
	report_tally(&t, name, "seeded random mutations");
}

static void test_file(const char *path, uint64_t seed)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct tally t = {0};
	size_t fsize = 0, size;
	uint8_t *d = load(path, &fsize);
	const char *it_env = getenv("ITER");
	long iters;
	int rc;

	if (!d || fsize < 40 || get32(d) != FDT_MAGIC || get32(d + 4) > fsize) {
		report(false, "%s: cannot load a DTB", name);
		free(d);
		return;
	}
	size = get32(d + 4);
	rng_state = (seed ^ fnv1a(name)) | 1;

	rc = parse_checked(d, fsize, fsize, ERRLEN, &t, "pristine file");
	report(rc == 0 && t.violations == 0, "%s: pristine file parses (rc=%d, %d cpus, %d mem)",
	       name, rc, info.ncpus, info.nmem);
	rc = parse_simple(d, size, &t, "pristine totalsize");
	report(rc == 0, "%s: pristine blob parses with bufsize = totalsize", name);
	rc = parse_checked(d, size, size + 4096, ERRLEN, &t, "pristine, larger buffer");
	report(rc == 0 && info.dtb_size == size,
	       "%s: pristine blob parses in a larger buffer, dtb_size = totalsize", name);

	sweep_truncations(name, d, size);
	sweep_totalsize(name, d, size);
	sweep_header(name, d, size);
	iters = it_env ? strtol(it_env, NULL, 0) : size <= 16384 ? 3000 : size <= 65536 ? 600 : 150;
	fuzz_random(name, d, size, iters);
	free(d);
}

/* ---- targeted corruptions of a known-good synthetic blob ---- */

static void expect(int want_rc, const char *want_msg, uint8_t *blob, size_t size, const char *desc)
{
	struct tally t = {0};
	char err[ERRLEN];
	int rc;

	parse_checked(blob, size, size, ERRLEN, &t, desc);
	/* Again for the message (parse_checked already verified the contract). */
	rc = dt_parse(blob, size, &info, err, sizeof(err));
	if (want_rc == 0)
		report(rc == 0 && !t.violations, "%s: accepted (rc=%d%s%s)", desc, rc,
		       rc ? ", err=" : "", rc ? err : "");
	else
		report(rc == want_rc && !t.violations && strstr(err, want_msg),
		       "%s: rc=%d err=\"%s\" (want rc=%d, \"%s\")%s%s", desc, rc, err, want_rc,
		       want_msg, t.violations ? " VIOLATION " : "", t.first);
	free(blob);
}

/* Header-level damage to the minimal blob. */
static void header_case(const char *desc, uint32_t field, uint32_t value, const char *msg)
{
	size_t size;
	uint8_t *b = fb_minimal(&size);

	put32(b + field, value);
	expect(-EINVAL, msg, b, size, desc);
}

static void targeted_header(void)
{
	size_t size;
	uint8_t *b = fb_minimal(&size);
	uint32_t total = (uint32_t)size, soff = get32(b + 8), stroff = get32(b + 12);

	free(b);
	header_case("bad magic", 0, 0xd00dfeee, "bad magic");
	header_case("version 15", 20, 15, "version 15 too old");
	header_case("last_comp_version 18", 24, 18, "last_comp_version");
	header_case("totalsize 0", 4, 0, "smaller than the header");
	header_case("totalsize 39", 4, 39, "smaller than the header");
	header_case("totalsize > bufsize", 4, total + 1, "exceeds");
	header_case("totalsize 0xffffffff", 4, 0xffffffff, "exceeds");
	header_case("struct offset past end", 8, total + 4, "beyond totalsize");
	header_case("struct offset inside header", 8, 0, "inside the header");
	header_case("struct offset misaligned", 8, soff + 1, "aligned");
	header_case("struct size 0xffffffff", 36, 0xffffffff, "overruns");
	/* off + size wraps to a small number: only subtraction-based checks catch it. */
	header_case("struct off+size wraps uint32", 36, 0u - soff + 8, "overruns");
	header_case("struct offset 0xfffffffc", 8, 0xfffffffc, "beyond totalsize");
	header_case("strings offset past end", 12, total + 1, "beyond totalsize");
	header_case("strings size huge", 32, 0xfffffff0, "overruns");
	header_case("strings off+size wraps uint32", 32, 0u - stroff + 4, "overruns");
	header_case("strings overlap struct", 12, soff, "overlaps");
	header_case("rsvmap misaligned", 16, 44, "aligned");
	header_case("rsvmap without terminator", 16, (total - 8) & ~7u, "no terminator");
	header_case("rsvmap past end", 16, total + 8, "beyond totalsize");
	header_case("struct overlaps rsvmap", 8, soff - 8, "overlaps");

	/* totalsize above DT_MAX_BLOB with a buffer that really is that big. */
	b = fb_minimal(&size);
	{
		uint8_t *big = calloc(1, DT_MAX_BLOB + 16);

		if (!big)
			abort();
		memcpy(big, b, size);
		put32(big + 4, DT_MAX_BLOB + 4);
		expect(-EINVAL, "limit", big, DT_MAX_BLOB + 16, "totalsize above DT_MAX_BLOB");
	}
	free(b);
}

/* Synthetic token streams. */
static uint8_t *build_nested(int depth, size_t *size)
{
	struct fb b = {0};

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	for (int i = 0; i < depth; i++)
		fb_begin(&b, "n");
	for (int i = 0; i < depth; i++)
		fb_end(&b);
	fb_end(&b);
	return fb_finish(&b, size);
}

static void targeted_tokens(void)
{
	struct fb b = {0};
	size_t size;
	uint8_t *blob;

	/* Node name running into the end of the struct block. */
	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_raw32(&b, FDT_BEGIN_NODE);
	fb_raw_bytes(&b, "unterminated", 12);
	b.no_end = 1;
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "not NUL-terminated", blob, size, "unterminated node name");

	fb_root(&b);
	fb_raw32(&b, FDT_PROP);
	fb_raw32(&b, 0);
	fb_raw32(&b, 0x7fff0000);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "nameoff", blob, size, "property nameoff past strings block");

	fb_root(&b);
	fb_raw32(&b, FDT_PROP);
	fb_raw32(&b, 0);
	fb_raw32(&b, 0xffffffff);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "nameoff", blob, size, "property nameoff 0xffffffff");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_prop_u32(&b, "zz-last-string", 1);
	fb_end(&b);
	b.no_str_nul = 1;
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "not NUL-terminated", blob, size, "unterminated property name");

	fb_root(&b);
	fb_raw32(&b, FDT_PROP);
	fb_raw32(&b, 0xffffffff);
	fb_raw32(&b, 0);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "overruns", blob, size, "property len 0xffffffff");

	fb_root(&b);
	fb_raw32(&b, FDT_PROP);
	fb_raw32(&b, 0xfffffff4); /* off + 12 + len wraps to off */
	fb_raw32(&b, 0);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "overruns", blob, size, "property len wrapping uint32");

	fb_root(&b);
	fb_raw32(&b, FDT_PROP);
	fb_raw32(&b, 9); /* END_NODE + FDT_END + 1 byte that isn't there */
	fb_raw32(&b, 0);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "overruns", blob, size, "property len one past the block");

	fb_root(&b);
	fb_raw32(&b, FDT_PROP);
	fb_raw32(&b, 4);
	b.no_end = 1;
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "truncated", blob, size, "property header cut by block end");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_end(&b);
	b.no_end = 1;
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "without FDT_END", blob, size, "missing FDT_END");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_end(&b);
	fb_raw32(&b, FDT_NOP);
	b.no_end = 1;
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "without FDT_END", blob, size, "FDT_END replaced by FDT_NOP");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "still open", blob, size, "root never closed");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_end(&b);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "unbalanced", blob, size, "extra FDT_END_NODE");

	blob = build_nested(FDT_MAX_DEPTH, &size);
	expect(0, "", blob, size, "deepest node at depth 32 (the limit)");
	blob = build_nested(FDT_MAX_DEPTH + 1, &size);
	expect(-EINVAL, "nested deeper", blob, size, "deepest node at depth 33");
	blob = build_nested(1000, &size);
	expect(-EINVAL, "nested deeper", blob, size, "nesting depth 1000");

	fb_prop_u32(&b, "early", 1);
	fb_root(&b);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "outside any node", blob, size, "property before the root");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_prop_u32(&b, "late", 1);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "after a subnode", blob, size, "property after a subnode");

	fb_root(&b);
	fb_raw32(&b, 5);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "unknown token 0x5", blob, size, "unknown token");

	fb_root(&b);
	fb_end(&b);
	fb_root(&b);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "second root", blob, size, "two root nodes");

	fb_root(&b);
	fb_begin(&b, "");
	fb_end(&b);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "empty node name", blob, size, "empty child node name");

	blob = fb_finish(&b, &size); /* nothing but FDT_END */
	expect(-EINVAL, "no root", blob, size, "no root node");

	fb_root(&b);
	fb_raw32(&b, FDT_PROP);
	fb_raw32(&b, 1);
	fb_raw32(&b, 0);
	fb_raw32(&b, 0x01ffffff); /* 1-byte value + padding... then garbage token */
	b.no_end = 1;
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "", blob, size, "padding then garbage");
}

/* Blobs that are well formed but unusable, or malformed where we read them. */
static void targeted_semantics(void)
{
	const uint32_t wrap[4] = {0xffffffff, 0xfffff000, 0, 0x2000};
	const uint32_t badlen[3] = {0, 0x80000000, 0};
	struct fb b = {0};
	size_t size;
	uint8_t *blob;

	fb_root(&b);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "no /cpus", blob, size, "no /cpus node");

	fb_root(&b);
	fb_begin(&b, "cpus");
	fb_begin(&b, "cpu-map");
	fb_end(&b);
	fb_end(&b);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "no cpu nodes", blob, size, "/cpus with only cpu-map");

	fb_root(&b);
	fb_cpus(&b, 2);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "no memory node", blob, size, "no memory node");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "no memory node", blob, size, "only a zero-sized memory range");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_begin(&b, "memory@ffffffff");
	fb_prop_str(&b, "device_type", "memory");
	fb_prop_cells(&b, "reg", 4, wrap);
	fb_end(&b);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "wraps", blob, size, "memory range wrapping 2^64");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_begin(&b, "memory@0");
	fb_prop_str(&b, "device_type", "memory");
	fb_prop_cells(&b, "reg", 3, badlen);
	fb_end(&b);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "not a multiple", blob, size, "memory reg of 3 cells");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	for (int i = 0; i <= DT_MAX_RESV; i++)
		fb_rsv(&b, 0x80000000ull + 0x1000ull * (unsigned)i, 0x1000);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-E2BIG, "more than", blob, size, "17 reserved ranges");

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_rsv(&b, 0xfffffffffffff000ull, 0x2000);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "wraps", blob, size, "/memreserve/ entry wrapping 2^64");

	fb_root(&b);
	fb_begin(&b, "cpus");
	fb_prop_u32(&b, "#address-cells", 1);
	fb_prop_u32(&b, "#size-cells", 0);
	fb_begin(&b, "cpu@0");
	fb_prop_str(&b, "device_type", "cpu");
	fb_end(&b);
	fb_end(&b);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "missing or short reg", blob, size, "cpu without reg");

	fb_root(&b);
	fb_begin(&b, "cpus");
	fb_prop_cells(&b, "#address-cells", 2, badlen);
	fb_end(&b);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "#address-cells has length 8", blob, size, "#address-cells of 8 bytes");

	fb_root(&b);
	fb_cpus(&b, 2);
	fb_memory(&b, 0x80000000, 0x1000000);
	fb_begin(&b, "plic@c000000");
	fb_prop_str(&b, "compatible", "riscv,plic0");
	fb_prop_cells(&b, "reg", 4, (const uint32_t[]){0, 0xc000000, 0, 0x600000});
	fb_prop_cells(&b, "interrupts-extended", 3, (const uint32_t[]){0x100, 9, 0x101});
	fb_end(&b);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	expect(-EINVAL, "interrupts-extended", blob, size, "PLIC interrupts-extended of 3 cells");
}

/* Error buffer handling and odd call parameters. */
static void targeted_api(void)
{
	char err[8];
	size_t size;
	uint8_t *blob = fb_minimal(&size);
	uint8_t *odd = malloc(size + 1);
	int rc;

	rc = dt_parse(NULL, 100, &info, err, sizeof(err));
	report(rc == -EINVAL && err[0], "NULL blob rejected (rc=%d, err=\"%s\")", rc, err);
	rc = dt_parse(blob, size, NULL, err, sizeof(err));
	report(rc == -EINVAL, "NULL dt_info rejected (rc=%d)", rc);
	blob[0] ^= 1;
	rc = dt_parse(blob, size, &info, NULL, 0);
	report(rc == -EINVAL, "bad blob with err=NULL, errlen=0 (rc=%d)", rc);
	memset(err, 'x', sizeof(err));
	rc = dt_parse(blob, size, &info, err, 1);
	report(rc == -EINVAL && err[0] == '\0' && err[1] == 'x', "errlen=1 gets just a NUL");
	memset(err, 'x', sizeof(err));
	rc = dt_parse(blob, size, &info, err, 6);
	report(rc == -EINVAL && strlen(err) == 5 && err[6] == 'x',
	       "errlen=6 truncates to 5 chars (\"%s\")", err);
	blob[0] ^= 1;

	/* The kernel may get the blob at any address: reads are bytewise. */
	if (!odd)
		abort();
	memcpy(odd + 1, blob, size);
	rc = dt_parse(odd + 1, size, &info, err, sizeof(err));
	report(rc == 0 && info.ncpus == 1, "blob at an odd address parses (rc=%d)", rc);
	free(odd);
	free(blob);
}

int main(int argc, char **argv)
{
	const char *s = getenv("SEED");
	uint64_t seed =
		s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);

	printf("# dt_corrupt: seed=%llu (replay with SEED=%llu)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	if (argc < 2)
		report(false, "no DTB files given");
	for (int i = 1; i < argc; i++)
		test_file(argv[i], seed);
	targeted_header();
	targeted_tokens();
	targeted_semantics();
	targeted_api();
	printf("# dt_corrupt: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed ? 1 : 0;
}
