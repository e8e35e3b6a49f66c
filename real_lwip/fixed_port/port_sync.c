/*
 * port_sync.c — see port_sync.h. Every object follows one discipline:
 *
 *   waiter:  lock; while (nothing to take) { sleepers++; cond wait; sleepers--; }
 *            take; [decide whether the other side sleeps]; unlock; [wake it]
 *   waker:   lock; change the state; wake = (sleepers > 0); unlock; if (wake) signal
 *
 * The decision is made under the mutex (so no wake-up is lost: a sleeper counted
 * itself before it released the mutex inside pthread_cond_wait), the signal is
 * sent after the unlock (so the woken thread finds the mutex free), and
 * pthread_cond_signal wakes one thread where Debian's port broadcasts.
 */
#include "port_sync.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

enum { default_mbox_capacity = 128 };

/* ---- shared pieces ------------------------------------------------------ */

/* A condition variable whose timed waits run on CLOCK_MONOTONIC (a change of the
 * wall clock must not stretch or cut an lwIP timeout). 0 or an errno value. */
static int monotonic_cond_init(pthread_cond_t *cond) {
  pthread_condattr_t attr;
  int rc = pthread_condattr_init(&attr);
  if (rc != 0) return rc;
  rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (rc == 0) rc = pthread_cond_init(cond, &attr);
  pthread_condattr_destroy(&attr);
  return rc;
}

/* The CLOCK_MONOTONIC instant `timeout_ms` from now. */
static struct timespec deadline_after(uint32_t timeout_ms) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += (time_t)(timeout_ms / 1000u);
  t.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec += 1;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

/* One sleep on `cond` (mutex held): until a signal (or a spurious wake-up), or
 * until `deadline` if it is not NULL. Returns ETIMEDOUT when the deadline passed. */
static int sleep_once(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *deadline) {
  if (deadline == NULL) return pthread_cond_wait(cond, mutex);
  return pthread_cond_timedwait(cond, mutex, deadline);
}

/* The waiter's side of the discipline: with `mutex` held, sleeps on `cond` until
 * *value is not 0, counted in *sleepers while asleep, for at most `timeout_ms`
 * (0: no limit). Returns with `mutex` held: 0 (*value is not 0), or ETIMEDOUT
 * (the time ran out and *value is still 0). */
static int wait_nonzero(pthread_cond_t *cond, pthread_mutex_t *mutex, const unsigned *value,
                        unsigned long *sleepers, uint32_t timeout_ms) {
  struct timespec deadline;
  const int timed = timeout_ms != 0 && *value == 0;
  if (timed) deadline = deadline_after(timeout_ms);
  while (*value == 0) {
    ++*sleepers;
    const int rc = sleep_once(cond, mutex, timed ? &deadline : NULL);
    --*sleepers;
    if (rc == ETIMEDOUT && *value == 0) return ETIMEDOUT;
  }
  return 0;
}

/* Releases `mutex` and then, if `wake`, wakes one sleeper of `cond`. The caller
 * holds `mutex` and decided `wake` under it. The waker counts itself in
 * `in_flight` before unlocking so that *_free() can wait for it (see port_sync.h). */
static void unlock_then_wake(pthread_mutex_t *mutex, pthread_cond_t *cond, atomic_uint *in_flight, int wake) {
  if (wake) atomic_fetch_add_explicit(in_flight, 1u, memory_order_relaxed);
  pthread_mutex_unlock(mutex);
  if (wake) {
    pthread_cond_signal(cond);
    atomic_fetch_sub_explicit(in_flight, 1u, memory_order_release);
  }
}

/* Waits until no waker of the object is still between its unlock and the end of
 * its pthread_cond_signal. A waker is there for the length of one system call,
 * so yielding the CPU to it is enough; this runs only when an object is freed. */
static void wait_for_wakers(pthread_mutex_t *mutex, atomic_uint *in_flight) {
  /* Taking the mutex once orders this after every waker that decided to wake
   * under it: those have counted themselves in `in_flight` already. */
  pthread_mutex_lock(mutex);
  pthread_mutex_unlock(mutex);
  while (atomic_load_explicit(in_flight, memory_order_acquire) != 0) sched_yield();
}

