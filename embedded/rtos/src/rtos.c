/*
 * rtos.c — the scheduler, threads, semaphores, mutexes and mailboxes of
 * lwbench's RTOS (see rtos.h for the contract). ARMv7-M specific parts (the
 * PendSV context switch, SysTick, the initial stack frame, the thread pointer)
 * are at the end of this file.
 *
 * Invariants (all state is changed with interrupts disabled):
 *   - a READY thread is in exactly one ready queue, ready_queue[priority];
 *     the running thread stays in its queue (at the head) while it runs;
 *   - bit p of ready_map is set iff ready_queue[p] is non-empty;
 *   - a BLOCKED thread is in its waiting_on queue (or in none while sleeping)
 *     and, if timed, wakes at wake_tick with RTOS_TIMEOUT;
 *   - a mutex's owner has it on its `held` list; owner->priority is the
 *     maximum of its base priority and the head waiter of each held mutex.
 */
#include "rtos.h"

#include <string.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))
#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_SHPR3 REG32(0xE000ED20u)
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define ICSR_PENDSVSET (1u << 28)

typedef struct {
  rtos_thread *head, *tail;
} ready_fifo;

static ready_fifo ready_queue[RTOS_PRIORITIES];
static uint32_t ready_map;
static rtos_thread *all_threads;
static volatile uint32_t tick_count;
static volatile uint32_t switch_count;
static void (*switch_hook)(void);

/* The running thread; read by PendSV and __aeabi_read_tp. */
rtos_thread *rtos_current;

static rtos_thread boot_thread; /* the context rtos_start runs in; never resumed */
static rtos_thread idle_thread;
static uint64_t idle_stack[64];

/* Linker-script symbols of the TLS image (.tdata then .tbss). */
extern const char __tdata_start[], __tdata_end[], __tbss_start[], __tbss_end[];

/* ---- ready queues ------------------------------------------------------------- */

static void ready_push_back(rtos_thread *t) {
  ready_fifo *q = &ready_queue[t->priority];
  t->next = NULL;
  if (q->tail) q->tail->next = t; else q->head = t;
  q->tail = t;
  ready_map |= 1u << t->priority;
}

static void ready_remove(rtos_thread *t) {
  ready_fifo *q = &ready_queue[t->priority];
  rtos_thread *prev = NULL, *it = q->head;
  while (it && it != t) { prev = it; it = it->next; }
  rtos_assert(it == t);
  if (prev) prev->next = t->next; else q->head = t->next;
  if (q->tail == t) q->tail = prev;
  if (!q->head) ready_map &= ~(1u << t->priority);
  t->next = NULL;
}

static rtos_thread *highest_ready(void) {
  return ready_queue[31u - (uint32_t)__builtin_clz(ready_map)].head;
}

/* Interrupts disabled: request PendSV if another thread should run now. */
static void schedule(void) {
  if (rtos_current->state != RTOS_READY || highest_ready() != rtos_current) SCB_ICSR = ICSR_PENDSVSET;
}

/* ---- wait queues ---------------------------------------------------------------- */

static void waitq_insert(rtos_wait_queue *q, rtos_thread *t) {
  rtos_thread **link = &q->head;
  while (*link && (*link)->priority >= t->priority) link = &(*link)->next;
  t->next = *link;
  *link = t;
  t->waiting_on = q;
}

static void waitq_remove(rtos_thread *t) {
  rtos_thread **link = &t->waiting_on->head;
  while (*link != t) link = &(*link)->next;
  *link = t->next;
  t->next = NULL;
  t->waiting_on = NULL;
}

/* Interrupts disabled, and they must have been enabled by the caller's caller
 * (`primask` == 0): blocks the running thread in `q` (NULL: just sleep). The
 * switch happens when the caller restores the interrupt mask. */
static void block_current(rtos_wait_queue *q, uint32_t timeout_ticks, uint32_t primask) {
  rtos_thread *self = rtos_current;
  rtos_assert(primask == 0 && self != &idle_thread);
  ready_remove(self);
  self->state = RTOS_BLOCKED;
  self->wait_result = RTOS_OK;
  self->timed = timeout_ticks != RTOS_WAIT_FOREVER;
  self->wake_tick = tick_count + timeout_ticks;
  if (q) waitq_insert(q, self);
  schedule();
}

