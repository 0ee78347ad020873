/*
 * dt_unit - functional tests of dt_isa_has(), the fdt.h API and dt_parse()
 * on synthetic trees that exercise what QEMU's DTBs don't: ranges
 * translation, default cell sizes, aliases in stdout-path, disabled nodes,
 * per-cpu timebase, riscv,isa-extensions, capacity limits, version 16.
 *
 * Output: "ok N - desc" / "not ok N - desc (got ..., want ...)".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devicetree.h"
#include "fdt.h"
#include "fdt_build.h"

static struct dt_info info;
#include "tap.h"

static void eq_u64(const char *desc, unsigned long long got, unsigned long long want)
{
	if (got == want)
		report(true, "%s = 0x%llx", desc, got);
	else
		report(false, "%s (got 0x%llx, want 0x%llx)", desc, got, want);
}

static void eq_int(const char *desc, long long got, long long want)
{
	if (got == want)
		report(true, "%s = %lld", desc, got);
	else
		report(false, "%s (got %lld, want %lld)", desc, got, want);
}

static void eq_str(const char *desc, const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		report(true, "%s = \"%s\"", desc, got);
	else
		report(false, "%s (got \"%s\", want \"%s\")", desc, got, want);
}

static int parse(uint8_t *blob, size_t size, const char *what)
{
	char err[160];
	int rc = dt_parse(blob, size, &info, err, sizeof(err));

	report(rc == 0, "%s parses (rc=%d%s%s)", what, rc, rc ? " " : "", rc ? err : "");
	return rc;
}

/* ---- riscv,isa ---- */

static void test_isa(void)
{
	static const char qemu[] = "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc";
	static const struct {
		const char *isa, *ext;
		bool want;
	} t[] = {
		{qemu, "sstc", true},
		{qemu, "zbb", true},
		{qemu, "zb", false},
		{qemu, "zihintpause", true},
		{qemu, "zihint", false},
		{qemu, "h", true},
		{qemu, "c", true},
		{qemu, "v", false},
		{qemu, "s", false},
		{"rv64imac_ssstc", "sstc", false},
		{"rv64imac_sstcx", "sstc", false},
		{"rv64imac_xsstc", "sstc", false},
		{"rv64imac_sstc2p0", "sstc", true},
		{"rv64imac_sstc2", "sstc", true},
		{"rv64imac_sstc_zicsr", "sstc", true},
		{"rv64imac__sstc", "sstc", true},
		{"rv64imacsstc", "sstc", true},
		{"RV64IMAC_SSTC", "sstc", true},
		{"rv64imac", "sstc", false},
		{"rv64imac_", "sstc", false},
		{"rv64gc", "f", true},
		{"rv64gc", "d", true},
		{"rv64gc", "zicsr", true},
		{"rv64gc", "zifencei", true},
		{"rv64gc", "v", false},
		{"rv64i2p1m2p0a2p1c", "m", true},
		{"rv64i2p1m2p0a2p1c", "c", true},
		{"rv64i2p1m2p0a2p1c", "p", false},
		{"rv32imac_sstc", "sstc", true},
		{"imac_sstc", "sstc", false},
		{"rv_sstc", "sstc", false},
		{"", "i", false},
		{NULL, "sstc", false},
		{"rv64imac", "", false},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool got = dt_isa_has(t[i].isa, t[i].ext);

		report(got == t[i].want, "dt_isa_has(\"%s\", \"%s\") = %d%s",
		       t[i].isa ? t[i].isa : "(null)", t[i].ext, got,
		       got == t[i].want ? "" : " WRONG");
	}
}

/* ---- a tree with translation, aliases, disabled cpus, reservations ---- */