/* A counter of an object, read under the object's mutex (the tests' accessors). */
static unsigned long read_locked(pthread_mutex_t *mutex, const unsigned long *counter) {
  pthread_mutex_lock(mutex);
  const unsigned long value = *counter;
  pthread_mutex_unlock(mutex);
  return value;
}

/* ---- semaphore ------------------------------------------------------------- */

struct lwbench_port_sem {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  unsigned count;          /* 0 or 1; under mutex */
  unsigned long sleepers;  /* threads inside sleep_once on cond; under mutex */
  unsigned long wakeups;   /* signals issued; under mutex */
  atomic_uint wakes_in_flight;
};

struct lwbench_port_sem *lwbench_port_sem_new(unsigned initial_count) {
  struct lwbench_port_sem *sem = malloc(sizeof *sem);
  if (sem == NULL) return NULL;
  if (pthread_mutex_init(&sem->mutex, NULL) != 0) {
    free(sem);
    return NULL;
  }
  if (monotonic_cond_init(&sem->cond) != 0) {
    pthread_mutex_destroy(&sem->mutex);
    free(sem);
    return NULL;
  }
  sem->count = initial_count > 0 ? 1u : 0u;
  sem->sleepers = 0;
  sem->wakeups = 0;
  atomic_init(&sem->wakes_in_flight, 0u);
  return sem;
}

void lwbench_port_sem_free(struct lwbench_port_sem *sem) {
  if (sem == NULL) return;
  wait_for_wakers(&sem->mutex, &sem->wakes_in_flight);
  pthread_cond_destroy(&sem->cond);
  pthread_mutex_destroy(&sem->mutex);
  free(sem);
}

void lwbench_port_sem_signal(struct lwbench_port_sem *sem) {
  pthread_mutex_lock(&sem->mutex);
  sem->count = 1;
  const int wake = sem->sleepers > 0;
  sem->wakeups += (unsigned long)wake;
  unlock_then_wake(&sem->mutex, &sem->cond, &sem->wakes_in_flight, wake);
}

uint32_t lwbench_port_sem_wait(struct lwbench_port_sem *sem, uint32_t timeout_ms) {
  pthread_mutex_lock(&sem->mutex);
  if (wait_nonzero(&sem->cond, &sem->mutex, &sem->count, &sem->sleepers, timeout_ms) != 0) {
    pthread_mutex_unlock(&sem->mutex);
    return LWBENCH_PORT_TIMEOUT;
  }
  sem->count = 0;
  pthread_mutex_unlock(&sem->mutex);
  return 0;
}

unsigned long lwbench_port_sem_wakeups(struct lwbench_port_sem *sem) {
  return read_locked(&sem->mutex, &sem->wakeups);
}

unsigned long lwbench_port_sem_sleepers(struct lwbench_port_sem *sem) {
  return read_locked(&sem->mutex, &sem->sleepers);
}

/* ---- mailbox ----------------------------------------------------------------- */

struct lwbench_port_mbox {
  pthread_mutex_t mutex;
  pthread_cond_t not_empty;    /* fetchers sleep here */
  pthread_cond_t not_full;     /* posters sleep here */
  void **ring;                 /* `capacity` slots; the queue is ring[head .. head+count) */
  unsigned capacity, head, count;            /* under mutex */
  unsigned long fetchers_asleep, posters_asleep;  /* under mutex */
  unsigned long wakeups;                     /* under mutex */
  atomic_uint wakes_in_flight;
};

struct lwbench_port_mbox *lwbench_port_mbox_new(int capacity) {
  struct lwbench_port_mbox *mbox = malloc(sizeof *mbox);
  if (mbox == NULL) return NULL;
  mbox->capacity = capacity > 0 ? (unsigned)capacity : (unsigned)default_mbox_capacity;
  mbox->ring = malloc(mbox->capacity * sizeof *mbox->ring);
  if (mbox->ring == NULL) {
    free(mbox);
    return NULL;
  }
  if (pthread_mutex_init(&mbox->mutex, NULL) != 0) goto no_mutex;
  if (monotonic_cond_init(&mbox->not_empty) != 0) goto no_not_empty;
  if (monotonic_cond_init(&mbox->not_full) != 0) goto no_not_full;
  mbox->head = mbox->count = 0;
  mbox->fetchers_asleep = mbox->posters_asleep = 0;
  mbox->wakeups = 0;
  atomic_init(&mbox->wakes_in_flight, 0u);
  return mbox;
no_not_full:
  pthread_cond_destroy(&mbox->not_empty);
no_not_empty:
  pthread_mutex_destroy(&mbox->mutex);
no_mutex:
  free(mbox->ring);
  free(mbox);
  return NULL;
}

