/* Tiny assertion helpers shared by the C tests: a failed check prints where and why, and
 * the program exits non-zero at the end. */
#ifndef SESSILE_TEST_CHECK_H
#define SESSILE_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "sessile.h"

static int check_failures;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                   \
        }                                                                       \
    } while (0)

/* `call` must return `want`; prints both codes by name otherwise. */
#define EXPECT(want, call)                                                      \
    do {                                                                        \
        sessile_result got_ = (call);                                           \
        if (got_ != (sessile_result)(want)) {                                   \
            fprintf(stderr, "%s:%d: %s\n  returned %s, expected %s\n", __FILE__, \
                    __LINE__, #call, sessile_result_str(got_),                  \
                    sessile_result_str(want));                                  \
            check_failures++;                                                   \
        }                                                                       \
    } while (0)

#define OK(call) EXPECT(SESSILE_RESULT_OK, call)

static int check_done(const char *name) {
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
