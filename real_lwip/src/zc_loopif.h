/*
 * zc_loopif.h — lwbench's zero-copy loopback pair for real lwIP (see
 * zc_loopif.c for the design and the re-entrancy rule).
 *
 * The pair: zc0 = 10.0.0.1/24 and zc1 = 10.0.0.2/24. A packet for one end's
 * address leaves through the other end and arrives, as the same referenced
 * pbuf, on the addressed end via tcpip_input().
 */
#ifndef LWBENCH_ZC_LOOPIF_H
#define LWBENCH_ZC_LOOPIF_H

#ifdef __cplusplus
extern "C" {
#endif

/** Adds and brings up both ends. Core context (tcpip_init's done callback or
 *  under LOCK_TCPIP_CORE). Returns 0, or -1 if netif_add failed. */
int lwbench_zc_loopif_add(void);

/** Packets output by the pair so far. Any thread (exact once the core is idle). */
unsigned long lwbench_zc_loopif_outputs(void);

/** Packets dropped by the pair so far (queue full or tcpip_input failure).
 *  Any thread. */
unsigned long lwbench_zc_loopif_dropped(void);

/** Bytes copied for the peer's own pbufs of TCP packets: first pbufs (headers,
 *  and the data of segments written with copy), and whole packets when no view
 *  of the no-copy rest could be made; see zc_loopif.c. Any thread. */
unsigned long lwbench_zc_loopif_tcp_copied_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* LWBENCH_ZC_LOOPIF_H */
