/*
 * cmdline.c - the kernel command line, from the DT's /chosen/bootargs
 * (QEMU -append). Space-separated "key=value" words.
 */
#include <string.h>
#include "devicetree.h"
#include "kernel.h"
#include "cmdline.h"
#include "kstrtox.h"

char boot_command_line[DT_BOOTARGS_LEN];

bool cmdline_find(const char *cmdline, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		const char *end = strchr(p, ' ');
		size_t wlen = end ? (size_t)(end - p) : strlen(p);
		if (wlen > klen && p[klen] == '=' && strncmp(p, key, klen) == 0) {
			size_t vlen = min(wlen - klen - 1, len - 1);
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = '\0';
			return true;
		}
		p += wlen;
	}
	return false;
}

bool cmdline_get(const char *key, char *buf, size_t len)
{
	return cmdline_find(boot_command_line, key, buf, len);
}

unsigned long cmdline_get_ulong(const char *key, unsigned long def)
{
	char buf[32];
	unsigned long v;
	if (!cmdline_get(key, buf, sizeof(buf)) || !buf[0])
		return def;
	if (kstrtoul(buf, 0, &v)) {
		pr_warn("cmdline: %s=%s is not a number, using %lu", key, buf, def);
		return def;
	}
	return v;
}
