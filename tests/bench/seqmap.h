/*
 * seqmap.h: which sequence numbers one subscriber has received, so loss and duplication are counted,
 * never assumed: a bit per expected sequence number, set on first receipt; a second receipt is a
 * duplicate, a number outside the range is counted apart.
 *
 *   struct seqmap m;  seqmap_init(&m, 1000);
 *   seqmap_mark(&m, 17);        // SEQ_NEW, then SEQ_DUP the second time
 *   seqmap_has(&m, 18);         // false: lost, if 18 was published
 *   seqmap_cleanup(&m);
 */
#ifndef CINDER_BENCH_SEQMAP_H
#define CINDER_BENCH_SEQMAP_H

#include <stdbool.h>
#include <stdint.h>

struct seqmap {
    uint8_t *bits;
    uint64_t nseq;         /* sequence numbers 0..nseq-1 are expected */
    uint64_t unique;       /* distinct ones received */
    uint64_t dups;         /* receipts of one already received */
    uint64_t out_of_range; /* receipts of numbers >= nseq */
};

enum seq_mark { SEQ_NEW, SEQ_DUP, SEQ_OUT_OF_RANGE };

/* 0, or -1 out of memory. */
int seqmap_init(struct seqmap *m, uint64_t nseq);
void seqmap_cleanup(struct seqmap *m);
enum seq_mark seqmap_mark(struct seqmap *m, uint64_t seq);
bool seqmap_has(const struct seqmap *m, uint64_t seq);

#endif
