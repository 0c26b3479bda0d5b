/*
 * main.c: cinder's entry point: subcommands, settings from their four sources, the server with the
 * demo app, and the loop that turns signals into a reload (SIGHUP) or a drain (SIGTERM, SIGINT; a
 * second one exits at once).
 *
 *   cinder [serve] [-c FILE] [--setting VALUE ...]   serve (the default)
 *   cinder checkconfig -c FILE                       validate a config file: exit 0, or 1 with why
 *   cinder genconfig                                 print a complete default config
 *   cinder version                                   print the version
 *   cinder gentoken --user U [--ttl 1h] [--channel P ...]  print an HS256 JWT signed with jwt_secret
 */
#include "handlers/demo.h"
#include "jwt.h"
#include "log.h"
#include "node.h"
#include "notify.h"
#include "options.h"
#include "phx_topic.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef CINDER_VERSION
#define CINDER_VERSION "0.0.0"
#endif

/* Set by the handlers; a signal also ends the acceptor's wait in node_service (the shards' threads
 * block every signal). */
static volatile sig_atomic_t term_signals, hup_signals;

static void on_term(int sig)
{
    (void)sig;
    term_signals++;
}

static void on_hup(int sig)
{
    (void)sig;
    hup_signals++;
}

static void warn_to_stderr(void *arg, const char *message)
{
    fprintf(stderr, "warning: %s\n", message);
}

static void warn_to_log(void *arg, const char *message)
{
    log_msg(LOG_WARN, "%s", message);
}

/* defaults < config file < environment < flags, then the cross-setting rules. 0, or -1 with err;
 * 1 when --help/--version was printed. */
static int build_options(int argc, char **argv, struct options *o, options_warn_fn warn, char *err,
                         size_t errlen)
{
    options_defaults(o);
    const char *path = options_config_arg(argc, argv);
    if (path && options_load_file(o, path, warn, NULL, err, errlen) != 0)
        goto fail;
    if (options_load_env(o, err, errlen) != 0)
        goto fail;
    switch (options_parse(o, argc, argv, stdout, err, errlen)) {
    case OPTIONS_EXIT:
        options_cleanup(o);
        return 1;
    case OPTIONS_ERROR:
        goto fail;
    case OPTIONS_RUN:
        break;
    }
    if (options_validate(o, err, errlen) != 0)
        goto fail;
    return 0;
fail:
    options_cleanup(o);
    return -1;
}

static int cmd_checkconfig(int argc, char **argv)
{
    const char *path = options_config_arg(argc, argv);
    if (!path) {
        fprintf(stderr, "cinder checkconfig: give the file with -c FILE\n");
        return 2;
    }
    struct options o;
    char err[512];
    options_defaults(&o);
    int rc = options_load_file(&o, path, warn_to_stderr, NULL, err, sizeof(err));
    if (rc == 0)
        rc = options_validate(&o, err, sizeof(err));
    options_cleanup(&o);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s: ok\n", path);
    return 0;
}

static int cmd_genconfig(void)
{
    struct options o;
    options_defaults(&o);
    json_t *j = options_to_json(&o);
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    options_cleanup(&o);
    if (!text)
        return 1;
    printf("%s\n", text);
    free(text);
    return 0;
}

static const char gentoken_usage[] =
    "usage: cinder gentoken --user U [--ttl DURATION] [--channel PATTERN ...] [-c FILE] [--jwt-secret S]\n"
    "Print an HS256 JWT for testing: sub = U, iat = now, exp = now + ttl (default 1h), and a \"channels\"\n"
    "claim when --channel is given (topic patterns for generic channels with \"join\": \"claim\").\n"
    "The secret is jwt_secret from the usual sources: -c FILE, CINDER_JWT_SECRET, --jwt-secret.\n";

/* `cinder gentoken`: its own arguments are taken out of argv; the rest are settings (for the secret). */
static int cmd_gentoken(int argc, char **argv)
{
    const char *user = NULL, *ttl_text = "1h";
    json_t *channels = json_array();
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int nrest = 0, rc = 2;
    struct options o;
    char err[512];
    char *token = NULL;
    json_t *claims = NULL;
    if (!channels || !rest)
        goto out;
    rest[nrest++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        static const char *const own[] = {"--user", "--ttl", "--channel"};
        size_t k = 0;
        for (; k < 3; k++) {
            size_t n = strlen(own[k]);
            if (!strncmp(a, own[k], n) && a[n] == '=') {
                value = a + n + 1;
                break;
            }
            if (!strcmp(a, own[k])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "cinder gentoken: %s needs a value\n%s", a, gentoken_usage);
                    goto out;
                }
                value = argv[++i];
                break;
            }
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(gentoken_usage, stdout);
            rc = 0;
            goto out;
        }
        if (k == 0)
            user = value;
        else if (k == 1)
            ttl_text = value;
        else if (k == 2 && (!phx_topic_valid(value, strlen(value)) ||
                            json_array_append_new(channels, json_string(value)))) {
            fprintf(stderr, "cinder gentoken: --channel '%s' is not a topic pattern\n", value);
            goto out;
        } else if (k == 3)
            rest[nrest++] = argv[i];
    }
    uint64_t ttl_ms;
    if (!user || !*user) {
        fprintf(stderr, "cinder gentoken: --user is required\n%s", gentoken_usage);
        goto out;
    }
    if (parse_duration_ms(ttl_text, &ttl_ms) != 0 || ttl_ms < 1000) {
        fprintf(stderr, "cinder gentoken: --ttl '%s' is not a duration of at least 1s (e.g. 30m, 1h)\n",
                ttl_text);
        goto out;
    }
    int b = build_options(nrest, rest, &o, warn_to_stderr, err, sizeof(err));
    if (b != 0) {
        if (b < 0)
            fprintf(stderr, "cinder gentoken: %s\n", err);
        rc = b < 0 ? 2 : 0;
        goto out;
    }
    if (!o.jwt_secret) {
        fprintf(stderr,
                "cinder gentoken: no jwt_secret (set it with -c FILE, CINDER_JWT_SECRET or --jwt-secret)\n");
        options_cleanup(&o);
        rc = 1;
        goto out;
    }
    json_int_t now = (json_int_t)time(NULL);
    claims = json_pack("{sssIsI}", "sub", user, "iat", now, "exp", now + (json_int_t)(ttl_ms / 1000));
    if (claims && json_array_size(channels))
        json_object_set(claims, "channels", channels);
    token = claims ? jwt_sign(claims, o.jwt_secret, strlen(o.jwt_secret)) : NULL;
    options_cleanup(&o);
    if (!token) {
        fprintf(stderr, "cinder gentoken: out of memory\n");
        rc = 1;
        goto out;
    }
    printf("%s\n", token);
    rc = 0;
