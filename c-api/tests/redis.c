/* The C API over a shared Redis/Valkey store (sessile_engine_open with a URL): options
 * checked by name, two engines over one server seeing each other's logins, logouts and
 * payloads, reuse reported, the clock rule, snapshot refused, a fork, and failure: a
 * hung server gives STORE_TIMEOUT and a stopped one STORE_UNAVAILABLE within the
 * configured timeouts, after which the same engines serve again once the server is back.
 *
 * It starts its own redis-server (from PATH; `make tools-redis` installs it) on a unix
 * socket in a temporary folder, with AOF on, and stops it; without redis-server it fails.
 * Usage: redis [ignored] */
#define _GNU_SOURCE /* mkdtemp, prctl */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static char dir[64] = "/tmp/sessile-c-redis-XXXXXX";
static char sock[96], url[128], log_path[96];
static pid_t server = -1;
/* 32 bytes as 64 hex digits: the deployment's store key (a test value). */
static const char KEY[] = "5e5511e05e5511e05e5511e05e5511e05e5511e05e5511e05e5511e05e5511e0";

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One PING over the socket: 1 when the server answers +PONG (it is up and done loading). */
static int ping(void) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    char buf[16] = {0};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "PING\r\n", 6) == 6 &&
             read(fd, buf, sizeof buf - 1) > 0 && strncmp(buf, "+PONG", 5) == 0;
    close(fd);
    return ok;
}

/* Start redis-server on `sock` (AOF on, fsync always: a restart keeps every write) and
 * wait until it answers. Exits the test when it cannot be started. */
static void start_server(void) {
    unlink(sock);
    server = fork();
    if (server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test, even if it crashes */
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
               "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
               "--loglevel", "warning", "--logfile", log_path, (char *)NULL);
        fprintf(stderr, "redis: cannot run redis-server (%s): `make tools-redis` installs it\n", strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 400 && !ping(); i++) {
        int status;
        if (waitpid(server, &status, WNOHANG) == server) {
            fprintf(stderr, "redis: redis-server exited before answering (log: %s)\n", log_path);
            exit(1);
        }
        usleep(25 * 1000);
    }
    if (!ping()) {
        fprintf(stderr, "redis: redis-server did not answer on %s\n", sock);
        exit(1);
    }
}

static void stop_server(void) {
    if (server > 0) {
        kill(server, SIGCONT);
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        server = -1;
    }
}

static void cleanup(void) {
    stop_server();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "redis: could not remove %s\n", dir);
}

/* An engine over the test server with `prefix` and short timeouts. */
static sessile_engine *open_shared(const char *prefix) {
    sessile_config c;
    OK(sessile_config_default(&c));
    const char *keys[] = {"store", "store_key", "store_prefix", "store_connect_timeout_ms",
                          "store_response_timeout_ms"};
    const char *values[] = {url, KEY, prefix, "200", "200"};
    sessile_engine *e = NULL;
    OK(sessile_engine_open(&c, keys, values, 5, &e));
    return e;
}

static uint64_t now_of(sessile_engine *e) {
    uint64_t t = 0;
    OK(sessile_engine_now_ms(e, &t));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_now_ms(e, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_now_ms(NULL, &t));
    return t;
}

/* Drain `e`'s events; 1 if one of kind `kind` was among them. */
static int saw(sessile_engine *e, sessile_event_kind kind) {
    sessile_event ev;
    int found = 0;
    while (sessile_engine_next_event(e, &ev) == SESSILE_RESULT_OK) found |= ev.kind == kind;
    return found;
}

