/*
 * image_default.c - what the default image (build/hartstop.elf) does
 * once every hart is up: report and idle. The console shell lands here.
 */
#include "console.h"
#include "kernel.h"

const char *const image_name = "default";

void image_main(void)
{
	char line[128];
	pr_info("hartstop: boot complete; type a line and it comes back");
	while (console_read_line(line, sizeof(line)) >= 0)
		pr_info("console: got '%s'", line);
	pr_info("hartstop: no console input; idling");
}
