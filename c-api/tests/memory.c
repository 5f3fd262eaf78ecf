/* Engines in caller memory, and what that memory holds. A forked child never issues its
 * parent's tokens (with the standard library the engine reseeds from the OS in the child, as
 * a heap engine does), and deinit leaves no session data behind in the caller's buffer. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* The scan below reads the whole buffer, struct padding included, which memcheck knows as
 * undefined (the engine never wrote it); it is read on purpose, so mark it defined. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

static const uint8_t SEED[32] = {42, 1, 2, 3};

static void small_config(sessile_config *c) {
    sessile_config_default(c);
    c->capacity = 16;
    c->pool_bytes = 4096;
    c->max_payload = 256;
}

/* An engine in fresh zeroed memory (zeroed, so that scanning it reads only defined bytes). */
static sessile_engine *placed(const sessile_config *c, unsigned char **mem, size_t *size) {
    *size = sessile_engine_size(c);
    *mem = calloc(1, *size);
    sessile_engine *e = NULL;
    OK(sessile_engine_init(*mem, *size, c, SEED, sizeof SEED, &e));
    return e;
}

/* The parent and its forked child hold the same engine memory, fixed seed included: unless
 * the child reseeds, its next token is the parent's next token. */
static void fork_draws_fresh_tokens(void) {
    sessile_config c;
    small_config(&c);
    unsigned char *mem, *twin_mem;
    size_t size, twin_size;
    sessile_engine *e = placed(&c, &mem, &size);
    sessile_engine *twin = placed(&c, &twin_mem, &twin_size);
    char mine[SESSILE_TOKEN_BUFFER] = {0}, childs[SESSILE_TOKEN_BUFFER] = {0}, twins[SESSILE_TOKEN_BUFFER] = {0};
    size_t n;
    OK(sessile_engine_create(e, 0, NULL, mine, sizeof mine, &n, NULL));
    OK(sessile_engine_create(twin, 0, NULL, twins, sizeof twins, &n, NULL));
    CHECK(strcmp(mine, twins) == 0); /* same seed, same stream */

    int fd[2];
    CHECK(pipe(fd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        int ok = sessile_engine_create(e, 1, NULL, childs, sizeof childs, &n, NULL) == SESSILE_RESULT_OK;
        ssize_t w = ok ? write(fd[1], childs, sizeof childs) : -1;
        /* The child owns its copies: end them (valgrind checks the child too). */
        ok = ok && sessile_engine_deinit(e) == SESSILE_RESULT_OK && sessile_engine_deinit(twin) == SESSILE_RESULT_OK;
        free(mem);
        free(twin_mem);
        _exit(ok && w == (ssize_t)sizeof childs ? 0 : 1);
    }
    close(fd[1]);
    OK(sessile_engine_create(e, 1, NULL, mine, sizeof mine, &n, NULL));
    OK(sessile_engine_create(twin, 1, NULL, twins, sizeof twins, &n, NULL));
    CHECK(read(fd[0], childs, sizeof childs) == (ssize_t)sizeof childs);
    close(fd[0]);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The parent goes on with its stream; the child left it. */
    CHECK(strcmp(mine, twins) == 0);
    CHECK(strlen(childs) == 43 && strcmp(mine, childs) != 0);
    OK(sessile_engine_deinit(e));
    OK(sessile_engine_deinit(twin));
    free(mem);
    free(twin_mem);
}

static int contains(const unsigned char *hay, size_t n, const uint8_t *needle, size_t m) {
    VALGRIND_MAKE_MEM_DEFINED(hay, n);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) return 1;
    return 0;
}

/* A live session's payload and principal sit in the engine's memory in clear; after deinit
 * the caller's buffer holds neither. */
static void deinit_wipes_session_data(void) {
    static const uint8_t payload[] = "card=4111-1111-1111-1111;secret-note=sessile-wipe-check";
    static const uint8_t principal[] = "wipe-check-principal@example.org";
    sessile_config c;
    small_config(&c);
    unsigned char *mem;
    size_t size;
    sessile_engine *e = placed(&c, &mem, &size);
    char anon[SESSILE_TOKEN_BUFFER], tok[SESSILE_TOKEN_BUFFER];
    size_t n, m;
    sessile_session s;
    OK(sessile_engine_create(e, 0, NULL, anon, sizeof anon, &n, NULL));
    OK(sessile_engine_login(e, (const uint8_t *)anon, n, principal, sizeof principal - 1, 0, tok, sizeof tok, &m, &s));
    OK(sessile_engine_write(e, s.handle, payload, sizeof payload - 1, 0));
    /* The scan sees them while the engine lives, so it can tell when they are gone. */
    CHECK(contains(mem, size, payload, sizeof payload - 1));
    CHECK(contains(mem, size, principal, sizeof principal - 1));

    OK(sessile_engine_deinit(e));
    CHECK(!contains(mem, size, payload, sizeof payload - 1));
    CHECK(!contains(mem, size, principal, sizeof principal - 1));
    /* Not even a fragment: no 8 consecutive payload bytes anywhere. */
    int fragments = 0;
    for (size_t i = 0; i + 8 <= sizeof payload - 1; i++) fragments += contains(mem, size, payload + i, 8);
    CHECK(fragments == 0);
    free(mem);
}

int main(void) {
    fork_draws_fresh_tokens();
    deinit_wipes_session_data();
    return check_done("memory");
}
