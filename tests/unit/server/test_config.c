/*
 * Tests server/options.c's sources beyond the command line: the JSON config file, CINDER_* variables,
 * their precedence, genconfig's round trip, restart-only settings; and server.c's admission control
 * and origin allow-list that those settings drive.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];

static const char *write_config(const char *text)
{
    strcpy(path, "/tmp/cinder-test-config-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static int warnings;
static char last_warning[300];

static void count_warning(void *arg, const char *message)
{
    warnings++;
    snprintf(last_warning, sizeof(last_warning), "%s", message);
}

Test(config, file_values_units_and_unknown_keys)
{
    struct options o;
    options_defaults(&o);
    char err[512];
    warnings = 0;
    const char *p =
        write_config("{\"port\": 4100, \"max_frame_size\": \"64KiB\", \"idle_timeout\": \"25s\",\n"
                     " \"drain_timeout\": 2, \"compress\": true, \"log_level\": \"warn\",\n"
                     " \"allowed_origins\": \"https://*.example.com\", \"bogus\": 1}");
    cr_assert_eq(options_load_file(&o, p, count_warning, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(o.port, 4100);
    cr_assert_eq(o.max_frame_size, 65536);
    cr_assert_eq(o.idle_timeout_ms, 25000);
    cr_assert_eq(o.drain_timeout_ms, 2000, "a JSON number is seconds");
    cr_assert(o.compress);
    cr_assert_eq(o.log_level, LOG_WARN);
    cr_assert_str_eq(o.allowed_origins, "https://*.example.com");
    cr_assert_str_eq(o.config_path, p);
    cr_assert_eq(warnings, 1);
    cr_assert(strstr(last_warning, "bogus"), "%s", last_warning);
    options_cleanup(&o);
    unlink(p);
}

Test(config, errors_are_precise_and_leave_the_settings_alone)
{
    struct options o;
    options_defaults(&o);
    char err[512];
    const char *p = write_config("{\"port\": 4100,\n \"max_channels\": \"many\"}");
    cr_assert_eq(options_load_file(&o, p, NULL, NULL, err, sizeof(err)), -1);
    cr_assert(strstr(err, p) && strstr(err, "max_channels") && strstr(err, "many"), "%s", err);
    cr_assert_eq(o.port, 4000, "nothing of a bad file is applied");
    unlink(p);
    p = write_config("{\"port\": 4100,\n \"max_channels\": 3,,}");
    cr_assert_eq(options_load_file(&o, p, NULL, NULL, err, sizeof(err)), -1);
    cr_assert(strstr(err, "line 2"), "%s", err);
    unlink(p);
    p = write_config("[1, 2]");
    cr_assert_eq(options_load_file(&o, p, NULL, NULL, err, sizeof(err)), -1);
    cr_assert(strstr(err, "JSON object"), "%s", err);
    unlink(p);
    cr_assert_eq(options_load_file(&o, "/nonexistent/cinder.json", NULL, NULL, err, sizeof(err)), -1);
    p = write_config("{\"port\": 0}");
    cr_assert_eq(options_load_file(&o, p, NULL, NULL, err, sizeof(err)), -1);
    cr_assert(strstr(err, "port") && strstr(err, "1 to 65535"), "%s", err);
    unlink(p);
    p = write_config("{\"compress\": \"perhaps\"}");
    cr_assert_eq(options_load_file(&o, p, NULL, NULL, err, sizeof(err)), -1);
    unlink(p);
    options_cleanup(&o);
}

Test(config, environment_then_flags_win_over_the_file)
{
    struct options o;
    options_defaults(&o);
    char err[512];
    const char *p = write_config("{\"port\": 4100, \"max_channels\": 7, \"idle_timeout\": \"20s\"}");
    cr_assert_eq(options_load_file(&o, p, NULL, NULL, err, sizeof(err)), 0, "%s", err);
    setenv("CINDER_MAX_CHANNELS", "8", 1);
    setenv("CINDER_IDLE_TIMEOUT", "30s", 1);
    cr_assert_eq(options_load_env(&o, err, sizeof(err)), 0, "%s", err);
    char *argv[] = {"cinder", "--idle-timeout", "40s"};
    FILE *out = fopen("/dev/null", "w");
    cr_assert_eq(options_parse(&o, 3, argv, out, err, sizeof(err)), OPTIONS_RUN, "%s", err);
    fclose(out);
    cr_assert_eq(o.port, 4100, "file");
    cr_assert_eq(o.max_channels, 8, "environment over file");
    cr_assert_eq(o.idle_timeout_ms, 40000, "flag over environment");
    setenv("CINDER_MAX_CHANNELS", "lots", 1);
    cr_assert_eq(options_load_env(&o, err, sizeof(err)), -1);
    cr_assert(strstr(err, "CINDER_MAX_CHANNELS"), "%s", err);
    unsetenv("CINDER_MAX_CHANNELS");
    unsetenv("CINDER_IDLE_TIMEOUT");
    options_cleanup(&o);
    unlink(p);
}

Test(config, genconfig_round_trips_and_copies_are_deep)
{
    struct options a, b;
    options_defaults(&a);
    json_t *j = options_to_json(&a);
    cr_assert_str_eq(json_string_value(json_object_get(j, "max_frame_size")), "1MiB");
    cr_assert_str_eq(json_string_value(json_object_get(j, "idle_timeout")), "60s");
    cr_assert(json_is_null(json_object_get(j, "redis")));
    char *text = json_dumps(j, 0);
    const char *p = write_config(text);
    free(text);
    options_defaults(&b);
    char err[512];
    cr_assert_eq(options_load_file(&b, p, NULL, NULL, err, sizeof(err)), 0, "%s", err);
    json_t *k = options_to_json(&b);
    cr_assert(json_equal(j, k), "a generated config reads back to the same settings");
    json_decref(j);
    json_decref(k);
    unlink(p);
    struct options c;
    cr_assert_eq(options_copy(&c, &b), 0);
    cr_assert_str_eq(c.config_path, b.config_path);
    cr_assert_neq(c.config_path, b.config_path, "strings are copied");
    options_cleanup(&a);
    options_cleanup(&b);
    options_cleanup(&c);
}

Test(config, restart_only_settings_and_validation)
{
    struct options a, b;
    options_defaults(&a);
    options_defaults(&b);
    const char *which = NULL;
    b.max_channels = 3;
    cr_assert_not(options_need_restart(&a, &b, &which), "limits reload live");
    b.port = 4999;
    cr_assert(options_need_restart(&a, &b, &which));
    cr_assert_str_eq(which, "port");
    char err[256];
    cr_assert_eq(options_validate(&a, err, sizeof(err)), 0);
    a.cluster_expiry_ms = a.cluster_heartbeat_ms;
    cr_assert_eq(options_validate(&a, err, sizeof(err)), -1);
    options_cleanup(&a);
    options_cleanup(&b);
}

static void tight_limits(struct options *o)
{
    o->max_connections = 3;
    o->max_connections_per_user = 2;
    o->connection_rate = 5;
}

Test(config, admission_limits_and_rate)
{
    struct server *s = mk_server(NULL, tight_limits);
    uint64_t t = 1000000;
    struct conn *a = mk_conn(s, PHX_V2, "ann"), *b = mk_conn(s, PHX_V2, "ann");
    cr_assert_eq(server_user_connections(s, "ann"), 2);
    cr_assert_eq(server_admit(s, "ann", t), ADMIT_USER);
    cr_assert_eq(server_admit(s, "bob", t), ADMIT_OK);
    cr_assert_eq(server_user_connections(s, "bob"), 1, "an admission takes its seat at once");
    struct conn *c = mk_conn_admitted(s, PHX_V2, "bob");
    cr_assert_eq(server_admit(s, "cat", t), ADMIT_FULL);
    end_conn(&c);
    cr_assert_eq(server_user_connections(s, "bob"), 0);
    /* 5 tokens a second, one used above: four more now, then none until time passes */
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(server_admit(s, "dan", t), ADMIT_OK, "token %d", i);
        server_user_remove(s, "dan"); /* given back: only the bucket limits now */
    }
    cr_assert_eq(server_admit(s, "dan", t), ADMIT_RATE);
    cr_assert_eq(server_user_connections(s, "dan"), 0, "a refusal takes no seat");
    cr_assert_eq(server_admit(s, "dan", t + 200), ADMIT_OK, "refilled by 200 ms at 5/s");
    server_user_remove(s, "dan");
    s->draining = true;
    cr_assert_eq(server_admit(s, "dan", t + 5000), ADMIT_DRAINING);
    end_conn(&a);
    end_conn(&b);
    cr_assert_eq(server_user_connections(s, "ann"), 0);
    end_server(&s);
}

static void origins(struct options *o)
{
    o->allowed_origins = strdup("https://*.example.com, http://localhost:4000");
}

Test(config, origin_allow_list_with_wildcards)
{
    struct server *s = mk_server(NULL, origins);
    cr_assert(server_origin_allowed(s, "https://app.example.com"));
    cr_assert(server_origin_allowed(s, "HTTPS://App.Example.com"));
    cr_assert(server_origin_allowed(s, "http://localhost:4000"));
    cr_assert(server_origin_allowed(s, NULL), "no Origin header (Node, curl) passes");
    cr_assert_not(server_origin_allowed(s, "https://evil.com"));
    cr_assert_not(server_origin_allowed(s, "https://example.com.evil.com:1"));
    cr_assert_not(server_origin_allowed(s, "http://localhost:4001"));
    end_server(&s);
}
