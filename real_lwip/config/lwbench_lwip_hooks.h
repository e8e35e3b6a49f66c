/*
 * lwbench_lwip_hooks.h — lwIP hook declarations (LWIP_HOOK_FILENAME).
 *
 * lwIP includes this file from the C files that call hooks (ip4.c among them).
 * The only hook used is LWIP_HOOK_IP4_ROUTE_SRC, implemented in zc_loopif.c.
 */
#ifndef LWBENCH_LWIP_HOOKS_H
#define LWBENCH_LWIP_HOOKS_H

#include "lwip/ip4_addr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netif;

/** Route hook: the zero-copy pair's end to send `dest` out of, or NULL for
 *  lwIP's normal routing. Called in core context. */
struct netif *lwbench_zc_route(const ip4_addr_t *dest);

#ifdef __cplusplus
}
#endif

#endif /* LWBENCH_LWIP_HOOKS_H */
