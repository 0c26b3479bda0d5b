/*
 * phx_error.h: the error codes every protocol/ function returns.
 *
 * Functions return 0 on success or one of these negative codes. The codec never aborts, never logs and
 * never touches a socket: the caller decides what an error means (close code, HTTP status, log line).
 */
#ifndef PHX_ERROR_H
#define PHX_ERROR_H

enum phx_err {
    PHX_OK = 0,
    PHX_E_JSON = -1,      /* not valid JSON text (or not UTF-8) */
    PHX_E_SHAPE = -2,     /* valid JSON of the wrong shape: not an array of >= 5 / not an object with the keys */
    PHX_E_TYPE = -3,      /* a field has the wrong type (topic or event not a string, binary ref not a string) */
    PHX_E_BINARY = -4,    /* binary frame: unknown kind, truncated header, lengths past the end */
    PHX_E_TOOLONG = -5,   /* a string field over 255 bytes where the binary format allows no more */
    PHX_E_NOMEM = -6,     /* allocation failed */
    PHX_E_INVAL = -7,     /* the caller passed something the encoder cannot express (e.g. binary payload in V1) */
};

/* A short static English description of err ("frame is not a JSON array of 5 elements", ...). */
const char *phx_strerror(int err);

#endif
