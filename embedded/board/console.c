/*
 * console.c — formatted output and the panic stop, on top of any board's
 * board_write()/board_exit() (shared by the benchmark, the RTOS self-test and
 * lwIP's diagnostics).
 */
#include <stdarg.h>
#include <stdio.h>

#include "board.h"

void board_printf(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0) board_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The RTOS's (and lwIP's) broken-invariant stop: one JSON line, then exit 3. */
void rtos_panic(const char *what) {
  __asm volatile("cpsid i" ::: "memory");
  board_printf("\n{\"kind\":\"panic\",\"what\":\"%s\"}\n", what);
  board_exit(3);
}
