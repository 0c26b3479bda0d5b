/* Tests server/frame.c: refcounting and layout. */
#include "frame.h"

#include <criterion/criterion.h>
#include <string.h>

Test(frame, create_copies_bytes_and_leaves_headroom)
{
    char src[] = "[1]";
    struct frame *f = frame_create(src, 3, false);
    cr_assert_not_null(f);
    src[0] = 'x';
    cr_assert_eq(f->len, 3);
    cr_assert_eq(memcmp(frame_data(f), "[1]", 3), 0);
    cr_assert_eq(frame_data(f) - f->_mem, FRAME_HEADROOM);
    cr_assert_not(f->binary);
    frame_unref(&f);
    cr_assert_null(f);
}

Test(frame, refs_count_and_last_unref_frees)
{
    struct frame *f = frame_create("ab", 2, true);
    struct frame *g = f;
    frame_ref(g);
    cr_assert_eq(atomic_load(&f->refs), 2);
    frame_unref(&g);
    cr_assert_null(g);
    cr_assert_eq(atomic_load(&f->refs), 1);
    cr_assert(f->binary);
    frame_unref(&f); /* valgrind/ASan would report a leak or double free here */
}

Test(frame, empty_frame_and_null_unref)
{
    struct frame *f = frame_create(NULL, 0, false);
    cr_assert_not_null(f);
    cr_assert_eq(f->len, 0);
    frame_unref(&f);
    frame_unref(&f); /* NULL-safe */
}
