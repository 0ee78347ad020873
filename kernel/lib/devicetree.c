/*
 * devicetree.c - fill struct dt_info from a flattened device tree.
 *
 * fdt_check() validates the blob's structure first; this file then makes
 * one pre-order pass over all nodes, keeping for every open ancestor its
 * #address-cells, #size-cells and ranges (struct level), so that each
 * node's reg is decoded with its parent's cell sizes and translated to a
 * CPU physical address. Interrupt controllers may precede /cpus in the
 * blob, so the per-hart indexes (PLIC context, SSWI, IMSIC file) are
 * resolved in a second step once every cpu's intc phandle is known.
 *
 * Policy: missing optional nodes/properties are not errors; malformed
 * values in nodes we consume are (-EINVAL with a reason naming the node),
 * because guessing would hand the kernel wrong addresses. When several
 * nodes match a device class, the first enabled one in blob order wins
 * (for the UART, the one named by /chosen/stdout-path wins).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devicetree.h"
#include "fdt.h"

/* Spec defaults when #address-cells / #size-cells are absent. */
#define DEFAULT_ADDR_CELLS 2
#define DEFAULT_SIZE_CELLS 1

/* riscv,cpu-intc specifiers are mip bit numbers. */
#define IRQ_S_SOFT 1
#define IRQ_S_EXT  9

/* What the walk remembers about an open ancestor. */
struct level {
	int node;
	uint32_t ac, sc;       /* #address-cells / #size-cells for its children */
	const uint8_t *ranges; /* NULL when absent */
	uint32_t ranges_len;
};

struct parser {
	struct fdt f;
	struct dt_info *out;
	char *err;
	size_t errlen;
	struct level lv[FDT_MAX_DEPTH + 1]; /* lv[d] describes the open node at depth d */
	int cpus;			    /* /cpus */
	int reserved;			    /* /reserved-memory */
	int stdout_node;		    /* node named by /chosen stdout-path */
	bool uart_is_stdout;		    /* out->uart came from stdout_node */
	int plic, sswi, imsic;		    /* selected controllers, for map_harts() */
	/* "syscon" nodes seen, by phandle, for a syscon-poweroff's regmap. */
	struct {
		uint32_t phandle;
		uint64_t base;
	} syscon[DT_MAX_SYSCON];
	int nsyscon;
	int syscon_poweroff; /* the first enabled syscon-poweroff node, or FDT_NONE */
};

enum hart_index {
	IDX_PLIC_S_CTX,
	IDX_SSWI,
	IDX_IMSIC_S,
};

__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, int errnum, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -errnum;
}

static const char *name_of(const struct parser *p, int node)
{
	const char *n = fdt_node_name(&p->f, node);

	return n[0] ? n : "/";
}

/* A one-cell property that must be exactly 4 bytes when present. */
static int read_cell(struct parser *p, int node, const char *name, uint32_t def, uint32_t *val)
{
	uint32_t len;
	const void *v = fdt_getprop(&p->f, node, name, &len);

	*val = def;
	if (!v)
		return 0;
	if (len != 4)
		return fail(p, EINVAL, "dtb: %s: %s has length %u, want 4", name_of(p, node), name,
			    len);
	*val = fdt_be32(v);
	return 0;
}

/* A frequency in one or two cells; leaves *@hz alone when absent. */
static int read_freq(struct parser *p, int node, const char *name, uint32_t *hz)
{
	uint32_t len;
	const void *v = fdt_getprop(&p->f, node, name, &len);
	uint64_t x;

	if (!v)
		return 0;
	if (len != 4 && len != 8)
		return fail(p, EINVAL, "dtb: %s: %s has length %u, want 4 or 8", name_of(p, node),
			    name, len);
	x = fdt_cells(v, len / 4);
	if (x > UINT32_MAX)
		return fail(p, EINVAL, "dtb: %s: %s 0x%llx does not fit 32 bits", name_of(p, node),
			    name, (unsigned long long)x);
	*hz = (uint32_t)x;
	return 0;
}

