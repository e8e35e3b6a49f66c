/*
 * lwipopts.h — lwbench's configuration of real lwIP (2.1.3 by default).
 *
 * One file serves both builds; the build passes LWBENCH_LWIP_CORE_LOCKING=1 for
 * lwip_runner_locking and =0 for lwip_runner_msgpassing.
 *
 * Layout:
 *   1. Our defaults (skipped when the user supplies LWBENCH_LWIPOPTS_DIR: then
 *      their lwipopts.h is included instead, through LWBENCH_USER_LWIPOPTS).
 *   2. A forced section, applied to both: the threading mode under test, the
 *      APIs the runner needs, and lwbench's hooks (core-unlock hook for the
 *      zero-copy netif, IPv4 route hook, per-thread netconn semaphore).
 *
 * Guiding rule for section 1: keep lwIP's own defaults wherever they do not
 * stop the benchmark from running — lwIP's heap + pools (MEM_LIBC_MALLOC=0,
 * MEMP_MEM_MALLOC=0), SYS_LIGHTWEIGHT_PROT=1, select/poll support in the socket
 * layer, checksums generated and checked in software with lwIP's portable
 * algorithm (LWIP_CHKSUM_ALGORITHM 2). That is what embedded users run, and
 * what the 2007 seed figures measured. Only pool/heap sizes are raised (the
 * defaults are sized for a few-KB microcontroller and would make a 1..N-thread
 * throughput run fail with ERR_MEM), and what the benchmark does not use is off.
 */
#ifndef LWBENCH_LWIPOPTS_H
#define LWBENCH_LWIPOPTS_H

#ifndef LWBENCH_LWIP_CORE_LOCKING
#error "build with -DLWBENCH_LWIP_CORE_LOCKING=0 or 1 (see real_lwip/CMakeLists.txt)"
#endif

#ifdef LWBENCH_USER_LWIPOPTS
/* ---- 1'. the user's own options ------------------------------------------ */
#include LWBENCH_USER_LWIPOPTS
#else
/* ---- 1. lwbench's defaults (lwbench_lwipopts_defaults.h) --------------- */
#include "lwbench_lwipopts_defaults.h"
#endif /* LWBENCH_USER_LWIPOPTS */

/* ---- 2. forced section (both builds, our defaults or the user's file) ---- */

#undef NO_SYS
#define NO_SYS                          0

/* The threading mode under test. CORE_LOCKING_INPUT follows CORE_LOCKING:
 * the locking build receives inline under the core lock, the message-passing
 * build posts every received packet to the tcpip thread's mailbox. */
#undef LWIP_TCPIP_CORE_LOCKING
#define LWIP_TCPIP_CORE_LOCKING         LWBENCH_LWIP_CORE_LOCKING
#undef LWIP_TCPIP_CORE_LOCKING_INPUT
#define LWIP_TCPIP_CORE_LOCKING_INPUT   LWBENCH_LWIP_CORE_LOCKING

/* What the runner calls. */
#undef LWIP_UDP
#define LWIP_UDP                        1
#undef LWIP_NETCONN
#define LWIP_NETCONN                    1
#undef LWIP_SOCKET
#define LWIP_SOCKET                     1
/* lwip_* names only: no socket()/sendto() macros clashing with libc. */
#undef LWIP_COMPAT_SOCKETS
#define LWIP_COMPAT_SOCKETS             0
#undef LWIP_POSIX_SOCKETS_IO_NAMES
#define LWIP_POSIX_SOCKETS_IO_NAMES     0
/* Debian's sockets.c (orig tarball + patch series) takes these from the
 * port's posix/sockets.h, which only applies with LWIP_SOCKET_EXTERNAL_HEADERS
 * (the Hurd's configuration). With lwIP's own sockaddr types (which carry
 * sin_len/sa_len) they are simply: */
#if !defined(LWIP_SOCKET_EXTERNAL_HEADERS) || !LWIP_SOCKET_EXTERNAL_HEADERS
#ifndef IP4ADDR_SOCKADDR_SET_LEN
#define IP4ADDR_SOCKADDR_SET_LEN(sin)   (sin)->sin_len = sizeof(struct sockaddr_in)
#define IP6ADDR_SOCKADDR_SET_LEN(sin6)  (sin6)->sin6_len = sizeof(struct sockaddr_in6)
#define IPADDR_SOCKADDR_GET_LEN(addr)   (addr)->sa.sa_len
#endif
#endif