/* Every bad way to ask for a store, each with its own code, nothing built. */
static void options(void) {
    sessile_config c;
    OK(sessile_config_default(&c));
    sessile_engine *e = NULL;
    const char *k1[] = {"store"}, *k2[] = {"store", "store_key"};
#define OPEN1(key, value) (k1[0] = (key), sessile_engine_open(&c, k1, (const char *[]){(value)}, 1, &e))
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_open(&c, NULL, NULL, 1, &e));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_open(&c, k1, NULL, 1, &e));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, OPEN1(NULL, "memory"));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_open(&c, NULL, NULL, 0, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_open(NULL, NULL, NULL, 0, &e));
    EXPECT(SESSILE_RESULT_CONFIG_UNKNOWN_KEY, OPEN1("stor", "memory"));
    EXPECT(SESSILE_RESULT_CONFIG_UNKNOWN_KEY, OPEN1("capacity", "10")); /* a config field */
    EXPECT(SESSILE_RESULT_CONFIG_UNKNOWN_KEY, OPEN1("\xff", "memory"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store", "localhost:6379"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store", "http://localhost"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store", ""));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store", "\xff"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store_response_timeout_ms", "0"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store_response_timeout_ms", "50ms"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store_prefix", "a{b}"));
    /* A URL needs a key; a store-only key needs a URL (never silently ignored). */
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store", url));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, OPEN1("store_key", KEY));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, sessile_engine_open(&c, k2, (const char *[]){url, "abc"}, 2, &e));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE,
           sessile_engine_open(&c, k2, (const char *[]){url, "zz5511e05e5511e05e5511e05e5511e05e5511e05e5511e05e5511e05e5511e0"}, 2, &e));
    /* The config's own rules still apply. */
    c.capacity = 0;
    EXPECT(SESSILE_RESULT_CONFIG_CAPACITY, sessile_engine_open(&c, k2, (const char *[]){url, KEY}, 2, &e));
    OK(sessile_config_default(&c));
    CHECK(e == NULL);
#undef OPEN1

    /* No store, or `memory`, or NULL values: this process's table, snapshots and all. */
    OK(sessile_engine_open(&c, NULL, NULL, 0, &e));
    size_t size = 0;
    OK(sessile_engine_snapshot_size(e, &size));
    CHECK(size > 0);
    uint64_t t = 0;
    OK(sessile_engine_now_ms(e, &t));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_now_ms(e, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_now_ms(NULL, &t));
    char tok[SESSILE_TOKEN_BUFFER];
    size_t n;
    OK(sessile_engine_create(e, 5, NULL, tok, sizeof tok, &n, NULL)); /* any monotonic clock */
    OK(sessile_engine_free(&e));
    const char *mk[] = {"store", "store_prefix"};
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, sessile_engine_open(&c, mk, (const char *[]){"memory", "x"}, 2, &e));
    OK(sessile_engine_open(&c, mk, (const char *[]){"memory", NULL}, 2, &e));
    OK(sessile_engine_snapshot_size(e, &size));
    OK(sessile_engine_free(&e));
}

