/*
 * fdt.c - bounds-checked flattened device tree reader; see include/fdt.h.
 *
 * Written from the devicetree specification (v0.4, chapter 5). Every read
 * of the structure block goes through decode_token(), which checks the
 * token against the block bounds, so the validator and the navigation
 * functions share one definition of "well formed": the validator merely
 * walks the whole stream once and turns the first failure into a message.
 *
 * Arithmetic note: offsets and sizes are uint32_t. Sums are only formed
 * after the operands were compared against a bound by subtraction
 * (e.g. "len > size - off" rather than "off + len > size"), and totalsize
 * is capped at FDT_HARD_MAX, so nothing here can wrap.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fdt.h"

/* Header fields: big-endian u32s at these byte offsets. */
enum {
	HDR_MAGIC = 0,
	HDR_TOTALSIZE = 4,
	HDR_OFF_STRUCT = 8,
	HDR_OFF_STRINGS = 12,
	HDR_OFF_RSVMAP = 16,
	HDR_VERSION = 20,
	HDR_LAST_COMP = 24,
	HDR_BOOT_CPUID = 28,
	HDR_SIZE_STRINGS = 32,
	HDR_SIZE_STRUCT = 36, /* only since version 17 */
};

#define RSV_ENTRY_SIZE 16u
/* Keeps every offset representable as a non-negative int node offset. */
#define FDT_HARD_MAX (1u << 30)

struct token {
	uint32_t tag;
	uint32_t next;	    /* offset of the following token (may be > size) */
	const char *name;   /* BEGIN_NODE: node name; PROP: property name */
	const uint8_t *val; /* PROP: value */
	uint32_t len;	    /* PROP: value length */
	uint32_t nameoff;   /* PROP: offset of the name in the strings block */
};

enum tok_status {
	TOK_OK = 0,
	TOK_TRUNCATED,		   /* no room for the token in the struct block */
	TOK_NAME_UNTERMINATED,	   /* node name runs to the end of the block */
	TOK_PROP_OVERRUN,	   /* property value runs past the block */
	TOK_NAMEOFF_RANGE,	   /* property nameoff outside the strings block */
	TOK_PROPNAME_UNTERMINATED, /* property name runs past the strings block */
	TOK_UNKNOWN,		   /* not one of the five tokens */
};

static uint32_t align4(uint32_t x)
{
	return (x + 3u) & ~3u;
}

static const uint8_t *struct_base(const struct fdt *f)
{
	return f->blob + f->struct_off;
}

/*
 * Decode the token at struct-block offset @off into @t. Never reads
 * outside the struct block (or, for property names, the strings block).
 * On success t->next > off, so loops over tokens always terminate.
 */
static enum tok_status decode_token(const struct fdt *f, uint32_t off, struct token *t)
{
	const uint8_t *s = struct_base(f);
	uint32_t size = f->struct_size;
	const uint8_t *nul;

	t->name = NULL;
	t->val = NULL;
	t->len = 0;
	t->nameoff = 0;
	if (!f->blob || (off & 3u) || size < 4 || off > size - 4)
		return TOK_TRUNCATED;
	t->tag = fdt_be32(s + off);
	switch (t->tag) {
	case FDT_BEGIN_NODE:
		nul = memchr(s + off + 4, 0, size - off - 4);
		if (!nul)
			return TOK_NAME_UNTERMINATED;
		t->name = (const char *)(s + off + 4);
		t->next = align4((uint32_t)(nul - s) + 1);
		return TOK_OK;
	case FDT_PROP:
		if (size - off < 12)
			return TOK_TRUNCATED;
		t->len = fdt_be32(s + off + 4);
		t->nameoff = fdt_be32(s + off + 8);
		if (t->len > size - off - 12)
			return TOK_PROP_OVERRUN;
		if (t->nameoff >= f->strings_size)
			return TOK_NAMEOFF_RANGE;
		t->name = (const char *)(f->blob + f->strings_off + t->nameoff);
		if (!memchr(t->name, 0, f->strings_size - t->nameoff))
			return TOK_PROPNAME_UNTERMINATED;
		t->val = s + off + 12;
		t->next = align4(off + 12 + t->len);
		return TOK_OK;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		t->next = off + 4;
		return TOK_OK;
	default:
		return TOK_UNKNOWN;
	}
}

/* ---- validation ---- */

