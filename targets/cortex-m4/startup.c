/* startup.c -- reset and exception handling for a Cortex-M4F, written for the
 * netc examples (no vendor code): the vector table, the reset handler that
 * enables the FPU and sets up C's memory, and a fault handler that reports
 * through semihosting instead of hanging. The symbols come from mps2_an386.ld.
 */
#include "device.h"

extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

int main(void);
void netc_reset_handler(void);
void netc_fault_handler(void);

#define STACK_PAINT 0x5354434bu /* "STCK": stack never written keeps it */

/* The Armv7-M vector table: the initial stack pointer, then the handlers of
 * reset, NMI, HardFault, MemManage, BusFault and UsageFault; 7-10 are
 * reserved; SVCall, DebugMonitor, reserved, PendSV, SysTick. Bit 0 of each
 * handler's address (Thumb) is set by the compiler. No interrupts are enabled,
 * so the table ends there. */
typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) static const vector vectors[16] = {
  (vector)(uintptr_t)__stack_top,
  netc_reset_handler,
  netc_fault_handler, /* NMI */
  netc_fault_handler, /* HardFault */
  netc_fault_handler, /* MemManage */
  netc_fault_handler, /* BusFault */
  netc_fault_handler, /* UsageFault */
  0, 0, 0, 0,
  netc_fault_handler, /* SVCall */
  netc_fault_handler, /* DebugMonitor */
  0,
  netc_fault_handler, /* PendSV */
  netc_fault_handler, /* SysTick */
};

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void netc_reset_handler(void) {
  /* Full access to the FPU (coprocessors 10 and 11) before any floating-point
   * instruction runs: hard-float code traps (UsageFault, NOCP) without it. */
  SCB_CPACR |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  /* .data from its copy in flash, .bss zeroed. */
  for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
    *d++ = *s++;
  for (uint32_t *d = __bss_start; d < __bss_end;)
    *d++ = 0;
  /* Paint the stack below the current frame, for dev_stack_used(). */
  uintptr_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t *p = __stack_limit; (uintptr_t)p < sp - 64;)
    *p++ = STACK_PAINT;
  dev_exit(main());
}

size_t dev_stack_used(void) {
  const uint32_t *p = __stack_limit;
  while (p < __stack_top && *p == STACK_PAINT)
    p++;
  return (size_t)((const char *)__stack_top - (const char *)p);
}

void netc_fault_handler(void) {
  dev_puts("fault: the program took an exception (see the Cortex-M fault status registers)\n");
  dev_exit(3);
}
