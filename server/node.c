/*
 * node.c: the shards of this process and what joins them (see node.h).
 */
#include "node.h"

#include "acceptor.h"
#include "admission.h"
#include "bridge.h"
#include "endpoint.h"
#include "log.h"
#include "mailbox.h"
#include "metrics.h"
#include "options.h"
#include "server.h"
#include "shard_hub.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct shard {
    struct node *node;
    unsigned index;
    struct server *srv;
    struct endpoint *ep;
    pthread_t thread;
    bool started;
    bool stop;               /* the shard's own: set by a stop mail */
    atomic_bool drained;     /* draining and nothing left */
    atomic_bool failed;      /* its loop failed */
    pthread_mutex_t view_mu; /* guards view */
    struct metrics_view view;
};

#define BOX(n, i) (&(n)->boxes[i])

struct node {
    struct options opt; /* owned: the settings in force */
    unsigned n;
    struct shard *shards;
    struct mailbox *boxes; /* shard i's mailbox is boxes[i] (the hub posts into this array) */
    struct shard_hub *hub;
    struct admission *adm;
    struct acceptor *acc;
    unsigned next; /* round robin for WebSockets */
};

/* ---- mail to a shard -------------------------------------------------------------------------- */

struct node_mail {
    struct mail m;
    struct shard *sh;
    int fd;             /* adopt */
    struct options opt; /* reload */
};

static struct node_mail *new_mail(struct shard *sh, mail_fn fn)
{
    struct node_mail *nm = calloc(1, sizeof(*nm));
    if (nm) {
        nm->m.fn = fn;
        nm->sh = sh;
        nm->fd = -1;
    }
    return nm;
}

static void run_adopt(struct mail *m, void *owner)
{
    struct node_mail *nm = (struct node_mail *)m;
    if (!owner || endpoint_adopt(nm->sh->ep, nm->fd) != 0) {
        if (owner)
            log_msg(LOG_WARN, "shard %u could not take a connection", nm->sh->index);
        else
            close(nm->fd);
    }
    free(nm);
}

static void run_reload(struct mail *m, void *owner)
{
    struct node_mail *nm = (struct node_mail *)m;
    if (owner) {
        char err[256];
        if (server_apply_options(nm->sh->srv, &nm->opt) != 0)
            log_msg(LOG_ERROR, "shard %u: reload failed: out of memory", nm->sh->index);
        if (endpoint_reload_tls(nm->sh->ep, err, sizeof(err)) != 0)
            log_msg(LOG_ERROR, "reload: TLS certificate not reloaded: %s", err);
    }
    options_cleanup(&nm->opt);
    free(nm);
}

static void run_drain(struct mail *m, void *owner)
{
    struct node_mail *nm = (struct node_mail *)m;
    if (owner)
        endpoint_start_drain(nm->sh->ep);
    free(nm);
}

static void run_stop(struct mail *m, void *owner)
{
    struct node_mail *nm = (struct node_mail *)m;
    nm->sh->stop = true;
    free(nm);
}

/* ---- a shard's thread ------------------------------------------------------------------------- */

static void wake(void *arg)
{
    struct shard *sh = arg;
    if (sh->ep)
        endpoint_wake(sh->ep);
}

static void publish_view(struct shard *sh)
{
    struct metrics_view v;
    const struct bridge *b = endpoint_bridge(sh->ep);
    metrics_view_take(&v, sh->srv, b ? bridge_stats(b) : NULL);
    pthread_mutex_lock(&sh->view_mu);
    sh->view = v;
    pthread_mutex_unlock(&sh->view_mu);
    if (sh->srv->draining && endpoint_drained(sh->ep))
        atomic_store(&sh->drained, true);
}

static void *shard_main(void *arg)
{
    struct shard *sh = arg;
    /* Mail posted while the node was being built came before any wake-up could reach us. */
    mailbox_run(BOX(sh->node, sh->index), sh->srv);
    while (!sh->stop) {
        if (endpoint_service(sh->ep) < 0) {
            log_msg(LOG_ERROR, "shard %u: its event loop failed", sh->index);
            atomic_store(&sh->failed, true);
            break;
        }
        mailbox_run(BOX(sh->node, sh->index), sh->srv);
        endpoint_flush(sh->ep);
        publish_view(sh);
    }
    return NULL;
}

static size_t other_views(void *arg, unsigned self, struct metrics_view *out, size_t max)
{
    struct node *n = arg;
    size_t k = 0;
    for (unsigned i = 0; i < n->n && k < max; i++) {
        if (i == self)
            continue;
        pthread_mutex_lock(&n->shards[i].view_mu);
        out[k++] = n->shards[i].view;
        pthread_mutex_unlock(&n->shards[i].view_mu);
    }
    return k;
}

/* ---- the node --------------------------------------------------------------------------------- */

static void place(void *arg, int fd, bool websocket)
{
    struct node *n = arg;
    unsigned i = 0;
    if (websocket && n->n > 1)
        i = n->next++ % n->n;
    struct node_mail *nm = new_mail(&n->shards[i], run_adopt);
    if (!nm) {
        close(fd);
        return;
    }
    nm->fd = fd;
    mailbox_post(BOX(n, i), &nm->m);
}

unsigned node_shard_count(const struct options *opt)
{
    if (opt->shards)
        return opt->shards;
    if (opt->tls_cert)
        return 1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > 64 ? 64 : (unsigned)cores;
}

