/*
 * fuzz_frame_v1.c: libFuzzer target for V1 text frames ({"topic","event","payload","ref"[,"join_ref"]}):
 * the decoder on arbitrary bytes, and the encode/decode and reply round trips of fuzz_text.h.
 */
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_text_frame(PHX_V1, data, size);
    return 0;
}