/* Record the node just entered at @depth; its parent is lv[depth - 1]. */
static int enter(struct parser *p, int node, int depth)
{
	struct level *l = &p->lv[depth];
	uint32_t len;
	int rc;

	l->node = node;
	rc = read_cell(p, node, "#address-cells", DEFAULT_ADDR_CELLS, &l->ac);
	if (!rc)
		rc = read_cell(p, node, "#size-cells", DEFAULT_SIZE_CELLS, &l->sc);
	l->ranges = fdt_getprop(&p->f, node, "ranges", &len);
	l->ranges_len = l->ranges ? len : 0;
	return rc;
}

/*
 * Map a bus address of a node at @depth up through its ancestors' ranges
 * to a CPU physical address. An absent or empty ranges counts as identity
 * (QEMU and most boards use "ranges;"). False if no entry covers the
 * address or a bus uses addresses wider than 64 bits (e.g. PCI).
 */
static bool translate(const struct parser *p, int depth, uint64_t *addr)
{
	for (int k = depth - 1; k >= 1; k--) {
		const struct level *bus = &p->lv[k], *up = &p->lv[k - 1];
		uint32_t ent, off;
		bool hit = false;

		if (!bus->ranges || bus->ranges_len == 0)
			continue;
		if (bus->ac == 0 || bus->ac > 2 || up->ac == 0 || up->ac > 2 || bus->sc > 2)
			return false;
		ent = 4 * (bus->ac + up->ac + bus->sc);
		for (off = 0; !hit && bus->ranges_len - off >= ent; off += ent) {
			const uint8_t *e = bus->ranges + off;
			uint64_t child = fdt_cells(e, bus->ac);
			uint64_t parent = fdt_cells(e + 4 * bus->ac, up->ac);
			uint64_t size = fdt_cells(e + 4 * (bus->ac + up->ac), bus->sc);

			if (*addr >= child && *addr - child < size) {
				*addr = parent + (*addr - child);
				hit = true;
			}
		}
		if (!hit)
			return false;
	}
	return true;
}

/*
 * Entry @idx of the reg of @node (at @depth >= 1), decoded with the
 * parent's cell sizes and translated. Returns 1 if found, 0 if there is
 * no such usable entry, negative errno if reg is malformed. @strict makes
 * cell sizes we cannot represent an error instead of "unusable".
 */
static int node_reg(struct parser *p, int node, int depth, uint32_t idx, bool strict,
		    struct dt_range *r)
{
	const struct level *bus = &p->lv[depth - 1];
	uint32_t len, ent;
	const uint8_t *v = fdt_getprop(&p->f, node, "reg", &len);

	if (!v)
		return 0;
	if (bus->ac == 0 || bus->ac > 2 || bus->sc > 2) {
		if (!strict)
			return 0;
		return fail(p, EINVAL, "dtb: %s: unsupported #address-cells %u / #size-cells %u",
			    name_of(p, node), bus->ac, bus->sc);
	}
	ent = 4 * (bus->ac + bus->sc);
	if (len % ent)
		return fail(p, EINVAL, "dtb: %s: reg length %u not a multiple of %u",
			    name_of(p, node), len, ent);
	if (idx >= len / ent)
		return 0;
	v += idx * ent;
	r->base = fdt_cells(v, bus->ac);
	r->size = fdt_cells(v + 4 * bus->ac, bus->sc);
	if (!translate(p, depth, &r->base))
		return 0;
	/* Guarantee base + size is representable for every consumer. */
	if (r->size > UINT64_MAX - r->base)
		return fail(p, EINVAL, "dtb: %s: reg 0x%llx+0x%llx wraps", name_of(p, node),
			    (unsigned long long)r->base, (unsigned long long)r->size);
	return 1;
}

static int add_resv(struct parser *p, uint64_t base, uint64_t size)
{
	struct dt_info *o = p->out;

	if (size == 0)
		return 0;
	if (size > UINT64_MAX - base)
		return fail(p, EINVAL, "dtb: reserved range 0x%llx+0x%llx wraps",
			    (unsigned long long)base, (unsigned long long)size);
	/* Dropping a reservation could let the kernel overwrite firmware. */
	if (o->nresv >= DT_MAX_RESV)
		return fail(p, E2BIG, "dtb: more than %d reserved memory ranges", DT_MAX_RESV);
	o->resv[o->nresv].base = base;
	o->resv[o->nresv].size = size;
	o->nresv++;
	return 0;
}

