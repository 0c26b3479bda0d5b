/*
 * summary.c: `loadgen summary FILE...`: reads the JSON lines the modes printed (scripts/bench.sh
 * collects them), prints the targets next to the measured figures, and one JSON line with the
 * machine and every result keyed by its label.
 *
 * Labels it knows: floor, fanout_100 (2,000 x 100 msg/s: deliveries per server-CPU-second against the
 * floor), fanout_25 (2,000 x 25 msg/s: p99), conns (RSS per idle joined connection), churn
 * (joins+leaves per second and p99). Other labels are carried in the JSON line only.
 */
#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static double num(json_t *o, const char *path)
{
    char key[64];
    const char *dot = strchr(path, '.');
    if (dot) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        return num(json_object_get(o, key), dot + 1);
    }
    return json_number_value(json_object_get(o, path));
}

static json_t *machine(void)
{
    char model[160] = "unknown", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                snprintf(model, sizeof(model), "%s", v + 2);
                model[strcspn(model, "\n")] = '\0';
            }
            break;
        }
    if (f)
        fclose(f);
    struct utsname u;
    uname(&u);
    return json_pack("{sI ss ss}", "cpus", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "cpu", model, "kernel",
                     u.release);
}

/* One row: what, measured text, target text, Phoenix, met ("yes", "NO", "-"). */
static void row(const char *what, const char *measured, const char *target, const char *phoenix,
                const char *met)
{
    printf("| %-40s | %-34s | %-16s | %-14s | %-4s |\n", what, measured, target, phoenix, met);
}

