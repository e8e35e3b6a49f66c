/*
 * arch/sys_arch.h — lwIP's operating-system types on lwbench's RTOS.
 *
 * Mutexes and mailboxes are embedded in lwIP's objects (a mailbox has
 * SYS_MBOX_CAPACITY slots; lwIP's mailbox sizes must not exceed it, else
 * sys_mbox_new returns ERR_MEM); `valid` tells lwIP whether it was created.
 * A semaphore is a handle into a static pool (SYS_SEMAPHORES), because the
 * per-thread netconn semaphore hooks shared with the Linux build
 * (real_lwip/config/lwipopts.h, real_lwip/src/port_hooks.c) declare sys_sem_t
 * as `struct sys_sem *`, as Debian's unix port has it.
 */
#ifndef LWBENCH_ARCH_SYS_ARCH_H
#define LWBENCH_ARCH_SYS_ARCH_H

#include "rtos.h"

#define SYS_MBOX_CAPACITY 32u

#define SYS_SEMAPHORES 32u

struct sys_sem {
  rtos_sem sem;
  struct sys_sem *next_free;
};
typedef struct sys_sem *sys_sem_t;

typedef struct sys_mutex {
  rtos_mutex mutex;
  uint8_t valid;
} sys_mutex_t;

typedef struct sys_mbox {
  rtos_mbox mbox;
  void *slots[SYS_MBOX_CAPACITY];
  uint8_t valid;
} sys_mbox_t;

typedef rtos_thread *sys_thread_t;
typedef uint32_t sys_prot_t;

#define sys_sem_valid(s) ((s) != NULL && *(s) != NULL)
#define sys_sem_set_invalid(s) (*(s) = NULL)
#define sys_mutex_valid(m) ((m) != NULL && (m)->valid)
#define sys_mutex_set_invalid(m) ((m)->valid = 0)
#define sys_mbox_valid(b) ((b) != NULL && (b)->valid)
#define sys_mbox_set_invalid(b) ((b)->valid = 0)

#endif /* LWBENCH_ARCH_SYS_ARCH_H */
