/*
 * image_default.c - what the default image (build/hartstop.elf) does
 * once every hart is up: the interactive shell on the UART.
 */
#include "console.h"
#include "kernel.h"

const char *const image_name = "default";

void shell_main(void);

void image_main(void)
{
	pr_info("hartstop: boot complete");
	shell_main(); /* returns only without console input */
	pr_info("hartstop: no console input; idling");
}
