/* make bench-c: session create and validate through the C API, against the same
 * operations in Rust (the sessile_bench_rust_* exports, on the same SharedEngine the heap
 * engine serves from through sessile_backend::Backend, whose dispatch is counted on the C
 * side), measured in one run.
 *
 * The machine is shared and its speed drifts from one millisecond to the next, so the two
 * sides take turns in small batches (the order flipping each batch) and the same clock here
 * times both. Each round gives one C/Rust time ratio per operation; the overhead reported
 * is the median round's, with the spread of the rounds beside it. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sessile.h"

/* Exported only by the library built with --features bench; not in sessile.h. */
typedef struct sessile_bench_rust sessile_bench_rust;
sessile_result sessile_bench_rust_new(const sessile_config *config, const uint8_t *seed, size_t n,
                                      sessile_bench_rust **out);
sessile_result sessile_bench_rust_create(sessile_bench_rust *b, size_t from, size_t to);
sessile_result sessile_bench_rust_validate(sessile_bench_rust *b, size_t from, size_t to, uint64_t now);
void sessile_bench_rust_free(sessile_bench_rust *b);

enum { N = 20000, BATCH = 500, ROUNDS = 21 };
static char tokens[N][SESSILE_TOKEN_BUFFER];
static size_t lens[N];

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int c_create(sessile_engine *e, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        if (sessile_engine_create(e, i, NULL, tokens[i], SESSILE_TOKEN_BUFFER, &lens[i], NULL) != SESSILE_RESULT_OK)
            return 1;
    return 0;
}

static int c_validate(sessile_engine *e, size_t from, size_t to) {
    sessile_session s;
    for (size_t i = from; i < to; i++)
        if (sessile_engine_validate(e, (const uint8_t *)tokens[i], lens[i], N + i, NULL, &s) != SESSILE_RESULT_OK)
            return 1;
    return 0;
}

/* One round: fresh engines on both sides, all creates then all validations, in batches.
 * Nanoseconds per operation: t[0] C create, t[1] C validate, t[2] Rust create, t[3] Rust
 * validate. */
static int round_(const sessile_config *c, const uint8_t *seed, int flip, double t[4]) {
    sessile_engine *e = NULL;
    sessile_bench_rust *r = NULL;
    int bad = sessile_engine_new_seeded(c, seed, 32, &e) != SESSILE_RESULT_OK ||
              sessile_bench_rust_new(c, seed, N, &r) != SESSILE_RESULT_OK;
    for (int k = 0; k < 4; k++) t[k] = 0;
    for (int op = 0; op < 2 && !bad; op++) {
        for (size_t from = 0; from < N && !bad; from += BATCH) {
            size_t to = from + BATCH;
            for (int turn = 0; turn < 2 && !bad; turn++) {
                int rust = (turn + (int)(from / BATCH) + flip) % 2;
                double t0 = now_ns();
                if (rust)
                    bad = (op == 0 ? sessile_bench_rust_create(r, from, to)
                                   : sessile_bench_rust_validate(r, from, to, N)) != SESSILE_RESULT_OK;
                else
                    bad = op == 0 ? c_create(e, from, to) : c_validate(e, from, to);
                t[rust * 2 + op] += now_ns() - t0;
            }
        }
    }
    sessile_engine_free(&e);
    sessile_bench_rust_free(r);
    for (int k = 0; k < 4; k++) t[k] /= N;
    return bad;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    sessile_config c;
    sessile_config_default(&c);
    c.capacity = N;
    static const uint8_t seed[32] = {42};
    double t[ROUNDS][4], ratio[2][ROUNDS], ns[4][ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        if (round_(&c, seed, r % 2, t[r]) != 0) {
            fprintf(stderr, "bench-c: an operation failed\n");
            return 1;
        }
        for (int op = 0; op < 2; op++) ratio[op][r] = t[r][op] / t[r][2 + op];
        for (int k = 0; k < 4; k++) ns[k][r] = t[r][k];
    }
    for (int k = 0; k < 2; k++) qsort(ratio[k], ROUNDS, sizeof(double), cmp);
    for (int k = 0; k < 4; k++) qsort(ns[k], ROUNDS, sizeof(double), cmp);

    const char *names[2] = {"create", "validate"};
    printf("bench-c: %d sessions, %d rounds, C and Rust alternating in batches of %d\n", N, ROUNDS, BATCH);
    printf("  %-9s %10s %10s %9s %17s  target\n", "op", "C API", "Rust", "overhead", "rounds' spread");
    printf("  %-9s %10s %10s %9s %17s\n", "", "ns/op", "ns/op", "(median)", "(quartiles)");
    int missed = 0;
    for (int k = 0; k < 2; k++) {
        double med = ratio[k][ROUNDS / 2];
        double overhead = (med - 1.0) * 100.0;
        missed |= overhead >= 10.0;
        printf("  %-9s %10.1f %10.1f %8.1f%% %7.1f%% .. %4.1f%%  < 10%% %s\n", names[k], ns[k][ROUNDS / 2],
               ns[2 + k][ROUNDS / 2], overhead, (ratio[k][ROUNDS / 4] - 1.0) * 100.0,
               (ratio[k][3 * ROUNDS / 4] - 1.0) * 100.0, overhead < 10.0 ? "met" : "MISSED");
    }
    return 0;
}