struct errbuf {
	char *buf;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static int fail(const struct errbuf *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->buf, e->len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A block [off, off + size) must start after the header and end inside totalsize. */
static int check_block(const struct errbuf *e, const char *what, uint32_t off, uint32_t size,
		       uint32_t total, uint32_t align)
{
	if (off > total)
		return fail(e, "dtb: %s block offset 0x%x beyond totalsize 0x%x", what, off, total);
	if (off < FDT_HEADER_SIZE)
		return fail(e, "dtb: %s block offset 0x%x inside the header", what, off);
	if (size > total - off)
		return fail(e, "dtb: %s block 0x%x+0x%x overruns totalsize 0x%x", what, off, size,
			    total);
	if (off % align)
		return fail(e, "dtb: %s block offset 0x%x not %u-byte aligned", what, off, align);
	return 0;
}

static bool overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	/* 64-bit sums: the operands are < 2^30 anyway, but make it obvious. */
	return alen && blen && a < (uint64_t)b + blen && b < (uint64_t)a + alen;
}

/* Count reservation entries; the map must end with a zero entry inside totalsize. */
static int check_rsvmap(struct fdt *f, const struct errbuf *e)
{
	uint32_t pos = f->rsv_off;

	for (;;) {
		if (f->totalsize - pos < RSV_ENTRY_SIZE)
			return fail(e,
				    "dtb: memory reservation map at 0x%x has no terminator "
				    "inside totalsize 0x%x",
				    f->rsv_off, f->totalsize);
		if (fdt_cells(f->blob + pos, 2) == 0 && fdt_cells(f->blob + pos + 8, 2) == 0)
			return 0;
		f->nrsv++;
		pos += RSV_ENTRY_SIZE;
	}
}

static int token_error(const struct fdt *f, const struct errbuf *e, enum tok_status st,
		       uint32_t off, const struct token *t)
{
	switch (st) {
	case TOK_TRUNCATED:
		if (off >= f->struct_size)
			return fail(e, "dtb: struct block (0x%x bytes) ends without FDT_END",
				    f->struct_size);
		return fail(e, "dtb: token at struct offset 0x%x truncated by the block end 0x%x",
			    off, f->struct_size);
	case TOK_NAME_UNTERMINATED:
		return fail(e, "dtb: node name at struct offset 0x%x not NUL-terminated", off);
	case TOK_PROP_OVERRUN:
		return fail(e,
			    "dtb: property at struct offset 0x%x: length 0x%x overruns the "
			    "struct block (0x%x bytes)",
			    off, t->len, f->struct_size);
	case TOK_NAMEOFF_RANGE:
		return fail(e,
			    "dtb: property at struct offset 0x%x: nameoff 0x%x beyond strings "
			    "size 0x%x",
			    off, t->nameoff, f->strings_size);
	case TOK_PROPNAME_UNTERMINATED:
		return fail(e, "dtb: property name at strings offset 0x%x not NUL-terminated",
			    t->nameoff);
	case TOK_UNKNOWN:
		return fail(e, "dtb: unknown token 0x%x at struct offset 0x%x", t->tag, off);
	default:
		return fail(e, "dtb: bad token at struct offset 0x%x", off);
	}
}

/*
 * Walk the whole token stream once. @open counts the nodes currently open
 * (root open = 1); bit (open - 1) of @had_child says the innermost open
 * node already contained a subnode, after which properties are illegal.
 */
static int check_structure(struct fdt *f, const struct errbuf *e)
{
	struct token t;
	uint32_t off = 0;
	int open = 0;
	bool root_closed = false;
	uint64_t had_child = 0;

	f->root = FDT_NONE;
	for (;; off = t.next) {
		enum tok_status st = decode_token(f, off, &t);

		if (st != TOK_OK)
			return token_error(f, e, st, off, &t);
		switch (t.tag) {
		case FDT_BEGIN_NODE:
			if (root_closed)
				return fail(e, "dtb: second root node at struct offset 0x%x", off);
			if (open == 0) {
				f->root = (int)off;
			} else {
				if (t.name[0] == '\0')
					return fail(e, "dtb: empty node name at struct offset 0x%x",
						    off);
				had_child |= 1ull << (open - 1);
			}
			if (open > FDT_MAX_DEPTH)
				return fail(
					e, "dtb: nodes nested deeper than %d at struct offset 0x%x",
					FDT_MAX_DEPTH, off);
			open++;
			had_child &= ~(1ull << (open - 1));
			break;
		case FDT_PROP:
			if (open == 0)
				return fail(e,
					    "dtb: property outside any node at struct offset 0x%x",
					    off);
			if (had_child & (1ull << (open - 1)))
				return fail(e,
					    "dtb: property after a subnode at struct offset 0x%x",
					    off);
			break;
		case FDT_END_NODE:
			if (open == 0)
				return fail(e, "dtb: unbalanced FDT_END_NODE at struct offset 0x%x",
					    off);
			if (--open == 0)
				root_closed = true;
			break;
		case FDT_END:
			if (!root_closed && open == 0)
				return fail(e, "dtb: no root node before FDT_END");
			if (open != 0)
				return fail(e,
					    "dtb: FDT_END at struct offset 0x%x with %d node(s) "
					    "still open",
					    off, open);
			return 0;
		default: /* FDT_NOP */
			break;
		}
	}
}

/* Header checks first, then blocks, then the token stream; see fdt.h for the invariants. */
static int check_all(struct fdt *f, const struct errbuf *ep, const uint8_t *b, size_t bufsize,
		     uint32_t maxsize)
{
	const struct errbuf e = *ep;
	uint32_t total, version, last_comp;
	int rc;

	if (!b)
		return fail(&e, "dtb: no blob (NULL pointer)");
	if (bufsize < FDT_HEADER_SIZE)
		return fail(&e, "dtb: buffer of %zu bytes smaller than the %u-byte header", bufsize,
			    FDT_HEADER_SIZE);
	if (fdt_be32(b + HDR_MAGIC) != FDT_MAGIC)
		return fail(&e, "dtb: bad magic 0x%x (want 0x%x)", fdt_be32(b + HDR_MAGIC),
			    FDT_MAGIC);

	version = fdt_be32(b + HDR_VERSION);
	last_comp = fdt_be32(b + HDR_LAST_COMP);
	if (version < FDT_MIN_VERSION)
		return fail(&e, "dtb: version %u too old (need >= %u)", version, FDT_MIN_VERSION);
	if (last_comp > FDT_MY_VERSION)
		return fail(&e, "dtb: last_comp_version %u newer than %u", last_comp,
			    FDT_MY_VERSION);

	total = fdt_be32(b + HDR_TOTALSIZE);
	if (maxsize > FDT_HARD_MAX)
		maxsize = FDT_HARD_MAX;
	if (total < FDT_HEADER_SIZE)
		return fail(&e, "dtb: totalsize 0x%x smaller than the header", total);
	if (total > bufsize)
		return fail(&e, "dtb: totalsize 0x%x exceeds the 0x%zx-byte buffer", total,
			    bufsize);
	if (total > maxsize)
		return fail(&e, "dtb: totalsize 0x%x above the 0x%x limit", total, maxsize);

	f->blob = b;
	f->totalsize = total;
	f->version = version;
	f->boot_cpuid = fdt_be32(b + HDR_BOOT_CPUID);
	f->struct_off = fdt_be32(b + HDR_OFF_STRUCT);
	f->strings_off = fdt_be32(b + HDR_OFF_STRINGS);
	f->strings_size = fdt_be32(b + HDR_SIZE_STRINGS);
	f->rsv_off = fdt_be32(b + HDR_OFF_RSVMAP);

	rc = check_block(&e, "strings", f->strings_off, f->strings_size, total, 1);
	if (rc)
		return rc;
	if (version >= 17) {
		f->struct_size = fdt_be32(b + HDR_SIZE_STRUCT);
	} else {
		/* No size_dt_struct before v17: it runs up to the strings block. */
		uint32_t end = f->strings_off > f->struct_off ? f->strings_off : total;

		f->struct_size = f->struct_off < end ? end - f->struct_off : 0;
	}
	rc = check_block(&e, "struct", f->struct_off, f->struct_size, total, 4);
	if (rc)
		return rc;
	rc = check_block(&e, "memory reservation", f->rsv_off, 0, total, 8);
	if (rc)
		return rc;
	rc = check_rsvmap(f, &e);
	if (rc)
		return rc;

	if (overlap(f->struct_off, f->struct_size, f->strings_off, f->strings_size))
		return fail(&e, "dtb: struct block 0x%x+0x%x overlaps strings block 0x%x+0x%x",
			    f->struct_off, f->struct_size, f->strings_off, f->strings_size);
	if (overlap(f->rsv_off, (f->nrsv + 1) * RSV_ENTRY_SIZE, f->struct_off, f->struct_size) ||
	    overlap(f->rsv_off, (f->nrsv + 1) * RSV_ENTRY_SIZE, f->strings_off, f->strings_size))
		return fail(&e, "dtb: memory reservation map 0x%x+0x%x overlaps another block",
			    f->rsv_off, (f->nrsv + 1) * RSV_ENTRY_SIZE);

	return check_structure(f, &e);
}

int fdt_check(struct fdt *f, const void *blob, size_t bufsize, uint32_t maxsize, char *err,
	      size_t errlen)
{
	const struct errbuf e = {err, errlen};
	int rc;

	if (err && errlen)
		err[0] = '\0';
	memset(f, 0, sizeof(*f));
	f->root = FDT_NONE;
	rc = check_all(f, &e, blob, bufsize, maxsize);
	if (rc) {
		f->blob = NULL; /* make every later query answer "nothing" */
		f->root = FDT_NONE;
	}
	return rc;
}

/* ---- navigation ---- */

int fdt_root(const struct fdt *f)
{
	return f->root;
}

/* Decode @node and require it to be an FDT_BEGIN_NODE. */
static bool decode_node(const struct fdt *f, int node, struct token *t)
{
	return node >= 0 && decode_token(f, (uint32_t)node, t) == TOK_OK &&
	       t->tag == FDT_BEGIN_NODE;
}

int fdt_next_node(const struct fdt *f, int node, int *depth)
{
	struct token t;
	uint32_t off;

	if (!decode_node(f, node, &t))
		return FDT_NONE;
	for (off = t.next; decode_token(f, off, &t) == TOK_OK; off = t.next) {
		switch (t.tag) {
		case FDT_BEGIN_NODE:
			if (depth)
				(*depth)++;
			return (int)off;
		case FDT_END_NODE:
			if (depth)
				(*depth)--;
			break;
		case FDT_END:
			return FDT_NONE;
		default: /* FDT_PROP, FDT_NOP */
			break;
		}
	}
	return FDT_NONE;
}

int fdt_first_child(const struct fdt *f, int node)
{
	struct token t;
	uint32_t off;

	if (!decode_node(f, node, &t))
		return FDT_NONE;
	/* Properties come first (fdt_check enforces it), then subnodes. */
	for (off = t.next; decode_token(f, off, &t) == TOK_OK; off = t.next) {
		if (t.tag == FDT_BEGIN_NODE)
			return (int)off;
		if (t.tag != FDT_PROP && t.tag != FDT_NOP)
			break;
	}
	return FDT_NONE;
}

int fdt_next_sibling(const struct fdt *f, int node)
{
	struct token t;
	uint32_t off;
	int depth = 0; /* nodes open since @node, including @node itself */

	if (!decode_node(f, node, &t))
		return FDT_NONE;
	for (off = (uint32_t)node; decode_token(f, off, &t) == TOK_OK; off = t.next) {
		switch (t.tag) {
		case FDT_BEGIN_NODE:
			if (depth == 0 && off != (uint32_t)node)
				return (int)off;
			depth++;
			break;
		case FDT_END_NODE:
			if (depth == 0) /* the parent ends: no more siblings */
				return FDT_NONE;
			depth--;
			break;
		case FDT_END:
			return FDT_NONE;
		default:
			break;
		}
	}
	return FDT_NONE;
}

const char *fdt_node_name(const struct fdt *f, int node)
{
	struct token t;

	return decode_node(f, node, &t) ? t.name : "";
}

bool fdt_name_is(const char *name, const char *base)
{
	size_t n = strlen(base);

	return strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '@');
}

