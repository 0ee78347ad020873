/*
 * reboot.h - leaving the machine, and the exit statuses QEMU reports.
 */
#ifndef HARTSTOP_REBOOT_H
#define HARTSTOP_REBOOT_H

/* Leave QEMU: status 0 = success. Through the DT's test device when it
 * has one (QEMU exits with @status), SBI SRST otherwise. */
__attribute__((noreturn)) void platform_poweroff(int status);
#define EXIT_TESTS_FAILED 1
#define EXIT_PANIC	  3

#endif