/* Two engines over one server: what one does, the other sees. */
static void shared(void) {
    sessile_engine *a = open_shared("c-test"), *b = open_shared("c-test");
    if (!a || !b) return;
    uint64_t now = now_of(a);
    CHECK(now > 1000000000000ull); /* Unix ms, not a monotonic clock */
    char anon[SESSILE_TOKEN_BUFFER], tok[SESSILE_TOKEN_BUFFER], header[128];
    size_t an = 0, n = 0;
    sessile_session s;

    OK(sessile_engine_create(a, now, NULL, anon, sizeof anon, &an, &s));
    OK(sessile_engine_validate(b, (const uint8_t *)anon, an, now, NULL, &s));
    CHECK(!s.authenticated);
    OK(sessile_engine_login(b, (const uint8_t *)anon, an, S("alice"), now, tok, sizeof tok, &n, &s));
    CHECK(s.authenticated && s.principal_len == 5 && memcmp(s.principal, "alice", 5) == 0);
    /* The login rotated the token on b; a sees the old one dead and the new one live. */
    EXPECT(SESSILE_RESULT_ROTATED_OUT, sessile_engine_validate(a, (const uint8_t *)anon, an, now, NULL, NULL));
    CHECK(saw(a, SESSILE_EVENT_REUSE_AFTER_ROTATION));
    OK(sessile_engine_validate(a, (const uint8_t *)tok, n, now, NULL, &s));
    CHECK(s.authenticated && memcmp(s.principal, "alice", 5) == 0);

    /* A payload written through a is what b loads with the cookie; a save b prepared
     * before a's write is dropped (no lost update across processes). */
    OK(sessile_engine_write(a, s.handle, S("{\"n\":1}"), now));
    int hl = snprintf(header, sizeof header, "__Host-sid=%s", tok);
    const uint8_t *t = NULL;
    size_t tl = 0, plen = 0;
    uint8_t payload[64];
    sessile_session loaded, other;
    OK(sessile_engine_load_cookie_header(b, (const uint8_t *)header, (size_t)hl, now, NULL, &t, &tl, &loaded,
                                         payload, sizeof payload, &plen));
    CHECK(t && tl == n && plen == 7 && memcmp(payload, "{\"n\":1}", 7) == 0);
    OK(sessile_engine_load_cookie_header(a, (const uint8_t *)header, (size_t)hl, now, NULL, &t, &tl, &other,
                                         payload, sizeof payload, &plen));
    uint32_t saved = 99;
    OK(sessile_engine_save(a, other.handle, other.epoch, S("{\"n\":2}"), now, &saved));
    CHECK(saved == SESSILE_SAVED_WRITTEN);
    OK(sessile_engine_save(b, loaded.handle, loaded.epoch, S("{\"n\":3}"), now, &saved));
    CHECK(saved == SESSILE_SAVED_DROPPED);
    OK(sessile_engine_read(b, loaded.handle, now, payload, sizeof payload, &plen));
    CHECK(plen == 7 && memcmp(payload, "{\"n\":2}", 7) == 0);

    /* One list of alice's sessions for both. */
    char tok2[SESSILE_TOKEN_BUFFER];
    size_t n2 = 0, count = 0;
    OK(sessile_engine_create(b, now, NULL, anon, sizeof anon, &an, NULL));
    OK(sessile_engine_login(b, (const uint8_t *)anon, an, S("alice"), now, tok2, sizeof tok2, &n2, NULL));
    sessile_session list[4];
    OK(sessile_engine_sessions_of(a, S("alice"), now, list, 4, &count));
    CHECK(count == 2);
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL, sessile_engine_sessions_of(a, S("alice"), now, list, 1, &count));
    OK(sessile_engine_sessions_of(b, S("alice"), now, NULL, 0, &count));
    CHECK(count == 2);

    /* A logout on a is a logout on b, and b reports the reuse. */
    OK(sessile_engine_logout(a, (const uint8_t *)tok, n, now));
    EXPECT(SESSILE_RESULT_LOGGED_OUT, sessile_engine_validate(b, (const uint8_t *)tok, n, now, NULL, NULL));
    CHECK(saw(b, SESSILE_EVENT_REUSE_AFTER_LOGOUT));
    EXPECT(SESSILE_RESULT_LOGGED_OUT,
           sessile_engine_validate_cookie_header(b, (const uint8_t *)header, (size_t)hl, now, NULL, &t, &tl, NULL));
    /* "Log out everywhere" on b ends the session a sees. */
    OK(sessile_engine_validate(a, (const uint8_t *)tok2, n2, now, NULL, NULL));
    OK(sessile_engine_revoke_principal(b, S("alice"), now, &count));
    CHECK(count == 1);
    EXPECT(SESSILE_RESULT_REVOKED, sessile_engine_validate(a, (const uint8_t *)tok2, n2, now, NULL, NULL));

    /* The clock rule: a monotonic `now` is refused, never taken as a deadline. */
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_engine_create(a, mono_ms(), NULL, anon, sizeof anon, &an, NULL));
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_engine_sessions_of(a, S("alice"), 5, NULL, 0, &count));
    uint64_t latest = 0;
    OK(sessile_engine_now(a, &latest));
    CHECK(latest == now);
    /* The store keeps its sessions itself: no snapshot of it here. */
    size_t size = 0;
    uint8_t key[32] = {1}, buf[64];
    EXPECT(SESSILE_RESULT_SNAPSHOT_SHARED_STORE, sessile_engine_snapshot_size(a, &size));
    EXPECT(SESSILE_RESULT_SNAPSHOT_SHARED_STORE,
           sessile_engine_snapshot(a, key, sizeof key, now, now, buf, sizeof buf, &size));
    EXPECT(SESSILE_RESULT_SNAPSHOT_SHARED_STORE,
           sessile_engine_restore(a, buf, sizeof buf, key, sizeof key, now, now, 1000, NULL));
    /* Another prefix is another deployment: it does not know these tokens. */
    sessile_engine *c = open_shared("c-test-other");
    EXPECT(SESSILE_RESULT_UNKNOWN, sessile_engine_validate(c, (const uint8_t *)tok2, n2, now, NULL, NULL));
    OK(sessile_engine_free(&c));
    OK(sessile_engine_free(&a));
    OK(sessile_engine_free(&b));
    CHECK(a == NULL && b == NULL);
}

/* A parent uses the store, forks; the child validates, issues its own token and logs out
 * over its own connection, and the parent, still on its own, sees all of it. */
static void after_fork(void) {
    sessile_engine *e = open_shared("c-test-fork");
    uint64_t now = now_of(e);
    char tok[SESSILE_TOKEN_BUFFER], child_tok[SESSILE_TOKEN_BUFFER];
    size_t n = 0;
    OK(sessile_engine_create(e, now, NULL, tok, sizeof tok, &n, NULL));
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        size_t cn = 0;
        int ok = sessile_engine_validate(e, (const uint8_t *)tok, n, now, NULL, NULL) == SESSILE_RESULT_OK &&
                 sessile_engine_create(e, now, NULL, child_tok, sizeof child_tok, &cn, NULL) == SESSILE_RESULT_OK &&
                 sessile_engine_logout(e, (const uint8_t *)tok, n, now) == SESSILE_RESULT_OK &&
                 write(pipefd[1], child_tok, cn) == (ssize_t)cn;
        _exit(ok ? 0 : 1);
    }
    close(pipefd[1]);
    ssize_t cn = read(pipefd[0], child_tok, sizeof child_tok - 1);
    close(pipefd[0]);
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(cn > 0 && ((size_t)cn != n || memcmp(child_tok, tok, n) != 0));
    EXPECT(SESSILE_RESULT_LOGGED_OUT, sessile_engine_validate(e, (const uint8_t *)tok, n, now, NULL, NULL));
    if (cn > 0) OK(sessile_engine_validate(e, (const uint8_t *)child_tok, (size_t)cn, now, NULL, NULL));
    /* The parent issues tokens the child did not: its generator was reseeded there. */
    char next[SESSILE_TOKEN_BUFFER];
    size_t nn = 0;
    OK(sessile_engine_create(e, now, NULL, next, sizeof next, &nn, NULL));
    CHECK(cn <= 0 || (size_t)cn != nn || memcmp(next, child_tok, nn) != 0);
    OK(sessile_engine_free(&e));
}