int fdt_subnode(const struct fdt *f, int parent, const char *name, size_t len)
{
	bool want_unit = memchr(name, '@', len) != NULL;
	int child, base_match = FDT_NONE;

	for (child = fdt_first_child(f, parent); child >= 0; child = fdt_next_sibling(f, child)) {
		const char *cname = fdt_node_name(f, child);
		size_t clen = strlen(cname);

		if (clen < len || memcmp(cname, name, len) != 0)
			continue;
		if (clen == len)
			return child;
		if (!want_unit && cname[len] == '@' && base_match < 0)
			base_match = child;
	}
	return base_match;
}

/* Property lookup by a name given as pointer + length. */
static const void *getprop_n(const struct fdt *f, int node, const char *name, size_t namelen,
			     uint32_t *lenp)
{
	struct token t;
	uint32_t off;

	if (!decode_node(f, node, &t))
		return NULL;
	for (off = t.next; decode_token(f, off, &t) == TOK_OK; off = t.next) {
		if (t.tag == FDT_NOP)
			continue;
		if (t.tag != FDT_PROP)
			break;
		if (strlen(t.name) == namelen && memcmp(t.name, name, namelen) == 0) {
			if (lenp)
				*lenp = t.len;
			return t.val;
		}
	}
	return NULL;
}

