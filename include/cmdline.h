/*
 * cmdline.h - the kernel command line, from the DT's /chosen/bootargs.
 */
#ifndef HARTSTOP_CMDLINE_H
#define HARTSTOP_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

extern char boot_command_line[];
/* Copy the value of "key=value" into buf (cut to len - 1 bytes); false
 * if the key is absent. cmdline_find() does it on any command line. */
bool cmdline_get(const char *key, char *buf, size_t len);
bool cmdline_find(const char *cmdline, const char *key, char *buf, size_t len);
unsigned long cmdline_get_ulong(const char *key, unsigned long def);

#endif
