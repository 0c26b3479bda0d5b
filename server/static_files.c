/*
 * static_files.c: URL path -> file under the static root (see static_files.h).
 *
 * Two independent guards: the URL path is checked segment by segment before it touches the file
 * system (no "..", no encodings, no control bytes), and the joined path's realpath must still lie under
 * the root's realpath, which catches symlinks that point out of it.
 */
#include "static_files.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char index_name[] = "index.html";

static bool forbidden_byte(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '\\' || c == '%';
}

enum static_result static_path_normalize(const char *path, size_t len, char *out, size_t cap)
{
    if (!path || len == 0 || path[0] != '/' || cap == 0)
        return STATIC_BAD_PATH;
    for (size_t i = 0; i < len; i++)
        if (forbidden_byte((unsigned char)path[i]))
            return STATIC_BAD_PATH;
    enum static_result hidden = STATIC_OK; /* reported after every segment was checked */
    size_t n = 0;
    size_t i = 1;
    while (i < len) {
        size_t end = i;
        while (end < len && path[end] != '/')
            end++;
        size_t seg = end - i;
        if (seg == 0)
            return STATIC_BAD_PATH; /* "//" inside the path */
        if (path[i] == '.') {
            if (seg == 1 || (seg == 2 && path[i + 1] == '.'))
                return STATIC_BAD_PATH;
            hidden = STATIC_NOT_FOUND;
        }
        if (n + (n > 0) + seg >= cap)
            return STATIC_BAD_PATH;
        if (n > 0)
            out[n++] = '/';
        memcpy(out + n, path + i, seg);
        n += seg;
        i = end + 1; /* past the '/' (or past len at the end) */
    }
    if (path[len - 1] == '/') {
        if (n + (n > 0) + sizeof(index_name) > cap)
            return STATIC_BAD_PATH;
        if (n > 0)
            out[n++] = '/';
        memcpy(out + n, index_name, sizeof(index_name) - 1);
        n += sizeof(index_name) - 1;
    }
    out[n] = '\0';
    return hidden;
}

const char *static_content_type(const char *file)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
    };
    const char *slash = strrchr(file, '/');
    const char *dot = strrchr(slash ? slash + 1 : file, '.');
    if (!dot || dot[1] == '\0')
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

enum static_result static_files_resolve(const char *root, const char *path, size_t len, char *out, size_t cap,
                                        const char **content_type)
{
    char rel[PATH_MAX], root_real[PATH_MAX], joined[PATH_MAX], real[PATH_MAX];
    enum static_result rc = static_path_normalize(path, len, rel, sizeof(rel));
    if (rc != STATIC_OK)
        return rc;
    const char *type = static_content_type(rel);
    if (!type || !root || !realpath(root, root_real))
        return STATIC_NOT_FOUND;
    int n = snprintf(joined, sizeof(joined), "%s/%s", root_real, rel);
    if (n < 0 || (size_t)n >= sizeof(joined) || !realpath(joined, real))
        return STATIC_NOT_FOUND;
    size_t root_len = strlen(root_real);
    if (root_len == 1) /* the root is "/" itself */
        root_len = 0;
    if (strncmp(real, root_real, root_len) != 0 || real[root_len] != '/')
        return STATIC_NOT_FOUND;
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return STATIC_NOT_FOUND;
    size_t real_len = strlen(real);
    if (real_len >= cap)
        return STATIC_NOT_FOUND;
    memcpy(out, real, real_len + 1);
    *content_type = type;
    return STATIC_OK;
}
