/*
 * rtos.h — lwbench's small preemptive RTOS for ARMv7-M (Cortex-M3).
 *
 * What it offers (all of it is what lwIP's sys_arch needs, plus a counter):
 *   - threads with fixed priorities (0 = idle, RTOS_PRIORITIES-1 = highest);
 *     the highest-priority ready thread always runs, equal priorities share
 *     the CPU round-robin on the tick; every thread has its own TLS block, so
 *     C11 `__thread` variables work (the ARM EABI's __aeabi_read_tp);
 *   - a context switch in PendSV (the lowest-priority exception), requested by
 *     any operation that readies a thread of higher priority than the running
 *     one; SysTick at RTOS_TICK_HZ for timeouts and time slicing;
 *   - counting semaphores, mutexes with (transitive) priority inheritance, and
 *     fixed-capacity mailboxes of pointers, all with optional timeouts;
 *   - rtos_context_switches(): the number of switches from one thread to
 *     another, for the benchmark's "context switches per call".
 *
 * Calling context: every function may be called from threads; the *_signal /
 * *_trypost functions may also be called from interrupt handlers. Blocking
 * calls must not be made with interrupts disabled (they would not block:
 * rtos_assert fires). Waiters queue by priority, FIFO within a priority.
 *
 * Memory: nothing is allocated: the caller owns every object (thread control
 * blocks, stacks, TLS blocks, semaphores, mailbox storage).
 */
#ifndef LWBENCH_RTOS_H
#define LWBENCH_RTOS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RTOS_PRIORITIES 32u
#define RTOS_TICK_HZ 1000u
#define RTOS_WAIT_FOREVER 0xFFFFFFFFu

/** Result of a blocking call. */
typedef enum { RTOS_OK = 0, RTOS_TIMEOUT = 1 } rtos_status;

struct rtos_mutex;

/** A queue of blocked threads, highest priority first. */
typedef struct rtos_wait_queue {
  struct rtos_thread *head;
} rtos_wait_queue;

typedef enum { RTOS_READY, RTOS_BLOCKED, RTOS_DEAD } rtos_thread_state;

typedef struct rtos_thread {
  uint32_t *sp;                    /* saved stack pointer: must stay the first member (PendSV) */
  struct rtos_thread *next;        /* link in the ready queue or in a wait queue */
  struct rtos_thread *all_next;    /* link in the list of all threads (timeouts) */
  rtos_wait_queue *waiting_on;     /* queue this thread is blocked in, or NULL */
  struct rtos_mutex *blocked_on_mutex; /* for transitive priority inheritance */
  struct rtos_mutex *held;         /* mutexes this thread owns (stack) */
  uint32_t wake_tick;              /* valid while timed */
  uint8_t base_priority;           /* as created */
  uint8_t priority;                /* effective: base raised by inheritance */
  uint8_t state;                   /* rtos_thread_state */
  uint8_t timed;                   /* blocked with a timeout */
  uint8_t wait_result;             /* rtos_status of the last block */
  void *tls;                       /* thread pointer: 8-byte TCB, then the TLS block */
  void (*entry)(void *);
  void *arg;
  const char *name;
} rtos_thread;

typedef struct rtos_sem {
  uint32_t count;
  rtos_wait_queue waiters;
} rtos_sem;

typedef struct rtos_mutex {
  rtos_thread *owner;
  struct rtos_mutex *next_held;    /* in the owner's list of held mutexes */
  rtos_wait_queue waiters;
} rtos_mutex;

typedef struct rtos_mbox {
  void **slots;
  uint32_t capacity, head, count;
  rtos_sem items;                  /* counts posted messages */
  rtos_sem space;                  /* counts free slots */
} rtos_mbox;

/* ---- kernel ---------------------------------------------------------------- */

/** Prepares the kernel (idle thread included). Call once, before any other call. */
void rtos_init(void);
/** Starts scheduling: the highest-priority thread runs; never returns.
 *  `core_clock_hz` is the SysTick clock (the CPU clock). */
void rtos_start(uint32_t core_clock_hz) __attribute__((noreturn));

/** Bytes of one thread's TLS area (thread pointer block); see rtos_thread_create. */
size_t rtos_tls_size(void);

/** Creates a ready thread. `stack` (8-byte aligned, `stack_bytes` long) and
 *  `tls` (8-byte aligned, rtos_tls_size() bytes) belong to the thread until it
 *  ends; `tls` may be NULL for a thread that never touches a `__thread`
 *  variable (the idle thread). Returning from `entry` ends the thread. */
void rtos_thread_create(rtos_thread *thread, const char *name, void (*entry)(void *), void *arg,
                        unsigned priority, void *stack, size_t stack_bytes, void *tls);
rtos_thread *rtos_self(void);
/** Gives the CPU to the next ready thread of the same priority, if any. */
void rtos_yield(void);
/** Blocks the calling thread for `ticks` ticks. */
void rtos_sleep(uint32_t ticks);
uint32_t rtos_ticks(void);
/** Switches from one thread to another since rtos_start. */
uint32_t rtos_context_switches(void);
/** Calls `hook` (NULL: none) at every switch from one thread to another, in
 *  PendSV with interrupts disabled, before the incoming thread runs: a
 *  measurement probe (it must be short and must not call the RTOS). */
void rtos_set_switch_hook(void (*hook)(void));

/** Interrupt mask for critical sections (nestable: restore what save returned). */
static inline uint32_t rtos_irq_save(void) {
  uint32_t primask;
  __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
  return primask;
}
static inline void rtos_irq_restore(uint32_t primask) {
  __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* ---- semaphores ------------------------------------------------------------- */
void rtos_sem_init(rtos_sem *sem, uint32_t count);
/** Takes one unit; waits at most `timeout_ticks` (RTOS_WAIT_FOREVER, or 0 = poll). */
rtos_status rtos_sem_wait(rtos_sem *sem, uint32_t timeout_ticks);
void rtos_sem_signal(rtos_sem *sem);

/* ---- mutexes (priority inheritance; not recursive) -------------------------- */
void rtos_mutex_init(rtos_mutex *mutex);
void rtos_mutex_lock(rtos_mutex *mutex);
/** Caller must own it. Hands ownership to the highest-priority waiter. */
void rtos_mutex_unlock(rtos_mutex *mutex);

/* ---- mailboxes of pointers --------------------------------------------------- */
void rtos_mbox_init(rtos_mbox *mbox, void **slots, uint32_t capacity);
rtos_status rtos_mbox_post(rtos_mbox *mbox, void *msg, uint32_t timeout_ticks);
/** Never blocks: RTOS_TIMEOUT if full. Usable from interrupt handlers. */
rtos_status rtos_mbox_trypost(rtos_mbox *mbox, void *msg);
rtos_status rtos_mbox_fetch(rtos_mbox *mbox, void **msg, uint32_t timeout_ticks);

/** Called on a broken invariant (defined by the board: print and stop). */
void rtos_panic(const char *what) __attribute__((noreturn));
#define rtos_assert(cond) do { if (!(cond)) rtos_panic("rtos assertion failed: " #cond); } while (0)

#ifdef __cplusplus
}
#endif

#endif /* LWBENCH_RTOS_H */