static uint8_t *build_rich(size_t *size)
{
	static const char long_isa[] =
		"rv64imafdch_zicsr_zifencei_zihintpause_zawrs_zfa_zfh_zfhmin_zca_zcb_zcd_zba_zbb"
		"_zbc_zbs_zkt_zvbb_zvbc_zvkb_zvkg_zvkned_zvknha_zvksed_zvksh_zvkt_smaia_ssaia_sstc";
	struct fb b = {0};
	const uint32_t mem[] = {0, 0x80000000, 0, 0x1000000, 0, 0x90000000, 0, 0x2000000};
	const uint32_t fw[] = {0, 0x80000000, 0, 0x40000};
	const uint32_t soc_ranges[] = {0x0, 0x0, 0x10000000, 0x10000000};
	const uint32_t plic_ie[] = {0x100, 11, 0x100, 9, 0x105, 11, 0x105, 9, 0x101, 11, 0x101, 9};

	fb_rsv(&b, 0x8f000000, 0x1000);
	fb_rsv(&b, 0x8e000000, 0); /* size 0: nothing to reserve */
	fb_root(&b);

	fb_begin(&b, "aliases");
	fb_prop_str(&b, "serial0", "/soc/serial@0");
	fb_end(&b);

	fb_begin(&b, "chosen");
	fb_prop_str(&b, "bootargs", "console=hvc0 loglevel=8");
	fb_prop_str(&b, "stdout-path", "serial0:115200n8");
	fb_end(&b);

	fb_begin(&b, "cpus");
	fb_prop_u32(&b, "#address-cells", 1);
	fb_prop_u32(&b, "#size-cells", 0);
	fb_begin(&b, "cpu@0");
	fb_prop_str(&b, "device_type", "cpu");
	fb_prop_u32(&b, "reg", 0);
	fb_prop_u32(&b, "timebase-frequency", 24000000);
	fb_prop_str(&b, "riscv,isa", "rv64imafdc_zicsr_zifencei");
	fb_prop_strs(&b, "riscv,isa-extensions", "i\0m\0sstc", 9);
	fb_prop_str(&b, "mmu-type", "riscv,sv39");
	fb_begin(&b, "interrupt-controller");
	fb_prop_str(&b, "compatible", "riscv,cpu-intc");
	fb_prop_u32(&b, "phandle", 0x100);
	fb_end(&b);
	fb_end(&b);
	fb_begin(&b, "cpu@5");
	fb_prop_str(&b, "device_type", "cpu");
	fb_prop_u32(&b, "reg", 5);
	fb_prop_str(&b, "status", "disabled");
	fb_prop_str(&b, "riscv,isa", "rv64imac_ssstc_sstcx");
	fb_prop_str(&b, "mmu-type", "riscv,none");
	fb_begin(&b, "interrupt-controller");
	fb_prop_str(&b, "compatible", "riscv,cpu-intc");
	fb_prop_u32(&b, "linux,phandle", 0x105);
	fb_end(&b);
	fb_end(&b);
	fb_begin(&b, "cpu-map");
	fb_begin(&b, "cluster0");
	fb_end(&b);
	fb_end(&b);
	fb_begin(&b, "cpu@1");
	fb_prop_str(&b, "device_type", "cpu");
	fb_prop_u32(&b, "reg", 1);
	fb_prop_str(&b, "status", "ok");
	fb_prop_u32(&b, "timebase-frequency", 1); /* cpu@0's came first */
	fb_prop_str(&b, "riscv,isa", long_isa);
	fb_begin(&b, "interrupt-controller");
	fb_prop_str(&b, "compatible", "riscv,cpu-intc");
	fb_prop_u32(&b, "phandle", 0x101);
	fb_end(&b);
	fb_end(&b);
	fb_end(&b);

	fb_begin(&b, "memory@80000000");
	fb_prop_str(&b, "device_type", "memory");
	fb_prop_cells(&b, "reg", 8, mem);
	fb_end(&b);
	fb_begin(&b, "memory@100000000");
	fb_prop_str(&b, "device_type", "memory");
	fb_prop_str(&b, "status", "disabled");
	fb_prop_cells(&b, "reg", 4, (const uint32_t[]){1, 0, 0, 0x1000});
	fb_end(&b);

	fb_begin(&b, "reserved-memory");
	fb_prop_u32(&b, "#address-cells", 2);
	fb_prop_u32(&b, "#size-cells", 2);
	fb_prop_empty(&b, "ranges");
	fb_begin(&b, "fw@80000000");
	fb_prop_cells(&b, "reg", 4, fw);
	fb_prop_empty(&b, "no-map");
	fb_end(&b);
	fb_begin(&b, "dynamic");
	fb_prop_cells(&b, "size", 2, (const uint32_t[]){0, 0x100000});
	fb_end(&b);
	fb_begin(&b, "off@88000000");
	fb_prop_str(&b, "status", "disabled");
	fb_prop_cells(&b, "reg", 4, (const uint32_t[]){0, 0x88000000, 0, 0x1000});
	fb_end(&b);
	fb_end(&b);

	/* /soc: 1-cell bus addresses 0.. mapped to CPU 0x10000000.. */
	fb_begin(&b, "soc");
	fb_prop_u32(&b, "#address-cells", 1);
	fb_prop_u32(&b, "#size-cells", 1);
	fb_prop_cells(&b, "ranges", 4, soc_ranges);
	fb_begin(&b, "serial@100");
	fb_prop_str(&b, "compatible", "ns16550a");
	fb_prop_cells(&b, "reg", 2, (const uint32_t[]){0x100, 0x100});
	fb_end(&b);
	fb_begin(&b, "serial@0");
	fb_prop_strs(&b, "compatible", "snps,dw-apb-uart\0ns16550a", 26);
	fb_prop_cells(&b, "reg", 2, (const uint32_t[]){0x0, 0x100});
	fb_prop_cells(&b, "interrupts", 2, (const uint32_t[]){10, 4});
	fb_prop_cells(&b, "clock-frequency", 2, (const uint32_t[]){0, 3686400});
	fb_end(&b);
	fb_begin(&b, "plic@c000000");
	fb_prop_strs(&b, "compatible", "sifive,plic-1.0.0\0riscv,plic0", 30);
	fb_prop_cells(&b, "reg", 2, (const uint32_t[]){0xc000000, 0x4000000});
	fb_prop_u32(&b, "riscv,ndev", 53);
	fb_prop_cells(&b, "interrupts-extended", 12, plic_ie);
	fb_end(&b);
	fb_begin(&b, "plic@f000000"); /* second PLIC: first one wins */
	fb_prop_str(&b, "compatible", "riscv,plic0");
	fb_prop_cells(&b, "reg", 2, (const uint32_t[]){0xf000000, 0x1000});
	fb_end(&b);
	fb_end(&b);

	fb_begin(&b, "test@100000");
	fb_prop_strs(&b, "compatible", "sifive,test0\0syscon", 20);
	fb_prop_cells(&b, "reg", 4, (const uint32_t[]){0, 0x100000, 0, 0x1000});
	fb_end(&b);
	fb_end(&b);
	return fb_finish(&b, size);
}

