/*
 * seqmap.c: per-subscriber receipt bitmaps (see seqmap.h).
 */
#include "seqmap.h"

#include <stdlib.h>
#include <string.h>

int seqmap_init(struct seqmap *m, uint64_t nseq)
{
    memset(m, 0, sizeof(*m));
    m->nseq = nseq;
    m->bits = calloc((size_t)(nseq / 8 + 1), 1);
    return m->bits ? 0 : -1;
}

void seqmap_cleanup(struct seqmap *m)
{
    free(m->bits);
    memset(m, 0, sizeof(*m));
}

enum seq_mark seqmap_mark(struct seqmap *m, uint64_t seq)
{
    if (seq >= m->nseq) {
        m->out_of_range++;
        return SEQ_OUT_OF_RANGE;
    }
    uint8_t bit = (uint8_t)(1u << (seq & 7));
    if (m->bits[seq >> 3] & bit) {
        m->dups++;
        return SEQ_DUP;
    }
    m->bits[seq >> 3] |= bit;
    m->unique++;
    return SEQ_NEW;
}

bool seqmap_has(const struct seqmap *m, uint64_t seq)
{
    return seq < m->nseq && (m->bits[seq >> 3] >> (seq & 7) & 1);
}
