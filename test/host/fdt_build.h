/*
 * fdt_build.h - a tiny flattened-device-tree writer for the host tests.
 *
 * It emits exactly the tokens it is told to, including malformed ones
 * (fb_raw32, fb_raw_bytes), so tests can build both valid trees and
 * precisely broken ones. Test-only code: it aborts on allocation failure.
 */
#ifndef HARTSTOP_TEST_FDT_BUILD_H
#define HARTSTOP_TEST_FDT_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdt.h"

struct fb_buf {
	uint8_t *p;
	size_t len, cap;
};

struct fb {
	struct fb_buf st;  /* structure block */
	struct fb_buf str; /* strings block */
	uint64_t rsv[32][2];
	int nrsv;
	int no_end;	/* don't append FDT_END in fb_finish() */
	int no_str_nul; /* drop the last NUL of the strings block */
};

static inline void fb_put(struct fb_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			fprintf(stderr, "fdt_build: out of memory\n");
			abort();
		}
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static inline void fb_pad(struct fb_buf *b)
{
	static const uint8_t zero[4];

	fb_put(b, zero, (4 - b->len % 4) % 4);
}

static inline void fb_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void fb_raw32(struct fb *b, uint32_t v)
{
	uint8_t w[4];

	fb_be32(w, v);
	fb_put(&b->st, w, 4);
}

static inline void fb_raw_bytes(struct fb *b, const void *p, size_t n)
{
	fb_put(&b->st, p, n);
}

static inline uint32_t fb_stroff(struct fb *b, const char *name)
{
	size_t n = strlen(name) + 1;

	for (size_t off = 0; off + n <= b->str.len; off++)
		if (memcmp(b->str.p + off, name, n) == 0)
			return (uint32_t)off;
	fb_put(&b->str, name, n);
	return (uint32_t)(b->str.len - n);
}

static inline void fb_begin(struct fb *b, const char *name)
{
	fb_raw32(b, FDT_BEGIN_NODE);
	fb_put(&b->st, name, strlen(name) + 1);
	fb_pad(&b->st);
}

static inline void fb_end(struct fb *b)
{
	fb_raw32(b, FDT_END_NODE);
}

static inline void fb_prop(struct fb *b, const char *name, const void *val, uint32_t len)
{
	fb_raw32(b, FDT_PROP);
	fb_raw32(b, len);
	fb_raw32(b, fb_stroff(b, name));
	fb_put(&b->st, val, len);
	fb_pad(&b->st);
}

static inline void fb_prop_empty(struct fb *b, const char *name)
{
	fb_prop(b, name, "", 0);
}

static inline void fb_prop_str(struct fb *b, const char *name, const char *s)
{
	fb_prop(b, name, s, (uint32_t)strlen(s) + 1);
}

/* A string list given with explicit NULs, e.g. "a\0b" with len 4 (incl. final NUL). */
static inline void fb_prop_strs(struct fb *b, const char *name, const char *s, uint32_t len)
{
	fb_prop(b, name, s, len);
}

static inline void fb_prop_cells(struct fb *b, const char *name, int n, const uint32_t *cells)
{
	uint8_t v[4 * 64];

	for (int i = 0; i < n; i++)
		fb_be32(v + 4 * i, cells[i]);
	fb_prop(b, name, v, (uint32_t)(4 * n));
}

static inline void fb_prop_u32(struct fb *b, const char *name, uint32_t v)
{
	fb_prop_cells(b, name, 1, &v);
}

static inline void fb_rsv(struct fb *b, uint64_t addr, uint64_t size)
{
	b->rsv[b->nrsv][0] = addr;
	b->rsv[b->nrsv][1] = size;
	b->nrsv++;
}

