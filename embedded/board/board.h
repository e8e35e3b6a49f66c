/*
 * board.h — the port layer between the benchmark firmware and a board.
 *
 * To run the firmware on a real board, implement these functions for it, plus
 * its startup code and linker script (embedded/README.md, "On a real board").
 *
 *   board_init()        clocks, the console, the free-running timestamp timer;
 *   board_timer_read()  the timer's current count, counting UP, wrapping at 2^32;
 *   board_timer_hz()    the timer's frequency (ticks per second);
 *   board_core_hz()     the CPU clock (the RTOS's SysTick runs on it);
 *   board_write()       writes bytes to the console (blocking; from one thread);
 *   board_exit(code)    ends the run (emulator: exit; real board: stop here).
 */
#ifndef LWBENCH_BOARD_H
#define LWBENCH_BOARD_H

#include <stddef.h>
#include <stdint.h>

void board_init(void);
uint32_t board_timer_read(void);
uint32_t board_timer_hz(void);
uint32_t board_core_hz(void);
void board_write(const char *data, size_t len);
void board_exit(int code) __attribute__((noreturn));
/** The board's name, as recorded in result files. */
const char *board_name(void);

/* Provided on top of the above by board/console.c (any board): */
/** printf to the console (lines up to 1 KB). */
void board_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** rtos.h's panic: prints {"kind":"panic","what":...} and exits with 3. */
void rtos_panic(const char *what) __attribute__((noreturn));

#endif /* LWBENCH_BOARD_H */
