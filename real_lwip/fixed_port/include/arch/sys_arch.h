/*
 * arch/sys_arch.h — the types of lwbench's fixed lwIP port (real_lwip/fixed_port/).
 *
 * The fixed builds put this directory before the stock port's include/ directory,
 * so lwIP finds this file for arch/sys_arch.h and the stock port's arch/cc.h
 * (compiler and platform definitions, unchanged). Every handle is a pointer to an
 * object allocated by sys_arch.c; NULL is "invalid", as lwIP's sys.h expects.
 *
 * The handle types keep the stock port's names (struct sys_sem, struct sys_mbox,
 * ...), which code outside the port may already declare (lwbench's lwipopts.h
 * declares its per-thread semaphore hook with struct sys_sem); sys_arch.c
 * converts them to port_sync.h's objects, which they point to.
 */
#ifndef LWBENCH_FIXED_PORT_SYS_ARCH_H
#define LWBENCH_FIXED_PORT_SYS_ARCH_H

#define SYS_MBOX_NULL NULL
#define SYS_SEM_NULL  NULL

struct sys_sem;
typedef struct sys_sem *sys_sem_t;
#define sys_sem_valid(sem)             (((sem) != NULL) && (*(sem) != NULL))
#define sys_sem_valid_val(sem)         ((sem) != NULL)
#define sys_sem_set_invalid(sem)       do { if ((sem) != NULL) { *(sem) = NULL; } } while (0)
#define sys_sem_set_invalid_val(sem)   do { (sem) = NULL; } while (0)

struct sys_mutex;
typedef struct sys_mutex *sys_mutex_t;
#define sys_mutex_valid(mutex)         (((mutex) != NULL) && (*(mutex) != NULL))
#define sys_mutex_set_invalid(mutex)   do { if ((mutex) != NULL) { *(mutex) = NULL; } } while (0)

struct sys_mbox;
typedef struct sys_mbox *sys_mbox_t;
#define sys_mbox_valid(mbox)           (((mbox) != NULL) && (*(mbox) != NULL))
#define sys_mbox_valid_val(mbox)       ((mbox) != NULL)
#define sys_mbox_set_invalid(mbox)     do { if ((mbox) != NULL) { *(mbox) = NULL; } } while (0)
#define sys_mbox_set_invalid_val(mbox) do { (mbox) = NULL; } while (0)

struct sys_thread;
typedef struct sys_thread *sys_thread_t;

#endif /* LWBENCH_FIXED_PORT_SYS_ARCH_H */
