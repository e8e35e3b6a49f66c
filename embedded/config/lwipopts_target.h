/*
 * lwipopts_target.h — lwIP 2.1.3's options for the Cortex-M3 firmware.
 *
 * Used through real_lwip/config/lwipopts.h's LWBENCH_USER_LWIPOPTS hook: this
 * file replaces its section 1 (lwbench's Linux defaults), and that file's
 * section 2 (the threading mode under test, the APIs, the zero-copy netif's
 * hooks, LWIP_NETCONN_SEM_PER_THREAD) still applies — so the firmware and the
 * Linux runners differ only in sizes, as a microcontroller needs.
 *
 * Same choices as on Linux: IPv4 + UDP only, software checksums generated and
 * checked with lwIP's portable algorithm, lwIP's own heap and pools,
 * SYS_LIGHTWEIGHT_PROT, select/poll support compiled into the socket layer,
 * stats and assertions off.
 */
#ifndef LWBENCH_LWIPOPTS_TARGET_H
#define LWBENCH_LWIPOPTS_TARGET_H

#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_UDP                        1
#define LWIP_TCP                        0
#define LWIP_ICMP                       1
#define LWIP_RAW                        0
#define LWIP_ARP                        0
#define LWIP_ETHERNET                   0
#define LWIP_DHCP                       0
#define LWIP_DNS                        0
#define LWIP_IGMP                       0
#define IP_FRAG                         1
#define IP_REASSEMBLY                   1
#define IP_REASS_MAX_PBUFS              8

#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_UDP                1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define LWIP_CHECKSUM_ON_COPY           0
#define LWIP_CHKSUM_ALGORITHM           2

/* Memory: sized for one sender, one sink and a few messages in flight. */
#define MEM_ALIGNMENT                   4
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
#define MEM_SIZE                        (32 * 1024)
#define MEMP_NUM_PBUF                   32
#define PBUF_POOL_SIZE                  16
#define MEMP_NUM_UDP_PCB                8
#define MEMP_NUM_NETCONN                8
#define MEMP_NUM_NETBUF                 16
#define MEMP_NUM_TCPIP_MSG_API          16
#define MEMP_NUM_TCPIP_MSG_INPKT        16
#define MEMP_NUM_REASSDATA              2
#define MEMP_NUM_FRAG_PBUF              8
#define SYS_LIGHTWEIGHT_PROT            1

/* Threads (RTOS priorities: the tcpip thread above the application). */
#define TCPIP_MBOX_SIZE                 32
#define DEFAULT_UDP_RECVMBOX_SIZE       16
#define TCPIP_THREAD_STACKSIZE          4096
#define TCPIP_THREAD_PRIO               20
#define TCPIP_THREAD_NAME               "tcpip"

#define LWIP_NETCONN                    1
#define LWIP_SOCKET                     1
#define LWIP_SO_RCVTIMEO                1
#define LWIP_NETIF_TX_SINGLE_PBUF       0

#define LWIP_STATS                      0
#define LWIP_STATS_DISPLAY              0
#define LWIP_NOASSERT                   1

#endif /* LWBENCH_LWIPOPTS_TARGET_H */