static void test_rich(void)
{
	size_t size;
	uint8_t *blob = build_rich(&size);

	if (parse(blob, size, "rich synthetic tree") == 0) {
		eq_int("ncpus (cpu-map skipped)", info.ncpus, 3);
		eq_u64("cpu0 hartid", info.cpus[0].hartid, 0);
		eq_u64("cpu1 hartid", info.cpus[1].hartid, 5);
		eq_u64("cpu2 hartid", info.cpus[2].hartid, 1);
		eq_int("cpu0 okay", info.cpus[0].okay, 1);
		eq_int("cpu1 okay (disabled)", info.cpus[1].okay, 0);
		eq_int("cpu2 okay (\"ok\")", info.cpus[2].okay, 1);
		eq_int("cpu0 sstc via riscv,isa-extensions", info.cpus[0].sstc, 1);
		eq_int("cpu1 sstc (ssstc/sstcx only)", info.cpus[1].sstc, 0);
		eq_int("cpu2 sstc (at the end of a >128-char isa)", info.cpus[2].sstc, 1);
		eq_int("cpu2 isa truncated to DT_ISA_LEN-1", (long long)strlen(info.cpus[2].isa),
		       DT_ISA_LEN - 1);
		eq_int("cpu0 mmu", info.cpus[0].mmu, 1);
		eq_int("cpu1 mmu (riscv,none)", info.cpus[1].mmu, 0);
		eq_int("cpu2 mmu (absent)", info.cpus[2].mmu, 0);
		eq_u64("cpu1 intc phandle (linux,phandle)", info.cpus[1].intc_phandle, 0x105);
		eq_u64("timebase from first cpu", info.timebase_hz, 24000000);
		eq_int("nmem (disabled node skipped)", info.nmem, 2);
		eq_u64("mem1 base", info.mem[1].base, 0x90000000);
		eq_u64("mem1 size", info.mem[1].size, 0x2000000);
		eq_int("nresv (memreserve + fw; size 0, dynamic, disabled skipped)", info.nresv, 2);
		eq_u64("resv0 = /memreserve/", info.resv[0].base, 0x8f000000);
		eq_u64("resv1 = /reserved-memory/fw", info.resv[1].base, 0x80000000);
		eq_u64("resv1 size", info.resv[1].size, 0x40000);
		eq_u64("uart via alias stdout-path, translated", info.uart.base, 0x10000000);
		eq_int("uart irq", info.uart.irq, 10);
		eq_int("uart clock (2 cells)", info.uart.clock_hz, 3686400);
		eq_u64("plic base translated by /soc ranges", info.plic.base, 0x1c000000);
		eq_u64("plic size", info.plic.size, 0x4000000);
		eq_int("plic ndev", info.plic.ndev, 53);
		eq_int("cpu0 plic_s_ctx", info.cpus[0].plic_s_ctx, 1);
		eq_int("cpu1 plic_s_ctx", info.cpus[1].plic_s_ctx, 3);
		eq_int("cpu2 plic_s_ctx", info.cpus[2].plic_s_ctx, 5);
		eq_int("cpu0 sswi_index (no sswi)", info.cpus[0].sswi_index, -1);
		eq_int("poweroff kind", info.poweroff.kind, DT_POWEROFF_SIFIVE_TEST);
		eq_u64("poweroff base", info.poweroff.base, 0x100000);
		eq_str("bootargs", info.bootargs, "console=hvc0 loglevel=8");
		eq_u64("dtb_size", info.dtb_size, size);
	}
	free(blob);
}

