/*
 * kallsyms.h - the kernel's own symbol table.
 *
 * The image carries a table of its text symbols (address, size, name),
 * made by a second link pass from `nm` of the first (Makefile): the
 * kernel resolves "schedule+0x10" for `probe add` and symbolises its own
 * panic backtraces without the host's addr2line.
 *
 * Context: any (no locks, no allocation; the table is read-only).
 */
#ifndef HARTSTOP_KALLSYMS_H
#define HARTSTOP_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>

/* The address of text symbol @name, 0 if there is none. */
unsigned long kallsyms_lookup_name(const char *name);

/*
 * The text symbol containing @addr: its name (NULL if none), with its
 * size and @addr's offset in it stored through the pointers (either may
 * be NULL).
 */
const char *kallsyms_lookup(unsigned long addr, unsigned long *size, unsigned long *offset);

/* "name+0xoff/0xsize" for @addr into buf (or "0x<addr>" if unknown). */
int kallsyms_sprint(char *buf, size_t len, unsigned long addr);

/*
 * "SYMBOL", "SYMBOL+OFF" (OFF decimal or 0x-hex) to an address, checked to
 * lie inside SYMBOL. Return: 0 and *addr, or -EINVAL (bad syntax or an
 * offset past the symbol) or -ENOENT (no such symbol).
 */
int kallsyms_parse(const char *spec, unsigned long *addr);

/* The table in address order, for the tests: its size, and entry @i's
 * name (NULL past the end) with its address and size. */
unsigned int kallsyms_count(void);
const char *kallsyms_symbol(unsigned int i, unsigned long *addr, unsigned long *size);

#endif