/* The server hangs, then stops, then comes back: typed errors within the timeouts (200
 * ms here; the bound checked is loose, so a loaded machine does not fail it, while a call
 * that waits for the server would), and the same engines serve again. */
static void failure(void) {
    sessile_engine *a = open_shared("c-test-fail"), *b = open_shared("c-test-fail");
    uint64_t now = now_of(a);
    char tok[SESSILE_TOKEN_BUFFER];
    size_t n = 0;
    OK(sessile_engine_create(a, now, NULL, tok, sizeof tok, &n, NULL));
    OK(sessile_engine_validate(b, (const uint8_t *)tok, n, now, NULL, NULL));

    kill(server, SIGSTOP); /* up, but answering nothing */
    uint64_t t0 = mono_ms();
    EXPECT(SESSILE_RESULT_STORE_TIMEOUT, sessile_engine_validate(a, (const uint8_t *)tok, n, now_of(a), NULL, NULL));
    uint64_t waited = mono_ms() - t0;
    CHECK(waited >= 150 && waited < 5000);
    char other[SESSILE_TOKEN_BUFFER];
    size_t on = 0;
    sessile_result rc = sessile_engine_create(b, now_of(b), NULL, other, sizeof other, &on, NULL);
    CHECK(rc == SESSILE_RESULT_STORE_TIMEOUT);
    kill(server, SIGCONT);
    OK(sessile_engine_validate(a, (const uint8_t *)tok, n, now_of(a), NULL, NULL));
    OK(sessile_engine_validate(b, (const uint8_t *)tok, n, now_of(b), NULL, NULL));

    stop_server(); /* gone: every kind of call fails closed, at once */
    t0 = mono_ms();
    rc = sessile_engine_validate(a, (const uint8_t *)tok, n, now_of(a), NULL, NULL);
    CHECK(rc == SESSILE_RESULT_STORE_UNAVAILABLE);
    rc = sessile_engine_create(b, now_of(b), NULL, other, sizeof other, &on, NULL);
    CHECK(rc == SESSILE_RESULT_STORE_UNAVAILABLE);
    size_t count = 9;
    rc = sessile_engine_sessions_of(a, S("alice"), now_of(a), NULL, 0, &count);
    CHECK(rc == SESSILE_RESULT_STORE_UNAVAILABLE && count == 9);
    const uint8_t *t = NULL;
    size_t tl = 0;
    char header[128];
    int hl = snprintf(header, sizeof header, "__Host-sid=%s", tok);
    rc = sessile_engine_validate_cookie_header(a, (const uint8_t *)header, (size_t)hl, now_of(a), NULL, &t, &tl, NULL);
    CHECK(rc == SESSILE_RESULT_STORE_UNAVAILABLE);
    CHECK(mono_ms() - t0 < 5000);
    CHECK(strcmp(sessile_result_str(SESSILE_RESULT_STORE_UNAVAILABLE), "store_unavailable") == 0);

    start_server(); /* the same socket, the AOF of before */
    OK(sessile_engine_validate(a, (const uint8_t *)tok, n, now_of(a), NULL, NULL));
    OK(sessile_engine_logout(b, (const uint8_t *)tok, n, now_of(b)));
    EXPECT(SESSILE_RESULT_LOGGED_OUT, sessile_engine_validate(a, (const uint8_t *)tok, n, now_of(a), NULL, NULL));
    OK(sessile_engine_free(&a));
    OK(sessile_engine_free(&b));
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("redis: mkdtemp");
        return 1;
    }
    snprintf(sock, sizeof sock, "%s/redis.sock", dir);
    snprintf(url, sizeof url, "unix://%s", sock);
    snprintf(log_path, sizeof log_path, "%s/redis.log", dir);
    atexit(cleanup);
    start_server();
    options();
    shared();
    after_fork();
    failure();
    return check_done("redis");
}
