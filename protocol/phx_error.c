/*
 * phx_error.c: the text of each phx_err code. Static strings only, so callers can log them freely.
 */
#include "phx_error.h"

const char *phx_strerror(int err)
{
    switch (err) {
    case PHX_OK:
        return "success";
    case PHX_E_JSON:
        return "frame is not valid JSON";
    case PHX_E_SHAPE:
        return "frame is not a JSON array of 5 elements or an object with the message keys";
    case PHX_E_TYPE:
        return "a message field has the wrong type";
    case PHX_E_BINARY:
        return "malformed binary frame";
    case PHX_E_TOOLONG:
        return "field longer than 255 bytes in a binary frame";
    case PHX_E_NOMEM:
        return "out of memory";
    case PHX_E_INVAL:
        return "message cannot be encoded as requested";
    }
    return "unknown error";
}
