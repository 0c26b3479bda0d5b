/*
 * fuzz_config.c: libFuzzer target for the settings parser (server/options.h): the JSON config file and
 * the command line.
 *
 * Input: one mode byte, then
 *   mode bit 0 clear   a config file: the bytes are written to a memfd and read with options_load_file
 *   mode bit 0 set     a command line: the bytes split at NUL into arguments after "cinder", given to
 *                      options_parse
 * over the defaults. A refusal must leave the options as they were and say why. Whatever is accepted
 * must survive the trip `cinder genconfig` makes: options_to_json written as a file and loaded over the
 * defaults gives the same settings again. options_validate, options_copy, options_need_restart and
 * server_create (which builds the configured channels) run on the result; libFuzzer's leak check sees
 * any string or JSON value the schema forgot to free.
 */
#define _GNU_SOURCE
#include "fuzz_check.h"
#include "handlers/demo.h"
#include "options.h"
#include "server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One memfd for the whole run, rewritten for every config; its /proc path is what the parser opens. */
static int config_fd = -1;
static char config_path[64];
static FILE *devnull;

static void write_config(const void *bytes, size_t len)
{
    if (config_fd < 0) {
        config_fd = memfd_create("fuzz_config", 0);
        FUZZ_CHECK(config_fd >= 0, "memfd_create");
        snprintf(config_path, sizeof(config_path), "/proc/self/fd/%d", config_fd);
    }
    FUZZ_CHECK(ftruncate(config_fd, 0) == 0, "ftruncate");
    FUZZ_CHECK(len == 0 || pwrite(config_fd, bytes, len, 0) == (ssize_t)len, "pwrite");
}

static void no_warning(void *arg, const char *message)
{
    FUZZ_CHECK(message && *message, "an empty warning");
}

/* The settings of o as genconfig writes them (new reference). */
static json_t *settings(const struct options *o)
{
    json_t *j = options_to_json(o);
    FUZZ_CHECK(j != NULL, "options_to_json");
    return j;
}

static int load_file(const void *bytes, size_t len, struct options *o, char *err, size_t errlen)
{
    write_config(bytes, len);
    return options_load_file(o, config_path, no_warning, NULL, err, errlen);
}

static int parse_args(const uint8_t *data, size_t size, struct options *o, char *err, size_t errlen)
{
    /* "cinder" plus one argument per NUL-separated piece: copies, so the parser may keep pointers. */
    char *text = malloc(size + 1);
    char **argv = malloc((size + 3) * sizeof(*argv)); /* "cinder", up to size + 1 pieces, NULL */
    FUZZ_CHECK(text && argv, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = 0;
    argv[argc++] = "cinder";
    for (char *p = text; p <= text + size; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    options_config_arg(argc, argv);
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    int rc = options_parse(o, argc, argv, devnull, err, errlen);
    free(argv);
    free(text);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct options o, fresh;
    char err[512] = "";
    options_defaults(&o);
    json_t *before = settings(&o);

    int rc = data[0] & 1 ? parse_args(data + 1, size - 1, &o, err, sizeof(err))
                         : load_file(data + 1, size - 1, &o, err, sizeof(err));
    if (rc < 0) {
        FUZZ_CHECK(err[0] != '\0', "a refusal without a reason");
        if (!(data[0] & 1)) {
            /* a config file is all or nothing; flags apply one by one, as getopt reads them */
            json_t *after = settings(&o);
            FUZZ_CHECK(json_equal(before, after), "a refused config file changed settings");
            json_decref(after);
        }
    }

    /* genconfig's output loads back to the same settings */
    json_t *now = settings(&o);
    char *text = json_dumps(now, JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "json_dumps");
    options_defaults(&fresh);
    rc = load_file(text, strlen(text), &fresh, err, sizeof(err));
    FUZZ_CHECK(rc == 0, "genconfig output refused: %s: %s", err, text);
    json_t *again = settings(&fresh);
    FUZZ_CHECK(json_equal(now, again), "settings changed on the way through genconfig: %s", text);

    const char *which = NULL;
    FUZZ_CHECK(!options_need_restart(&o, &fresh, &which), "a round trip needs a restart for %s", which);
    options_validate(&o, err, sizeof(err));
    struct options copy;
    FUZZ_CHECK(options_copy(&copy, &o) == 0, "options_copy");
    options_cleanup(&copy);
    /* a server made from them builds the configured channels (handlers/generic.h) */
    struct server *srv = server_create(&o, &demo_app);
    FUZZ_CHECK(srv != NULL, "server_create refused settings the parser accepted");
    server_destroy(&srv);

    json_decref(again);
    free(text);
    json_decref(now);
    json_decref(before);
    options_cleanup(&fresh);
    options_cleanup(&o);
    return 0;
}
