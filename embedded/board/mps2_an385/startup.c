/*
 * startup.c — vector table and reset handler for the Cortex-M3 firmware.
 *
 * QEMU loads the ELF's segments at their link addresses (all in the 4 MB
 * SSRAM1 at 0x0, see mps2_an385.ld), so .data needs no copy; .bss is zeroed
 * here. A real board with flash would copy .data from its load address first.
 */
#include <stdint.h>
#include <string.h>

#include "rtos.h"

extern char __bss_start__[], __bss_end__[], __stack_top[];
extern int main(void);
extern void __libc_init_array(void);

void PendSV_Handler(void);
void SysTick_Handler(void);

static void fault_handler(void) { rtos_panic("CPU fault (HardFault/MemManage/BusFault/UsageFault)"); }
static void unused_handler(void) { rtos_panic("unexpected interrupt"); }

void Reset_Handler(void) {
  memset(__bss_start__, 0, (size_t)(__bss_end__ - __bss_start__));
  __libc_init_array();
  main();
  rtos_panic("main returned");
}

__attribute__((section(".vectors"), used)) static void (*const vector_table[16 + 32])(void) = {
    (void (*)(void))(uintptr_t)__stack_top,
    Reset_Handler,
    unused_handler, /* NMI */
    fault_handler,  /* HardFault */
    fault_handler,  /* MemManage */
    fault_handler,  /* BusFault */
    fault_handler,  /* UsageFault */
    0, 0, 0, 0,
    unused_handler, /* SVCall */
    unused_handler, /* DebugMonitor */
    0,
    PendSV_Handler,
    SysTick_Handler,
    [16 ... 47] = unused_handler,
};
