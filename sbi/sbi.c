/*
 * sbi.c - the SBI client: one ecall helper, errno mapping, the extension
 * probe done at boot and thin wrappers named after the spec's functions.
 */
#include <errno.h>
#include "kernel.h"
#include "sbi.h"
#include "smp.h"

struct sbiret sbi_ecall(unsigned long ext, unsigned long fid, unsigned long a0, unsigned long a1,
			unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r3 __asm__("a3") = a3;
	register unsigned long r4 __asm__("a4") = a4;
	register unsigned long r5 __asm__("a5") = a5;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = ext;

	__asm__ volatile("ecall"
			 : "+r"(r0), "+r"(r1)
			 : "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6), "r"(r7)
			 : "memory");
	return (struct sbiret){.error = (long)r0, .value = (long)r1};
}

int sbi_err_to_errno(long err)
{
	switch (err) {
	case SBI_SUCCESS:
		return 0;
	case SBI_ERR_NOT_SUPPORTED:
		return -ENOSYS;
	case SBI_ERR_INVALID_PARAM:
		return -EINVAL;
	case SBI_ERR_DENIED:
		return -EPERM;
	case SBI_ERR_INVALID_ADDRESS:
		return -EFAULT;
	case SBI_ERR_ALREADY_AVAILABLE:
	case SBI_ERR_ALREADY_STARTED:
		return -EALREADY;
	case SBI_ERR_ALREADY_STOPPED:
		return -ESRCH;
	default:
		return -EIO;
	}
}

static struct {
	unsigned long spec, impl_id, impl_version;
	bool base, time, ipi, rfence, hsm, srst, dbcn;
} sbi;

bool sbi_has(unsigned long ext)
{
	switch (ext) {
	case SBI_EXT_BASE:
		return sbi.base;
	case SBI_EXT_TIME:
		return sbi.time;
	case SBI_EXT_IPI:
		return sbi.ipi;
	case SBI_EXT_RFENCE:
		return sbi.rfence;
	case SBI_EXT_HSM:
		return sbi.hsm;
	case SBI_EXT_SRST:
		return sbi.srst;
	case SBI_EXT_DBCN:
		return sbi.dbcn;
	default:
		return false;
	}
}

static bool probe(unsigned long ext)
{
	struct sbiret r = sbi_ecall(SBI_EXT_BASE, 3, ext, 0, 0, 0, 0, 0);
	return r.error == 0 && r.value != 0;
}

void sbi_init(void)
{
	sbi.spec = sbi_ecall(SBI_EXT_BASE, 0, 0, 0, 0, 0, 0, 0).value;
	sbi.base = true;
	sbi.impl_id = sbi_ecall(SBI_EXT_BASE, 1, 0, 0, 0, 0, 0, 0).value;
	sbi.impl_version = sbi_ecall(SBI_EXT_BASE, 2, 0, 0, 0, 0, 0, 0).value;
	sbi.time = probe(SBI_EXT_TIME);
	sbi.ipi = probe(SBI_EXT_IPI);
	sbi.rfence = probe(SBI_EXT_RFENCE);
	sbi.hsm = probe(SBI_EXT_HSM);
	sbi.srst = probe(SBI_EXT_SRST);
	sbi.dbcn = probe(SBI_EXT_DBCN);
}

unsigned long sbi_spec_version(void)
{
	return sbi.spec;
}

unsigned long sbi_impl_id(void)
{
	return sbi.impl_id;
}

unsigned long sbi_impl_version(void)
{
	return sbi.impl_version;
}

const char *sbi_impl_name(void)
{
	static const char *const names[] = {"Berkeley BBL", "OpenSBI", "Xvisor", "KVM",
					    "RustSBI",	    "Diosix",  "Coffer"};
	return sbi.impl_id < ARRAY_SIZE(names) ? names[sbi.impl_id] : "unknown";
}

/*
 * DBCN (SBI 2.0) write_byte once probing found it, the legacy call before
 * that and on firmware without it (OpenSBI 1.1 has no DBCN, so this path
 * is untested here). write_byte, not write: write takes a physical buffer
 * address, and a caller's buffer may sit on a stack mapped elsewhere.
 */
void sbi_console_putchar(int c)
{
	if (sbi.dbcn)
		sbi_ecall(SBI_EXT_DBCN, SBI_DBCN_WRITE_BYTE, (unsigned long)(unsigned char)c, 0, 0,
			  0, 0, 0);
	else
		sbi_ecall(SBI_EXT_LEGACY_PUTCHAR, 0, (unsigned long)c, 0, 0, 0, 0, 0);
}

int sbi_set_timer(uint64_t stime_abs)
{
	return sbi_err_to_errno(sbi_ecall(SBI_EXT_TIME, 0, stime_abs, 0, 0, 0, 0, 0).error);
}

int sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base)
{
	return sbi_err_to_errno(
		sbi_ecall(SBI_EXT_IPI, 0, hart_mask, hart_mask_base, 0, 0, 0, 0).error);
}

int sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long base, unsigned long start,
			  unsigned long size)
{
	return sbi_err_to_errno(
		sbi_ecall(SBI_EXT_RFENCE, 1, hart_mask, base, start, size, 0, 0).error);
}

/* RFENCE FID 0: every hart of the mask executes fence.i (patch_text_nosync()). */
int sbi_remote_fence_i(unsigned long hart_mask, unsigned long base)
{
	return sbi_err_to_errno(sbi_ecall(SBI_EXT_RFENCE, 0, hart_mask, base, 0, 0, 0, 0).error);
}

int sbi_hart_start(unsigned long hartid, unsigned long start_pa, unsigned long opaque)
{
	return sbi_err_to_errno(sbi_ecall(SBI_EXT_HSM, 0, hartid, start_pa, opaque, 0, 0, 0).error);
}

int sbi_hart_get_status(unsigned long hartid)
{
	struct sbiret r = sbi_ecall(SBI_EXT_HSM, 2, hartid, 0, 0, 0, 0, 0);
	return r.error ? sbi_err_to_errno(r.error) : (int)r.value;
}

int sbi_hart_stop(void)
{
	return sbi_err_to_errno(sbi_ecall(SBI_EXT_HSM, 1, 0, 0, 0, 0, 0, 0).error);
}

int sbi_system_reset(unsigned long type, unsigned long reason)
{
	return sbi_err_to_errno(sbi_ecall(SBI_EXT_SRST, 0, type, reason, 0, 0, 0, 0).error);
}

/*
 * SBI hart masks are one XLEN word relative to a base hart id: call
 * fn(bits, base) once per window of 64 hart ids that holds a CPU of @mask.
 */
void sbi_for_each_hart_window(const cpumask_t *mask,
			      void (*fn)(unsigned long bits, unsigned long base, void *arg),
			      void *arg)
{
	cpumask_t left;
	int cpu;
	cpumask_copy(&left, mask);
	while (!cpumask_empty(&left)) {
		unsigned long base = ~0UL, bits = 0;
		for_each_cpu(cpu, &left)
			base = min(base, cpu_to_hartid(cpu));
		for_each_cpu(cpu, &left) {
			unsigned long h = cpu_to_hartid(cpu);
			if (h - base < 64) {
				bits |= 1UL << (h - base);
				cpumask_clear_cpu(cpu, &left);
			}
		}
		fn(bits, base, arg);
	}
}
