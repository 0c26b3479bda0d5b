/* Tests server/options.c: defaults, flags, sizes, durations, errors. */
#include "options.h"

#include <criterion/criterion.h>
#include <string.h>

static enum options_result parse(struct options *o, char **argv, int argc, char *err)
{
    FILE *out = fopen("/dev/null", "w");
    enum options_result r = options_parse(o, argc, argv, out, err, 256);
    fclose(out);
    return r;
}

Test(options, defaults)
{
    struct options o;
    options_defaults(&o);
    cr_assert_eq(o.port, 4000);
    cr_assert_null(o.bind);
    cr_assert_eq(o.max_frame_size, 1048576);
    cr_assert_eq(o.max_queue_size, 1048576);
    cr_assert_eq(o.idle_timeout_ms, 60000);
    cr_assert_eq(o.max_channels, 100);
}

Test(options, flags)
{
    struct options o;
    options_defaults(&o);
    char err[256];
    char *argv[] = {"cinder", "--port",           "4100", "--bind",          "127.0.0.1", "--max-frame-size",
                    "64k",    "--max-queue-size", "2MiB", "--idle-timeout",  "500ms",     "--max-channels",
                    "3",      "--log-level",      "warn", "--max-body-size", "100"};
    cr_assert_eq(parse(&o, argv, 17, err), OPTIONS_RUN, "%s", err);
    cr_assert_eq(o.port, 4100);
    cr_assert_str_eq(o.bind, "127.0.0.1");
    cr_assert_eq(o.max_frame_size, 65536);
    cr_assert_eq(o.max_queue_size, 2 * 1048576);
    cr_assert_eq(o.max_body_size, 100);
    cr_assert_eq(o.idle_timeout_ms, 500);
    cr_assert_eq(o.max_channels, 3);
    cr_assert_eq(o.log_level, LOG_WARN);
}

Test(options, errors_are_precise)
{
    struct options o;
    char err[256];
    char *bad_port[] = {"cinder", "--port", "70000"};
    options_defaults(&o);
    cr_assert_eq(parse(&o, bad_port, 3, err), OPTIONS_ERROR);
    cr_assert(strstr(err, "70000") && strstr(err, "--port"), "%s", err);
    char *unknown[] = {"cinder", "--frobnicate"};
    cr_assert_eq(parse(&o, unknown, 2, err), OPTIONS_ERROR);
    cr_assert(strstr(err, "--frobnicate"), "%s", err);
    char *missing[] = {"cinder", "--port"};
    cr_assert_eq(parse(&o, missing, 2, err), OPTIONS_ERROR);
    cr_assert(strstr(err, "needs a value"), "%s", err);
    char *stray[] = {"cinder", "serve-me"};
    cr_assert_eq(parse(&o, stray, 2, err), OPTIONS_ERROR);
    char *help[] = {"cinder", "--help"};
    cr_assert_eq(parse(&o, help, 2, err), OPTIONS_EXIT);
}

Test(options, sizes_and_durations)
{
    size_t s;
    uint64_t ms;
    cr_assert_eq(parse_size("1048576", &s), 0);
    cr_assert_eq(s, 1048576);
    cr_assert_eq(parse_size("1m", &s), 0);
    cr_assert_eq(s, 1048576);
    cr_assert_eq(parse_size("12x", &s), -1);
    cr_assert_eq(parse_size("-1", &s), -1);
    cr_assert_eq(parse_size("", &s), -1);
    cr_assert_eq(parse_duration_ms("60", &ms), 0);
    cr_assert_eq(ms, 60000);
    cr_assert_eq(parse_duration_ms("25s", &ms), 0);
    cr_assert_eq(ms, 25000);
    cr_assert_eq(parse_duration_ms("2m", &ms), 0);
    cr_assert_eq(ms, 120000);
    cr_assert_eq(parse_duration_ms("10h", &ms), 0);
    cr_assert_eq(ms, 36000000);
    cr_assert_eq(parse_duration_ms("10d", &ms), -1);
}

