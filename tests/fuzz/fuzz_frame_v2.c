/*
 * fuzz_frame_v2.c: libFuzzer target for V2 text frames ([join_ref, ref, topic, event, payload]): the
 * decoder on arbitrary bytes, and the encode/decode and reply round trips of fuzz_text.h.
 */
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_text_frame(PHX_V2, data, size);
    return 0;
}