/* ---- AIA + ACLINT flavoured tree, default cell sizes on /soc ---- */

static uint8_t *build_aia(size_t *size, const char *stdout_path)
{
	struct fb b = {0};

	fb_root(&b);
	if (stdout_path) {
		fb_begin(&b, "chosen");
		fb_prop_str(&b, "stdout-path", stdout_path);
		fb_end(&b);
	}
	fb_begin(&b, "soc"); /* no #address-cells/#size-cells: 2 and 1 */
	fb_prop_empty(&b, "ranges");
	fb_begin(&b, "serial@10001000");
	fb_prop_str(&b, "compatible", "ns16550a");
	fb_prop_str(&b, "status", "disabled");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0x10001000, 0x100});
	fb_end(&b);
	fb_begin(&b, "serial@10000000");
	fb_prop_str(&b, "compatible", "ns16550a");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0x10000000, 0x100});
	fb_prop_cells(&b, "interrupts", 2, (const uint32_t[]){10, 4});
	fb_end(&b);
	fb_begin(&b, "serial@10002000");
	fb_prop_str(&b, "compatible", "ns16550a");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0x10002000, 0x100});
	fb_end(&b);
	fb_begin(&b, "rtc@101000");
	fb_prop_str(&b, "compatible", "google,goldfish-rtc");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0x101000, 0x1000});
	fb_end(&b);
	fb_begin(&b, "sswi@2f00000");
	fb_prop_str(&b, "compatible", "riscv,aclint-sswi");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0x2f00000, 0x4000});
	fb_prop_cells(&b, "interrupts-extended", 4, (const uint32_t[]){0x101, 1, 0x100, 1});
	fb_end(&b);
	fb_begin(&b, "imsics@24000000");
	fb_prop_str(&b, "compatible", "riscv,imsics");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0x24000000, 0x2000});
	fb_prop_cells(&b, "interrupts-extended", 4, (const uint32_t[]){0x100, 11, 0x101, 11});
	fb_prop_u32(&b, "riscv,num-ids", 255);
	fb_end(&b);
	fb_begin(&b, "imsics@28000000");
	fb_prop_str(&b, "compatible", "riscv,imsics");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0x28000000, 0x2000});
	fb_prop_cells(&b, "interrupts-extended", 4, (const uint32_t[]){0x101, 9, 0x100, 9});
	fb_prop_u32(&b, "riscv,num-ids", 127);
	fb_end(&b);
	fb_begin(&b, "aplic@c000000");
	fb_prop_str(&b, "compatible", "riscv,aplic");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0xc000000, 0x8000});
	fb_prop_u32(&b, "riscv,children", 0x7);
	fb_prop_u32(&b, "riscv,num-sources", 96);
	fb_end(&b);
	fb_begin(&b, "aplic@d000000");
	fb_prop_str(&b, "compatible", "riscv,aplic");
	fb_prop_cells(&b, "reg", 3, (const uint32_t[]){0, 0xd000000, 0x8000});
	fb_prop_u32(&b, "riscv,num-sources", 96);
	fb_end(&b);
	fb_end(&b);
	/* /cpus after the controllers: hart indexes resolve afterwards. */
	fb_cpus(&b, 2);
	fb_memory(&b, 0x80000000, 0x10000000);
	fb_end(&b);
	return fb_finish(&b, size);
}

