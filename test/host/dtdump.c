/*
 * dtdump - print every struct dt_info field as key=value, one per line,
 * in a fixed order, so scripts (dt_vs_fdtget.py) can compare them.
 *
 * Usage: dtdump FILE.dtb
 * Exit status 0 on success; on a parse error prints "error=<reason>" and
 * "rc=<n>" and exits 1; 2 on usage/IO errors.
 */
#include <stdio.h>
#include <stdlib.h>

#include "devicetree.h"

static struct dt_info info; /* ~80 KiB: keep it off the stack */

static void *read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
		/* malloc(0) may return NULL; always allocate at least one byte. */
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(fp);
	return buf;
}

static void range(const char *key, int i, const struct dt_range *r)
{
	printf("%s%d.base=0x%llx\n", key, i, (unsigned long long)r->base);
	printf("%s%d.size=0x%llx\n", key, i, (unsigned long long)r->size);
}

static void dev(const char *key, bool present, uint64_t base, uint64_t size)
{
	printf("%s.present=%d\n", key, present);
	printf("%s.base=0x%llx\n", key, (unsigned long long)base);
	printf("%s.size=0x%llx\n", key, (unsigned long long)size);
}

static void dump(const struct dt_info *d)
{
	printf("dtb_size=%u\n", d->dtb_size);
	printf("nmem=%d\n", d->nmem);
	for (int i = 0; i < d->nmem; i++)
		range("mem", i, &d->mem[i]);
	printf("nresv=%d\n", d->nresv);
	for (int i = 0; i < d->nresv; i++)
		range("resv", i, &d->resv[i]);
	printf("timebase_hz=%u\n", d->timebase_hz);
	printf("ncpus=%d\n", d->ncpus);
	for (int i = 0; i < d->ncpus; i++) {
		const struct dt_cpu *c = &d->cpus[i];

		printf("cpu%d.hartid=%llu\n", i, (unsigned long long)c->hartid);
		printf("cpu%d.okay=%d\n", i, c->okay);
		printf("cpu%d.sstc=%d\n", i, c->sstc);
		printf("cpu%d.mmu=%d\n", i, c->mmu);
		printf("cpu%d.intc_phandle=0x%x\n", i, c->intc_phandle);
		printf("cpu%d.isa=%s\n", i, c->isa);
		printf("cpu%d.plic_s_ctx=%d\n", i, c->plic_s_ctx);
		printf("cpu%d.sswi_index=%d\n", i, c->sswi_index);
		printf("cpu%d.imsic_s_index=%d\n", i, c->imsic_s_index);
	}
	printf("uart.present=%d\n", d->uart.present);
	printf("uart.base=0x%llx\n", (unsigned long long)d->uart.base);
	printf("uart.irq=%u\n", d->uart.irq);
	printf("uart.clock_hz=%u\n", d->uart.clock_hz);
	dev("plic", d->plic.present, d->plic.base, d->plic.size);
	printf("plic.ndev=%u\n", d->plic.ndev);
	dev("clint", d->clint.present, d->clint.base, d->clint.size);
	dev("aclint_sswi", d->aclint_sswi.present, d->aclint_sswi.base, d->aclint_sswi.size);
	dev("imsic_s", d->imsic_s.present, d->imsic_s.base, d->imsic_s.size);
	printf("imsic_s.num_ids=%u\n", d->imsic_s.num_ids);
	printf("imsic_s.ipi_id=%u\n", d->imsic_s.ipi_id);
	dev("aplic_s", d->aplic_s.present, d->aplic_s.base, d->aplic_s.size);
	printf("aplic_s.num_sources=%u\n", d->aplic_s.num_sources);
	printf("poweroff.kind=%s\n", d->poweroff.kind == DT_POWEROFF_SIFIVE_TEST ? "sifive_test"
				     : d->poweroff.kind == DT_POWEROFF_SYSCON	 ? "syscon"
										 : "none");
	printf("poweroff.base=0x%llx\n", (unsigned long long)d->poweroff.base);
	printf("poweroff.value=0x%x\n", (unsigned)d->poweroff.value);
	printf("bootargs=%s\n", d->bootargs);
}

int main(int argc, char **argv)
{
	char err[160];
	size_t size = 0;
	void *blob;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE.dtb\n", argv[0]);
		return 2;
	}
	blob = read_file(argv[1], &size);
	if (!blob) {
		perror(argv[1]);
		return 2;
	}
	rc = dt_parse(blob, size, &info, err, sizeof(err));
	free(blob);
	if (rc) {
		printf("error=%s\nrc=%d\n", err, rc);
		return 1;
	}
	dump(&info);
	return 0;
}
