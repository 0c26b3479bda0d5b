/*
 * churn.c: the churn mode: M connections join and leave a topic of their own over and over
 * (room:churn<i> by default, so each join also tracks a presence; --topic telemetry:churn for none),
 * at --rate joins+leaves a second in all (0: each connection sends its next one as soon as the last is
 * answered). Every join and leave waits for its reply before the connection's next one, with a new
 * join_ref each time; the phx_close after a leave is skipped.
 *
 * Reports operations per second completed inside the --duration window, reply latency (send to the
 * read that completed the reply), error replies and replies that never came.
 */
#include "connset.h"
#include "loadgen.h"
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum churn_phase { CH_IDLE, CH_JOINING, CH_LEAVING };

struct churner {
    uint8_t phase;
    uint8_t joined; /* the next operation is a leave */
    uint32_t k;     /* join_ref of the current instance */
    uint64_t sent_us;
};

struct churn {
    const struct lg_opts *o;
    struct lg_loop loop;
    struct connset cs;
    struct churner *ch;
    int *ready; /* ring of idle connections waiting for a token */
    int rhead, rlen;
    double tokens;
    uint64_t window_end_us;
    bool stop;
    struct lat_hist join_lat, leave_lat;
    uint64_t joins, leaves, errors, in_window, sent;
};

static void push_ready(struct churn *c, int i)
{
    c->ready[(c->rhead + c->rlen) % c->cs.n] = i;
    c->rlen++;
}

/* Sends connection i's next operation. */
static void send_op(struct churn *c, int i, uint64_t now)
{
    struct churner *h = &c->ch[i];
    const char *topic = c->o->topic ? c->o->topic : "room:churn";
    char msg[256];
    int n;
    if (!h->joined) {
        h->k += 2;
        n = snprintf(msg, sizeof(msg), "[\"%u\",\"%u\",\"%s%d\",\"phx_join\",{}]", h->k, h->k, topic, i);
        h->phase = CH_JOINING;
    } else {
        n = snprintf(msg, sizeof(msg), "[\"%u\",\"%u\",\"%s%d\",\"phx_leave\",{}]", h->k, h->k + 1, topic, i);
        h->phase = CH_LEAVING;
    }
    h->sent_us = now;
    c->sent++;
    if (wsconn_send_text(&c->cs.c[i], msg, (size_t)n) != 0) {
        h->phase = CH_IDLE; /* the connection is gone; counted as dropped */
        c->sent--;
    }
}

static void on_frame(struct connset *cs, struct wsconn *w, const struct phx_frame *f, uint64_t now)
{
    struct churn *c = cs->user;
    struct churner *h = &c->ch[w->idx];
    if (h->phase == CH_IDLE || !phx_str_is(&f->event, "phx_reply") || !f->ref.p)
        return; /* heartbeat replies, phx_close after a leave, presence */
    char want[16];
    snprintf(want, sizeof(want), "%u", h->phase == CH_JOINING ? h->k : h->k + 1);
    if (!phx_str_is(&f->ref, want))
        return;
    uint64_t lat = now - h->sent_us;
    if (!phx_reply_ok(f->payload, f->payload_len))
        c->errors++;
    if (h->phase == CH_JOINING) {
        c->joins++;
        lat_hist_add(&c->join_lat, lat);
        h->joined = 1;
    } else {
        c->leaves++;
        lat_hist_add(&c->leave_lat, lat);
        h->joined = 0;
    }
    if (now <= c->window_end_us)
        c->in_window++;
    h->phase = CH_IDLE;
    if (c->stop)
        return;
    if (c->o->rate <= 0)
        send_op(c, (int)w->idx, now);
    else
        push_ready(c, (int)w->idx);
}

