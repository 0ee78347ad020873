/*
 * image_default.c - what the default image (build/hartstop.elf) does
 * once every hart is up: report and idle. The console shell lands here.
 */
#include "kernel.h"

const char *const image_name = "default";

void image_main(void)
{
	pr_info("hartstop: boot complete; idling");
}