/* Assemble header + reservation map + struct + strings; caller frees. */
static inline uint8_t *fb_finish(struct fb *b, size_t *size)
{
	uint32_t off_rsv = 40, off_struct, off_strings, size_struct, size_strings, total;
	uint8_t *out;

	if (!b->no_end)
		fb_raw32(b, FDT_END);
	off_struct = off_rsv + 16 * (uint32_t)(b->nrsv + 1);
	size_struct = (uint32_t)b->st.len;
	off_strings = off_struct + size_struct;
	size_strings = (uint32_t)b->str.len - (b->no_str_nul && b->str.len ? 1 : 0);
	total = off_strings + size_strings;
	out = calloc(1, total);
	if (!out)
		abort();
	fb_be32(out + 0, FDT_MAGIC);
	fb_be32(out + 4, total);
	fb_be32(out + 8, off_struct);
	fb_be32(out + 12, off_strings);
	fb_be32(out + 16, off_rsv);
	fb_be32(out + 20, 17);
	fb_be32(out + 24, 16);
	fb_be32(out + 28, 0);
	fb_be32(out + 32, size_strings);
	fb_be32(out + 36, size_struct);
	for (int i = 0; i < b->nrsv; i++) {
		uint8_t *e = out + off_rsv + 16 * i;

		fb_be32(e, (uint32_t)(b->rsv[i][0] >> 32));
		fb_be32(e + 4, (uint32_t)b->rsv[i][0]);
		fb_be32(e + 8, (uint32_t)(b->rsv[i][1] >> 32));
		fb_be32(e + 12, (uint32_t)b->rsv[i][1]);
	}
	if (size_struct)
		memcpy(out + off_struct, b->st.p, size_struct);
	if (size_strings)
		memcpy(out + off_strings, b->str.p, size_strings);
	free(b->st.p);
	free(b->str.p);
	memset(b, 0, sizeof(*b));
	*size = total;
	return out;
}

/* ---- building blocks for a minimal valid RISC-V tree ---- */

/* Opens the root: #address-cells = 2, #size-cells = 2. */
static inline void fb_root(struct fb *b)
{
	fb_begin(b, "");
	fb_prop_u32(b, "#address-cells", 2);
	fb_prop_u32(b, "#size-cells", 2);
	fb_prop_str(b, "compatible", "hartstop,test");
}

/* One /cpus/cpu@N with an interrupt-controller child of phandle 0x100 + N. */
static inline void fb_cpu(struct fb *b, uint32_t hartid, const char *isa)
{
	char name[32];

	snprintf(name, sizeof(name), "cpu@%x", hartid);
	fb_begin(b, name);
	fb_prop_str(b, "device_type", "cpu");
	fb_prop_u32(b, "reg", hartid);
	fb_prop_str(b, "status", "okay");
	fb_prop_str(b, "riscv,isa", isa);
	fb_prop_str(b, "mmu-type", "riscv,sv39");
	fb_begin(b, "interrupt-controller");
	fb_prop_u32(b, "#interrupt-cells", 1);
	fb_prop_empty(b, "interrupt-controller");
	fb_prop_str(b, "compatible", "riscv,cpu-intc");
	fb_prop_u32(b, "phandle", 0x100 + hartid);
	fb_end(b);
	fb_end(b);
}

static inline void fb_cpus(struct fb *b, int n)
{
	fb_begin(b, "cpus");
	fb_prop_u32(b, "#address-cells", 1);
	fb_prop_u32(b, "#size-cells", 0);
	fb_prop_u32(b, "timebase-frequency", 10000000);
	for (int i = 0; i < n; i++)
		fb_cpu(b, (uint32_t)i, "rv64imac_zicsr_sstc");
	fb_end(b);
}

static inline void fb_memory(struct fb *b, uint64_t base, uint64_t size)
{
	uint32_t reg[4] = {(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32),
			   (uint32_t)size};
	char name[40];

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)base);
	fb_begin(b, name);
	fb_prop_str(b, "device_type", "memory");
	fb_prop_cells(b, "reg", 4, reg);
	fb_end(b);
}

/* A complete minimal valid blob: root, 1 cpu, 256 MiB at 0x80000000. */
static inline uint8_t *fb_minimal(size_t *size)
{
	struct fb b = {0};

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x10000000);
	fb_end(&b);
	return fb_finish(&b, size);
}

#endif