Test(options, longpoll_window)
{
    struct options o;
    options_defaults(&o);
    cr_assert_eq(o.longpoll_window_ms, 10000);
    char err[256];
    char *ok[] = {"cinder", "--longpoll-window", "1500ms"};
    cr_assert_eq(parse(&o, ok, 3, err), OPTIONS_RUN, "%s", err);
    cr_assert_eq(o.longpoll_window_ms, 1500);
    char *zero[] = {"cinder", "--longpoll-window", "0"};
    cr_assert_eq(parse(&o, zero, 3, err), OPTIONS_ERROR);
    cr_assert(strstr(err, "--longpoll-window"), "%s", err);
    char *huge[] = {"cinder", "--longpoll-window", "25h"};
    cr_assert_eq(parse(&o, huge, 3, err), OPTIONS_ERROR);
}

Test(options, static_dir)
{
    struct options o;
    options_defaults(&o);
    cr_assert_str_eq(o.static_dir, OPTIONS_DEFAULT_STATIC_DIR);
    char err[256];
    char *ok[] = {"cinder", "--static-dir", "/tmp"};
    cr_assert_eq(parse(&o, ok, 3, err), OPTIONS_RUN, "%s", err);
    cr_assert_str_eq(o.static_dir, "/tmp");
    char *off[] = {"cinder", "--static-dir", ""};
    cr_assert_eq(parse(&o, off, 3, err), OPTIONS_RUN, "%s", err);
    cr_assert_null(o.static_dir);
    char *missing[] = {"cinder", "--static-dir", "/nonexistent/cinder-static"};
    cr_assert_eq(parse(&o, missing, 3, err), OPTIONS_ERROR);
    cr_assert(strstr(err, "--static-dir") && strstr(err, "not a directory"), "%s", err);
    char *file[] = {"cinder", "--static-dir", "/etc/passwd"};
    cr_assert_eq(parse(&o, file, 3, err), OPTIONS_ERROR);
}

/* Found by fuzz_config: a parse that stopped inside a group of short options ("-Vc": --version ends it
 * before c) left getopt pointing into that argv, and the next parse, of another argv, went on from
 * there (reading freed memory when the first argv was gone). */
Test(options, a_parse_starts_afresh_after_one_stopped_in_a_group)
{
    struct options o;
    options_defaults(&o);
    char err[256];
    char *first[] = {"cinder", "-Vc", "stale.json"};
    cr_assert_eq(parse(&o, first, 3, err), OPTIONS_EXIT);
    char *second[] = {"cinder", "--port", "4100"};
    cr_assert_eq(parse(&o, second, 3, err), OPTIONS_RUN, "%s", err);
    cr_assert_eq(o.port, 4100);
    cr_assert_null(o.config_path);
    options_cleanup(&o);
}

/* Found by fuzz_config: a flag value that is not UTF-8 was taken, then left out of options_to_json
 * (genconfig) and made every reload see a change to a restart-only setting. Settings are UTF-8. */
Test(options, string_settings_are_utf8)
{
    struct options o;
    options_defaults(&o);
    char err[256];
    char *bad[] = {"cinder", "--bind", "\xff\xfe"};
    cr_assert_eq(parse(&o, bad, 3, err), OPTIONS_ERROR);
    cr_assert(strstr(err, "--bind") && strstr(err, "UTF-8"), "%s", err);
    cr_assert_null(o.bind);
    char *redis[] = {"cinder", "--redis", "redis://h\xc3/0"};
    cr_assert_eq(parse(&o, redis, 3, err), OPTIONS_ERROR);
    cr_assert_null(o.redis_url);
    char *good[] = {"cinder", "--bind", "h\xc3\xb4te"};
    cr_assert_eq(parse(&o, good, 3, err), OPTIONS_RUN, "%s", err);
    cr_assert_str_eq(o.bind, "h\xc3\xb4te");
    json_t *j = options_to_json(&o);
    cr_assert_str_eq(json_string_value(json_object_get(j, "bind")), "h\xc3\xb4te");
    json_decref(j);
    options_cleanup(&o);
}
