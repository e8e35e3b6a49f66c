/*
 * zc_loopif.c — a zero-copy loopback for real lwIP: a pair of netifs joined by
 * a virtual cable, the core-unlock hook that delivers its packets, and the
 * IPv4 route hook that sends traffic for the pair over the cable.
 *
 * Why not lwIP's own loopback: netif_loop_output() allocates a PBUF_RAM and
 * copies every packet, queues it, and always schedules netif_poll() on the
 * tcpip thread (tcpip_try_callback) — even in the core-locking build, so the
 * receive side always costs a thread hand-off. It stays available as the
 * "stock_loopif" variant (127.0.0.1 on lwIP's loop_netif).
 *
 * What this netif does instead: output takes a reference on the very pbuf
 * chain IP handed it (pbuf_ref — no copy, no allocation) and hands it to the
 * peer netif's input, which is tcpip_input(). So LWIP_TCPIP_CORE_LOCKING_INPUT
 * decides the receive path, as in our own stack:
 *   - =0 (message-passing build): tcpip_input() posts a TCPIP_MSG_INPKT to the
 *     tcpip thread's mailbox. Output always runs on the tcpip thread in that
 *     build, so it calls tcpip_input() directly: posting never re-enters the
 *     core, the packet is processed after the current message.
 *   - =1 (core-locking build): tcpip_input() takes the core lock and runs
 *     ip_input() inline. Output runs *with the core lock held*, and Debian's
 *     unix port creates lock_tcpip_core with pthread_mutex_init(.., NULL): a
 *     normal, non-recursive mutex (port/sys_arch.c, sys_mutex_new), so calling
 *     tcpip_input() from output would self-deadlock. Output therefore queues
 *     the referenced pbuf (a ring protected by the core lock), and
 *     UNLOCK_TCPIP_CORE() — redirected to lwbench_lwip_core_unlock() by our
 *     lwipopts.h — moves the queue to the unlocking thread, releases the
 *     mutex and then delivers each packet with tcpip_input(). Delivery thus
 *     happens on the thread that sent, right after its core operation ends
 *     (lwIP's netif_poll idea, our stack's rule), and costs the sender no extra
 *     lock round trip: the queue check is one branch under a lock it already
 *     holds. Packets sent while delivering (a recv callback that replies) are
 *     appended to the same thread-local list and delivered by the outer loop,
 *     so the stack depth stays bounded.
 *
 * Ownership: output always returns ERR_OK; the reference it took is released
 * by lwIP's input path (or here, if the queue is full or tcpip_input() fails:
 * the packet is dropped and counted, as a NIC would).
 *
 * TCP is the one exception to sharing the whole chain: lwIP's tcp_input()
 * rewrites the received TCP header in place (byte order) and moves the first
 * pbuf's payload pointer, while the sender keeps the very same segment for
 * retransmission and reads its header (seqno) to match ACKs — a shared header
 * would leave every sent segment unacknowledged for ever. So a TCP packet's
 * first pbuf (IP + TCP header; with the data too when the segment was
 * written with copy, as lwip_send does) is copied into a PBUF_RAM of its own
 * and the rest of the chain (no-copy data: tcp_write without
 * TCP_WRITE_FLAG_COPY, netconn NETCONN_NOCOPY) is still referenced.
 * lwbench_zc_loopif_tcp_copied_bytes() counts what that copied.
 *
 * Zero copy has one caveat lwIP documents for queueing drivers: a PBUF_REF
 * pbuf points at the sender's memory, which must stay unchanged until the
 * receiver is done. The runner's payload buffers are never written after
 * setup, so this holds; lwIP's own queues (ARP) would copy such chains.
 *
 * Addressing: lwIP with LWIP_NETIF_LOOPBACK=1 diverts a packet for the sending
 * netif's own address into netif_loop_output(). So the pair has two ends,
 * zc0 = 10.0.0.1/24 and zc1 = 10.0.0.2/24, and the source-route hook
 * (LWIP_HOOK_IP4_ROUTE_SRC, consulted before lwIP's netif walk) sends a packet
 * for one end's address out of the other end; output delivers to the peer.
 */
