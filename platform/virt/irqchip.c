/*
 * irqchip.c - external interrupt controllers: the PLIC, or AIA's
 * APLIC (wired sources, in MSI mode) feeding each hart's IMSIC.
 *
 * PLIC: each hart has an S-mode context (from the DT); a source is
 * routed to one hart by enabling it in that context only. Claim and
 * complete go through the context's claim register.
 *
 * AIA: the S-level APLIC turns a wired source into an MSI that writes
 * the identity we chose (= the source number) into the target hart's
 * IMSIC; the hart claims identities through the stopei CSR. The IMSIC
 * also carries direct IPIs (ipi_hw.c), under the DT's riscv,ipi-id.
 */
#include "ipi.h"
#include "irqchip.h"
#include "kernel.h"
#include "riscv.h"
#include "smp.h"
#include "ipi_hw.h"

#define PLIC_PRIORITY(irq)  (4UL * (irq))
#define PLIC_ENABLE(ctx)    (0x2000UL + 0x80UL * (ctx))
#define PLIC_THRESHOLD(ctx) (0x200000UL + 0x1000UL * (ctx))
#define PLIC_CLAIM(ctx)	    (0x200004UL + 0x1000UL * (ctx))

#define APLIC_DOMAINCFG	    0x0000
#define APLIC_DOMAINCFG_IE  (1U << 8)
#define APLIC_DOMAINCFG_DM  (1U << 2)
#define APLIC_SOURCECFG(i)  (4UL * (i))
#define APLIC_SM_LEVEL_HIGH 6
#define APLIC_SETIENUM	    0x1edc
#define APLIC_TARGET(i)	    (0x3000UL + 4UL * (i))

#define MAX_IRQS	    1024

struct irq_action {
	irq_handler_t fn;
	void *arg;
};
static struct irq_action actions[MAX_IRQS];
static bool use_aia;

const char *irqchip_name(void)
{
	if (use_aia)
		return "APLIC+IMSIC";
	return dt.plic.present ? "PLIC" : "none";
}

void irqchip_init(void)
{
	use_aia = dt.imsic_s.present;
	if (use_aia && dt.aplic_s.present)
		writel(APLIC_DOMAINCFG_IE | APLIC_DOMAINCFG_DM, dt.aplic_s.base + APLIC_DOMAINCFG);
}

void irqchip_init_this_cpu(void)
{
	const struct dt_cpu *c = cpu_dt(smp_processor_id());
	if (!use_aia && dt.plic.present && c->plic_s_ctx >= 0) {
		writel(0, dt.plic.base + PLIC_THRESHOLD(c->plic_s_ctx));
		csr_set(sie, SIE_SEIE);
	}
	/* AIA: ipi_hw_init_this_cpu() switched the IMSIC file on. */
}

int request_irq(unsigned int irq, int cpu, irq_handler_t fn, void *arg)
{
	if (irq == 0 || irq >= MAX_IRQS || !cpu_online(cpu) || !fn)
		return -EINVAL;
	const struct dt_cpu *c = cpu_dt(cpu);
	actions[irq] = (struct irq_action){fn, arg};
	if (use_aia) {
		if (!dt.aplic_s.present || irq > dt.aplic_s.num_sources ||
		    irq >= dt.imsic_s.num_ids || c->imsic_s_index < 0)
			return -ENODEV;
		/* imsic_enable_id() touches the calling hart's file only. */
		if (cpu != smp_processor_id())
			return -EXDEV;
		imsic_enable_id(irq);
		writel(APLIC_SM_LEVEL_HIGH, dt.aplic_s.base + APLIC_SOURCECFG(irq));
		writel(((uint32_t)c->imsic_s_index << 18) | irq,
		       dt.aplic_s.base + APLIC_TARGET(irq));
		writel(irq, dt.aplic_s.base + APLIC_SETIENUM);
		return 0;
	}
	if (!dt.plic.present || irq > dt.plic.ndev || c->plic_s_ctx < 0)
		return -ENODEV;
	writel(1, dt.plic.base + PLIC_PRIORITY(irq));
	uintptr_t en = dt.plic.base + PLIC_ENABLE(c->plic_s_ctx) + 4 * (irq / 32);
	writel(readl(en) | (1U << (irq % 32)), en);
	return 0;
}

static void dispatch(unsigned int irq)
{
	if (irq < MAX_IRQS && actions[irq].fn)
		actions[irq].fn(irq, actions[irq].arg);
	else
		pr_warn("irq %u: no handler", irq);
}

void irqchip_handle(void)
{
	if (use_aia) {
		unsigned long top;
		while ((top = csr_swap(CSR_STOPEI, 0)) != 0) {
			unsigned int id = (unsigned int)(top >> 16);
			/* The claim cleared the identity's pending bit: order it
			 * before ipi_interrupt() reads the pending word (the race
			 * is described there). */
			__asm__ volatile("fence iorw, iorw" ::: "memory");
			if (id == dt.imsic_s.ipi_id && ipi_hw_direct_path() == IPI_PATH_IMSIC)
				ipi_interrupt();
			else
				dispatch(id);
		}
		return;
	}
	int ctx = cpu_dt(smp_processor_id())->plic_s_ctx;
	if (!dt.plic.present || ctx < 0)
		return;
	uint32_t irq;
	while ((irq = readl(dt.plic.base + PLIC_CLAIM(ctx))) != 0) {
		dispatch(irq);
		writel(irq, dt.plic.base + PLIC_CLAIM(ctx));
	}
}
