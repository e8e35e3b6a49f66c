/*
 * lwbench_lwipopts_defaults.h — section 1 of lwipopts.h: lwbench's default lwIP
 * options (see lwipopts.h for the guiding rule). A file of its own so that a
 * configuration for another machine can start from the same choices and change
 * only sizes (embedded/config/lwipopts_target.h does, for the Cortex-M3).
 */
#ifndef LWBENCH_LWIPOPTS_DEFAULTS_H
#define LWBENCH_LWIPOPTS_DEFAULTS_H

/* Protocols: IPv4 + UDP + TCP (+ ICMP, which udp_input uses for
 * port-unreachable). ARP/Ethernet, IPv6, DHCP, DNS, IGMP are not exercised: off. */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_UDP                        1
#define LWIP_TCP                        1
#define LWIP_ICMP                       1
#define LWIP_RAW                        0
#define LWIP_ARP                        0
#define LWIP_ETHERNET                   0
#define LWIP_DHCP                       0
#define LWIP_DNS                        0
#define LWIP_IGMP                       0
/* Keep fragmentation/reassembly so payloads above 1472 bytes still work. */
#define IP_FRAG                         1
#define IP_REASSEMBLY                   1
#define IP_REASS_MAX_PBUFS              64

/* Checksums: generated and checked in software (lwIP's defaults, spelled out
 * because the comparison with our stack depends on them). */
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_UDP                1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define LWIP_CHECKSUM_ON_COPY           0

/* Memory: lwIP's own heap (mem.c, protected by a sys_mutex) and pools (memp.c,
 * protected by SYS_ARCH_PROTECT), sized for the runner's worst case (a few
 * sender threads, a 128-deep tcpip mailbox of in-flight packets). */
#define MEM_ALIGNMENT                   8
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
#define MEM_SIZE                        (4 * 1024 * 1024)
#define MEMP_NUM_PBUF                   8192  /* TCP below: every no-copy pbuf of 16 send queues */
#define PBUF_POOL_SIZE                  256
#define MEMP_NUM_UDP_PCB                32
#define MEMP_NUM_NETCONN                48    /* TCP below: 16 connections' two ends, a listener */
#define MEMP_NUM_NETBUF                 512
#define MEMP_NUM_TCPIP_MSG_API          512
#define MEMP_NUM_TCPIP_MSG_INPKT        512
#define MEMP_NUM_REASSDATA              16
#define MEMP_NUM_FRAG_PBUF              64
#define SYS_LIGHTWEIGHT_PROT            1

/* TCP (the TCP scenarios: bulk_tcp, request_response_tcp, connection_rate_tcp).
 * Sized like lwbench's own stack (stack/include/lwbench/tcp.hpp, tcp_config) so
 * both move the same segments: MSS 1460 (1500-byte MTU), a 64 KB - 1 receive
 * window and send buffer (the largest without window scaling, which lwbench's
 * stack does not implement either). The send queue may hold 512 pbufs (lwIP's
 * default formula allows 4 * SND_BUF / MSS = 180, which 64-byte no-copy writes,
 * two pbufs each, exhaust long before the buffer: the writer would then wait
 * for ACKs with a half-empty buffer); MEMP_NUM_TCP_SEG and MEMP_NUM_PBUF cover that
 * queue on each of the 16 parallel connections bulk_tcp takes (--threads, lwbench's
 * k_max_bulk_tcp_connections; real_lwip/src/tcp_scenarios.cpp checks these sizes), so a
 * writer never meets an empty pool (ERR_MEM) that another connection's queue holds.
 * 64 pcbs, as lwbench's tcp_config::max_pcbs: the connection-rate scenario
 * leaves one TIME_WAIT pcb per connection, and tcp_alloc() recycles the oldest
 * when the pool is empty, as lwbench's tcp_new does. Timers stay lwIP's
 * (TCP_TMR_INTERVAL 250 ms: delayed ACKs go out at the latest on the next fast
 * timer; every second full segment is acknowledged at once). Keepalive off. */
#define TCP_MSS                         1460
#define TCP_WND                         0xffff
#define TCP_SND_BUF                     0xffff
#define TCP_SND_QUEUELEN                512
#define MEMP_NUM_TCP_SEG                (16 * TCP_SND_QUEUELEN)
#define MEMP_NUM_TCP_PCB                64
#define MEMP_NUM_TCP_PCB_LISTEN         4
#define TCP_LISTEN_BACKLOG              1
#define TCP_QUEUE_OOSEQ                 1
#define LWIP_TCP_KEEPALIVE              0
#define DEFAULT_TCP_RECVMBOX_SIZE       128
#define DEFAULT_ACCEPTMBOX_SIZE         16

/* Threads and mailboxes (the unix port ignores the sizes: its sys_mbox holds
 * 128 entries; they must only be non-zero). */
#define TCPIP_MBOX_SIZE                 128
#define DEFAULT_UDP_RECVMBOX_SIZE       128
#define TCPIP_THREAD_STACKSIZE          0
#define TCPIP_THREAD_PRIO               0

/* Sequential APIs. */
#define LWIP_NETCONN                    1
#define LWIP_SOCKET                     1
#define LWIP_SO_RCVTIMEO                1   /* compiled in, never set by the runner */
#define LWIP_NETIF_TX_SINGLE_PBUF       0   /* lwip_sendto references the caller's data (netbuf_ref) */

/* Observability: off (the brief: stats and asserts off). */
#define LWIP_STATS                      0
#define LWIP_STATS_DISPLAY              0
#define LWIP_NOASSERT                   1

#endif /* LWBENCH_LWIPOPTS_DEFAULTS_H */
