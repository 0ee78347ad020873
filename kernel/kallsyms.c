/*
 * kallsyms.c - the kernel's own symbol table: address <-> "name+off".
 *
 * The table is made at build time (scripts/kallsyms.py, from `nm` of the
 * image's first link) and linked into .rodata by the second link: the
 * text symbols sorted by address as u32 offsets from __text_start, their
 * sizes, and their names in one blob, each name behind its nm type letter
 * ('T' global, 't' local, 'W' weak). Aliases at one address come best
 * first, so the first entry of an address is the name to print.
 *
 * Everything here only reads that table and the stack: no locks, no
 * allocation, so panic() and a trap handler may call it on any hart.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "kallsyms.h"
#include "kernel.h"
#include "kstrtox.h"
#include "mm.h" /* __text_start, __text_end */

/* The generated table (the Makefile's second link pass; empty in the first). */
extern const uint32_t kallsyms_num;
extern const uint32_t kallsyms_offsets[], kallsyms_sizes[], kallsyms_name_idx[];
extern const char kallsyms_names[];

static const char *sym_name(unsigned int i)
{
	return kallsyms_names + kallsyms_name_idx[i] + 1; /* past the type letter */
}

static bool sym_global(unsigned int i)
{
	return kallsyms_names[kallsyms_name_idx[i]] != 't';
}

/*
 * The index of the symbol containing @addr, -1 if none. Binary search for
 * the last start <= addr, then back to the first (best) alias there; the
 * address is inside only if it is below that symbol's end (a gap between
 * functions, e.g. alignment padding, belongs to none).
 */