#include "zc_loopif.h"

#include <string.h>

#include "lwip/ip.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#define ZC_QUEUE_LEN 256u

static struct netif zc_ends[2];
static int zc_ready;

struct zc_packet {
  struct pbuf *p;
  struct netif *inp;
};

/* Packets the pair dropped (queue full, tcpip_input failed); rare, and bumped
 * from several threads, hence the atomic builtin. */
static unsigned long zc_dropped;
/* Packets output by the pair; only changed in core context (plain load+store),
 * read by the runner to prove its traffic took this path. */
static unsigned long zc_outputs;

/* Bytes copied for TCP packets' private first pbufs (see the file comment);
 * core context only. */
static unsigned long zc_tcp_copied_bytes;

static void zc_count_drop(void) { __atomic_fetch_add(&zc_dropped, 1ul, __ATOMIC_RELAXED); }

/* The packet the peer receives: p itself with one more reference, or for TCP
 * a private copy of p's first pbuf chained to (a reference on) the rest. NULL
 * when no memory for the copy. Core context. */
static struct pbuf *zc_peer_packet(struct pbuf *p) {
#if LWIP_TCP
  if (p->len >= IP_HLEN && IPH_PROTO((const struct ip_hdr *)p->payload) == IP_PROTO_TCP) {
    struct pbuf *head = pbuf_alloc(PBUF_RAW, p->len, PBUF_RAM);
    if (head == NULL) {
      return NULL;
    }
    memcpy(head->payload, p->payload, p->len);
    __atomic_store_n(&zc_tcp_copied_bytes, __atomic_load_n(&zc_tcp_copied_bytes, __ATOMIC_RELAXED) + p->len,
                     __ATOMIC_RELAXED);
    if (p->next != NULL) {
      pbuf_chain(head, p->next); /* references the no-copy rest */
    }
    return head;
  }
#endif
  pbuf_ref(p);
  return p;
}

#if LWIP_TCPIP_CORE_LOCKING_INPUT
/* Packets output while the core was locked; protected by the core lock. */
static struct zc_packet zc_queue[ZC_QUEUE_LEN];
static unsigned zc_queue_head, zc_queue_count;

/* The unlocking thread's list of packets still to deliver (outside the lock). */
static __thread struct zc_packet zc_local[ZC_QUEUE_LEN];
static __thread unsigned zc_local_head, zc_local_count;
static __thread int zc_delivering;

/* Core lock held: move as many queued packets as fit to this thread's list. */
static void zc_take_queue_locked(void) {
  while (zc_queue_count != 0 && zc_local_count < ZC_QUEUE_LEN) {
    zc_local[(zc_local_head + zc_local_count) % ZC_QUEUE_LEN] = zc_queue[zc_queue_head];
    zc_queue_head = (zc_queue_head + 1) % ZC_QUEUE_LEN;
    --zc_queue_count;
    ++zc_local_count;
  }
}
#endif /* LWIP_TCPIP_CORE_LOCKING_INPUT */

#if LWIP_TCPIP_CORE_LOCKING
void lwbench_lwip_core_lock(void) { sys_mutex_lock(&lock_tcpip_core); }

