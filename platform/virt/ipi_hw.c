/*
 * ipi_hw.c - ringing another hart's doorbell: SBI, ACLINT SSWI or IMSIC.
 *
 * SBI: one ecall per window of 64 hart ids (hart_mask is one XLEN word
 * relative to hart_mask_base). SSWI: a 32-bit store of 1 to the target's
 * register raises its sip.SSIP. IMSIC: a store of the IPI identity to the
 * target's S-level interrupt file raises an S external interrupt, which
 * irqchip_handle() claims and hands to ipi_interrupt().
 */
#include "ipi.h"
#include "kernel.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"
#include "ipi_hw.h"
#include "patch.h"

#define IMSIC_FILE_STRIDE  0x1000 /* one 4 KiB page per hart's S file */
#define IMSIC_SETEIPNUM_LE 0x0
#define IMSIC_EIDELIVERY   0x70
#define IMSIC_EITHRESHOLD  0x72
#define IMSIC_EIP0	   0x80
#define IMSIC_EIE0	   0xc0

static enum ipi_path hw_path;
static enum ipi_path direct_path = IPI_PATH_SBI; /* the machine's direct path, if any */
static uintptr_t doorbell[NR_CPUS];		 /* SSWI register or IMSIC file, per cpu */
static uint32_t imsic_ipi_id;

/* direct: the S-mode path the machine has (SBI if none); path: the one to
 * use now. The direct doorbells are set up even when SBI is chosen, so
 * that the bench can compare both paths in one boot. */
void ipi_hw_init(enum ipi_path direct, enum ipi_path path)
{
	int cpu;
	direct_path = direct;
	hw_path = path;
	imsic_ipi_id = dt.imsic_s.ipi_id;
	for_each_possible_cpu(cpu) {
		const struct dt_cpu *c = cpu_dt(cpu);
		if (direct == IPI_PATH_SSWI)
			doorbell[cpu] = dt.aclint_sswi.base + 4UL * (unsigned)c->sswi_index;
		else if (direct == IPI_PATH_IMSIC)
			doorbell[cpu] = dt.imsic_s.base +
					IMSIC_FILE_STRIDE * (unsigned long)c->imsic_s_index +
					IMSIC_SETEIPNUM_LE;
	}
}

/* Switch between SBI and the direct path at run time (bench). */
int ipi_hw_set_path(enum ipi_path path)
{
	if (path != IPI_PATH_SBI && path != direct_path)
		return -ENODEV;
	WRITE_ONCE(hw_path, path);
	return 0;
}

enum ipi_path ipi_hw_direct_path(void)
{
	return direct_path;
}

/* The IMSIC's own registers sit behind siselect/sireg (AIA). */
static void imsic_write(unsigned long reg, unsigned long val)
{
	csr_write(CSR_SISELECT, reg);
	csr_write(CSR_SIREG, val);
}

static void imsic_set_enabled(unsigned int id)
{
	csr_write(CSR_SISELECT, IMSIC_EIE0 + (id / 64) * 2);
	csr_set(CSR_SIREG, 1UL << (id % 64));
}

void imsic_enable_id(unsigned int id)
{
	imsic_set_enabled(id);
}

void ipi_hw_init_this_cpu(void)
{
	if (!dt.imsic_s.present)
		return;
	/* On AIA machines external interrupts arrive through the IMSIC
	 * whatever the IPI path is: turn the S file on once per hart. */
	imsic_write(IMSIC_EIDELIVERY, 1);
	imsic_write(IMSIC_EITHRESHOLD, 0);
	if (direct_path == IPI_PATH_IMSIC)
		imsic_set_enabled(imsic_ipi_id);
	csr_set(sie, SIE_SEIE);
}

/* Before reading the pending reasons: a doorbell rung after this is a
 * new interrupt. (IMSIC identities are claimed by irqchip_handle().) */
void ipi_hw_clear(void)
{
	csr_clear(sip, SIE_SSIE);
}

/* The IMSIC's pending bits for the IPI identity (eip0, eip2, ...). */
static unsigned long imsic_ipi_eip(void)
{
	return IMSIC_EIP0 + (imsic_ipi_id / 64) * 2;
}

/*
 * Either doorbell may have been rung (the bench switches paths at run
 * time): SSIP, or the IMSIC identity. Taking it clears its pending bit
 * directly (csrrc), so no other pending interrupt is claimed with it.
 */
bool ipi_hw_take(void)
{
	bool rung = csr_read_clear(sip, SIE_SSIE) & SIE_SSIE;
	if (direct_path == IPI_PATH_IMSIC) {
		unsigned long bit = 1UL << (imsic_ipi_id % 64);
		csr_write(CSR_SISELECT, imsic_ipi_eip());
		rung |= (csr_read_clear(CSR_SIREG, bit) & bit) != 0;
	}
	return rung;
}

void ipi_hw_raise_self(void)
{
	if (direct_path == IPI_PATH_IMSIC) {
		csr_write(CSR_SISELECT, imsic_ipi_eip());
		csr_set(CSR_SIREG, 1UL << (imsic_ipi_id % 64));
	} else {
		csr_set(sip, SIE_SSIE);
	}
}

static void send_window(unsigned long bits, unsigned long base, void *arg)
{
	int rc = sbi_send_ipi(bits, base);
	if (rc)
		pr_warn("ipi: sbi_send_ipi(0x%lx, %lu) failed: %d", bits, base, rc);
}

void ipi_hw_send_mask(const cpumask_t *mask)
{
	int cpu;
	switch (READ_ONCE(hw_path)) {
	case IPI_PATH_SBI:
		sbi_for_each_hart_window(mask, send_window, NULL);
		break;
	case IPI_PATH_SSWI:
		io_wmb();
		for_each_cpu(cpu, mask)
			writel(1, doorbell[cpu]);
		break;
	case IPI_PATH_IMSIC:
		io_wmb();
		for_each_cpu(cpu, mask)
			writel(imsic_ipi_id, doorbell[cpu]);
		break;
	}
}

/*
 * Ring @cpu's doorbell without a reason, in no-patch text: the last hart
 * to enter patch_text()'s stop fn wakes the halted writer with it, and
 * the writer may start rewriting any patchable text the moment it sees
 * that hart arrive, so nothing here may call into patchable text (not
 * sbi_ecall(), not the cpumask helpers). The woken hart finds no reason
 * in its ipi_pending word when it takes the interrupt later; that is
 * harmless (ipi_interrupt() handles what it finds).
 */
__nopatch void ipi_hw_ring_nopatch(int cpu)
{
	switch (READ_ONCE(hw_path)) {
	case IPI_PATH_SSWI:
		io_wmb();
		writel(1, doorbell[cpu]);
		break;
	case IPI_PATH_IMSIC:
		io_wmb();
		writel(imsic_ipi_id, doorbell[cpu]);
		break;
	default: {
		/* SBI IPI, send_ipi(hart_mask = 1, base = the hart). */
		register unsigned long a0 __asm__("a0") = 1;
		register unsigned long a1 __asm__("a1") = cpu_to_hartid(cpu);
		register unsigned long a6 __asm__("a6") = 0;
		register unsigned long a7 __asm__("a7") = SBI_EXT_IPI;
		__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
		break;
	}
	}
}
