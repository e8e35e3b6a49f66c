/*
 * board.c — ARM MPS2 with the AN385 FPGA image (Cortex-M3), as QEMU models it
 * (`qemu-system-arm -M mps2-an385`): the board half of board.h.
 *
 *   console   CMSDK APB UART0 at 0x40004000 (QEMU: -serial);
 *   timer     CMSDK APB TIMER0 at 0x40000000, a 32-bit down-counter on the
 *             25 MHz peripheral clock, free-running from 0xFFFFFFFF (we return
 *             its complement, so the count goes up);
 *   exit      ARM semihosting SYS_EXIT (QEMU: -semihosting-config enable=on).
 *
 * Under `-icount shift=N` QEMU's virtual clock advances 2^N ns per executed
 * instruction, and both the timer and SysTick run on that clock: a timer
 * difference is an instruction count times 2^N / 40 ns.
 */
#include "board.h"

#define REG32(addr) (*(volatile uint32_t *)(addr))
#define UART0_DATA REG32(0x40004000u)
#define UART0_STATE REG32(0x40004004u)
#define UART0_CTRL REG32(0x40004008u)
#define UART0_BAUDDIV REG32(0x40004010u)
#define TIMER0_CTRL REG32(0x40000000u)
#define TIMER0_VALUE REG32(0x40000004u)
#define TIMER0_RELOAD REG32(0x40000008u)

#define SYSCLK_HZ 25000000u

void board_init(void) {
  UART0_BAUDDIV = 16u; /* the smallest divider the CMSDK UART accepts */
  UART0_CTRL = 1u;     /* TX enable */
  TIMER0_CTRL = 0u;
  TIMER0_RELOAD = 0xFFFFFFFFu;
  TIMER0_VALUE = 0xFFFFFFFFu;
  TIMER0_CTRL = 1u; /* enable, no interrupt, internal clock */
}

uint32_t board_timer_read(void) { return ~TIMER0_VALUE; }
uint32_t board_timer_hz(void) { return SYSCLK_HZ; }
uint32_t board_core_hz(void) { return SYSCLK_HZ; }
const char *board_name(void) { return "mps2-an385"; }

void board_write(const char *data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    while (UART0_STATE & 1u) { /* TX buffer full */
    }
    UART0_DATA = (uint8_t)data[i];
  }
}

static void semihosting_call(uint32_t op, const void *arg) {
  register uint32_t r0 __asm("r0") = op;
  register const void *r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void board_exit(int code) {
  /* SYS_EXIT with ADP_Stopped_ApplicationExit; QEMU exits with the code in the
   * second word only for SYS_EXIT_EXTENDED, so use that (0x20). */
  const uint32_t block[2] = {0x20026u, (uint32_t)code};
  semihosting_call(0x20u, block);
  semihosting_call(0x18u, (const void *)0x20026u); /* fallback: plain SYS_EXIT */
  for (;;) {
  }
}
