/*
 * lwipopts_target.h — lwIP 2.1.3's options for the Cortex-M3 firmware.
 *
 * Used through real_lwip/config/lwipopts.h's LWBENCH_USER_LWIPOPTS hook, so that
 * file's section 2 (the threading mode under test, the APIs, the zero-copy
 * netif's hooks, LWIP_NETCONN_SEM_PER_THREAD) applies as on Linux. Section 1 is
 * the Linux runners' own defaults (lwbench_lwipopts_defaults.h: IPv4 + UDP,
 * software checksums with lwIP's portable algorithm, lwIP's heap and pools,
 * SYS_LIGHTWEIGHT_PROT, stats and assertions off), with only what a
 * microcontroller needs changed below: memory sizes and the tcpip thread.
 */
#ifndef LWBENCH_LWIPOPTS_TARGET_H
#define LWBENCH_LWIPOPTS_TARGET_H

#include "lwbench_lwipopts_defaults.h"

/* UDP only on the target: the firmware measures the 2007 UDP table, and TCP's
 * pools would not fit its few tens of KB. */
#undef LWIP_TCP
#define LWIP_TCP                        0

/* Memory: one sender, one sink and a few messages in flight, in tens of KB. */
#undef MEM_ALIGNMENT
#define MEM_ALIGNMENT                   4
#undef MEM_SIZE
#define MEM_SIZE                        (32 * 1024)
#undef MEMP_NUM_PBUF
#define MEMP_NUM_PBUF                   32
#undef PBUF_POOL_SIZE
#define PBUF_POOL_SIZE                  16
#undef MEMP_NUM_UDP_PCB
#define MEMP_NUM_UDP_PCB                8
#undef MEMP_NUM_NETCONN
#define MEMP_NUM_NETCONN                8
#undef MEMP_NUM_NETBUF
#define MEMP_NUM_NETBUF                 16
#undef MEMP_NUM_TCPIP_MSG_API
#define MEMP_NUM_TCPIP_MSG_API          16
#undef MEMP_NUM_TCPIP_MSG_INPKT
#define MEMP_NUM_TCPIP_MSG_INPKT        16
#undef MEMP_NUM_REASSDATA
#define MEMP_NUM_REASSDATA              2
#undef MEMP_NUM_FRAG_PBUF
#define MEMP_NUM_FRAG_PBUF              8
#undef IP_REASS_MAX_PBUFS
#define IP_REASS_MAX_PBUFS              8

/* The tcpip thread: a real stack and an RTOS priority above the application's
 * (10); mailboxes within the port's SYS_MBOX_CAPACITY (32). */
#undef TCPIP_MBOX_SIZE
#define TCPIP_MBOX_SIZE                 32
#undef DEFAULT_UDP_RECVMBOX_SIZE
#define DEFAULT_UDP_RECVMBOX_SIZE       16
#undef TCPIP_THREAD_STACKSIZE
#define TCPIP_THREAD_STACKSIZE          4096
#undef TCPIP_THREAD_PRIO
#define TCPIP_THREAD_PRIO               20

/* The checksum-free builds (embedded/CMakeLists.txt, LWBENCH_NO_CHECKSUMS=1):
 * no Internet checksum generated or checked, in IP or UDP. */
#if defined(LWBENCH_NO_CHECKSUMS) && LWBENCH_NO_CHECKSUMS
#undef CHECKSUM_GEN_IP
#define CHECKSUM_GEN_IP                 0
#undef CHECKSUM_GEN_UDP
#define CHECKSUM_GEN_UDP                0
#undef CHECKSUM_CHECK_IP
#define CHECKSUM_CHECK_IP               0
#undef CHECKSUM_CHECK_UDP
#define CHECKSUM_CHECK_UDP              0
#endif

#endif /* LWBENCH_LWIPOPTS_TARGET_H */
