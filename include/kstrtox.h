/*
 * kstrtox.h - parsing numbers.
 */
#ifndef HARTSTOP_KSTRTOX_H
#define HARTSTOP_KSTRTOX_H

/* Numbers without errno (kernel/lib/kstrtox.c explains why not strtol). */
unsigned long simple_strtoul(const char *s, char **endp, unsigned int base);
int kstrtoul(const char *s, unsigned int base, unsigned long *res); /* whole string */
int kstrtol(const char *s, unsigned int base, long *res);	    /* whole string */

#endif