static void test_aia(void)
{
	size_t size;
	uint8_t *blob = build_aia(&size, "/soc/serial@10000000");

	if (parse(blob, size, "AIA/ACLINT synthetic tree") == 0) {
		eq_u64("uart: stdout-path, disabled uart skipped", info.uart.base, 0x10000000);
		eq_u64("uart reg with default 2/1 cells", info.uart.irq, 10);
		eq_int("sswi present", info.aclint_sswi.present, 1);
		eq_u64("sswi base", info.aclint_sswi.base, 0x2f00000);
		eq_int("cpu0 sswi_index", info.cpus[0].sswi_index, 1);
		eq_int("cpu1 sswi_index", info.cpus[1].sswi_index, 0);
		eq_u64("imsic_s is the irq-9 one", info.imsic_s.base, 0x28000000);
		eq_int("imsic_s num_ids", info.imsic_s.num_ids, 127);
		eq_int("imsic_s ipi_id absent", info.imsic_s.ipi_id, 0);
		eq_int("cpu0 imsic_s_index", info.cpus[0].imsic_s_index, 1);
		eq_int("cpu1 imsic_s_index", info.cpus[1].imsic_s_index, 0);
		eq_u64("aplic_s is the one without riscv,children", info.aplic_s.base, 0xd000000);
		eq_int("aplic_s num_sources", info.aplic_s.num_sources, 96);
		eq_int("no plic", info.plic.present, 0);
		eq_int("cpu0 plic_s_ctx", info.cpus[0].plic_s_ctx, -1);
		eq_int("no poweroff", info.poweroff.kind, DT_POWEROFF_NONE);
		eq_str("no bootargs", info.bootargs, "");
	}
	free(blob);

	blob = build_aia(&size, "/soc/rtc@101000:115200");
	if (parse(blob, size, "stdout-path naming a non-ns16550a node") == 0)
		eq_u64("uart falls back to the first enabled ns16550a", info.uart.base, 0x10000000);
	free(blob);
	blob = build_aia(&size, "/soc/serial@10002000:115200");
	if (parse(blob, size, "stdout-path with options after a later uart") == 0)
		eq_u64("uart = stdout-path even when not first", info.uart.base, 0x10002000);
	free(blob);
	blob = build_aia(&size, "nosuchalias:9600");
	if (parse(blob, size, "stdout-path with an unknown alias") == 0)
		eq_u64("uart falls back to the first enabled ns16550a", info.uart.base, 0x10000000);
	free(blob);
}

/* ---- capacity limits ---- */

/* ---- syscon-poweroff: used when there is no sifive,test ---- */

/* which: 0 a good tree; 1 no value; 2 regmap naming no syscon; 3 with a
 * sifive,test too (preferred). */
