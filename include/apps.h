/*
 * apps.h - what runs on the kernel (kernel/apps/): each image's main and
 * the bench the shell can run too.
 */
#ifndef HARTSTOP_APPS_H
#define HARTSTOP_APPS_H

/* Defined by the image linked in: image_default.c, image_test.c or
 * image_bench.c. start_kernel() calls image_main() once every hart is up. */
extern const char *const image_name;
void image_main(void);

/* The benchmarks (bench.c): `iters` samples each. Thread context. */
void bench_run(int iters);

#endif
