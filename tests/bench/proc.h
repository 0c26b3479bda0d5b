/*
 * proc.h: what /proc and getrusage say about a process: the server's resident memory and CPU time
 * (every thread's), and this process's own CPU, so each figure can be put per CPU-second.
 */
#ifndef CINDER_BENCH_PROC_H
#define CINDER_BENCH_PROC_H

#include <sys/types.h>

/* VmRSS of pid in KiB. 0 or -1 (no such process, unreadable). */
int proc_rss_kib(pid_t pid, long *kib);

/* utime + stime of pid (all its threads) in seconds, from /proc/pid/stat. 0 or -1. */
int proc_cpu_seconds(pid_t pid, double *user, double *sys);

/* Open file descriptors of pid (entries of /proc/pid/fd), or -1. */
int proc_fd_count(pid_t pid);

/* This process's CPU seconds (user + system), all threads. */
double self_cpu_seconds(void);

/* The calling thread's CPU seconds, user and system apart. */
void thread_cpu_seconds(double *user, double *sys);

#endif
