/*
 * arch/cc.h — lwIP's compiler/platform definitions for arm-none-eabi + newlib
 * (the Cortex-M3 benchmark firmware).
 */
#ifndef LWBENCH_ARCH_CC_H
#define LWBENCH_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h> /* newlib's struct timeval: lwIP must not define its own */

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1 /* errno and the E* codes from newlib's <errno.h> */
/* BYTE_ORDER comes from newlib (<machine/endian.h>): little endian. */

/* Diagnostics go to the board console; an assertion stops the run. */
#include "board.h"
#define LWIP_PLATFORM_DIAG(x) do { board_printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) rtos_panic(x)

/* Only needed by protocols the benchmark does not enable (DNS, IGMP, TCP ISS). */
#define LWIP_RAND() ((u32_t)rand())

#endif /* LWBENCH_ARCH_CC_H */
