/* The threading rule: a heap engine is shared by any number of threads at once; an engine
 * in caller memory is used by one thread at a time (here: behind the caller's mutex). And
 * a forked child never issues its parent's tokens. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 8, ROUNDS = 300 };

typedef struct {
    sessile_engine *engine;
    pthread_mutex_t *lock; /* NULL for the heap engine: it locks itself */
    int id;
    int failures;
    char tokens[ROUNDS][SESSILE_TOKEN_BUFFER];
} worker;

static void *work(void *arg) {
    worker *w = arg;
    char user[16];
    snprintf(user, sizeof user, "user%d", w->id);
    for (int i = 0; i < ROUNDS; i++) {
        char anon[SESSILE_TOKEN_BUFFER];
        size_t n = 0, m = 0;
        sessile_session s;
        uint64_t now = (uint64_t)i;
        if (w->lock) pthread_mutex_lock(w->lock);
        int ok = sessile_engine_create(w->engine, now, NULL, anon, sizeof anon, &n, NULL) == SESSILE_RESULT_OK
              && sessile_engine_login(w->engine, (const uint8_t *)anon, n, (const uint8_t *)user, strlen(user), now,
                                      w->tokens[i], SESSILE_TOKEN_BUFFER, &m, &s) == SESSILE_RESULT_OK
              && sessile_engine_validate(w->engine, (const uint8_t *)w->tokens[i], m, now, NULL, &s) == SESSILE_RESULT_OK
              && s.principal_len == strlen(user) && memcmp(s.principal, user, s.principal_len) == 0
              && sessile_engine_validate(w->engine, (const uint8_t *)anon, n, now, NULL, NULL) == SESSILE_RESULT_ROTATED_OUT;
        if (i % 2 == 0) {
            ok = ok && sessile_engine_logout(w->engine, (const uint8_t *)w->tokens[i], m, now) == SESSILE_RESULT_OK;
        }
        sessile_event ev;
        while (sessile_engine_next_event(w->engine, &ev) == SESSILE_RESULT_OK) {
        }
        if (w->lock) pthread_mutex_unlock(w->lock);
        if (!ok) w->failures++;
    }
    return NULL;
}

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

static void hammer(sessile_engine *e, pthread_mutex_t *lock) {
    static worker ws[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ws[t] = (worker){.engine = e, .lock = lock, .id = t};
        CHECK(pthread_create(&th[t], NULL, work, &ws[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(th[t], NULL) == 0);
    int failures = 0;
    static char all[THREADS * ROUNDS][SESSILE_TOKEN_BUFFER];
    for (int t = 0; t < THREADS; t++) {
        failures += ws[t].failures;
        memcpy(all[t * ROUNDS], ws[t].tokens, sizeof ws[t].tokens);
    }
    CHECK(failures == 0);
    /* Every token issued under contention is distinct. */
    qsort(all, THREADS * ROUNDS, SESSILE_TOKEN_BUFFER, cmp);
    int dup = 0;
    for (int i = 1; i < THREADS * ROUNDS; i++) dup += strcmp(all[i - 1], all[i]) == 0;
    CHECK(dup == 0);

    sessile_stats st;
    OK(sessile_engine_stats(e, &st));
    CHECK(st.created == THREADS * ROUNDS);
    CHECK(st.authenticated == THREADS * ROUNDS / 2 && st.anonymous == 0);
    for (int t = 0; t < THREADS; t++) {
        char user[16];
        size_t count = 0;
        snprintf(user, sizeof user, "user%d", t);
        if (lock) pthread_mutex_lock(lock);
        OK(sessile_engine_sessions_of(e, (const uint8_t *)user, strlen(user), 0, NULL, 0, &count));
        if (lock) pthread_mutex_unlock(lock);
        CHECK(count == ROUNDS / 2);
    }
}

static void fork_reseeds(sessile_engine *e) {
    int fd[2];
    CHECK(pipe(fd) == 0);
    char mine[SESSILE_TOKEN_BUFFER] = {0}, childs[SESSILE_TOKEN_BUFFER] = {0};
    size_t n;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        int ok = sessile_engine_create(e, 0, NULL, childs, sizeof childs, &n, NULL) == SESSILE_RESULT_OK;
        ssize_t w = ok ? write(fd[1], childs, sizeof childs) : -1;
        /* The child owns its copy of the engine: free it (valgrind checks the child too). */
        sessile_engine *copy = e;
        ok = ok && sessile_engine_free(&copy) == SESSILE_RESULT_OK;
        _exit(ok && w == (ssize_t)sizeof childs ? 0 : 1);
    }
    close(fd[1]);
    OK(sessile_engine_create(e, 0, NULL, mine, sizeof mine, &n, NULL));
    CHECK(read(fd[0], childs, sizeof childs) == (ssize_t)sizeof childs);
    close(fd[0]);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strlen(childs) == 43 && strcmp(mine, childs) != 0);
}

int main(void) {
    sessile_config c;
    OK(sessile_config_default(&c));
    /* Room to remember every dead token of the run, so each rotated-out token must be
     * reported as ROTATED_OUT (the ring forgetting old ones is tested by the core). */
    c.tombstones = 4 * THREADS * ROUNDS;
    /* Each user keeps ROUNDS / 2 sessions: above the default cap of 10 per principal. */
    c.max_sessions_per_principal = 0;

    /* Heap engine: shared by all threads, no lock of ours. Same seed as below would make
     * a forked child repeat its parent's tokens, had the engine not reseeded. */
    static const uint8_t seed[32] = {7};
    sessile_engine *heap = NULL;
    OK(sessile_engine_new_seeded(&c, seed, sizeof seed, &heap));
    hammer(heap, NULL);
    fork_reseeds(heap);
    OK(sessile_engine_free(&heap));

    /* Engine in caller memory: one thread at a time, behind our mutex. */
    size_t size = sessile_engine_size(&c);
    void *mem = malloc(size);
    sessile_engine *placed = NULL;
    OK(sessile_engine_init(mem, size, &c, seed, sizeof seed, &placed));
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    hammer(placed, &lock);
    OK(sessile_engine_deinit(placed));
    free(mem);
    return check_done("threads");
}
