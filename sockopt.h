// See sockopt.c: the binding's setsockopt, which keeps libgearman from pinning
// its sockets' send buffers.
#ifndef LIBGEARMAN_GO_SOCKOPT_H
#define LIBGEARMAN_GO_SOCKOPT_H

extern int gm_sndbuf_fix;  // 1: ignore libgearman's SO_SNDBUF (the default)
void gm_sndbuf_init(void);  // reads LIBGEARMAN_GO_SNDBUF

#endif
