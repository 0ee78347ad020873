/*
 * devicetree.h - what Hartstop learns from the flattened device tree.
 *
 * The boot hart hands the DTB that OpenSBI passed in a1 to dt_parse(),
 * which validates the blob (every offset, length and string is bounds
 * checked against the header's totalsize) and fills one struct dt_info.
 * Nothing else in the kernel reads the blob; everything reads dt_info.
 *
 * This file and kernel/lib/fdt.c, kernel/lib/devicetree.c are pure C with no
 * kernel dependencies, so the host tests build them with the host gcc
 * and sanitizers (test/host/).
 */
#ifndef HARTSTOP_DEVICETREE_H
#define HARTSTOP_DEVICETREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_MAX_MEM	8   /* /memory reg ranges kept */
#define DT_MAX_RESV	16  /* /memreserve/ + /reserved-memory children */
#define DT_MAX_SYSCON	8   /* "syscon" nodes remembered for regmap phandles */
#define DT_MAX_CPUS	512 /* QEMU virt's limit; the kernel uses NR_CPUS */
#define DT_ISA_LEN	128 /* riscv,isa string, truncated */
#define DT_BOOTARGS_LEN 256
#define DT_MAX_BLOB	(2u << 20) /* larger totalsize is treated as corrupt */

struct dt_range {
	uint64_t base;
	uint64_t size;
};

struct dt_cpu {
	uint64_t hartid;       /* /cpus/cpu@N reg */
	bool okay;	       /* status absent, "okay" or "ok" */
	bool sstc;	       /* riscv,isa lists the sstc extension */
	bool mmu;	       /* mmu-type present and not "riscv,none" */
	uint32_t intc_phandle; /* phandle of its riscv,cpu-intc child, 0 if none */
	char isa[DT_ISA_LEN];
	/*
	 * Per-hart indexes into the interrupt controllers below, found by
	 * matching interrupts-extended entries against intc_phandle.
	 * -1 when the controller is absent or lists no S-mode entry for it.
	 */
	int plic_s_ctx;	   /* PLIC context whose irq is 9 (S external) */
	int sswi_index;	   /* ACLINT SSWI register index (irq 1, S soft) */
	int imsic_s_index; /* S-level IMSIC interrupt file index (irq 9) */
};

enum dt_poweroff_kind {
	DT_POWEROFF_NONE = 0,
	DT_POWEROFF_SIFIVE_TEST, /* compatible "sifive,test0"/"sifive,test1" */
	DT_POWEROFF_SYSCON,	 /* "syscon-poweroff": write value to its regmap + offset */
};

struct dt_info {
	struct dt_range mem[DT_MAX_MEM];
	int nmem;
	/* /memreserve/ entries first, then /reserved-memory children's reg. */
	struct dt_range resv[DT_MAX_RESV];
	int nresv;

	struct dt_cpu cpus[DT_MAX_CPUS]; /* in DT order */
	int ncpus;
	uint32_t timebase_hz; /* /cpus timebase-frequency (or per cpu) */

	struct {
		bool present;
		uint64_t base;
		uint32_t irq;	   /* first cell of interrupts, 0 if none */
		uint32_t clock_hz; /* clock-frequency, 0 if none */
	} uart;			   /* first "ns16550a" node; stdout-path wins */

	struct {
		bool present;
		uint64_t base, size;
		uint32_t ndev; /* riscv,ndev */
	} plic;		       /* "riscv,plic0" or "sifive,plic-1.0.0" */

	struct {
		bool present;
		uint64_t base, size;
	} clint, aclint_sswi; /* "riscv,clint0"/"sifive,clint0", "riscv,aclint-sswi" */

	struct {
		bool present;
		uint64_t base, size;
		uint32_t num_ids; /* riscv,num-ids */
		uint32_t ipi_id;  /* riscv,ipi-id, 0 if absent */
	} imsic_s;		  /* the "riscv,imsics" node whose
				     interrupts-extended names irq 9 */

	struct {
		bool present;
		uint64_t base, size;
		uint32_t num_sources;
	} aplic_s; /* "riscv,aplic" node without riscv,children
		      (the S-level domain) */

	/* sifive,test is preferred (it can exit QEMU with a failure status);
	 * syscon-poweroff, which only powers off, when there is no test device. */
	struct {
		enum dt_poweroff_kind kind;
		uint64_t base;	/* register to write */
		uint32_t value; /* SYSCON: what to write there */
	} poweroff;

	uint32_t dtb_size;		/* header totalsize */
	char bootargs[DT_BOOTARGS_LEN]; /* /chosen/bootargs, "" if none */
};

/*
 * Parse and validate the blob at @blob, of which at most @bufsize bytes
 * may be read. Returns 0 and fills @out, or a negative errno and writes a
 * one-line human-readable reason into @err (always NUL-terminated).
 * Never reads outside [blob, blob + min(bufsize, totalsize)).
 */
int dt_parse(const void *blob, size_t bufsize, struct dt_info *out, char *err, size_t errlen);

/* True if riscv,isa string @isa names extension @ext (e.g. "sstc"). */
bool dt_isa_has(const char *isa, const char *ext);

#endif