static int add_memreserve(struct parser *p)
{
	uint64_t base, size;

	for (uint32_t i = 0; fdt_get_rsv(&p->f, i, &base, &size); i++) {
		int rc = add_resv(p, base, size);

		if (rc)
			return rc;
	}
	return 0;
}

/* A /reserved-memory child; ones without reg are dynamic and not placed yet. */
static int add_reserved(struct parser *p, int node, int depth)
{
	struct dt_range r;

	if (!fdt_node_is_available(&p->f, node))
		return 0;
	for (uint32_t idx = 0;; idx++) {
		int rc = node_reg(p, node, depth, idx, true, &r);

		if (rc <= 0)
			return rc;
		rc = add_resv(p, r.base, r.size);
		if (rc)
			return rc;
	}
}

static int add_memory(struct parser *p, int node, int depth)
{
	struct dt_info *o = p->out;
	struct dt_range r;

	if (!fdt_node_is_available(&p->f, node))
		return 0;
	for (uint32_t idx = 0;; idx++) {
		int rc = node_reg(p, node, depth, idx, true, &r);

		if (rc <= 0)
			return rc;
		/* Ranges beyond DT_MAX_MEM are dropped: less RAM is safe. */
		if (r.size && o->nmem < DT_MAX_MEM)
			o->mem[o->nmem++] = r;
	}
}

/* Phandle of the cpu's "riscv,cpu-intc" child, 0 if none. */
static uint32_t cpu_intc(const struct fdt *f, int cpu)
{
	for (int c = fdt_first_child(f, cpu); c >= 0; c = fdt_next_sibling(f, c))
		if (fdt_is_compatible(f, c, "riscv,cpu-intc"))
			return fdt_phandle(f, c);
	return 0;
}

static void copy_str(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n > dstlen - 1)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int add_cpu(struct parser *p, int node)
{
	struct dt_info *o = p->out;
	const struct level *bus = &p->lv[1];
	const char *isa, *mmu;
	struct dt_cpu *c;
	uint32_t len, hz = 0;
	const void *reg;
	int rc;

	if (bus->ac == 0 || bus->ac > 2)
		return fail(p, EINVAL, "dtb: /cpus: #address-cells %u unsupported", bus->ac);
	reg = fdt_getprop(&p->f, node, "reg", &len);
	if (!reg || len < 4 * bus->ac)
		return fail(p, EINVAL, "dtb: %s: missing or short reg", name_of(p, node));
	rc = read_freq(p, node, "timebase-frequency", &hz);
	if (rc)
		return rc;
	if (!o->timebase_hz) /* /cpus' own value, read earlier, takes precedence */
		o->timebase_hz = hz;
	if (o->ncpus >= DT_MAX_CPUS) /* extra harts simply stay parked */
		return 0;

	c = &o->cpus[o->ncpus++];
	c->hartid = fdt_cells(reg, bus->ac);
	c->okay = fdt_node_is_available(&p->f, node);
	isa = fdt_getprop_str(&p->f, node, "riscv,isa");
	if (isa)
		copy_str(c->isa, sizeof(c->isa), isa, strlen(isa));
	/* Judge sstc on the full string: the copy may be truncated. */
	c->sstc = dt_isa_has(isa, "sstc") ||
		  fdt_prop_has_str(&p->f, node, "riscv,isa-extensions", "sstc");
	mmu = fdt_getprop_str(&p->f, node, "mmu-type");
	c->mmu = mmu && strcmp(mmu, "riscv,none") != 0;
	c->intc_phandle = cpu_intc(&p->f, node);
	c->plic_s_ctx = -1;
	c->sswi_index = -1;
	c->imsic_s_index = -1;
	return 0;
}

/* reg[0] of a device; 1 if usable. */
static int dev_reg(struct parser *p, int node, int depth, uint64_t *base, uint64_t *size)
{
	struct dt_range r = {0, 0};
	int rc = node_reg(p, node, depth, 0, false, &r);

	/* Written even when unusable: callers then need no initialisation. */
	*base = rc == 1 ? r.base : 0;
	*size = rc == 1 ? r.size : 0;
	return rc;
}

