/* host.c -- device.h on the build machine: stdout and exit(), so main.c's
 * output on x86 can be compared with the Cortex-M run's. */
#include "device.h"

#include <stdio.h>
#include <stdlib.h>

void dev_puts(const char *s) { fputs(s, stdout); }

void dev_exit(int status) {
  fflush(stdout);
  exit(status);
}

size_t dev_stack_used(void) { return 0; }