static uint8_t *build_syscon(size_t *size, int which)
{
	struct fb b = {0};

	fb_root(&b);
	fb_begin(&b, "soc");
	fb_prop_u32(&b, "#address-cells", 2);
	fb_prop_u32(&b, "#size-cells", 2);
	fb_prop_empty(&b, "ranges");
	fb_begin(&b, "poweroff"); /* before its regmap target: resolved after the walk */
	fb_prop_str(&b, "compatible", "syscon-poweroff");
	fb_prop_u32(&b, "regmap", which == 2 ? 0x77 : 0x42);
	fb_prop_u32(&b, "offset", 0x8);
	if (which != 1)
		fb_prop_u32(&b, "value", 0x5555);
	fb_end(&b);
	fb_begin(&b, "syscon@200000");
	fb_prop_str(&b, "compatible", "syscon");
	fb_prop_u32(&b, "phandle", 0x42);
	fb_prop_cells(&b, "reg", 4, (const uint32_t[]){0, 0x200000, 0, 0x1000});
	fb_end(&b);
	if (which == 3) {
		fb_begin(&b, "test@100000");
		fb_prop_str(&b, "compatible", "sifive,test0");
		fb_prop_cells(&b, "reg", 4, (const uint32_t[]){0, 0x100000, 0, 0x1000});
		fb_end(&b);
	}
	fb_end(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x10000000);
	fb_end(&b);
	return fb_finish(&b, size);
}

static void test_syscon_poweroff(void)
{
	size_t size;
	uint8_t *blob = build_syscon(&size, 0);

	if (parse(blob, size, "syscon-poweroff tree") == 0) {
		eq_int("poweroff kind syscon", info.poweroff.kind, DT_POWEROFF_SYSCON);
		eq_u64("poweroff base = regmap reg + offset", info.poweroff.base, 0x200008);
		eq_u64("poweroff value", info.poweroff.value, 0x5555);
	}
	free(blob);
	blob = build_syscon(&size, 3);
	if (parse(blob, size, "syscon-poweroff beside a sifive,test") == 0) {
		eq_int("sifive,test preferred", info.poweroff.kind, DT_POWEROFF_SIFIVE_TEST);
		eq_u64("its base", info.poweroff.base, 0x100000);
	}
	free(blob);
	for (int which = 1; which <= 2; which++) {
		char err[128] = "";
		blob = build_syscon(&size, which);
		int rc = dt_parse(blob, size, &info, err, sizeof(err));
		eq_int(which == 1 ? "syscon-poweroff without value refused"
				  : "regmap naming no syscon refused",
		       rc < 0, 1);
		eq_int("and says why",
		       strstr(err, "syscon") != NULL || strstr(err, "regmap") != NULL, 1);
		free(blob);
	}
}

static void test_limits(void)
{
	struct fb b = {0};
	size_t size;
	uint8_t *blob;

	fb_root(&b);
	fb_cpus(&b, DT_MAX_CPUS + 3);
	for (int i = 0; i < DT_MAX_MEM + 2; i++)
		fb_memory(&b, 0x80000000ull + 0x10000000ull * (unsigned)i, 0x1000000);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	if (parse(blob, size, "515 cpus, 10 memory nodes") == 0) {
		eq_int("ncpus capped at DT_MAX_CPUS", info.ncpus, DT_MAX_CPUS);
		eq_u64("last kept hartid", info.cpus[DT_MAX_CPUS - 1].hartid, DT_MAX_CPUS - 1);
		eq_int("nmem capped at DT_MAX_MEM", info.nmem, DT_MAX_MEM);
	}
	free(blob);

	fb_root(&b);
	fb_cpus(&b, 1);
	fb_memory(&b, 0x80000000, 0x1000000);
	for (int i = 0; i < DT_MAX_RESV; i++)
		fb_rsv(&b, 0x80000000ull + 0x1000ull * (unsigned)i, 0x1000);
	fb_end(&b);
	blob = fb_finish(&b, &size);
	if (parse(blob, size, "exactly DT_MAX_RESV reservations") == 0)
		eq_int("nresv", info.nresv, DT_MAX_RESV);
	free(blob);

	/* Version 16 has no size_dt_struct: the field must be ignored. */
	blob = fb_minimal(&size);
	fb_be32(blob + 20, 16);
	fb_be32(blob + 36, 0xdeadbeef);
	parse(blob, size, "version 16 blob (size_dt_struct ignored)");
	free(blob);
}

