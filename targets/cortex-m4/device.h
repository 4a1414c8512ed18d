/* device.h -- the little a program needs from the board: text out, an exit
 * status, and the stack's high-water mark. startup.c + semihost.c implement it
 * on a Cortex-M under QEMU (Arm semihosting); host.c with stdio, so main.c runs
 * unchanged on the build machine and the two outputs can be compared line for line.
 */
#ifndef NETC_DEVICE_H
#define NETC_DEVICE_H

#include <stddef.h>
#include <stdint.h>

void dev_puts(const char *s);          /* writes s as is (no newline added) */
void dev_exit(int status);             /* ends the program with this exit status */
size_t dev_stack_used(void);           /* bytes of stack touched so far; 0 where unknown */

#endif