static int sym_find(unsigned long addr)
{
	unsigned long base = (unsigned long)__text_start;
	if (addr < base || addr >= (unsigned long)__text_end)
		return -1;
	unsigned long off = addr - base;
	/* Invariant: offsets[i] <= off for every i < lo, > off for every i >= hi. */
	unsigned int lo = 0, hi = kallsyms_num;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (kallsyms_offsets[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	unsigned int i = lo - 1;
	while (i > 0 && kallsyms_offsets[i - 1] == kallsyms_offsets[i])
		i--;
	if (off - kallsyms_offsets[i] >= kallsyms_sizes[i])
		return -1;
	return (int)i;
}

/*
 * The index of the symbol named by the @len bytes at @name, -1 if none.
 * Two static functions may share a name: a global symbol wins, otherwise
 * the first (lowest address) local one.
 */
static int sym_by_name(const char *name, size_t len)
{
	int local = -1;
	for (unsigned int i = 0; i < kallsyms_num; i++) {
		const char *s = sym_name(i);
		if (strncmp(s, name, len) != 0 || s[len] != '\0')
			continue;
		if (sym_global(i))
			return (int)i;
		if (local < 0)
			local = (int)i;
	}
	return local;
}

/**
 * kallsyms_lookup_name() - the address of a text symbol.
 * @name: the symbol's name, exactly as nm prints it ("kmalloc.part.0").
 *
 * Context: any; a linear scan of the table (about 600 names).
 * Return: its address, 0 if no text symbol has that name.
 */
unsigned long kallsyms_lookup_name(const char *name)
{
	int i = name && *name ? sym_by_name(name, strlen(name)) : -1;
	return i < 0 ? 0 : (unsigned long)__text_start + kallsyms_offsets[i];
}

/**
 * kallsyms_lookup() - the text symbol containing an address.
 * @addr: any address.
 * @size: where to store the symbol's size (may be NULL).
 * @offset: where to store @addr's offset in it (may be NULL).
 *
 * For a return address, look up address - 1: after a call to a noreturn
 * function the return address may lie past the caller's end.
 *
 * Context: any (panic, traps); O(log n).
 * Return: the symbol's name, NULL if @addr is in no text symbol (then
 * *@size and *@offset are left alone).
 */
const char *kallsyms_lookup(unsigned long addr, unsigned long *size, unsigned long *offset)
{
	int i = sym_find(addr);
	if (i < 0)
		return NULL;
	if (size)
		*size = kallsyms_sizes[i];
	if (offset)
		*offset = addr - ((unsigned long)__text_start + kallsyms_offsets[i]);
	return sym_name((unsigned int)i);
}

/**
 * kallsyms_sprint() - format an address as "name+0xoff/0xsize".
 * @buf: the destination, always NUL-terminated if @len > 0.
 * @len: its size.
 * @addr: the address.
 *
 * Context: any (panic): snprintf() on the caller's buffer only.
 * Return: snprintf()'s count, the length the whole text needs; "0x<addr>"
 * is written if @addr is in no text symbol.
 */
int kallsyms_sprint(char *buf, size_t len, unsigned long addr)
{
	unsigned long size, off;
	const char *name = kallsyms_lookup(addr, &size, &off);
	if (!name)
		return snprintf(buf, len, "0x%lx", addr);
	return snprintf(buf, len, "%s+0x%lx/0x%lx", name, off, size);
}

/* A name as nm prints ours: C identifiers, GCC's clones ("x.part.0"). */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '$';
}

/**
 * kallsyms_parse() - "SYMBOL" or "SYMBOL+OFF" to an address in SYMBOL.
 * @spec: the text; OFF is decimal, or hex after 0x ("schedule+0x10",
 *        "schedule+16"); no sign, no spaces, no octal.
 * @addr: where the address goes; untouched on an error.
 *
 * Syntax is judged before the name is looked up, so "no_such+x" is
 * -EINVAL. OFF must be below the symbol's size: SYMBOL+size is the next
 * symbol's first byte, not an instruction of SYMBOL.
 *
 * Context: any.
 * Return: 0; -EINVAL for bad syntax or an offset past the symbol's end;
 * -ENOENT if no text symbol has that name.
 */
int kallsyms_parse(const char *spec, unsigned long *addr)
{
	if (!spec || !addr)
		return -EINVAL;
	size_t len = 0;
	while (name_char(spec[len]))
		len++;
	if (len == 0 || (spec[len] != '\0' && spec[len] != '+'))
		return -EINVAL;
	unsigned long off = 0;
	if (spec[len] == '+') {
		const char *o = spec + len + 1;
		bool hex = o[0] == '0' && (o[1] == 'x' || o[1] == 'X');
		/* A digit must follow ("+", "+0x" are no offset: kstrtoul()
		 * takes a bare "0x" for 0); kstrtoul() then rejects trailing
		 * junk, and an overflow (-ERANGE) is past any symbol. */
		if (hex ? !isxdigit((unsigned char)o[2]) : !isdigit((unsigned char)o[0]))
			return -EINVAL;
		if (kstrtoul(o, hex ? 16 : 10, &off) != 0)
			return -EINVAL;
	}
	int i = sym_by_name(spec, len);
	if (i < 0)
		return -ENOENT;
	if (off >= kallsyms_sizes[i])
		return -EINVAL;
	*addr = (unsigned long)__text_start + kallsyms_offsets[i] + off;
	return 0;
}

/**
 * kallsyms_count() - the number of symbols in the table.
 *
 * Context: any.
 * Return: the count; 0 in an image linked without the second pass.
 */
unsigned int kallsyms_count(void)
{
	return kallsyms_num;
}

/**
 * kallsyms_symbol() - the table's entry @i (in address order).
 * @i: below kallsyms_count().
 * @addr: where its address goes (may be NULL).
 * @size: where its size goes (may be NULL).
 *
 * Context: any.
 * Return: its name, NULL if @i is out of range.
 */
const char *kallsyms_symbol(unsigned int i, unsigned long *addr, unsigned long *size)
{
	if (i >= kallsyms_num)
		return NULL;
	if (addr)
		*addr = (unsigned long)__text_start + kallsyms_offsets[i];
	if (size)
		*size = kallsyms_sizes[i];
	return sym_name(i);
}
