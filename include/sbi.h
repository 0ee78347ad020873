/*
 * sbi.h - our client of the RISC-V Supervisor Binary Interface.
 *
 * Every call goes through sbi_ecall(), which returns the (error, value)
 * pair; sbi_err_to_errno() maps SBI errors onto negative errno values.
 * Constants from the SBI spec (binary encoding chapter).
 */
#ifndef HARTSTOP_SBI_H
#define HARTSTOP_SBI_H

#include <stdbool.h>
#include <stdint.h>
#include "cpumask.h"

#define SBI_EXT_LEGACY_PUTCHAR	  0x01
#define SBI_EXT_BASE		  0x10
#define SBI_EXT_TIME		  0x54494D45
#define SBI_EXT_IPI		  0x735049
#define SBI_EXT_RFENCE		  0x52464E43
#define SBI_EXT_HSM		  0x48534D
#define SBI_EXT_SRST		  0x53525354
#define SBI_EXT_DBCN		  0x4442434E
#define SBI_DBCN_WRITE_BYTE	  2

#define SBI_SUCCESS		  0
#define SBI_ERR_FAILED		  -1
#define SBI_ERR_NOT_SUPPORTED	  -2
#define SBI_ERR_INVALID_PARAM	  -3
#define SBI_ERR_DENIED		  -4
#define SBI_ERR_INVALID_ADDRESS	  -5
#define SBI_ERR_ALREADY_AVAILABLE -6
#define SBI_ERR_ALREADY_STARTED	  -7
#define SBI_ERR_ALREADY_STOPPED	  -8

enum sbi_hsm_state {
	SBI_HSM_STARTED = 0,
	SBI_HSM_STOPPED = 1,
	SBI_HSM_START_PENDING = 2,
	SBI_HSM_STOP_PENDING = 3,
	SBI_HSM_SUSPENDED = 4,
	SBI_HSM_SUSPEND_PENDING = 5,
	SBI_HSM_RESUME_PENDING = 6,
};

#define SBI_SRST_SHUTDOWN	0
#define SBI_SRST_COLD_REBOOT	1
#define SBI_SRST_REASON_NONE	0
#define SBI_SRST_REASON_SYSFAIL 1

struct sbiret {
	long error;
	long value;
};

struct sbiret sbi_ecall(unsigned long ext, unsigned long fid, unsigned long a0, unsigned long a1,
			unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int sbi_err_to_errno(long err);

/* Probe BASE and the extensions we use; prints the implementation. */
void sbi_init(void);
const char *sbi_impl_name(void);
unsigned long sbi_spec_version(void), sbi_impl_version(void), sbi_impl_id(void);
bool sbi_has(unsigned long ext);

void sbi_console_putchar(int c); /* DBCN if probed, else legacy EID 1 (works first) */
int sbi_set_timer(uint64_t stime_abs);
int sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);
int sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long base, unsigned long start,
			  unsigned long size);
int sbi_remote_fence_i(unsigned long hart_mask, unsigned long base);
int sbi_hart_start(unsigned long hartid, unsigned long start_pa, unsigned long opaque);
int sbi_hart_get_status(unsigned long hartid); /* state >= 0, or -errno */
int sbi_hart_stop(void);
int sbi_system_reset(unsigned long type, unsigned long reason);
void sbi_for_each_hart_window(const cpumask_t *mask,
			      void (*fn)(unsigned long bits, unsigned long base, void *arg),
			      void *arg);

#endif