static int add_uart(struct parser *p, int node, int depth)
{
	struct dt_info *o = p->out;
	bool is_stdout = node == p->stdout_node;
	uint64_t base, size;
	uint32_t len, hz = 0;
	const void *irq;
	int rc;

	if (o->uart.present && (p->uart_is_stdout || !is_stdout))
		return 0;
	rc = dev_reg(p, node, depth, &base, &size);
	if (rc <= 0)
		return rc;
	rc = read_freq(p, node, "clock-frequency", &hz);
	if (rc)
		return rc;
	irq = fdt_getprop(&p->f, node, "interrupts", &len);
	o->uart.present = true;
	o->uart.base = base;
	o->uart.irq = irq && len >= 4 ? fdt_be32(irq) : 0;
	o->uart.clock_hz = hz;
	p->uart_is_stdout = is_stdout;
	return 0;
}

/* interrupts-extended as <phandle irq> pairs; NULL if absent. */
static const uint8_t *irq_pairs(struct parser *p, int node, uint32_t *npairs, int *rc)
{
	uint32_t len;
	const uint8_t *v = fdt_getprop(&p->f, node, "interrupts-extended", &len);

	*npairs = 0;
	*rc = 0;
	if (!v)
		return NULL;
	if (len % 8) {
		*rc = fail(p, EINVAL,
			   "dtb: %s: interrupts-extended length %u is not a list of "
			   "<phandle irq> pairs",
			   name_of(p, node), len);
		return NULL;
	}
	*npairs = len / 8;
	return v;
}

static int add_imsic(struct parser *p, int node, int depth)
{
	struct dt_info *o = p->out;
	uint32_t n, i;
	int rc;
	const uint8_t *v = irq_pairs(p, node, &n, &rc);

	if (rc)
		return rc;
	/* The S-level file set is the one wired to supervisor external irqs. */
	for (i = 0; i < n && fdt_be32(v + 8 * i + 4) != IRQ_S_EXT; i++)
		;
	if (i == n)
		return 0;
	rc = dev_reg(p, node, depth, &o->imsic_s.base, &o->imsic_s.size);
	if (rc <= 0)
		return rc;
	o->imsic_s.present = true;
	p->imsic = node;
	rc = read_cell(p, node, "riscv,num-ids", 0, &o->imsic_s.num_ids);
	if (!rc)
		rc = read_cell(p, node, "riscv,ipi-id", 0, &o->imsic_s.ipi_id);
	return rc;
}

static bool compatible_any(const struct fdt *f, int node, const char *a, const char *b)
{
	return fdt_is_compatible(f, node, a) || (b && fdt_is_compatible(f, node, b));
}

static int visit_device(struct parser *p, int node, int depth)
{
	const struct fdt *f = &p->f;
	struct dt_info *o = p->out;
	int rc;

	if (fdt_is_compatible(f, node, "ns16550a"))
		return add_uart(p, node, depth);
	if (!o->plic.present && compatible_any(f, node, "riscv,plic0", "sifive,plic-1.0.0")) {
		rc = dev_reg(p, node, depth, &o->plic.base, &o->plic.size);
		if (rc <= 0)
			return rc;
		o->plic.present = true;
		p->plic = node;
		return read_cell(p, node, "riscv,ndev", 0, &o->plic.ndev);
	}
	if (!o->clint.present && compatible_any(f, node, "riscv,clint0", "sifive,clint0")) {
		rc = dev_reg(p, node, depth, &o->clint.base, &o->clint.size);
		o->clint.present = rc == 1;
		return rc < 0 ? rc : 0;
	}
	if (!o->aclint_sswi.present && fdt_is_compatible(f, node, "riscv,aclint-sswi")) {
		rc = dev_reg(p, node, depth, &o->aclint_sswi.base, &o->aclint_sswi.size);
		o->aclint_sswi.present = rc == 1;
		p->sswi = rc == 1 ? node : FDT_NONE;
		return rc < 0 ? rc : 0;
	}
	if (!o->imsic_s.present && fdt_is_compatible(f, node, "riscv,imsics"))
		return add_imsic(p, node, depth);
	/* The M-level APLIC delegates to its children; the S-level one has none. */
	if (!o->aplic_s.present && fdt_is_compatible(f, node, "riscv,aplic") &&
	    !fdt_getprop(f, node, "riscv,children", NULL)) {
		rc = dev_reg(p, node, depth, &o->aplic_s.base, &o->aplic_s.size);
		if (rc <= 0)
			return rc;
		o->aplic_s.present = true;
		return read_cell(p, node, "riscv,num-sources", 0, &o->aplic_s.num_sources);
	}
	if (fdt_is_compatible(f, node, "syscon") && p->nsyscon < DT_MAX_SYSCON &&
	    fdt_phandle(f, node)) {
		uint64_t base, size;

		rc = dev_reg(p, node, depth, &base, &size);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			p->syscon[p->nsyscon].phandle = fdt_phandle(f, node);
			p->syscon[p->nsyscon++].base = base;
		}
	}
	if (p->syscon_poweroff == FDT_NONE && fdt_is_compatible(f, node, "syscon-poweroff"))
		p->syscon_poweroff = node;
	if (o->poweroff.kind == DT_POWEROFF_NONE &&
	    compatible_any(f, node, "sifive,test0", "sifive,test1")) {
		uint64_t size;

		rc = dev_reg(p, node, depth, &o->poweroff.base, &size);
		if (rc == 1)
			o->poweroff.kind = DT_POWEROFF_SIFIVE_TEST;
		return rc < 0 ? rc : 0;
	}
	return 0;
}

