/*
 * mailbox.c: a locked queue between event-loop threads (see mailbox.h).
 */
#include "mailbox.h"

#include <stddef.h>

void mailbox_init(struct mailbox *mb, void (*wake)(void *arg), void *wake_arg)
{
    pthread_mutex_init(&mb->mu, NULL);
    mb->head = mb->tail = NULL;
    mb->closed = false;
    mb->wake = wake;
    mb->wake_arg = wake_arg;
}

void mailbox_post(struct mailbox *mb, struct mail *m)
{
    m->next = NULL;
    pthread_mutex_lock(&mb->mu);
    if (mb->closed) {
        pthread_mutex_unlock(&mb->mu);
        m->fn(m, NULL);
        return;
    }
    bool was_empty = mb->head == NULL;
    if (mb->tail)
        mb->tail->next = m;
    else
        mb->head = m;
    mb->tail = m;
    /* One wake-up per batch: a non-empty box already has one on its way. */
    if (was_empty && mb->wake)
        mb->wake(mb->wake_arg);
    pthread_mutex_unlock(&mb->mu);
}

/* Take everything queued. */
static struct mail *take_all(struct mailbox *mb)
{
    pthread_mutex_lock(&mb->mu);
    struct mail *list = mb->head;
    mb->head = mb->tail = NULL;
    pthread_mutex_unlock(&mb->mu);
    return list;
}

unsigned mailbox_run(struct mailbox *mb, void *owner)
{
    unsigned n = 0;
    for (struct mail *m = take_all(mb); m; n++) {
        struct mail *next = m->next;
        m->fn(m, owner);
        m = next;
    }
    return n;
}

void mailbox_close(struct mailbox *mb)
{
    pthread_mutex_lock(&mb->mu);
    mb->closed = true;
    pthread_mutex_unlock(&mb->mu);
    mailbox_run(mb, NULL);
}

void mailbox_cleanup(struct mailbox *mb)
{
    mailbox_close(mb);
    pthread_mutex_destroy(&mb->mu);
}
