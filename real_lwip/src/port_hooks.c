/*
 * port_hooks.c — the LWIP_NETCONN_THREAD_SEM_* hooks that Debian's unix port
 * lacks (see lwipopts.h for why LWIP_NETCONN_SEM_PER_THREAD is 1).
 *
 * Each thread that calls the netconn/socket API (or tcpip_api_call in the
 * message-passing build) gets one sys_sem, created on first use and freed by
 * lwip_socket_thread_cleanup() / netconn_thread_cleanup().
 */
#include "lwip/opt.h"
#include "lwip/sys.h"

#if defined(LWBENCH_LWIP_OWN_THREAD_SEM)

static __thread sys_sem_t thread_sem;

sys_sem_t *lwbench_lwip_thread_sem_get(void) {
  if (!sys_sem_valid(&thread_sem)) {
    lwbench_lwip_thread_sem_alloc();
  }
  return &thread_sem;
}

void lwbench_lwip_thread_sem_alloc(void) {
  if (!sys_sem_valid(&thread_sem) && sys_sem_new(&thread_sem, 0) != ERR_OK) {
    sys_sem_set_invalid(&thread_sem);
  }
}

void lwbench_lwip_thread_sem_free(void) {
  if (sys_sem_valid(&thread_sem)) {
    sys_sem_free(&thread_sem);
    sys_sem_set_invalid(&thread_sem);
  }
}

#else
typedef int lwbench_port_hooks_unused; /* ISO C forbids an empty translation unit */
#endif