static void make_ready(rtos_thread *t, rtos_status result) {
  if (t->waiting_on) waitq_remove(t);
  t->timed = 0;
  t->wait_result = (uint8_t)result;
  t->state = RTOS_READY;
  t->blocked_on_mutex = NULL;
  ready_push_back(t);
}

/* Wakes the head of `q`; returns it (or NULL if nobody waits). */
static rtos_thread *wake_one(rtos_wait_queue *q) {
  rtos_thread *t = q->head;
  if (t) make_ready(t, RTOS_OK);
  return t;
}

static void set_priority(rtos_thread *t, uint8_t priority) {
  if (t->priority == priority) return;
  if (t->state == RTOS_READY) {
    ready_remove(t);
    t->priority = priority;
    ready_push_back(t);
  } else if (t->waiting_on) {
    rtos_wait_queue *q = t->waiting_on;
    waitq_remove(t);
    t->priority = priority;
    waitq_insert(q, t);
  } else {
    t->priority = priority;
  }
}

/* ---- threads ---------------------------------------------------------------------- */

size_t rtos_tls_size(void) {
  const size_t image = (size_t)(__tbss_end - __tdata_start);
  return image == 0 ? 0 : 8u + ((image + 7u) & ~(size_t)7u);
}

static void thread_exit(void) {
  uint32_t primask = rtos_irq_save();
  rtos_thread *self = rtos_current;
  ready_remove(self);
  self->state = RTOS_DEAD;
  schedule();
  rtos_irq_restore(primask);
  for (;;) {
  }
}

static void thread_trampoline(void) {
  rtos_current->entry(rtos_current->arg);
  thread_exit();
}

void rtos_thread_create(rtos_thread *t, const char *name, void (*entry)(void *), void *arg, unsigned priority,
                        void *stack, size_t stack_bytes, void *tls) {
  rtos_assert(priority < RTOS_PRIORITIES && ((uintptr_t)stack & 7u) == 0 && stack_bytes >= 256);
  memset(t, 0, sizeof *t);
  t->name = name;
  t->entry = entry;
  t->arg = arg;
  t->base_priority = t->priority = (uint8_t)priority;
  /* TLS: [8-byte TCB][.tdata image][.tbss zeroes]; the thread pointer is its start. */
  if (rtos_tls_size() != 0 && tls != NULL) {
    rtos_assert(((uintptr_t)tls & 7u) == 0);
    char *block = (char *)tls + 8;
    memset(tls, 0, rtos_tls_size());
    memcpy(block, __tdata_start, (size_t)(__tdata_end - __tdata_start));
  }
  t->tls = tls;
  /* Initial frame, as if switched out by PendSV: r4-r11, then the hardware
   * exception frame r0-r3, r12, lr, pc, xPSR (Thumb bit set). */
  uint32_t *sp = (uint32_t *)(((uintptr_t)stack + stack_bytes) & ~(uintptr_t)7u);
  *--sp = 0x01000000u;                                   /* xPSR */
  *--sp = (uint32_t)(uintptr_t)thread_trampoline & ~1u;  /* pc */
  *--sp = (uint32_t)(uintptr_t)thread_exit;              /* lr */
  for (int i = 0; i < 5; ++i) *--sp = 0;                 /* r12, r3..r0 */
  for (int i = 0; i < 8; ++i) *--sp = 0;                 /* r11..r4 */
  t->sp = sp;
  uint32_t primask = rtos_irq_save();
  t->all_next = all_threads;
  all_threads = t;
  t->state = RTOS_READY;
  ready_push_back(t);
  if (rtos_current) schedule();
  rtos_irq_restore(primask);
}

rtos_thread *rtos_self(void) { return rtos_current; }
uint32_t rtos_ticks(void) { return tick_count; }
uint32_t rtos_context_switches(void) { return switch_count; }
void rtos_set_switch_hook(void (*hook)(void)) { switch_hook = hook; }

void rtos_yield(void) {
  uint32_t primask = rtos_irq_save();
  ready_remove(rtos_current);
  ready_push_back(rtos_current);
  schedule();
  rtos_irq_restore(primask);
}

void rtos_sleep(uint32_t ticks) {
  uint32_t primask = rtos_irq_save();
  block_current(NULL, ticks, primask);
  rtos_irq_restore(primask);
}

static void idle_entry(void *arg) {
  (void)arg;
  for (;;) __asm volatile("wfi");
}

