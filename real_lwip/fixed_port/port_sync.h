/*
 * port_sync.h — the semaphore and the mailbox of lwbench's fixed lwIP port
 * (real_lwip/fixed_port/): POSIX threads only, no lwIP header, so the tests can
 * build it in every preset (sys_arch.c maps lwIP's sys_arch API onto it).
 *
 * What makes it "fixed" (docs/lwip_port_fix.md has the whole story):
 *   - every wake-up is issued after the object's mutex is released, so a woken
 *     thread never runs only to block on the mutex its waker still holds;
 *   - a wake-up is issued only when a thread is asleep on the object (a count
 *     of sleepers kept under the mutex), and it wakes one thread, never all;
 *   - a mailbox is one mutex, a ring and two condition variables (not empty,
 *     not full), not three semaphores that are each a mutex + condition variable.
 *
 * Lifetime: an object may be freed by the thread that a wake-up released, while
 * the waker is still inside pthread_cond_signal (waking after unlocking means the
 * waker touches the object after giving up its mutex). Every waker therefore
 * counts itself in `wakes_in_flight` before it unlocks, and *_free() waits until
 * that count is zero before destroying anything.
 *
 * Timeouts are in milliseconds on CLOCK_MONOTONIC; 0 means "no limit" (lwIP's
 * convention). All functions may be called from any thread.
 */
#ifndef LWBENCH_PORT_SYNC_H
#define LWBENCH_PORT_SYNC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a timed wait returns when its time ran out (lwIP's SYS_ARCH_TIMEOUT value). */
#define LWBENCH_PORT_TIMEOUT 0xffffffffUL

struct lwbench_port_sem;
struct lwbench_port_mbox;

/** A binary semaphore holding `initial_count` (values above 1 count as 1, as in
 *  Debian's unix port; lwIP works with binary and counting semaphores alike).
 *  NULL when memory runs out. */
struct lwbench_port_sem *lwbench_port_sem_new(unsigned initial_count);
/** Frees a semaphore no thread waits on any more (waits for wakers still in flight). */
void lwbench_port_sem_free(struct lwbench_port_sem *sem);
/** Makes the count 1 and, if a thread sleeps on the semaphore, wakes one after unlocking. */
void lwbench_port_sem_signal(struct lwbench_port_sem *sem);
/** Takes the count, sleeping up to `timeout_ms` (0: no limit) until it is 1.
 *  Returns 0, or LWBENCH_PORT_TIMEOUT if the time ran out first. */
uint32_t lwbench_port_sem_wait(struct lwbench_port_sem *sem, uint32_t timeout_ms);
/** Wake-ups this semaphore has issued so far (for tests: a signal with no sleeper issues none). */
unsigned long lwbench_port_sem_wakeups(struct lwbench_port_sem *sem);
/** Threads asleep in lwbench_port_sem_wait right now (for tests). */
unsigned long lwbench_port_sem_sleepers(struct lwbench_port_sem *sem);

/** A FIFO mailbox of up to `capacity` messages (capacity <= 0: 128, the size
 *  Debian's port uses for every mailbox). NULL when memory runs out. */
struct lwbench_port_mbox *lwbench_port_mbox_new(int capacity);
/** Frees a mailbox no thread uses any more (waits for wakers still in flight).
 *  Messages still queued are dropped, as lwIP's sys_mbox_free contract allows. */
void lwbench_port_mbox_free(struct lwbench_port_mbox *mbox);
/** Queues `msg`, sleeping while the mailbox is full. */
void lwbench_port_mbox_post(struct lwbench_port_mbox *mbox, void *msg);
/** Queues `msg` if there is room: 0, or -1 (mailbox full, nothing queued). */
int lwbench_port_mbox_trypost(struct lwbench_port_mbox *mbox, void *msg);
/** Takes the oldest message into *msg (if msg is not NULL), sleeping up to
 *  `timeout_ms` (0: no limit). Returns 0, or LWBENCH_PORT_TIMEOUT (nothing taken). */
uint32_t lwbench_port_mbox_fetch(struct lwbench_port_mbox *mbox, void **msg, uint32_t timeout_ms);
/** Takes the oldest message without sleeping: 0, or -1 (mailbox empty). */
int lwbench_port_mbox_tryfetch(struct lwbench_port_mbox *mbox, void **msg);
/** Wake-ups this mailbox has issued so far, to fetchers and to posters together. */
unsigned long lwbench_port_mbox_wakeups(struct lwbench_port_mbox *mbox);
/** Threads asleep in lwbench_port_mbox_fetch / lwbench_port_mbox_post right now (for tests). */
unsigned long lwbench_port_mbox_fetchers_asleep(struct lwbench_port_mbox *mbox);
unsigned long lwbench_port_mbox_posters_asleep(struct lwbench_port_mbox *mbox);

#ifdef __cplusplus
}
#endif

#endif /* LWBENCH_PORT_SYNC_H */