void lwbench_port_mbox_free(struct lwbench_port_mbox *mbox) {
  if (mbox == NULL) return;
  wait_for_wakers(&mbox->mutex, &mbox->wakes_in_flight);
  pthread_cond_destroy(&mbox->not_full);
  pthread_cond_destroy(&mbox->not_empty);
  pthread_mutex_destroy(&mbox->mutex);
  free(mbox->ring);
  free(mbox);
}

/* Appends msg (mutex held, room checked), then unlocks and wakes a sleeping fetcher. */
static void push_unlock_wake(struct lwbench_port_mbox *mbox, void *msg) {
  mbox->ring[(mbox->head + mbox->count) % mbox->capacity] = msg;
  ++mbox->count;
  const int wake = mbox->fetchers_asleep > 0;
  mbox->wakeups += (unsigned long)wake;
  unlock_then_wake(&mbox->mutex, &mbox->not_empty, &mbox->wakes_in_flight, wake);
}

/* Takes the oldest message (mutex held, queue not empty), then unlocks and wakes a
 * sleeping poster. */
static void pop_unlock_wake(struct lwbench_port_mbox *mbox, void **msg) {
  if (msg != NULL) *msg = mbox->ring[mbox->head];
  mbox->head = (mbox->head + 1) % mbox->capacity;
  --mbox->count;
  const int wake = mbox->posters_asleep > 0;
  mbox->wakeups += (unsigned long)wake;
  unlock_then_wake(&mbox->mutex, &mbox->not_full, &mbox->wakes_in_flight, wake);
}

void lwbench_port_mbox_post(struct lwbench_port_mbox *mbox, void *msg) {
  pthread_mutex_lock(&mbox->mutex);
  while (mbox->count == mbox->capacity) {
    ++mbox->posters_asleep;
    sleep_once(&mbox->not_full, &mbox->mutex, NULL);
    --mbox->posters_asleep;
  }
  push_unlock_wake(mbox, msg);
}

int lwbench_port_mbox_trypost(struct lwbench_port_mbox *mbox, void *msg) {
  pthread_mutex_lock(&mbox->mutex);
  if (mbox->count == mbox->capacity) {
    pthread_mutex_unlock(&mbox->mutex);
    return -1;
  }
  push_unlock_wake(mbox, msg);
  return 0;
}

uint32_t lwbench_port_mbox_fetch(struct lwbench_port_mbox *mbox, void **msg, uint32_t timeout_ms) {
  pthread_mutex_lock(&mbox->mutex);
  if (wait_nonzero(&mbox->not_empty, &mbox->mutex, &mbox->count, &mbox->fetchers_asleep, timeout_ms) != 0) {
    pthread_mutex_unlock(&mbox->mutex);
    return LWBENCH_PORT_TIMEOUT;
  }
  pop_unlock_wake(mbox, msg);
  return 0;
}

int lwbench_port_mbox_tryfetch(struct lwbench_port_mbox *mbox, void **msg) {
  pthread_mutex_lock(&mbox->mutex);
  if (mbox->count == 0) {
    pthread_mutex_unlock(&mbox->mutex);
    return -1;
  }
  pop_unlock_wake(mbox, msg);
  return 0;
}

unsigned long lwbench_port_mbox_wakeups(struct lwbench_port_mbox *mbox) {
  return read_locked(&mbox->mutex, &mbox->wakeups);
}

unsigned long lwbench_port_mbox_fetchers_asleep(struct lwbench_port_mbox *mbox) {
  return read_locked(&mbox->mutex, &mbox->fetchers_asleep);
}

unsigned long lwbench_port_mbox_posters_asleep(struct lwbench_port_mbox *mbox) {
  return read_locked(&mbox->mutex, &mbox->posters_asleep);
}