void lwbench_lwip_core_unlock(void) {
#if LWIP_TCPIP_CORE_LOCKING_INPUT
  if (zc_queue_count != 0) {
    zc_take_queue_locked();
  }
  if (zc_delivering || zc_local_count == 0) {
    /* Common case, or a nested unlock inside tcpip_input() while this thread
     * is already delivering: the outer loop below picks up what was moved. */
    sys_mutex_unlock(&lock_tcpip_core);
    return;
  }
  zc_delivering = 1;
  sys_mutex_unlock(&lock_tcpip_core);
  while (zc_local_count != 0) {
    struct zc_packet pkt = zc_local[zc_local_head];
    zc_local_head = (zc_local_head + 1) % ZC_QUEUE_LEN;
    --zc_local_count;
    /* tcpip_input(): LOCK, ip_input(), UNLOCK (which re-enters this function
     * with zc_delivering set and appends anything newly queued). */
    if (pkt.inp->input(pkt.p, pkt.inp) != ERR_OK) {
      pbuf_free(pkt.p);
      zc_count_drop();
    }
  }
  zc_delivering = 0;
#else
  sys_mutex_unlock(&lock_tcpip_core);
#endif /* LWIP_TCPIP_CORE_LOCKING_INPUT */
}
#endif /* LWIP_TCPIP_CORE_LOCKING */

/* netif->output of both ends. Core context. */
static err_t zc_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *ipaddr) {
  struct netif *peer = (netif == &zc_ends[0]) ? &zc_ends[1] : &zc_ends[0];
  LWIP_UNUSED_ARG(ipaddr);
  __atomic_store_n(&zc_outputs, __atomic_load_n(&zc_outputs, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
  p = zc_peer_packet(p);
  if (p == NULL) {
    zc_count_drop();
    return ERR_OK;
  }
#if LWIP_TCPIP_CORE_LOCKING_INPUT
  if (zc_queue_count == ZC_QUEUE_LEN) {
    pbuf_free(p);
    zc_count_drop();
    return ERR_OK;
  }
  zc_queue[(zc_queue_head + zc_queue_count) % ZC_QUEUE_LEN].p = p;
  zc_queue[(zc_queue_head + zc_queue_count) % ZC_QUEUE_LEN].inp = peer;
  ++zc_queue_count;
#else
  if (peer->input(p, peer) != ERR_OK) { /* mailbox full or no INPKT message */
    pbuf_free(p);
    zc_count_drop();
  }
#endif
  return ERR_OK;
}

static err_t zc_netif_init(struct netif *netif) {
  netif->name[0] = 'z';
  netif->name[1] = (netif == &zc_ends[0]) ? '0' : '1';
  netif->output = zc_output;
  netif->linkoutput = NULL; /* no link layer: IP packets go straight to output */
  netif->mtu = 1500;
  netif->flags = NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

struct netif *lwbench_zc_route(const ip4_addr_t *dest) {
  if (!zc_ready) {
    return NULL;
  }
  if (ip4_addr_cmp(dest, netif_ip4_addr(&zc_ends[1]))) {
    return &zc_ends[0];
  }
  if (ip4_addr_cmp(dest, netif_ip4_addr(&zc_ends[0]))) {
    return &zc_ends[1];
  }
  return NULL;
}

int lwbench_zc_loopif_add(void) {
  ip4_addr_t addr, mask, gw;
  int i;
  IP4_ADDR(&mask, 255, 255, 255, 0);
  ip4_addr_set_zero(&gw);
  for (i = 0; i < 2; ++i) {
    IP4_ADDR(&addr, 10, 0, 0, (u8_t)(i + 1));
    if (netif_add(&zc_ends[i], &addr, &mask, &gw, NULL, zc_netif_init, tcpip_input) == NULL) {
      return -1;
    }
    netif_set_up(&zc_ends[i]);
    netif_set_link_up(&zc_ends[i]);
  }
  zc_ready = 1;
  return 0;
}

unsigned long lwbench_zc_loopif_outputs(void) { return __atomic_load_n(&zc_outputs, __ATOMIC_RELAXED); }

unsigned long lwbench_zc_loopif_dropped(void) { return __atomic_load_n(&zc_dropped, __ATOMIC_RELAXED); }

unsigned long lwbench_zc_loopif_tcp_copied_bytes(void) {
  return __atomic_load_n(&zc_tcp_copied_bytes, __ATOMIC_RELAXED);
}