static int visit(struct parser *p, int node, int depth)
{
	const struct fdt *f = &p->f;
	const char *name = fdt_node_name(f, node);

	if (depth == 1) {
		if (p->cpus < 0 && strcmp(name, "cpus") == 0) {
			p->cpus = node;
			return read_freq(p, node, "timebase-frequency", &p->out->timebase_hz);
		}
		if (p->reserved < 0 && strcmp(name, "reserved-memory") == 0) {
			p->reserved = node;
			return 0;
		}
		if (fdt_prop_has_str(f, node, "device_type", "memory"))
			return add_memory(p, node, depth);
	}
	if (depth == 2 && p->cpus >= 0 && p->lv[1].node == p->cpus) {
		/* Only real cpu nodes; /cpus/cpu-map and friends lack device_type. */
		if (fdt_prop_has_str(f, node, "device_type", "cpu"))
			return add_cpu(p, node);
		return 0;
	}
	if (depth == 2 && p->reserved >= 0 && p->lv[1].node == p->reserved)
		return add_reserved(p, node, depth);
	if (depth >= 1 && fdt_node_is_available(f, node))
		return visit_device(p, node, depth);
	return 0;
}

static int walk(struct parser *p)
{
	int depth = 0;

	for (int node = fdt_root(&p->f); node >= 0; node = fdt_next_node(&p->f, node, &depth)) {
		int rc;

		/* fdt_check bounds the nesting; re-check before indexing lv[]. */
		if (depth < 0 || depth > FDT_MAX_DEPTH)
			return fail(p, EINVAL, "dtb: node depth %d out of range", depth);
		rc = enter(p, node, depth);
		if (!rc)
			rc = visit(p, node, depth);
		if (rc)
			return rc;
	}
	return 0;
}

static void read_chosen(struct parser *p)
{
	const struct fdt *f = &p->f;
	int chosen = fdt_path(f, "/chosen", 7);
	const char *path, *colon;
	const void *v;
	uint32_t len;

	if (chosen < 0)
		return;
	v = fdt_getprop(f, chosen, "bootargs", &len);
	if (v)
		copy_str(p->out->bootargs, sizeof(p->out->bootargs), v, len);
	path = fdt_getprop_str(f, chosen, "stdout-path");
	if (!path)
		path = fdt_getprop_str(f, chosen, "linux,stdout-path");
	if (!path)
		return;
	/* "path:options", e.g. "/soc/serial@10000000:115200n8" or "serial0:115200". */
	colon = strchr(path, ':');
	p->stdout_node = fdt_path(f, path, colon ? (size_t)(colon - path) : strlen(path));
}

static int *hart_slot(struct dt_cpu *c, enum hart_index which)
{
	switch (which) {
	case IDX_PLIC_S_CTX:
		return &c->plic_s_ctx;
	case IDX_SSWI:
		return &c->sswi_index;
	default:
		return &c->imsic_s_index;
	}
}

/*
 * Entry i of @node's interrupts-extended naming (intc phandle, @irq) gives
 * that hart index i in the controller: PLIC context, SSWI register or
 * IMSIC interrupt file. The first matching entry wins.
 */