/* Build shard i: its server, endpoint and mailbox (the thread starts later). 0 or -1 with err. */
static int shard_init(struct node *n, unsigned i, const struct socket_handler *app, uint64_t node_id,
                      char *err, size_t errlen)
{
    struct shard *sh = &n->shards[i];
    sh->node = n;
    sh->index = i;
    pthread_mutex_init(&sh->view_mu, NULL);
    sh->srv = server_create_shard(&n->opt, app, node_id, i, n->adm);
    if (!sh->srv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct endpoint_link link = {.hub = n->hub, .other_views = other_views, .arg = n, .nshards = n->n};
    sh->ep = endpoint_create(sh->srv, n->n > 1 ? &link : NULL, err, errlen);
    if (!sh->ep)
        return -1;
    publish_view(sh);
    return 0;
}

struct node *node_create(const struct options *opt, const struct socket_handler *app, char *err,
                         size_t errlen)
{
    struct node *n = calloc(1, sizeof(*n));
    if (!n || options_copy(&n->opt, opt) != 0) {
        free(n);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n->n = node_shard_count(opt);
    n->shards = calloc(n->n, sizeof(*n->shards));
    n->boxes = calloc(n->n, sizeof(*n->boxes));
    n->adm = admission_create(opt->connection_rate);
    if (!n->shards || !n->boxes || !n->adm) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* The hub posts into n->boxes; each shard's own box is that array's entry. */
    for (unsigned i = 0; i < n->n; i++)
        mailbox_init(&n->boxes[i], wake, &n->shards[i]);
    if (n->n > 1 && !(n->hub = shard_hub_create(n->n, n->boxes))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    uint64_t node_id = server_random_node_id();
    for (unsigned i = 0; i < n->n; i++)
        if (shard_init(n, i, app, node_id, err, errlen) != 0)
            goto fail;
    n->acc = acceptor_create(opt->bind, opt->port, n->n > 1 && !opt->tls_cert, place, n, err, errlen);
    if (!n->acc)
        goto fail;
    /* The shards take no signals: the creating thread handles them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < n->n; i++) {
        if (pthread_create(&n->shards[i].thread, NULL, shard_main, &n->shards[i]) != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            snprintf(err, errlen, "cannot start shard %u's thread", i);
            goto fail;
        }
        n->shards[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return n;
fail:
    node_destroy(&n);
    return NULL;
}

int node_service(struct node *n, int timeout_ms)
{
    for (unsigned i = 0; i < n->n; i++)
        if (atomic_load(&n->shards[i].failed))
            return -1;
    return acceptor_service(n->acc, timeout_ms);
}

const struct options *node_options(const struct node *n)
{
    return &n->opt;
}

int node_reload(struct node *n, const struct options *o)
{
    struct options copy;
    if (options_copy(&copy, o) != 0)
        return -1;
    struct node_mail **mails = calloc(n->n, sizeof(*mails));
    unsigned made = 0;
    for (; mails && made < n->n; made++) {
        if (!(mails[made] = new_mail(&n->shards[made], run_reload)) ||
            options_copy(&mails[made]->opt, o) != 0) {
            free(mails[made]);
            break;
        }
    }
    if (!mails || made < n->n) {
        for (unsigned i = 0; mails && i < made; i++) {
            options_cleanup(&mails[i]->opt);
            free(mails[i]);
        }
        free(mails);
        options_cleanup(&copy);
        return -1;
    }
    for (unsigned i = 0; i < n->n; i++)
        mailbox_post(BOX(n, i), &mails[i]->m);
    free(mails);
    options_cleanup(&n->opt);
    n->opt = copy;
    return 0;
}

static void post_each(struct node *n, mail_fn fn)
{
    for (unsigned i = 0; i < n->n; i++) {
        struct node_mail *nm = new_mail(&n->shards[i], fn);
        if (nm)
            mailbox_post(BOX(n, i), &nm->m);
        else if (fn == run_stop)
            n->shards[i].stop = true; /* out of memory at the end: its loop stops at its next turn */
    }
}

void node_drain(struct node *n)
{
    post_each(n, run_drain);
}

bool node_drained(const struct node *n)
{
    for (unsigned i = 0; i < n->n; i++)
        if (!atomic_load(&n->shards[i].drained))
            return false;
    return true;
}

size_t node_connections(const struct node *n)
{
    return admission_connections(n->adm);
}

unsigned node_shards(const struct node *n)
{
    return n->n;
}

void node_destroy(struct node **np)
{
    struct node *n = *np;
    if (!n)
        return;
    *np = NULL;
    acceptor_destroy(&n->acc);
    if (n->shards && n->boxes) {
        post_each(n, run_stop);
        for (unsigned i = 0; i < n->n; i++)
            if (n->shards[i].started)
                pthread_join(n->shards[i].thread, NULL);
        /* Every thread has stopped: what is left in the boxes is discarded; what the teardown below
         * sends to another shard is discarded at once. */
        for (unsigned i = 0; i < n->n; i++)
            mailbox_close(BOX(n, i));
        for (unsigned i = 0; i < n->n; i++) {
            endpoint_destroy(&n->shards[i].ep);
            server_destroy(&n->shards[i].srv);
            pthread_mutex_destroy(&n->shards[i].view_mu);
        }
    }
    shard_hub_destroy(&n->hub);
    for (unsigned i = 0; n->boxes && i < n->n; i++)
        mailbox_cleanup(BOX(n, i));
    free(n->boxes);
    free(n->shards);
    admission_destroy(&n->adm);
    options_cleanup(&n->opt);
    free(n);
}
