/*
 * fdt.h - a small, strictly bounds-checked reader for flattened device
 * tree blobs (devicetree specification v0.4, chapter 5).
 *
 * Usage: fdt_check() validates the header, the memory reservation block
 * and the whole structure block once. Only after it returned 0 may the
 * other functions be used on that struct fdt. They re-check every offset
 * anyway and answer "not found" rather than read out of bounds, so even a
 * blob modified after the check cannot make them touch memory outside
 * [blob, blob + totalsize).
 *
 * Nodes are named by "node offsets": the byte offset of the node's
 * FDT_BEGIN_NODE token from the start of the structure block. Functions
 * returning a node give FDT_NONE (negative) when there is none.
 *
 * All multi-byte values in the blob are big-endian and may be unaligned;
 * they are always read byte by byte.
 */
#ifndef HARTSTOP_FDT_H
#define HARTSTOP_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDT_MAGIC	0xd00dfeedu
#define FDT_HEADER_SIZE 40u /* version 17 header; we require all of it */
#define FDT_MIN_VERSION 16u /* oldest format we read */
#define FDT_MY_VERSION	17u /* newest format we fully understand */
#define FDT_MAX_DEPTH	32  /* root is depth 0; deeper nesting is rejected */

/* Structure block tokens. */
#define FDT_BEGIN_NODE 0x1u
#define FDT_END_NODE   0x2u
#define FDT_PROP       0x3u
#define FDT_NOP	       0x4u
#define FDT_END	       0x9u

#define FDT_NONE       (-1)

/*
 * A validated blob. Invariants established by fdt_check():
 *  - FDT_HEADER_SIZE <= totalsize <= min(bufsize, maxsize);
 *  - struct block [struct_off, struct_off + struct_size) and strings block
 *    lie inside totalsize and do not overlap each other, the header or the
 *    reservation map; struct_off is 4-byte aligned;
 *  - the reservation map holds nrsv entries plus a zero terminator;
 *  - the token stream starts with the root FDT_BEGIN_NODE (after NOPs),
 *    every node name and property name is NUL-terminated inside its
 *    block, every property value lies inside the struct block, nodes nest
 *    at most FDT_MAX_DEPTH deep, BEGIN/END_NODE balance, properties
 *    precede subnodes, and FDT_END follows the root's FDT_END_NODE.
 */
struct fdt {
	const uint8_t *blob;
	uint32_t totalsize;
	uint32_t version;
	uint32_t boot_cpuid;
	uint32_t struct_off, struct_size;
	uint32_t strings_off, strings_size;
	uint32_t rsv_off, nrsv;
	int root; /* node offset of the root node */
};

/*
 * Validate @blob, of which at most @bufsize bytes may be read and whose
 * totalsize must not exceed @maxsize. Returns 0 and fills @fdt, or
 * -EINVAL with a one-line reason in @err (NUL-terminated if @errlen > 0).
 */
int fdt_check(struct fdt *fdt, const void *blob, size_t bufsize, uint32_t maxsize, char *err,
	      size_t errlen);

/* Tree navigation. */
int fdt_root(const struct fdt *fdt);
/*
 * Next node in document (pre-)order after @node, or FDT_NONE. *@depth is
 * adjusted by the nesting change (root = 0), so a caller that starts at
 * fdt_root() with depth 0 always knows the depth of the returned node.
 */
int fdt_next_node(const struct fdt *fdt, int node, int *depth);
int fdt_first_child(const struct fdt *fdt, int node);
int fdt_next_sibling(const struct fdt *fdt, int node);
/* Child of @parent named @name (@len bytes, not NUL-terminated). Without
 * "@unit" in @name, "name@anything" matches too (an exact match wins). */
int fdt_subnode(const struct fdt *fdt, int parent, const char *name, size_t len);
/*
 * Resolve the first @len bytes of @path: "/a/b@1" from the root, or
 * "alias/rest" through /aliases. Returns the node or FDT_NONE.
 */
int fdt_path(const struct fdt *fdt, const char *path, size_t len);

/* Node name including the unit address ("cpu@0"); "" for the root. */
const char *fdt_node_name(const struct fdt *fdt, int node);
/* True if @name is @base or "base@unit". */
bool fdt_name_is(const char *name, const char *base);

/* Properties. Values point into the blob; *@lenp gets the value length. */
const void *fdt_getprop(const struct fdt *fdt, int node, const char *name, uint32_t *lenp);
/* Value of a string property, NULL if absent or not NUL-terminated. */
const char *fdt_getprop_str(const struct fdt *fdt, int node, const char *name);
/* True, and *@val set, only if the property is exactly one cell. */
bool fdt_getprop_u32(const struct fdt *fdt, int node, const char *name, uint32_t *val);
/* True if the string (list) property @name contains the entry @str. */
bool fdt_prop_has_str(const struct fdt *fdt, int node, const char *name, const char *str);
bool fdt_is_compatible(const struct fdt *fdt, int node, const char *compat);
/* No "status", or "okay"/"ok": the node is in use (Linux: of_device_is_available). */
bool fdt_node_is_available(const struct fdt *fdt, int node);
/* "phandle" (or legacy "linux,phandle"); 0 if none or invalid. */
uint32_t fdt_phandle(const struct fdt *fdt, int node);
/* True if @list (@len bytes of NUL-separated strings) contains @str. */
bool fdt_strlist_has(const char *list, uint32_t len, const char *str);

/* Cells. */
static inline uint32_t fdt_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Big-endian value of @ncells (0..2) consecutive cells at @p. */
static inline uint64_t fdt_cells(const void *p, uint32_t ncells)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (uint32_t i = 0; i < ncells && i < 2; i++)
		v = v << 32 | fdt_be32(b + 4 * i);
	return v;
}

/* Memory reservation block (/memreserve/), terminator excluded. */
uint32_t fdt_num_rsv(const struct fdt *fdt);
bool fdt_get_rsv(const struct fdt *fdt, uint32_t i, uint64_t *addr, uint64_t *size);

#endif
