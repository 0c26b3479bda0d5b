/* Tests server/static_files.c: URL path normalization, content types, resolution under a root with
 * symlinks pointing in and out of it. */
#include "static_files.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum static_result norm(const char *path, char *out)
{
    return static_path_normalize(path, strlen(path), out, 256);
}

Test(static_files, normalize_accepts_plain_paths)
{
    char out[256];
    cr_assert_eq(norm("/", out), STATIC_OK);
    cr_assert_str_eq(out, "index.html");
    cr_assert_eq(norm("/app.js", out), STATIC_OK);
    cr_assert_str_eq(out, "app.js");
    cr_assert_eq(norm("/vendor/phoenix.mjs", out), STATIC_OK);
    cr_assert_str_eq(out, "vendor/phoenix.mjs");
    cr_assert_eq(norm("/vendor/", out), STATIC_OK);
    cr_assert_str_eq(out, "vendor/index.html");
    cr_assert_eq(norm("/a..b/c...js", out), STATIC_OK, "dots inside a name are fine");
    cr_assert_str_eq(out, "a..b/c...js");
}

Test(static_files, normalize_refuses_traversal)
{
    char out[256];
    const char *bad[] = {
        "",       "app.js",    "/..",          "/../etc/passwd", "/a/../../b", "/a/..",
        "/./a",   "/a/./b",    "//etc/passwd", "/a//b",          "/%2e%2e/x",  "/%2E%2E",
        "/a%00b", "/a\\..\\b", "/a\tb",        "/a\x7f",         "/..%2fetc",  "/%252e%252e/x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        cr_assert_eq(norm(bad[i], out), STATIC_BAD_PATH, "accepted \"%s\"", bad[i]);
}

Test(static_files, normalize_refuses_nul_inside_length)
{
    char out[256];
    static const char path[] = "/index.html\0/../../etc/passwd";
    cr_assert_eq(static_path_normalize(path, sizeof(path) - 1, out, sizeof(out)), STATIC_BAD_PATH);
}

Test(static_files, normalize_hides_dot_files)
{
    char out[256];
    cr_assert_eq(norm("/.git/config", out), STATIC_NOT_FOUND);
    cr_assert_eq(norm("/a/.env", out), STATIC_NOT_FOUND);
    cr_assert_eq(norm("/.well-known/x/../y", out), STATIC_BAD_PATH, "a traversal wins over a dot file");
}

Test(static_files, normalize_bounds_the_output)
{
    char out[8];
    cr_assert_eq(static_path_normalize("/abcdefg", 8, out, sizeof(out)), STATIC_OK);
    cr_assert_str_eq(out, "abcdefg");
    cr_assert_eq(static_path_normalize("/abcdefgh", 9, out, sizeof(out)), STATIC_BAD_PATH);
    cr_assert_eq(static_path_normalize("/abc/", 5, out, sizeof(out)), STATIC_BAD_PATH,
                 "no room for index.html");
}