static int map_harts(struct parser *p, int node, uint32_t irq, enum hart_index which)
{
	struct dt_info *o = p->out;
	uint32_t n;
	int rc;
	const uint8_t *v;

	if (node < 0)
		return 0;
	v = irq_pairs(p, node, &n, &rc);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ph = fdt_be32(v + 8 * i);

		if (ph == 0 || fdt_be32(v + 8 * i + 4) != irq)
			continue;
		for (int c = 0; c < o->ncpus; c++) {
			int *slot = hart_slot(&o->cpus[c], which);

			if (o->cpus[c].intc_phandle != ph)
				continue;
			if (*slot < 0)
				*slot = (int)i;
			break;
		}
	}
	return rc;
}

/*
 * A syscon-poweroff node powers off by writing `value` at `offset` into
 * the syscon its `regmap` phandle names. Used only when there is no
 * sifive,test device. A node without regmap or value, or naming no known
 * syscon, is a malformed tree: refuse it rather than guess.
 */
static int resolve_syscon_poweroff(struct parser *p)
{
	const struct fdt *f = &p->f;
	int node = p->syscon_poweroff;
	uint32_t regmap, offset = 0, value;

	if (node == FDT_NONE || p->out->poweroff.kind != DT_POWEROFF_NONE)
		return 0;
	if (!fdt_getprop_u32(f, node, "regmap", &regmap) ||
	    !fdt_getprop_u32(f, node, "value", &value))
		return fail(p, EINVAL, "dtb: %s: syscon-poweroff without regmap or value",
			    name_of(p, node));
	if (fdt_getprop(f, node, "offset", NULL) && !fdt_getprop_u32(f, node, "offset", &offset))
		return fail(p, EINVAL, "dtb: %s: bad offset", name_of(p, node));
	for (int i = 0; i < p->nsyscon; i++) {
		if (p->syscon[i].phandle == regmap) {
			p->out->poweroff.kind = DT_POWEROFF_SYSCON;
			p->out->poweroff.base = p->syscon[i].base + offset;
			p->out->poweroff.value = value;
			return 0;
		}
	}
	return fail(p, EINVAL, "dtb: %s: regmap 0x%x names no syscon with a reg", name_of(p, node),
		    regmap);
}

static int parse(struct parser *p)
{
	struct dt_info *o = p->out;
	int rc;

	o->dtb_size = p->f.totalsize;
	rc = add_memreserve(p);
	if (rc)
		return rc;
	read_chosen(p);
	rc = walk(p);
	if (rc)
		return rc;
	if (p->cpus < 0)
		return fail(p, EINVAL, "dtb: no /cpus node");
	if (o->ncpus == 0)
		return fail(p, EINVAL, "dtb: no cpu nodes under /cpus");
	if (o->nmem == 0)
		return fail(p, EINVAL, "dtb: no memory node");
	rc = resolve_syscon_poweroff(p);
	if (!rc)
		rc = map_harts(p, p->plic, IRQ_S_EXT, IDX_PLIC_S_CTX);
	if (!rc)
		rc = map_harts(p, p->sswi, IRQ_S_SOFT, IDX_SSWI);
	if (!rc)
		rc = map_harts(p, p->imsic, IRQ_S_EXT, IDX_IMSIC_S);
	return rc;
}

int dt_parse(const void *blob, size_t bufsize, struct dt_info *out, char *err, size_t errlen)
{
	struct parser p;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!out) {
		snprintf(err, errlen, "dtb: no dt_info to fill");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.out = out;
	p.err = err;
	p.errlen = errlen;
	p.cpus = p.reserved = p.stdout_node = FDT_NONE;
	p.plic = p.sswi = p.imsic = p.syscon_poweroff = FDT_NONE;

	rc = fdt_check(&p.f, blob, bufsize, DT_MAX_BLOB, err, errlen);
	if (!rc)
		rc = parse(&p);
	if (rc) {
		/* Never hand back half-filled data; always leave a reason. */
		memset(out, 0, sizeof(*out));
		if (err && errlen && !err[0])
			snprintf(err, errlen, "dtb: parse failed (%d)", rc);
	}
	return rc;
}
