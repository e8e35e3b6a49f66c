/*
 * sys_arch.c — lwbench's fixed unix port of lwIP: lwIP's sys_arch API (threads,
 * semaphores, mutexes, mailboxes, time, SYS_ARCH_PROTECT) on POSIX threads.
 *
 * It differs from Debian's unix port (the stock port the other runners build) only
 * where wake-ups are concerned: semaphores and mailboxes are port_sync.c's, which
 * wake after unlocking, wake only a thread that sleeps, and build a mailbox from
 * one mutex and two condition variables. Mutexes (the core lock among them), time
 * and SYS_ARCH_PROTECT do the same as the stock port. docs/lwip_port_fix.md tells
 * why, and what it changes in the measurements.
 *
 * Not provided: sys_mark_tcpip_thread / sys_check_core_locking /
 * sys_lock_tcpip_core (lwbench's lwipopts.h maps neither LWIP_ASSERT_CORE_LOCKED
 * nor LOCK_TCPIP_CORE to them).
 */
#define _GNU_SOURCE /* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP, before any system header */

#include "lwip/opt.h"
#include "lwip/stats.h"
#include "lwip/sys.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "port_sync.h"

#if !NO_SYS

#if SYS_ARCH_TIMEOUT != LWBENCH_PORT_TIMEOUT
#error "port_sync.h's timeout value must be lwIP's SYS_ARCH_TIMEOUT"
#endif

/* ---- threads ------------------------------------------------------------------ */

struct sys_thread {
  pthread_t id;
  lwip_thread_fn function;
  void *arg;
};

static void *thread_start(void *arg) {
  struct sys_thread *thread = (struct sys_thread *)arg;
  thread->function(thread->arg);
  return NULL;
}

/* lwIP's threads live as long as the process (the tcpip thread never returns): the
 * handle is never freed. A thread that cannot be created is fatal, as in the stock port. */
sys_thread_t sys_thread_new(const char *name, lwip_thread_fn function, void *arg, int stacksize, int prio) {
  LWIP_UNUSED_ARG(stacksize);
  LWIP_UNUSED_ARG(prio);
  struct sys_thread *thread = (struct sys_thread *)malloc(sizeof *thread);
  if (thread == NULL) {
    fprintf(stderr, "sys_thread_new(%s): out of memory\n", name ? name : "?");
    abort();
  }
  thread->function = function;
  thread->arg = arg;
  const int rc = pthread_create(&thread->id, NULL, thread_start, thread);
  if (rc != 0) {
    fprintf(stderr, "sys_thread_new(%s): pthread_create failed (%d)\n", name ? name : "?", rc);
    abort();
  }
  return thread;
}

/* ---- semaphores (port_sync.c) ----------------------------------------------------- */

/* A sys_sem_t points to a port_sync semaphore (struct sys_sem is never defined:
 * see arch/sys_arch.h for why the handle keeps that name). */
static struct lwbench_port_sem *sem_of(sys_sem_t *sem) { return (struct lwbench_port_sem *)*sem; }

err_t sys_sem_new(sys_sem_t *sem, u8_t count) {
  *sem = (sys_sem_t)lwbench_port_sem_new(count);
  if (*sem == NULL) {
    SYS_STATS_INC(sem.err);
    return ERR_MEM;
  }
  SYS_STATS_INC_USED(sem);
  return ERR_OK;
}

void sys_sem_free(sys_sem_t *sem) {
  if (sem != NULL && *sem != NULL) {
    SYS_STATS_DEC(sem.used);
    lwbench_port_sem_free(sem_of(sem));
  }
}

void sys_sem_signal(sys_sem_t *sem) { lwbench_port_sem_signal(sem_of(sem)); }

/* lwIP only tells SYS_ARCH_TIMEOUT from "any other value" (sys.h), so success is 0. */
u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout) { return lwbench_port_sem_wait(sem_of(sem), timeout); }

/* ---- mutexes: a plain pthread mutex, as in the stock port ------------------------- */

struct sys_mutex {
  pthread_mutex_t mutex;
};

err_t sys_mutex_new(sys_mutex_t *mutex) {
  struct sys_mutex *m = (struct sys_mutex *)malloc(sizeof *m);
  if (m == NULL || pthread_mutex_init(&m->mutex, NULL) != 0) {
    free(m);
    SYS_STATS_INC(mutex.err);
    return ERR_MEM;
  }
  SYS_STATS_INC_USED(mutex);
  *mutex = m;
  return ERR_OK;
}

void sys_mutex_lock(sys_mutex_t *mutex) { pthread_mutex_lock(&(*mutex)->mutex); }

void sys_mutex_unlock(sys_mutex_t *mutex) { pthread_mutex_unlock(&(*mutex)->mutex); }

void sys_mutex_free(sys_mutex_t *mutex) {
  if (mutex != NULL && *mutex != NULL) {
    SYS_STATS_DEC(mutex.used);
    pthread_mutex_destroy(&(*mutex)->mutex);
    free(*mutex);
  }
}

/* ---- mailboxes (port_sync.c) ---------------------------------------------------------- */

/* A sys_mbox_t points to a port_sync mailbox (as sem_of). */
static struct lwbench_port_mbox *mbox_of(sys_mbox_t *mbox) { return (struct lwbench_port_mbox *)*mbox; }

err_t sys_mbox_new(sys_mbox_t *mbox, int size) {
  *mbox = (sys_mbox_t)lwbench_port_mbox_new(size);
  if (*mbox == NULL) {
    SYS_STATS_INC(mbox.err);
    return ERR_MEM;
  }
  SYS_STATS_INC_USED(mbox);
  return ERR_OK;
}

void sys_mbox_free(sys_mbox_t *mbox) {
  if (mbox != NULL && *mbox != NULL) {
    SYS_STATS_DEC(mbox.used);
    lwbench_port_mbox_free(mbox_of(mbox));
  }
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg) { lwbench_port_mbox_post(mbox_of(mbox), msg); }

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg) {
  return lwbench_port_mbox_trypost(mbox_of(mbox), msg) == 0 ? ERR_OK : ERR_MEM;
}

/* No interrupts on a unix host: the same as sys_mbox_trypost, as in the stock port. */
err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg) { return sys_mbox_trypost(mbox, msg); }

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout) {
  return lwbench_port_mbox_fetch(mbox_of(mbox), msg, timeout);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg) {
  return lwbench_port_mbox_tryfetch(mbox_of(mbox), msg) == 0 ? 0 : SYS_MBOX_EMPTY;
}

#endif /* !NO_SYS */

/* ---- time ---------------------------------------------------------------------------- */

u32_t sys_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (u32_t)((u64_t)t.tv_sec * 1000u + (u64_t)t.tv_nsec / 1000000u);
}

u32_t sys_jiffies(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (u32_t)((u64_t)t.tv_sec * 1000000000u + (u64_t)t.tv_nsec);
}

void sys_init(void) {}

/* ---- SYS_ARCH_PROTECT: one process-wide recursive mutex ---------------------------------- */

#if SYS_LIGHTWEIGHT_PROT
/* lwIP nests SYS_ARCH_PROTECT (sys.h: "should support recursive calls from the
 * same task"), so the mutex is recursive; the level value is not used. */
static pthread_mutex_t protect_mutex = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

sys_prot_t sys_arch_protect(void) {
  pthread_mutex_lock(&protect_mutex);
  return 0;
}

void sys_arch_unprotect(sys_prot_t pval) {
  LWIP_UNUSED_ARG(pval);
  pthread_mutex_unlock(&protect_mutex);
}
#endif /* SYS_LIGHTWEIGHT_PROT */