Test(static_files, content_types)
{
    cr_assert_str_eq(static_content_type("index.html"), "text/html; charset=utf-8");
    cr_assert_str_eq(static_content_type("a/b/app.mjs"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(static_content_type("app.JS"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(static_content_type("style.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(static_content_type("x.json"), "application/json");
    cr_assert_str_eq(static_content_type("phoenix.mjs.map"), "application/json");
    cr_assert_str_eq(static_content_type("logo.svg"), "image/svg+xml");
    cr_assert_str_eq(static_content_type("logo.png"), "image/png");
    cr_assert_str_eq(static_content_type("favicon.ico"), "image/x-icon");
    cr_assert_str_eq(static_content_type("robots.txt"), "text/plain; charset=utf-8");
    cr_assert_null(static_content_type("notes.md"));
    cr_assert_null(static_content_type("Makefile"));
    cr_assert_null(static_content_type("dir.js/file"));
    cr_assert_null(static_content_type("trailing."));
}

/* A root with files, a subdirectory, and symlinks inside and outside it:
 *   <tmp>/root/index.html, app.js, notes.md, sub/page.html, sub/index.html, dir.js/ (a directory)
 *   <tmp>/root/in.js -> app.js, <tmp>/root/out.txt -> <tmp>/secret.txt, <tmp>/root/up -> <tmp>
 *   <tmp>/secret.txt */
static char tmp[128], root[256]; /* small, so that every path built from them fits PATH_MAX */

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s", p);
    fputs(text, f);
    fclose(f);
}

static void link_to(const char *target, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    cr_assert_eq(symlink(target, p), 0, "%s", p);
}

static void make_tree(void)
{
    char p[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "/tmp/cinder-static-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
    snprintf(root, sizeof(root), "%s/root", tmp);
    cr_assert_eq(mkdir(root, 0755), 0);
    snprintf(p, sizeof(p), "%s/sub", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/dir.js", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    put("root/index.html", "<h1>hi</h1>");
    put("root/app.js", "1");
    put("root/notes.md", "#");
    put("root/sub/page.html", "p");
    put("root/sub/index.html", "s");
    put("secret.txt", "secret");
    link_to("app.js", "root/in.js");
    char target[PATH_MAX];
    snprintf(target, sizeof(target), "%s/secret.txt", tmp);
    link_to(target, "root/out.txt");
    link_to("..", "root/up");
}

static void remove_tree(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(static_resolve, .init = make_tree, .fini = remove_tree);

static enum static_result resolve(const char *path, char *out, const char **type)
{
    return static_files_resolve(root, path, strlen(path), out, PATH_MAX, type);
}

Test(static_resolve, serves_files_inside_the_root)
{
    char out[PATH_MAX], want[PATH_MAX + 32], real_root[PATH_MAX];
    const char *type = NULL;
    cr_assert_not_null(realpath(root, real_root));
    cr_assert_eq(resolve("/", out, &type), STATIC_OK);
    snprintf(want, sizeof(want), "%s/index.html", real_root);
    cr_assert_str_eq(out, want);
    cr_assert_str_eq(type, "text/html; charset=utf-8");
    cr_assert_eq(resolve("/app.js", out, &type), STATIC_OK);
    cr_assert_str_eq(type, "text/javascript; charset=utf-8");
    cr_assert_eq(resolve("/sub/", out, &type), STATIC_OK);
    snprintf(want, sizeof(want), "%s/sub/index.html", real_root);
    cr_assert_str_eq(out, want);
    cr_assert_eq(resolve("/sub/page.html", out, &type), STATIC_OK);
    /* A symlink that stays inside the root is followed. */
    cr_assert_eq(resolve("/in.js", out, &type), STATIC_OK);
    snprintf(want, sizeof(want), "%s/app.js", real_root);
    cr_assert_str_eq(out, want);
}

Test(static_resolve, refuses_what_is_not_a_servable_file)
{
    char out[PATH_MAX];
    const char *type = NULL;
    cr_assert_eq(resolve("/missing.js", out, &type), STATIC_NOT_FOUND);
    cr_assert_eq(resolve("/notes.md", out, &type), STATIC_NOT_FOUND, "unknown content type");
    cr_assert_eq(resolve("/dir.js", out, &type), STATIC_NOT_FOUND, "a directory");
    cr_assert_eq(resolve("/sub", out, &type), STATIC_NOT_FOUND, "a directory without its slash");
    cr_assert_eq(resolve("/../secret.txt", out, &type), STATIC_BAD_PATH);
    cr_assert_null(type);
}

Test(static_resolve, refuses_symlinks_out_of_the_root)
{
    char out[PATH_MAX];
    const char *type = NULL;
    cr_assert_eq(resolve("/out.txt", out, &type), STATIC_NOT_FOUND);
    cr_assert_eq(resolve("/up/secret.txt", out, &type), STATIC_NOT_FOUND);
    cr_assert_eq(resolve("/up/root/app.js", out, &type), STATIC_OK, "back inside the root is inside");
}

Test(static_resolve, missing_root_serves_nothing)
{
    char out[PATH_MAX];
    const char *type = NULL;
    cr_assert_eq(static_files_resolve("/nonexistent/cinder", "/", 1, out, sizeof(out), &type),
                 STATIC_NOT_FOUND);
    cr_assert_eq(static_files_resolve(NULL, "/", 1, out, sizeof(out), &type), STATIC_NOT_FOUND);
}

Test(static_resolve, a_root_given_through_a_symlink)
{
    char linked[PATH_MAX], out[PATH_MAX];
    const char *type = NULL;
    snprintf(linked, sizeof(linked), "%s/root-link", tmp);
    cr_assert_eq(symlink(root, linked), 0);
    cr_assert_eq(static_files_resolve(linked, "/app.js", 7, out, sizeof(out), &type), STATIC_OK);
    cr_assert_eq(static_files_resolve(linked, "/out.txt", 8, out, sizeof(out), &type), STATIC_NOT_FOUND);
}
