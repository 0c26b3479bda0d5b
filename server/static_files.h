/*
 * static_files.h: which file, if any, a GET of a URL path names under the static root (--static-dir).
 *
 * The checks only, no libwebsockets (static_http.h sends the file): a URL path is turned into a path
 * relative to the root, refused if it could leave it, then resolved on disk and refused again if what
 * it names (through symlinks) is outside the root or not a regular file.
 *
 *   "/"                 -> <root>/index.html
 *   "/app.js"           -> <root>/app.js, "text/javascript; charset=utf-8"
 *   "/vendor/"          -> <root>/vendor/index.html
 *   "/../etc/passwd"    -> STATIC_BAD_PATH ("." and ".." segments are never accepted)
 *   "/%2e%2e/x"         -> STATIC_BAD_PATH (lws has already decoded the URL: a '%' left is a second encoding)
 *   "/.git/config"      -> STATIC_NOT_FOUND (dot files are not served)
 *   "/link" -> /etc/x   -> STATIC_NOT_FOUND (its real path is outside the root)
 *   "/notes.md"         -> STATIC_NOT_FOUND (only known content types are served)
 */
#ifndef CINDER_STATIC_FILES_H
#define CINDER_STATIC_FILES_H

#include <stddef.h>

enum static_result {
    STATIC_OK = 0,
    STATIC_BAD_PATH = -1,  /* malformed or traversal attempt: HTTP 400 */
    STATIC_NOT_FOUND = -2, /* nothing servable there: HTTP 404 */
};

/* The URL path (len bytes, as decoded by the HTTP parser; need not be NUL-terminated) as a path
 * relative to the root, written to out (cap bytes, NUL-terminated): segments joined by '/', with
 * "index.html" appended when the path ends with '/'. Refused (STATIC_BAD_PATH): empty, not starting
 * with '/', an empty segment inside ("//"), a "." or ".." segment, a NUL, control byte, '\' or '%',
 * or a result longer than cap - 1. A segment starting with '.' is STATIC_NOT_FOUND. */
enum static_result static_path_normalize(const char *path, size_t len, char *out, size_t cap);

/* The MIME type for file's extension (case-insensitive): html/htm, js/mjs, css, json, map, svg, png,
 * ico, txt. NULL for anything else (not served). Borrowed, static. */
const char *static_content_type(const char *file);

/* Resolve the URL path (len bytes) under root: out (cap bytes) gets the real absolute path of a
 * regular file inside root's real path, *content_type its type (borrowed, static). Returns STATIC_OK,
 * STATIC_BAD_PATH (static_path_normalize refused it) or STATIC_NOT_FOUND (no such file, a directory,
 * an unknown type, the root missing, or a real path outside the root). Touches the file system
 * (realpath, stat) and nothing else. */
enum static_result static_files_resolve(const char *root, const char *path, size_t len, char *out, size_t cap,
                                        const char **content_type);

#endif
