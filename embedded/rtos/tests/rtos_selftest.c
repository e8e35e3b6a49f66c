/*
 * rtos_selftest.c — checks of lwbench's RTOS on the target (no lwIP): priority
 * preemption, semaphore timeouts, priority inheritance (a medium-priority thread
 * must not run while a high-priority one waits for a low-priority owner),
 * mailbox capacity and timeouts, the context-switch counter, per-thread TLS.
 *
 * Output: one line per check, {"kind":"check","name":"...","ok":true|false},
 * then {"kind":"end","failed":n}; exits 0 iff every check passed. Run by
 * embedded/tests/test_target.py under QEMU.
 */
#include <string.h>

#include "board.h"
#include "rtos.h"

#define STACK_WORDS 512
static uint64_t stacks[6][STACK_WORDS / 2 * 2];
static uint64_t tls_blocks[6][64];
static rtos_thread threads[6];
static int failed;

static void check(const char *name, int ok) {
  board_printf("{\"kind\":\"check\",\"name\":\"%s\",\"ok\":%s}\n", name, ok ? "true" : "false");
  failed += !ok;
}

static void spawn(int slot, const char *name, void (*entry)(void *), void *arg, unsigned priority) {
  rtos_assert(rtos_tls_size() <= sizeof tls_blocks[slot]);
  rtos_thread_create(&threads[slot], name, entry, arg, priority, stacks[slot], sizeof stacks[slot], tls_blocks[slot]);
}

/* ---- preemption: signalling a higher-priority waiter runs it before signal returns */
static rtos_sem wake_sem;
static volatile int woke;
static void high_waiter(void *arg) {
  (void)arg;
  rtos_sem_wait(&wake_sem, RTOS_WAIT_FOREVER);
  woke = 1;
}

/* ---- priority inheritance */
static rtos_mutex shared;
static rtos_sem low_has_lock;
static volatile int order[3], order_len;
static volatile unsigned low_priority_while_blocking;
static void record_step(int step) { order[order_len++] = step; }
static void low_owner(void *arg) {
  (void)arg;
  rtos_mutex_lock(&shared);
  rtos_sem_signal(&low_has_lock); /* main (higher) starts high and medium now */
  low_priority_while_blocking = rtos_self()->priority;
  record_step(1); /* must come before medium's step: low runs at high's priority */
  rtos_mutex_unlock(&shared);
}
static void high_locker(void *arg) {
  (void)arg;
  rtos_mutex_lock(&shared);
  record_step(2);
  rtos_mutex_unlock(&shared);
}
static void medium_spinner(void *arg) {
  (void)arg;
  record_step(3);
}

/* ---- TLS */
static __thread int tls_value = 7;
static volatile int tls_seen[2];
static void tls_thread(void *arg) {
  const int index = (int)(intptr_t)arg;
  tls_value += index + 1;
  rtos_yield();
  tls_seen[index] = tls_value;
}

static void main_thread(void *arg) {
  (void)arg;
  /* preemption */
  rtos_sem_init(&wake_sem, 0);
  spawn(0, "high_waiter", high_waiter, NULL, 9);
  rtos_sem_signal(&wake_sem);
  check("signal_preempts_for_higher_priority", woke == 1);

  /* semaphore timeout */
  rtos_sem timeout_sem;
  rtos_sem_init(&timeout_sem, 0);
  const uint32_t before = rtos_ticks();
  const rtos_status status = rtos_sem_wait(&timeout_sem, 5);
  check("semaphore_wait_times_out", status == RTOS_TIMEOUT && rtos_ticks() - before >= 5);
  check("semaphore_poll_does_not_block", rtos_sem_wait(&timeout_sem, 0) == RTOS_TIMEOUT);

  /* context-switch counter: a round trip with a higher-priority thread is 2 switches */
  rtos_sem_init(&wake_sem, 0);
  woke = 0;
  spawn(1, "high_waiter2", high_waiter, NULL, 9);  /* runs now, blocks: 2 switches */
  const uint32_t switches = rtos_context_switches();
  rtos_sem_signal(&wake_sem);                       /* wakes it, it ends: 2 switches */
  check("context_switch_counter", woke == 1 && rtos_context_switches() - switches == 2);

  /* priority inheritance: main (8) > high (6) > medium (4) > low (2) */
  rtos_mutex_init(&shared);
  rtos_sem_init(&low_has_lock, 0);
  spawn(2, "low", low_owner, NULL, 2);
  rtos_sem_wait(&low_has_lock, RTOS_WAIT_FOREVER);
  spawn(3, "high", high_locker, NULL, 6);
  spawn(4, "medium", medium_spinner, NULL, 4);
  rtos_sleep(3); /* let them run: high blocks on the mutex, low inherits 6 */
  check("priority_inheritance_raises_the_owner", low_priority_while_blocking == 6);
  check("priority_inheritance_order", order_len == 3 && order[0] == 1 && order[1] == 2 && order[2] == 3);
  check("priority_restored_after_unlock", threads[2].priority == 2);

  /* mailbox */
  rtos_mbox mbox;
  void *slots[2];
  void *got = NULL;
  rtos_mbox_init(&mbox, slots, 2);
  const int posted = (rtos_mbox_trypost(&mbox, (void *)1) == RTOS_OK) + (rtos_mbox_trypost(&mbox, (void *)2) == RTOS_OK);
  check("mailbox_full_rejects_trypost", posted == 2 && rtos_mbox_trypost(&mbox, (void *)3) == RTOS_TIMEOUT);
  const int fifo = rtos_mbox_fetch(&mbox, &got, 0) == RTOS_OK && got == (void *)1 &&
                   rtos_mbox_fetch(&mbox, &got, 0) == RTOS_OK && got == (void *)2;
  check("mailbox_is_fifo", fifo);
  check("mailbox_fetch_times_out", rtos_mbox_fetch(&mbox, &got, 3) == RTOS_TIMEOUT);

  /* TLS: each thread sees its own copy, initialised from .tdata */
  spawn(5, "tls0", tls_thread, (void *)0, 3);
  rtos_thread tls1;
  static uint64_t tls1_stack[256], tls1_tls[64];
  rtos_thread_create(&tls1, "tls1", tls_thread, (void *)1, 3, tls1_stack, sizeof tls1_stack, tls1_tls);
  rtos_sleep(2);
  check("thread_local_storage", tls_seen[0] == 8 && tls_seen[1] == 9 && tls_value == 7);

  board_printf("{\"kind\":\"end\",\"failed\":%d}\n", failed);
  board_exit(failed == 0 ? 0 : 1);
}

static rtos_thread main_tcb;
static uint64_t main_stack[1024];
static uint64_t main_tls[64];

int main(void) {
  board_init();
  rtos_init();
  rtos_thread_create(&main_tcb, "main", main_thread, NULL, 8, main_stack, sizeof main_stack, main_tls);
  rtos_start(board_core_hz());
}