/* lwIP's stock loopback, for the "stock_loopif" variant (127.0.0.1). With
 * LWIP_NETIF_LOOPBACK=1, ip4_output_if() diverts every packet addressed to the
 * sending netif's own address into netif_loop_output(); the zero-copy netif
 * pair avoids that by construction (see real_lwip/src/zc_loopif.c). */
#undef LWIP_NETIF_LOOPBACK
#define LWIP_NETIF_LOOPBACK             1
#undef LWIP_HAVE_LOOPIF
#define LWIP_HAVE_LOOPIF                1
#undef LWIP_NETIF_LOOPBACK_MULTITHREADING
#define LWIP_NETIF_LOOPBACK_MULTITHREADING 1

/* LWIP_NETCONN_SEM_PER_THREAD = 1 (our choice, documented):
 *  - our stack's design has netconn calls wait on the *calling thread's* own
 *    semaphore, so this is the like-for-like configuration;
 *  - it is what lwIP requires for one socket used from several threads, and it
 *    lets tcpip_api_call() (raw API in the message-passing build) reuse the
 *    caller's semaphore instead of creating one per call;
 *  - cost on the hot path: one thread-local lookup per API message; with it
 *    off, lwIP waits on the netconn's own op_completed semaphore instead — the
 *    same number of semaphore operations and context switches.
 * Debian's unix port has no LWIP_NETCONN_THREAD_SEM_* hooks, so lwbench
 * supplies them (real_lwip/src/port_hooks.c: a lazily created __thread sys_sem). */
#ifndef LWIP_NETCONN_SEM_PER_THREAD
#define LWIP_NETCONN_SEM_PER_THREAD     1
#endif
#if LWIP_NETCONN_SEM_PER_THREAD && !defined(LWIP_NETCONN_THREAD_SEM_GET)
#define LWBENCH_LWIP_OWN_THREAD_SEM     1
#define LWIP_NETCONN_THREAD_SEM_GET()   lwbench_lwip_thread_sem_get()
#define LWIP_NETCONN_THREAD_SEM_ALLOC() lwbench_lwip_thread_sem_alloc()
#define LWIP_NETCONN_THREAD_SEM_FREE()  lwbench_lwip_thread_sem_free()
#endif

/* Core lock hook (locking build only): UNLOCK_TCPIP_CORE() delivers the
 * packets the zero-copy netif queued while the core was locked, right after
 * the core operation ends. lwIP's tcpip.h only defines LOCK/UNLOCK_TCPIP_CORE
 * when they are not already defined; the runner static_asserts that the
 * expansion seen by lwIP's headers is ours (a port that redefines them in its
 * sys_arch.h would silently break delivery). */
#if LWIP_TCPIP_CORE_LOCKING
#undef LOCK_TCPIP_CORE
#undef UNLOCK_TCPIP_CORE
#define LOCK_TCPIP_CORE()               lwbench_lwip_core_lock()
#define UNLOCK_TCPIP_CORE()             lwbench_lwip_core_unlock()
#endif

/* IPv4 source-route hook: sends each packet for the zero-copy pair out of the
 * *other* end (see zc_loopif.c); returns NULL (normal routing) for everything
 * else. It must be the _SRC hook: ip4_route_src() (what udp_sendto's ip_route
 * expands to) asks it *before* walking the netif list, whereas the plain
 * LWIP_HOOK_IP4_ROUTE is only a fallback after the walk — which would already
 * have matched the destination's own netif and sent it into netif_loop_output. */
#undef LWIP_HOOK_FILENAME
#define LWIP_HOOK_FILENAME              "lwbench_lwip_hooks.h"
#undef LWIP_HOOK_IP4_ROUTE
#undef LWIP_HOOK_IP4_ROUTE_SRC
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) lwbench_zc_route(dest)

#ifndef LWIP_DEBUG
#undef LWIP_NOASSERT
#define LWIP_NOASSERT                   1
#endif

/* Prototypes of the functions named above (C linkage for the C++ runner). */
#ifdef __cplusplus
extern "C" {
#endif
void lwbench_lwip_core_lock(void);
void lwbench_lwip_core_unlock(void);
#if defined(LWBENCH_LWIP_OWN_THREAD_SEM)
struct sys_sem;
struct sys_sem **lwbench_lwip_thread_sem_get(void);
void lwbench_lwip_thread_sem_alloc(void);
void lwbench_lwip_thread_sem_free(void);
#endif
#ifdef __cplusplus
}
#endif

#endif /* LWBENCH_LWIPOPTS_H */