int mode_churn(const struct lg_opts *o, struct target *t)
{
    struct churn *c = calloc(1, sizeof(*c));
    if (!c)
        return LG_EXIT_SETUP;
    int rc = LG_EXIT_SETUP;
    c->o = o;
    lat_hist_init(&c->join_lat);
    lat_hist_init(&c->leave_lat);
    c->ch = calloc((size_t)o->conns, sizeof(*c->ch));
    c->ready = calloc((size_t)o->conns, sizeof(int));
    if (!c->ch || !c->ready || lg_loop_init(&c->loop) != 0)
        goto out;
    c->cs = (struct connset){.loop = &c->loop,
                             .n = o->conns,
                             .dst = &t->addr,
                             .nsrc = o->src_addrs,
                             .prefix = "churn",
                             .topic = NULL,
                             .window = o->window,
                             .on_frame = on_frame,
                             .user = c};
    if (connset_open(&c->cs, lg_now_us() + 60 * 1000000ull) != 0) {
        fprintf(stderr, "loadgen: churn set-up: %s\n", c->cs.error);
        rc = LG_EXIT_WRONG;
        goto out;
    }

    double su0 = 0, ss0 = 0, su1 = 0, ss1 = 0;
    bool have_cpu = t->pid > 0 && proc_cpu_seconds(t->pid, &su0, &ss0) == 0;
    uint64_t t0 = lg_now_us(), last = t0, last_hb = t0, hb = (uint64_t)(o->heartbeat * 1e6);
    c->window_end_us = t0 + (uint64_t)(o->duration * 1e6);
    for (int i = 0; i < o->conns; i++) {
        if (o->rate <= 0)
            send_op(c, i, t0);
        else
            push_ready(c, i);
    }
    uint64_t end = c->window_end_us + (uint64_t)(o->drain * 1e6);
    /* Bounded by the window plus the drain; ends early once the window passed and nothing is pending. */
    for (uint64_t now = t0; now < end; now = lg_now_us()) {
        if (now >= c->window_end_us) {
            c->stop = true;
            if (c->sent == c->joins + c->leaves)
                break;
        } else if (o->rate > 0) {
            c->tokens += (double)(now - last) * o->rate / 1e6;
            double burst = o->rate / 100 > 1 ? o->rate / 100 : 1; /* at most 10 ms worth at once */
            if (c->tokens > burst)
                c->tokens = burst;
            while (c->tokens >= 1 && c->rlen > 0) {
                int i = c->ready[c->rhead];
                c->rhead = (c->rhead + 1) % o->conns;
                c->rlen--;
                c->tokens -= 1;
                send_op(c, i, now);
            }
        }
        last = now;
        if (now - last_hb > 1000000) {
            connset_heartbeat(&c->cs, now, hb);
            last_hb = now;
        }
        if (lg_loop_poll(&c->loop, o->rate > 0 ? 500 : 5000) < 0)
            break;
    }
    uint64_t t1 = lg_now_us();
    have_cpu = have_cpu && proc_cpu_seconds(t->pid, &su1, &ss1) == 0;
    double scpu = (su1 - su0) + (ss1 - ss0), window_s = o->duration;
    uint64_t missing = c->sent - c->joins - c->leaves;
    struct lat_hist all;
    lat_hist_init(&all);
    lat_hist_merge(&all, &c->join_lat);
    lat_hist_merge(&all, &c->leave_lat);
    double ops_s = (double)c->in_window / window_s;

    printf("churn: %d connections on %s<i>, %.1f s, ", o->conns, o->topic ? o->topic : "room:churn",
           o->duration);
    if (o->rate > 0)
        printf("offered %.0f joins+leaves/s\n", o->rate);
    else
        printf("each connection's next operation as soon as the last is answered\n");
    printf("  %-40s %.0f /s (%llu joins, %llu leaves)\n", "joins+leaves completed", ops_s,
           (unsigned long long)c->joins, (unsigned long long)c->leaves);
    printf("  %-40s %.2f / %.2f / %.2f / %.2f ms\n", "reply latency p50 / p90 / p99 / max",
           lat_hist_percentile(&all, 0.5) / 1e3, lat_hist_percentile(&all, 0.9) / 1e3,
           lat_hist_percentile(&all, 0.99) / 1e3, all.max / 1e3);
    printf("  %-40s join %.2f / %.2f ms, leave %.2f / %.2f ms\n", "p50 / p99 by kind",
           lat_hist_percentile(&c->join_lat, 0.5) / 1e3, lat_hist_percentile(&c->join_lat, 0.99) / 1e3,
           lat_hist_percentile(&c->leave_lat, 0.5) / 1e3, lat_hist_percentile(&c->leave_lat, 0.99) / 1e3);
    printf("  %-40s %llu / %llu / %d\n", "error replies / missing / dropped", (unsigned long long)c->errors,
           (unsigned long long)missing, c->cs.dropped);
    if (have_cpu)
        printf("  %-40s %.2f s (%.0f ops per server CPU second)\n", "server CPU", scpu,
               scpu > 0 ? (double)(c->joins + c->leaves) / scpu : 0);
    bool wrong = c->errors || missing || c->cs.dropped || c->joins == 0 || !target_alive(t);
    json_t *j = json_pack("{ss ss si sf sf ss sf sI sI sI sI si so so so sf sf sb}", "mode", "churn", "label",
                          o->label ? o->label : "churn", "conns", o->conns, "rate", o->rate, "duration_s",
                          o->duration, "topic", o->topic ? o->topic : "room:churn", "ops_per_s", ops_s,
                          "joins", (json_int_t)c->joins, "leaves", (json_int_t)c->leaves, "errors",
                          (json_int_t)c->errors, "missing", (json_int_t)missing, "dropped", c->cs.dropped,
                          "latency_us", lg_lat_json(&all), "join_latency_us", lg_lat_json(&c->join_lat),
                          "leave_latency_us", lg_lat_json(&c->leave_lat), "server_cpu_s",
                          have_cpu ? scpu : 0.0, "wall_s", (double)(t1 - t0) / 1e6, "ok", !wrong);
    lg_print_json(j);
    rc = wrong ? LG_EXIT_WRONG : LG_EXIT_OK;
out:
    connset_close(&c->cs);
    if (c->loop.rbuf)
        lg_loop_cleanup(&c->loop);
    free(c->ch);
    free(c->ready);
    free(c);
    return rc;
}
