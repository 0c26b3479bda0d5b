/*
 * stats.h: a latency histogram in microseconds with percentiles, fixed size whatever the sample count.
 *
 * Buckets are log-linear: exact below 64 us, then 64 buckets per power of two, so a percentile is
 * within 1/64 (1.6%) of the true sample; min, max and the mean are exact. Two histograms merge by
 * adding buckets.
 *
 *   struct lat_hist h;  lat_hist_init(&h);
 *   lat_hist_add(&h, 830);
 *   lat_hist_percentile(&h, 0.99);
 */
#ifndef CINDER_BENCH_STATS_H
#define CINDER_BENCH_STATS_H

#include <stdint.h>

#define LAT_SUB_BITS 6
#define LAT_SUB (1u << LAT_SUB_BITS)
#define LAT_MAX_EXP 40 /* values up to 2^40 us (12 days); larger ones land in the last bucket */
#define LAT_BUCKETS (LAT_SUB + (LAT_MAX_EXP - LAT_SUB_BITS) * LAT_SUB)

struct lat_hist {
    uint64_t count;
    uint64_t min, max;
    double sum;
    uint32_t buckets[LAT_BUCKETS];
};

void lat_hist_init(struct lat_hist *h);
void lat_hist_add(struct lat_hist *h, uint64_t us);
void lat_hist_merge(struct lat_hist *into, const struct lat_hist *from);

/* The smallest bucket value v such that at least q (0..1) of the samples are <= v, capped at the
 * maximum; 0 when empty. */
uint64_t lat_hist_percentile(const struct lat_hist *h, double q);

double lat_hist_mean(const struct lat_hist *h);

#endif
