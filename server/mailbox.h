/*
 * mailbox.h: how one event-loop thread hands work to another: a locked queue of mail and a wake-up.
 *
 * Any thread posts; the owning loop runs what arrived (mailbox_run) after it wakes. The wake function
 * (e.g. lws_cancel_service on the owner's context) is called once per empty-to-nonempty change, under
 * the lock, and never after mailbox_close, so the owner may free what it wakes once closed.
 *
 *     struct greeting { struct mail m; char text[32]; };
 *     static void greet(struct mail *m, void *owner) {   // owner NULL: discarded, just free
 *         struct greeting *g = (struct greeting *)m; if (owner) puts(g->text); free(g);
 *     }
 *     g->m.fn = greet; mailbox_post(&box, &g->m);          // box owns g from here on
 */
#ifndef CINDER_MAILBOX_H
#define CINDER_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>

struct mail;
/* Run (owner: what mailbox_run was given) or discard (owner NULL) m, and free it: m is the callee's. */
typedef void (*mail_fn)(struct mail *m, void *owner);

struct mail {
    struct mail *next;
    mail_fn fn;
};

struct mailbox {
    pthread_mutex_t mu;
    struct mail *head, *tail;
    bool closed;
    void (*wake)(void *arg);
    void *wake_arg;
};

/* An empty, open mailbox; wake(wake_arg) wakes its owner (may be NULL: the owner polls). */
void mailbox_init(struct mailbox *mb, void (*wake)(void *arg), void *wake_arg);
/* Hand m to the owner (the mailbox owns it now). On a closed mailbox m is discarded at once. */
void mailbox_post(struct mailbox *mb, struct mail *m);
/* Run everything posted so far, in order, as fn(m, owner). Mail posted meanwhile waits for the next run.
 * Returns how many ran. */
unsigned mailbox_run(struct mailbox *mb, void *owner);
/* No more wake-ups; later posts are discarded; what is queued is discarded now (fn(m, NULL)). */
void mailbox_close(struct mailbox *mb);
/* Close (if not yet) and release the lock. */
void mailbox_cleanup(struct mailbox *mb);

#endif
