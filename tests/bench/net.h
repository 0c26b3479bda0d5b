/*
 * net.h: loopback TCP for the load generator: addresses (only 127.0.0.0/8 is accepted), non-blocking
 * connects spread over several source addresses, free ports, the open-file limit.
 *
 * One source address gives about 28k ephemeral ports towards one server port (32768..60999), fewer
 * when earlier runs left TIME_WAITs; connecting from 127.0.0.2, 127.0.0.3, ... in turn multiplies that.
 * IP_BIND_ADDRESS_NO_PORT lets the kernel pick the port at connect time, per destination.
 */
#ifndef CINDER_BENCH_NET_H
#define CINDER_BENCH_NET_H

#include <netinet/in.h>
#include <stdint.h>

/* host:port into *out. 0, or -1 when host is not a dotted IPv4 address in 127.0.0.0/8. */
int net_loopback_addr(const char *host, int port, struct sockaddr_in *out);

/* A non-blocking TCP socket (TCP_NODELAY) connecting to dst from source address 127.0.0.(2 + i % nsrc)
 * (nsrc 0: the kernel's choice). Returns the fd (the connect may still be in progress) or -errno. */
int net_connect(const struct sockaddr_in *dst, unsigned i, unsigned nsrc);

/* 0 once the socket's connect completed, -errno if it failed. */
int net_connect_result(int fd);

/* A TCP port on 127.0.0.1 that nothing listens on right now, or -1. */
int net_free_port(void);

/* Polls connect() to dst until it succeeds: 0, or -1 after timeout_ms. */
int net_wait_listening(const struct sockaddr_in *dst, int timeout_ms);

/* Raises the soft RLIMIT_NOFILE to the hard one; returns the soft limit now in force. */
long net_raise_nofile(void);

#endif
