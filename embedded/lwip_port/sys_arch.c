/*
 * sys_arch.c — lwIP's sys_arch on lwbench's RTOS: semaphores, mutexes,
 * mailboxes, threads, time and SYS_ARCH_PROTECT. (The per-thread netconn
 * semaphore of LWIP_NETCONN_SEM_PER_THREAD comes from real_lwip/src/port_hooks.c,
 * shared with the Linux build: a `__thread` sys_sem_t, which works here because
 * the RTOS gives every thread its own TLS block.)
 *
 * Time: the RTOS tick is 1 ms, so lwIP's milliseconds are ticks.
 * Threads: sys_thread_new takes a slot from a static pool (SYS_THREADS of
 * SYS_THREAD_STACK bytes each); lwIP's stack size argument must fit.
 */
#include "lwip/opt.h"
#include "lwip/sys.h"

#include <string.h>

#include "board.h"

#define SYS_THREADS 4
#define SYS_THREAD_STACK 4096u
#define SYS_THREAD_TLS 4096u

_Static_assert(RTOS_TICK_HZ == 1000u, "lwIP's milliseconds are RTOS ticks");

void sys_init(void) {}

u32_t sys_now(void) { return rtos_ticks(); }

static u32_t ms_to_ticks(u32_t timeout_ms) { return timeout_ms == 0 ? RTOS_WAIT_FOREVER : timeout_ms; }

/* ---- semaphores: handles into a pool (free list under SYS_ARCH_PROTECT) ---- */
static struct sys_sem sem_pool[SYS_SEMAPHORES];
static struct sys_sem *sem_free_list;
static int sem_pool_ready;

err_t sys_sem_new(sys_sem_t *sem, u8_t count) {
  SYS_ARCH_DECL_PROTECT(lev);
  SYS_ARCH_PROTECT(lev);
  if (!sem_pool_ready) {
    for (unsigned i = 0; i < SYS_SEMAPHORES; ++i) sem_pool[i].next_free = i + 1 < SYS_SEMAPHORES ? &sem_pool[i + 1] : NULL;
    sem_free_list = &sem_pool[0];
    sem_pool_ready = 1;
  }
  struct sys_sem *s = sem_free_list;
  if (s) sem_free_list = s->next_free;
  SYS_ARCH_UNPROTECT(lev);
  *sem = s;
  if (s == NULL) return ERR_MEM;
  rtos_sem_init(&s->sem, count);
  return ERR_OK;
}
void sys_sem_signal(sys_sem_t *sem) { rtos_sem_signal(&(*sem)->sem); }
u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout_ms) {
  const u32_t start = rtos_ticks();
  if (rtos_sem_wait(&(*sem)->sem, ms_to_ticks(timeout_ms)) != RTOS_OK) return SYS_ARCH_TIMEOUT;
  return rtos_ticks() - start;
}
void sys_sem_free(sys_sem_t *sem) {
  SYS_ARCH_DECL_PROTECT(lev);
  SYS_ARCH_PROTECT(lev);
  (*sem)->next_free = sem_free_list;
  sem_free_list = *sem;
  SYS_ARCH_UNPROTECT(lev);
  *sem = NULL;
}

/* ---- mutexes ---- */
err_t sys_mutex_new(sys_mutex_t *mutex) {
  rtos_mutex_init(&mutex->mutex);
  mutex->valid = 1;
  return ERR_OK;
}
void sys_mutex_lock(sys_mutex_t *mutex) { rtos_mutex_lock(&mutex->mutex); }
void sys_mutex_unlock(sys_mutex_t *mutex) { rtos_mutex_unlock(&mutex->mutex); }
void sys_mutex_free(sys_mutex_t *mutex) { mutex->valid = 0; }

/* ---- mailboxes ---- */
err_t sys_mbox_new(sys_mbox_t *mbox, int size) {
  if (size <= 0 || (u32_t)size > SYS_MBOX_CAPACITY) return ERR_MEM;
  rtos_mbox_init(&mbox->mbox, mbox->slots, (uint32_t)size);
  mbox->valid = 1;
  return ERR_OK;
}
void sys_mbox_post(sys_mbox_t *mbox, void *msg) { (void)rtos_mbox_post(&mbox->mbox, msg, RTOS_WAIT_FOREVER); }
err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg) {
  return rtos_mbox_trypost(&mbox->mbox, msg) == RTOS_OK ? ERR_OK : ERR_MEM;
}
err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg) { return sys_mbox_trypost(mbox, msg); }
u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout_ms) {
  const u32_t start = rtos_ticks();
  if (rtos_mbox_fetch(&mbox->mbox, msg, ms_to_ticks(timeout_ms)) != RTOS_OK) return SYS_ARCH_TIMEOUT;
  return rtos_ticks() - start;
}
u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg) {
  return rtos_mbox_fetch(&mbox->mbox, msg, 0) == RTOS_OK ? 0 : SYS_MBOX_EMPTY;
}
void sys_mbox_free(sys_mbox_t *mbox) { mbox->valid = 0; }

/* ---- threads ---- */
static rtos_thread thread_pool[SYS_THREADS];
static uint64_t thread_stacks[SYS_THREADS][SYS_THREAD_STACK / 8];
static uint64_t thread_tls[SYS_THREADS][SYS_THREAD_TLS / 8];
static int threads_used;

sys_thread_t sys_thread_new(const char *name, lwip_thread_fn thread, void *arg, int stacksize, int prio) {
  SYS_ARCH_DECL_PROTECT(lev);
  SYS_ARCH_PROTECT(lev);
  const int slot = threads_used < SYS_THREADS ? threads_used++ : -1;
  SYS_ARCH_UNPROTECT(lev);
  if (slot < 0 || stacksize > (int)SYS_THREAD_STACK || rtos_tls_size() > SYS_THREAD_TLS)
    rtos_panic("sys_thread_new: no thread slot, or stack/TLS too large");
  rtos_thread_create(&thread_pool[slot], name, thread, arg, (unsigned)prio, thread_stacks[slot],
                     sizeof thread_stacks[slot], thread_tls[slot]);
  return &thread_pool[slot];
}

/* ---- critical sections ---- */
sys_prot_t sys_arch_protect(void) { return rtos_irq_save(); }
void sys_arch_unprotect(sys_prot_t pval) { rtos_irq_restore(pval); }