int mode_summary(int nfiles, char **files)
{
    json_t *results = json_object(), *targets = json_object();
    char line[65536];
    for (int i = 0; i < nfiles; i++) {
        FILE *f = fopen(files[i], "r");
        if (!f) {
            fprintf(stderr, "loadgen: summary: cannot read %s\n", files[i]);
            continue;
        }
        /* Bounded by the file. */
        while (fgets(line, sizeof(line), f)) {
            if (line[0] != '{')
                continue;
            json_t *o = json_loads(line, 0, NULL);
            const char *label = json_string_value(json_object_get(o, "label"));
            if (label)
                json_object_set(results, label, o);
            json_decref(o);
        }
        fclose(f);
    }
    json_t *fl = json_object_get(results, "floor"), *f100 = json_object_get(results, "fanout_100"),
           *f25 = json_object_get(results, "fanout_25"), *cn = json_object_get(results, "conns"),
           *chn = json_object_get(results, "churn");
    char m[96];
    json_t *meta = json_object_get(results, "meta"), *mach = machine();
    printf("%lld cores (%s), kernel %s", (long long)json_integer_value(json_object_get(mach, "cpus")),
           json_string_value(json_object_get(mach, "cpu")),
           json_string_value(json_object_get(mach, "kernel")));
    if (meta)
        printf("; commit %s%s, %s; load average %.2f at the start, %.2f at the end",
               json_string_value(json_object_get(meta, "commit")),
               json_is_true(json_object_get(meta, "dirty"))   ? " (with uncommitted changes)"
               : json_is_null(json_object_get(meta, "dirty")) ? " (server given as CINDER_BIN)"
                                                              : "",
               json_string_value(json_object_get(meta, "date")), num(meta, "loadavg_start"),
               num(meta, "loadavg_end"));
    printf("\n\n");
    printf("| %-40s | %-34s | %-16s | %-14s | %-4s |\n", "scenario", "measured", "target", "Phoenix 1.7",
           "met");
    printf("|%.42s|%.36s|%.18s|%.16s|%.6s|\n", "------------------------------------------",
           "------------------------------------", "------------------", "----------------", "------");
    if (fl) {
        snprintf(m, sizeof(m), "%.0f writes/CPU-s (%.2f us)", num(fl, "writes_per_cpu_s"),
                 num(fl, "writes_per_cpu_s") > 0 ? 1e6 / num(fl, "writes_per_cpu_s") : 0);
        row("floor: 1 write() per frame, loopback", m, "(reference)", "-", "-");
    }
    if (f100) {
        double ratio = num(f100, "floor_ratio");
        bool ok = ratio >= 0.8 && json_is_true(json_object_get(f100, "ok"));
        snprintf(m, sizeof(m), "%.0f/CPU-s = %.2f x floor", num(f100, "deliveries_per_server_cpu_s"), ratio);
        row("fan-out 2,000 x 100/s: deliveries/CPU-s", m, ">= 0.8 x floor", "55k = 0.28", ok ? "yes" : "NO");
        snprintf(m, sizeof(m), "%.0f / %.0f", num(f100, "lost"), num(f100, "dups"));
        row("fan-out 2,000 x 100/s: lost / dups", m, "0 / 0", "-",
            num(f100, "lost") == 0 && num(f100, "dups") == 0 ? "yes" : "NO");
        snprintf(m, sizeof(m), "%.0fk/s of %.0fk offered; p99 %.0f ms", num(f100, "deliveries_per_s") / 1e3,
                 num(f100, "subs") * num(f100, "rate") / 1e3, num(f100, "latency_us.p99") / 1e3);
        row("fan-out 2,000 x 100/s: rate, p99", m, "-", "-", "-");
        json_object_set_new(targets, "fanout_ratio", json_boolean(ok));
    }
    if (f25) {
        double p99 = num(f25, "latency_us.p99") / 1e3;
        bool ok = p99 <= 10 && json_is_true(json_object_get(f25, "ok"));
        snprintf(m, sizeof(m), "%.1f / %.1f ms (%.0f/CPU-s)", num(f25, "latency_us.p50") / 1e3, p99,
                 num(f25, "deliveries_per_server_cpu_s"));
        row("fan-out 2,000 x 25/s: p50 / p99", m, "p99 <= 10 ms", "p99 34 ms", ok ? "yes" : "NO");
        json_object_set_new(targets, "fanout_p99", json_boolean(ok));
    }
    json_t *fws = json_object_get(results, "fanout_ws");
    if (fws) {
        snprintf(m, sizeof(m), "%.0f/CPU-s, p99 %.1f ms, %.0f/%.0f", num(fws, "deliveries_per_server_cpu_s"),
                 num(fws, "latency_us.p99") / 1e3, num(fws, "lost"), num(fws, "dups"));
        row("fan-out WS shout 500 x 50/s (lost/dups)", m, "-", "-",
            json_is_true(json_object_get(fws, "ok")) ? "-" : "NO");
    }
    if (cn) {
        double per = num(cn, "kib_per_conn");
        bool ok = per <= 2 && num(cn, "conns") >= 19000 && json_is_true(json_object_get(cn, "ok"));
        snprintf(m, sizeof(m), "%.2f KiB at %.0f conns", per, num(cn, "ready"));
        row("RSS per idle joined connection", m, "<= 2 KiB @19k", "32 KiB", ok ? "yes" : "NO");
        json_object_set_new(targets, "conn_rss", json_boolean(ok));
    }
    if (chn) {
        double ops = num(chn, "ops_per_s"), p99 = num(chn, "latency_us.p99") / 1e3;
        bool ok = ops >= 30000 && p99 <= 10 && json_is_true(json_object_get(chn, "ok"));
        snprintf(m, sizeof(m), "%.0f/s, p99 %.1f ms", ops, p99);
        row("churn: joins+leaves (room:*, presence)", m, ">= 30k/s, p99<=10", "-", ok ? "yes" : "NO");
        json_object_set_new(targets, "churn", json_boolean(ok));
    }
    json_t *ctel = json_object_get(results, "churn_telemetry");
    if (ctel) {
        double ops = num(ctel, "ops_per_s"), p99 = num(ctel, "latency_us.p99") / 1e3;
        bool ok = ops >= 30000 && p99 <= 10 && json_is_true(json_object_get(ctel, "ok"));
        snprintf(m, sizeof(m), "%.0f/s, p99 %.1f ms", ops, p99);
        row("churn without presence (telemetry:*)", m, ">= 30k/s, p99<=10", "-", ok ? "yes" : "NO");
    }
    json_t *cmax = json_object_get(results, "churn_max");
    if (cmax) {
        snprintf(m, sizeof(m), "%.0f/s, p99 %.1f ms (%.0f conns)", num(cmax, "ops_per_s"),
                 num(cmax, "latency_us.p99") / 1e3, num(cmax, "conns"));
        row("churn, closed loop (capacity)", m, "-", "-", "-");
    }
    json_t *all = json_pack("{ss so so so}", "bench", "cinder", "machine", mach, "targets_met", targets,
                            "results", results);
    lg_print_json(all);
    return LG_EXIT_OK;
}
