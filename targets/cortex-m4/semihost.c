/* semihost.c -- Arm semihosting on a Cortex-M: `bkpt 0xab` with an operation
 * number in r0 and an argument in r1 (Arm's "Semihosting for AArch32 and
 * AArch64", version 2). QEMU serves it with -semihosting-config enable=on.
 * Two operations are used:
 *
 *   SYS_WRITE0        (0x04)  r1 = a NUL-terminated string for the host's console
 *   SYS_EXIT_EXTENDED (0x20)  r1 = {reason, subcode}: with reason
 *                             ADP_Stopped_ApplicationExit the subcode is the exit
 *                             status QEMU exits with (plain SYS_EXIT on AArch32
 *                             can only say "success" or "failure").
 *
 * Without a debugger or QEMU attached, bkpt halts the core (a HardFault when
 * no debugger is enabled), so these are for test runs, not for products.
 */
#include "device.h"

#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void dev_puts(const char *s) { (void)semihost(SYS_WRITE0, s); }

void dev_exit(int status) {
  uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
  (void)semihost(SYS_EXIT_EXTENDED, block);
  for (;;) /* not reached under QEMU */
    __asm__ volatile("wfi");
}
