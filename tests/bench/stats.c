/*
 * stats.c: the latency histogram (see stats.h).
 */
#include "stats.h"

#include <string.h>

void lat_hist_init(struct lat_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

static unsigned bucket_of(uint64_t v)
{
    if (v < LAT_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v's top bit, >= LAT_SUB_BITS */
    if (e >= LAT_MAX_EXP)
        return LAT_BUCKETS - 1;
    unsigned sub = (unsigned)(v >> (e - LAT_SUB_BITS)) & (LAT_SUB - 1);
    return LAT_SUB + (e - LAT_SUB_BITS) * LAT_SUB + sub;
}

/* The largest value that falls into bucket b. */
static uint64_t bucket_top(unsigned b)
{
    if (b < LAT_SUB)
        return b;
    unsigned e = (b - LAT_SUB) / LAT_SUB + LAT_SUB_BITS, sub = (b - LAT_SUB) % LAT_SUB;
    uint64_t base = (uint64_t)1 << e, step = (uint64_t)1 << (e - LAT_SUB_BITS);
    return base + (sub + 1) * step - 1;
}

void lat_hist_add(struct lat_hist *h, uint64_t us)
{
    h->count++;
    h->sum += (double)us;
    if (us < h->min)
        h->min = us;
    if (us > h->max)
        h->max = us;
    h->buckets[bucket_of(us)]++;
}

void lat_hist_merge(struct lat_hist *into, const struct lat_hist *from)
{
    into->count += from->count;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    for (unsigned b = 0; b < LAT_BUCKETS; b++)
        into->buckets[b] += from->buckets[b];
}

uint64_t lat_hist_percentile(const struct lat_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < LAT_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            uint64_t v = b == LAT_BUCKETS - 1 ? h->max : bucket_top(b); /* the last bucket is open-ended */
            return v > h->max ? h->max : v < h->min ? h->min : v;
        }
    }
    return h->max;
}

double lat_hist_mean(const struct lat_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}