void rtos_init(void) {
  memset(ready_queue, 0, sizeof ready_queue);
  ready_map = 0;
  all_threads = NULL;
  rtos_current = NULL;
  rtos_thread_create(&idle_thread, "idle", idle_entry, NULL, 0, idle_stack, sizeof idle_stack, NULL);
}

/* ---- semaphores ---------------------------------------------------------------------- */

void rtos_sem_init(rtos_sem *sem, uint32_t count) {
  sem->count = count;
  sem->waiters.head = NULL;
}

rtos_status rtos_sem_wait(rtos_sem *sem, uint32_t timeout_ticks) {
  uint32_t primask = rtos_irq_save();
  if (sem->count != 0) {
    --sem->count;
    rtos_irq_restore(primask);
    return RTOS_OK;
  }
  if (timeout_ticks == 0) {
    rtos_irq_restore(primask);
    return RTOS_TIMEOUT;
  }
  block_current(&sem->waiters, timeout_ticks, primask);
  rtos_irq_restore(primask); /* the switch happens here */
  return (rtos_status)rtos_current->wait_result;
}

void rtos_sem_signal(rtos_sem *sem) {
  uint32_t primask = rtos_irq_save();
  if (!wake_one(&sem->waiters)) ++sem->count; /* else: the unit goes straight to the waiter */
  schedule();
  rtos_irq_restore(primask);
}

/* ---- mutexes -------------------------------------------------------------------------- */

void rtos_mutex_init(rtos_mutex *m) {
  m->owner = NULL;
  m->next_held = NULL;
  m->waiters.head = NULL;
}

static void take_ownership(rtos_mutex *m, rtos_thread *t) {
  m->owner = t;
  m->next_held = t->held;
  t->held = m;
}

/* The priority `t` deserves: its base, or the best waiter of a mutex it holds. */
static uint8_t inherited_priority(const rtos_thread *t) {
  uint8_t p = t->base_priority;
  for (const rtos_mutex *m = t->held; m; m = m->next_held)
    if (m->waiters.head && m->waiters.head->priority > p) p = m->waiters.head->priority;
  return p;
}

void rtos_mutex_lock(rtos_mutex *m) {
  uint32_t primask = rtos_irq_save();
  rtos_thread *self = rtos_current;
  rtos_assert(m->owner != self);
  if (!m->owner) {
    take_ownership(m, self);
    rtos_irq_restore(primask);
    return;
  }
  block_current(&m->waiters, RTOS_WAIT_FOREVER, primask);
  self->blocked_on_mutex = m;
  /* Inheritance along the chain of owners (each may wait for another mutex). */
  for (rtos_mutex *chain = m; chain && chain->owner; chain = chain->owner->blocked_on_mutex) {
    rtos_thread *owner = chain->owner;
    const uint8_t p = inherited_priority(owner);
    if (p == owner->priority) break;
    set_priority(owner, p);
  }
  schedule();
  rtos_irq_restore(primask); /* on return, unlock handed us ownership */
}

void rtos_mutex_unlock(rtos_mutex *m) {
  uint32_t primask = rtos_irq_save();
  rtos_thread *self = rtos_current;
  rtos_assert(m->owner == self);
  rtos_mutex **link = &self->held;
  while (*link != m) link = &(*link)->next_held;
  *link = m->next_held;
  m->owner = NULL;
  rtos_thread *next = wake_one(&m->waiters);
  if (next) {
    take_ownership(m, next);
    set_priority(next, inherited_priority(next));
  }
  set_priority(self, inherited_priority(self));
  schedule();
  rtos_irq_restore(primask);
}

/* ---- mailboxes ------------------------------------------------------------------------- */

void rtos_mbox_init(rtos_mbox *mbox, void **slots, uint32_t capacity) {
  mbox->slots = slots;
  mbox->capacity = capacity;
  mbox->head = mbox->count = 0;
  rtos_sem_init(&mbox->items, 0);
  rtos_sem_init(&mbox->space, capacity);
}

static void mbox_put(rtos_mbox *mbox, void *msg) {
  uint32_t primask = rtos_irq_save();
  mbox->slots[(mbox->head + mbox->count) % mbox->capacity] = msg;
  ++mbox->count;
  rtos_irq_restore(primask);
  rtos_sem_signal(&mbox->items);
}