const void *fdt_getprop(const struct fdt *f, int node, const char *name, uint32_t *lenp)
{
	return getprop_n(f, node, name, strlen(name), lenp);
}

/* Follow "/"-separated components of [p, end) down from @node. */
static int walk_path(const struct fdt *f, int node, const char *p, const char *end)
{
	while (node >= 0 && p < end) {
		const char *slash;

		if (*p == '/') {
			p++;
			continue;
		}
		slash = memchr(p, '/', (size_t)(end - p));
		if (!slash)
			slash = end;
		node = fdt_subnode(f, node, p, (size_t)(slash - p));
		p = slash;
	}
	return node;
}

int fdt_path(const struct fdt *f, const char *path, size_t len)
{
	const char *end = path + len, *slash, *target;
	uint32_t tlen;
	int aliases;

	if (len == 0)
		return FDT_NONE;
	if (path[0] == '/')
		return walk_path(f, f->root, path, end);

	/* "alias/rest": the alias must expand to an absolute path. */
	slash = memchr(path, '/', len);
	if (!slash)
		slash = end;
	aliases = fdt_subnode(f, f->root, "aliases", 7);
	target = getprop_n(f, aliases, path, (size_t)(slash - path), &tlen);
	if (!target || tlen < 2 || target[0] != '/' || target[tlen - 1] != '\0')
		return FDT_NONE;
	return walk_path(f, walk_path(f, f->root, target, target + strlen(target)), slash, end);
}