/* ---- fdt.h API ---- */

static void test_fdt_api(void)
{
	char buf[64];
	struct fdt f;
	size_t size;
	uint8_t *blob = build_rich(&size);
	uint64_t a = 0, s = 0;
	int n, depth, maxdepth, count;

	n = fdt_check(&f, blob, size, 1u << 20, buf, sizeof(buf));
	report(n == 0, "fdt_check on the rich tree (rc=%d %s)", n, buf);
	eq_int("fdt_path(\"/\") is the root", fdt_path(&f, "/", 1), fdt_root(&f));
	eq_str("fdt_path(\"/soc/serial@0\")", fdt_node_name(&f, fdt_path(&f, "/soc/serial@0", 13)),
	       "serial@0");
	eq_str("fdt_path(\"/soc/serial\") matches by base name, first in order",
	       fdt_node_name(&f, fdt_path(&f, "/soc/serial", 11)), "serial@100");
	eq_str("fdt_path(\"serial0\") through /aliases",
	       fdt_node_name(&f, fdt_path(&f, "serial0", 7)), "serial@0");
	eq_str("fdt_path(\"//cpus//cpu@5/\") tolerates extra slashes",
	       fdt_node_name(&f, fdt_path(&f, "//cpus//cpu@5/", 14)), "cpu@5");
	eq_int("fdt_path(\"/nonexistent\")", fdt_path(&f, "/nonexistent", 12), FDT_NONE);
	eq_int("fdt_path(\"/soc/serial@1\") needs an exact unit", fdt_path(&f, "/soc/serial@1", 13),
	       FDT_NONE);
	eq_int("fdt_path(\"\")", fdt_path(&f, "", 0), FDT_NONE);
	eq_int("fdt_path of an unknown alias", fdt_path(&f, "serial1", 7), FDT_NONE);

	count = 0;
	for (n = fdt_first_child(&f, fdt_path(&f, "/cpus", 5)); n >= 0; n = fdt_next_sibling(&f, n))
		count++;
	eq_int("/cpus has 4 children (3 cpus + cpu-map)", count, 4);

	count = 0;
	maxdepth = 0;
	depth = 0;
	for (n = fdt_root(&f); n >= 0; n = fdt_next_node(&f, n, &depth)) {
		count++;
		if (depth > maxdepth)
			maxdepth = depth;
	}
	eq_int("fdt_next_node visits every node", count, 24);
	eq_int("deepest node depth", maxdepth, 3);
	eq_int("depth is -1 once the root has closed", depth, -1);

	eq_int("fdt_num_rsv", fdt_num_rsv(&f), 2);
	report(fdt_get_rsv(&f, 1, &a, &s) && a == 0x8e000000 && s == 0, "fdt_get_rsv(1)");
	report(!fdt_get_rsv(&f, 2, &a, &s), "fdt_get_rsv past the end fails");

	n = fdt_path(&f, "/soc/plic@c000000", 17);
	report(fdt_is_compatible(&f, n, "riscv,plic0"), "compatible matches the 2nd entry");
	report(!fdt_is_compatible(&f, n, "riscv,plic"), "compatible needs a whole entry");
	report(fdt_strlist_has("a\0bc\0", 5, "bc"), "fdt_strlist_has finds the last entry");
	report(!fdt_strlist_has("a\0bc", 4, "bc"), "fdt_strlist_has ignores an unterminated tail");
	report(fdt_name_is("memory@80000000", "memory") && fdt_name_is("memory", "memory") &&
		       !fdt_name_is("memoryx", "memory"),
	       "fdt_name_is");

	free(blob);
}

int main(void)
{
	test_isa();
	test_rich();
	test_aia();
	test_syscon_poweroff();
	test_limits();
	test_fdt_api();
	printf("# dt_unit: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed ? 1 : 0;
}