rtos_status rtos_mbox_post(rtos_mbox *mbox, void *msg, uint32_t timeout_ticks) {
  if (rtos_sem_wait(&mbox->space, timeout_ticks) != RTOS_OK) return RTOS_TIMEOUT;
  mbox_put(mbox, msg);
  return RTOS_OK;
}

rtos_status rtos_mbox_trypost(rtos_mbox *mbox, void *msg) { return rtos_mbox_post(mbox, msg, 0); }

rtos_status rtos_mbox_fetch(rtos_mbox *mbox, void **msg, uint32_t timeout_ticks) {
  if (rtos_sem_wait(&mbox->items, timeout_ticks) != RTOS_OK) return RTOS_TIMEOUT;
  uint32_t primask = rtos_irq_save();
  void *m = mbox->slots[mbox->head];
  mbox->head = (mbox->head + 1) % mbox->capacity;
  --mbox->count;
  rtos_irq_restore(primask);
  if (msg) *msg = m;
  rtos_sem_signal(&mbox->space);
  return RTOS_OK;
}

/* ---- ARMv7-M: tick, context switch, start, thread pointer --------------------------------- */

void SysTick_Handler(void) {
  uint32_t primask = rtos_irq_save();
  const uint32_t now = ++tick_count;
  for (rtos_thread *t = all_threads; t; t = t->all_next)
    if (t->state == RTOS_BLOCKED && t->timed && (int32_t)(now - t->wake_tick) >= 0) {
      if (t->blocked_on_mutex) continue; /* mutex waits are never timed */
      make_ready(t, RTOS_TIMEOUT);
    }
  /* Time slice: the running thread goes behind its equals. */
  rtos_thread *self = rtos_current;
  if (self->state == RTOS_READY && ready_queue[self->priority].head != ready_queue[self->priority].tail) {
    ready_remove(self);
    ready_push_back(self);
  }
  schedule();
  rtos_irq_restore(primask);
}

/* Called by PendSV with the outgoing thread's stack pointer (r4-r11 saved);
 * returns the incoming thread's. */
uint32_t *rtos_switch_context(uint32_t *sp) {
  rtos_current->sp = sp;
  rtos_thread *next = highest_ready();
  if (next != rtos_current) {
    ++switch_count;
    if (switch_hook) switch_hook();
  }
  rtos_current = next;
  return next->sp;
}

__attribute__((naked)) void PendSV_Handler(void) {
  __asm volatile(
      "cpsid i\n\t"
      "mrs r0, psp\n\t"
      "stmdb r0!, {r4-r11}\n\t"
      "push {r3, lr}\n\t"
      "bl rtos_switch_context\n\t"
      "pop {r3, lr}\n\t"
      "ldmia r0!, {r4-r11}\n\t"
      "msr psp, r0\n\t"
      "cpsie i\n\t"
      "bx lr\n\t");
}

/* ARM EABI: returns the thread pointer in r0 and preserves every other register
 * except lr (the compiler relies on that: keep it in assembly). */
__attribute__((naked)) void *__aeabi_read_tp(void) {
  __asm volatile(
      "ldr r0, =rtos_current\n\t"
      "ldr r0, [r0]\n\t"
      "ldr r0, [r0, %0]\n\t"
      "bx lr\n\t" ::"i"(offsetof(rtos_thread, tls)));
}

static uint64_t boot_stack[32];

void rtos_start(uint32_t core_clock_hz) {
  (void)rtos_irq_save();
  /* PendSV lowest (0xFF), SysTick just above it. */
  SCB_SHPR3 = (SCB_SHPR3 & 0x0000FFFFu) | (0xFFu << 16) | (0xC0u << 24);
  SYST_RVR = core_clock_hz / RTOS_TICK_HZ - 1u;
  SYST_CVR = 0;
  SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
  /* Run on the process stack from now on; the boot context is saved into
   * boot_thread by the first PendSV and never resumed. */
  rtos_current = &boot_thread;
  boot_thread.state = RTOS_BLOCKED;
  __asm volatile(
      "msr psp, %0\n\t"
      "mov r0, #2\n\t"
      "msr control, r0\n\t"
      "isb\n\t" ::"r"((uint32_t)(uintptr_t)(boot_stack + 32))
      : "r0", "memory");
  SCB_ICSR = ICSR_PENDSVSET;
  rtos_irq_restore(0);
  for (;;) {
  }
}
