/*
 * riscv_isa.c - read a riscv,isa string: does this hart have extension X?
 *
 * Pure C like the rest of kernel/lib/, so the host tests cover it
 * (test/host/dt_unit.c). ctype's functions take unsigned char
 * values, hence the two wrappers.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "devicetree.h"

static int lc(char c)
{
	return tolower((unsigned char)c);
}

static bool dig(char c)
{
	return isdigit((unsigned char)c);
}

/* Skip an optional version suffix "<major>[p<minor>]" (e.g. "2p1"). */
static const char *skip_version(const char *s)
{
	if (!dig(*s))
		return s;
	while (dig(*s))
		s++;
	if (lc(*s) == 'p' && dig(s[1]))
		for (s++; dig(*s);)
			s++;
	return s;
}

/* True if the multi-letter token [tok, tok + len) is @ext, maybe versioned. */
static bool ext_token_is(const char *tok, size_t len, const char *ext)
{
	size_t n = strlen(ext);

	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lc(tok[i]) != lc(ext[i]))
			return false;
	return skip_version(tok + n) == tok + len;
}

/*
 * ISA strings look like "rv64imafdch_zicsr_zifencei_sstc": "rv", the
 * XLEN, single-letter extensions (each optionally versioned, "g" meaning
 * "imafd_zicsr_zifencei"), then "_"-separated multi-letter extensions
 * (prefixes s, x, z; the first may follow the letters without "_").
 * Extensions are matched as whole tokens, case-insensitively.
 */
bool dt_isa_has(const char *isa, const char *ext)
{
	bool has_g = false;
	size_t elen;
	const char *p;

	if (!isa || !ext || !ext[0])
		return false;
	if (lc(isa[0]) != 'r' || lc(isa[1]) != 'v' || !dig(isa[2]))
		return false;
	elen = strlen(ext);
	for (p = isa + 2; dig(*p); p++)
		;
	for (; *p && *p != '_'; p = skip_version(p + 1)) {
		char c = lc(*p);

		if (c == 's' || c == 'x' || c == 'z')
			break; /* a multi-letter extension glued to the letters */
		if (c == 'g')
			has_g = true;
		if (elen == 1 && (c == lc(ext[0]) || (c == 'g' && strchr("imafd", lc(ext[0])))))
			return true;
	}
	if (elen == 1)
		return false;
	if (has_g && (ext_token_is("zicsr", 5, ext) || ext_token_is("zifencei", 8, ext)))
		return true;
	while (*p) {
		const char *end;

		if (*p == '_') {
			p++;
			continue;
		}
		for (end = p; *end && *end != '_'; end++)
			;
		if (ext_token_is(p, (size_t)(end - p), ext))
			return true;
		p = end;
	}
	return false;
}