const char *fdt_getprop_str(const struct fdt *f, int node, const char *name)
{
	uint32_t len;
	const char *v = fdt_getprop(f, node, name, &len);

	return v && len > 0 && v[len - 1] == '\0' ? v : NULL;
}

bool fdt_getprop_u32(const struct fdt *f, int node, const char *name, uint32_t *val)
{
	uint32_t len;
	const void *v = fdt_getprop(f, node, name, &len);

	if (!v || len != 4)
		return false;
	*val = fdt_be32(v);
	return true;
}

bool fdt_strlist_has(const char *list, uint32_t len, const char *str)
{
	size_t want = strlen(str);

	while (list && len > 0) {
		const char *nul = memchr(list, 0, len);
		uint32_t n;

		if (!nul) /* unterminated tail: not a valid entry */
			return false;
		n = (uint32_t)(nul - list);
		if (n == want && memcmp(list, str, n) == 0)
			return true;
		list += n + 1;
		len -= n + 1;
	}
	return false;
}

bool fdt_prop_has_str(const struct fdt *f, int node, const char *name, const char *str)
{
	uint32_t len;
	const char *v = fdt_getprop(f, node, name, &len);

	return v && fdt_strlist_has(v, len, str);
}

bool fdt_is_compatible(const struct fdt *f, int node, const char *compat)
{
	return fdt_prop_has_str(f, node, "compatible", compat);
}

bool fdt_node_is_available(const struct fdt *f, int node)
{
	const char *s;

	if (!fdt_getprop(f, node, "status", NULL))
		return true;
	s = fdt_getprop_str(f, node, "status");
	return s && (strcmp(s, "okay") == 0 || strcmp(s, "ok") == 0);
}

uint32_t fdt_phandle(const struct fdt *f, int node)
{
	uint32_t ph;

	if (!fdt_getprop_u32(f, node, "phandle", &ph) &&
	    !fdt_getprop_u32(f, node, "linux,phandle", &ph))
		return 0;
	return ph == 0xffffffffu ? 0 : ph; /* -1 is reserved, never a valid phandle */
}

uint32_t fdt_num_rsv(const struct fdt *f)
{
	return f->blob ? f->nrsv : 0;
}

bool fdt_get_rsv(const struct fdt *f, uint32_t i, uint64_t *addr, uint64_t *size)
{
	const uint8_t *e;

	if (!f->blob || i >= f->nrsv)
		return false;
	e = f->blob + f->rsv_off + i * RSV_ENTRY_SIZE;
	*addr = fdt_cells(e, 2);
	*size = fdt_cells(e + 8, 2);
	return true;
}