out:
    free(token);
    json_decref(claims);
    json_decref(channels);
    free(rest);
    return rc;
}

static void apply_logging(const struct options *o)
{
    log_set_level(o->log_level);
    log_set_json(o->log_format == LOG_FORMAT_JSON ||
                 (o->log_format == LOG_FORMAT_AUTO && !isatty(fileno(stderr))));
}

/* SIGHUP: read every source again; apply what may change live, keep the old settings otherwise. */
static void reload(int argc, char **argv, struct node *n)
{
    struct options next;
    char err[512];
    int rc = build_options(argc, argv, &next, warn_to_log, err, sizeof(err));
    if (rc != 0) {
        log_msg(LOG_ERROR, "reload rejected, the old settings stay: %s", rc > 0 ? "unexpected --help" : err);
        return;
    }
    const char *which;
    if (options_need_restart(node_options(n), &next, &which)) {
        log_msg(LOG_ERROR, "reload rejected, the old settings stay: changing \"%s\" needs a restart", which);
        options_cleanup(&next);
        return;
    }
    if (node_reload(n, &next) != 0) {
        log_msg(LOG_ERROR, "reload failed: out of memory");
        options_cleanup(&next);
        return;
    }
    options_cleanup(&next);
    const struct options *now = node_options(n);
    apply_logging(now);
    log_msg(LOG_INFO, "reloaded settings%s%s", now->config_path ? " from " : "",
            now->config_path ? now->config_path : "");
}

static void log_fd_limit(const struct options *o)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    unsigned long long soft = (unsigned long long)rl.rlim_cur;
    if (soft < (unsigned long long)o->max_connections + 64)
        log_msg(LOG_WARN,
                "open-file limit %llu is below max_connections %u: connections past it will be refused "
                "(raise LimitNOFILE / ulimit -n)",
                soft, o->max_connections);
    else
        log_msg(LOG_INFO, "open-file limit %llu", soft);
}

static int serve(int argc, char **argv)
{
    struct options opt;
    char err[512];
    int rc = build_options(argc, argv, &opt, warn_to_stderr, err, sizeof(err));
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "cinder: %s\n", err);
        return rc < 0 ? 2 : 0;
    }
    apply_logging(&opt);
    json_object_seed(0); /* Jansson's hash seed, once, before the shards' threads use it */

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct node *n = node_create(&opt, &demo_app, err, sizeof(err));
    options_cleanup(&opt);
    if (!n) {
        log_msg(LOG_ERROR, "%s", err);
        return 1;
    }
    const struct options *o = node_options(n);
    log_fd_limit(o);
    log_msg(LOG_INFO,
            "cinder %s listening on %s:%d with %u shard%s (/socket/websocket, /socket/longpoll, POST "
            "/api/broadcast)",
            CINDER_VERSION, o->bind ? o->bind : "0.0.0.0", o->port, node_shards(n),
            node_shards(n) == 1 ? "" : "s");
    notify_ready("serving");
    rc = 0;
    uint64_t drain_deadline = 0;
    for (;;) {
        /* Short waits: a signal that lands just before the wait is seen within 100 ms. */
        if (node_service(n, 100) < 0) {
            rc = 1;
            break;
        }
        if (hup_signals) {
            hup_signals = 0;
            notify_reloading();
            reload(argc, argv, n);
            notify_ready("serving");
        }
        if (term_signals > 1) {
            log_msg(LOG_WARN, "second signal: exiting now with %zu connections open", node_connections(n));
            break;
        }
        if (term_signals && !drain_deadline) {
            log_msg(LOG_INFO, "draining %zu connections within %llu ms", node_connections(n),
                    (unsigned long long)node_options(n)->drain_timeout_ms);
            notify_stopping();
            node_drain(n);
            drain_deadline = server_now_ms() + node_options(n)->drain_timeout_ms + 2000;
        }
        if (drain_deadline && (node_drained(n) || server_now_ms() > drain_deadline)) {
            log_msg(LOG_INFO, "drained: %zu connections left", node_connections(n));
            break;
        }
    }
    node_destroy(&n);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "version")) {
        printf("cinder %s\n", CINDER_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "genconfig"))
        return cmd_genconfig();
    if (!strcmp(cmd, "checkconfig"))
        return cmd_checkconfig(argc - 1, argv + 1);
    if (!strcmp(cmd, "gentoken"))
        return cmd_gentoken(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return serve(argc - 1, argv + 1);
    return serve(argc, argv);
}
