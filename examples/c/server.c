/* The sessile demo login server in C, over POSIX sockets and libsessile only, following
 * the contract in tests/e2e/README.md: GET /, POST /login, GET /profile, POST /logout,
 * POST /logout-everywhere, GET /sessions. One request per connection. The engine is used
 * from one thread, so connections are multiplexed by one poll() loop: an idle or slow
 * client (a browser's spare connection, a slowloris) never delays another.
 *
 * Build and run: make demo DEMO=c [PORT=8080]. PORT=0 picks a free port; the line
 * "listening on 127.0.0.1:<port>" on stdout names it.
 *
 * Sessions live in this process, or with SESSILE_STORE=<redis:// or unix:// URL> (and
 * SESSILE_STORE_KEY=<64 hex digits>, SESSILE_STORE_PREFIX=<prefix>, optional) in a Redis
 * or Valkey server shared by every process running this demo: see docs/deploy-c.md. When
 * that store cannot answer, a request that needs it gets 503 and a short text, never a
 * session it could not check. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sessile.h"

enum { MAX_HEAD = 32 * 1024, MAX_BODY = 8 * 1024, MAX_COOKIE = 17 * 1024 };
/* Connections open at once, and how long one has to send its request (from accept) or to
 * take its response: past that it is closed, so held connections cannot pin slots. */
enum { MAX_CONNS = 64, DEADLINE_MS = 5000 };

typedef struct {
    char method[16];
    char path[256];
    char cookie[MAX_COOKIE]; /* all Cookie headers joined with "; " */
    size_t cookie_len;
    int has_cookie;
    char user_agent[512];
    size_t user_agent_len;
    char body[MAX_BODY + 1];
    size_t body_len;
    char ip[INET_ADDRSTRLEN];
} request;

typedef struct {
    int status;
    char set_cookie[SESSILE_SET_COOKIE_BUFFER];
    char body[512];
} response;

static const char *USERS[][2] = {{"admin", "admin"}, {"alice", "alice"}, {"bob", "bob"}};

/* Monotonic ms, for this server's own connection deadlines (the engine's clock is
 * sessile_engine_now_ms: wall-clock ms over a shared store). */
static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Tests only (tests/e2e/README.md): milliseconds added to the engine's clock, read from
 * the file SESSILE_CLOCK_OFFSET_FILE names at each request, so a test moves time on
 * without waiting. */
static uint64_t clock_offset_ms(void) {
    const char *path = getenv("SESSILE_CLOCK_OFFSET_FILE");
    FILE *f = path && *path ? fopen(path, "r") : NULL;
    unsigned long long ms = 0;
    if (f) {
        if (fscanf(f, "%llu", &ms) != 1) ms = 0;
        fclose(f);
    }
    return (uint64_t)ms;
}

static uint32_t env_u32(const char *name, uint32_t fallback) {
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    return (errno || *end || x > UINT32_MAX) ? fallback : (uint32_t)x;
}

enum { INCOMPLETE = -1 };

/* Parse the `have` bytes received so far into `req` (zeroed by the caller). Returns 0,
 * INCOMPLETE while more bytes are needed, or the HTTP status to answer with. Works on a
 * copy, because parsing cuts the text up and an incomplete request is parsed again. */
static int parse_request(const char *data, size_t have, request *req) {
    static char buf[MAX_HEAD + MAX_BODY + 1];
    memcpy(buf, data, have);
    buf[have] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (!end) return have >= MAX_HEAD ? 431 : INCOMPLETE;
    size_t head_len = (size_t)(end - buf) + 4;
    if (head_len > MAX_HEAD) return 431;
    *end = 0;
    char *line = buf, *next = strstr(line, "\r\n");
    if (next) *next = 0;
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || sp1 == line || (size_t)(sp1 - line) >= sizeof req->method ||
        (size_t)(sp2 - sp1 - 1) >= sizeof req->path)
        return 400;
    memcpy(req->method, line, (size_t)(sp1 - line));
    memcpy(req->path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    size_t content_length = 0;
    for (line = next ? next + 2 : NULL; line && *line; line = next ? next + 2 : NULL) {
        next = strstr(line, "\r\n");
        if (next) *next = 0;
        char *colon = strchr(line, ':');
        if (!colon) return 400;
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t vlen = strlen(v);
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
        if (strcasecmp(line, "cookie") == 0) {
            /* Several Cookie headers are joined as a browser would send one. */
            size_t extra = (req->has_cookie ? 2 : 0) + vlen;
            if (req->cookie_len + extra >= sizeof req->cookie) {
                req->cookie_len = sizeof req->cookie - 1; /* oversized: the engine refuses it */
                memset(req->cookie, 'x', req->cookie_len);
            } else {
                if (req->has_cookie) memcpy(req->cookie + req->cookie_len, "; ", 2);
                memcpy(req->cookie + req->cookie_len + extra - vlen, v, vlen);
                req->cookie_len += extra;
            }
            req->has_cookie = 1;
        } else if (strcasecmp(line, "user-agent") == 0) {
            req->user_agent_len = vlen < sizeof req->user_agent ? vlen : sizeof req->user_agent;
            memcpy(req->user_agent, v, req->user_agent_len);
        } else if (strcasecmp(line, "content-length") == 0) {
            char *e;
            errno = 0;
            unsigned long x = strtoul(v, &e, 10);
            if (errno || e == v || (*e && *e != ' ')) return 400;
            content_length = x;
        }
    }
    if (content_length > MAX_BODY) return 413;
    if (have - head_len < content_length) return INCOMPLETE;
    memcpy(req->body, buf + head_len, content_length);
    req->body_len = content_length;
    req->body[content_length] = 0;
    return 0;
}

/* The shared session store (Redis) could not answer: the request cannot be served. */
static int store_down(sessile_result rc) {
    return rc >= SESSILE_RESULT_STORE_UNAVAILABLE && rc <= SESSILE_RESULT_STORE_CONFIG;
}

enum { STORE_DOWN = -1 };

/* The session the request carries, if its cookie names a live one (1): its token is copied
 * to `token`. A dead session, an oversized Cookie header, or copies of the cookie naming
 * several live sessions (the engine then ends them all) count as no session (0). A store
 * that cannot answer is STORE_DOWN: not knowing is never "no session". */
static int current(sessile_engine *e, const request *req, uint64_t now, char *token, size_t *token_len,
                   sessile_session *s) {
    if (!req->has_cookie) return 0;
    const uint8_t *t = NULL;
    size_t n = 0;
    sessile_client client = {(const uint8_t *)req->ip, strlen(req->ip),
                             req->user_agent_len ? (const uint8_t *)req->user_agent : NULL, req->user_agent_len};
    sessile_result rc =
        sessile_engine_validate_cookie_header(e, (const uint8_t *)req->cookie, req->cookie_len, now, &client, &t, &n, s);
    if (store_down(rc)) return STORE_DOWN;
    if (rc != SESSILE_RESULT_OK || !t || n >= SESSILE_TOKEN_BUFFER) return 0;
    memcpy(token, t, n);
    token[n] = 0;
    *token_len = n;
    return 1;
}

/* Form field `name` of an urlencoded body, decoded into `out`. 0 if absent or malformed. */
static int form_field(const char *body, const char *name, char *out, size_t cap) {
    size_t nlen = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, nlen) != 0 || p[nlen] != '=') continue;
        const char *v = p + nlen + 1;
        size_t o = 0;
        for (; *v && *v != '&'; v++) {
            if (o + 1 >= cap) return 0;
            if (*v == '+') {
                out[o++] = ' ';
            } else if (*v == '%') {
                unsigned x;
                char hex[3] = {v[1], v[1] ? v[2] : 0, 0};
                char *e;
                if (!hex[0] || !hex[1]) return 0;
                x = (unsigned)strtoul(hex, &e, 16);
                if (*e) return 0;
                out[o++] = (char)x;
                v += 2;
            } else {
                out[o++] = *v;
            }
        }
        out[o] = 0;
        return 1;
    }
    return 0;
}

static void reply(response *r, int status, const char *body) {
    r->status = status;
    snprintf(r->body, sizeof r->body, "%s", body);
}

/* 503 for a store that cannot answer, else 1 when `rc` is OK and 0 otherwise. */
static int served(sessile_result rc, response *r) {
    if (store_down(rc)) {
        reply(r, 503, "session store unavailable\n");
        r->set_cookie[0] = 0;
        return 0;
    }
    return rc == SESSILE_RESULT_OK;
}

/* The Set-Cookie for `token`; 0 (and a 503) when the store cannot answer. */
static int set_cookie_for(sessile_engine *e, const char *token, size_t n, uint64_t handle, uint64_t now,
                          response *r) {
    size_t len;
    sessile_result rc =
        sessile_engine_set_cookie(e, (const uint8_t *)token, n, handle, now, r->set_cookie, sizeof r->set_cookie, &len);
    if (rc != SESSILE_RESULT_OK) r->set_cookie[0] = 0;
    return !store_down(rc) || served(rc, r);
}

static void handle(sessile_engine *e, const request *req, response *r) {
    uint64_t now = 0;
    sessile_engine_now_ms(e, &now);
    now += clock_offset_ms();
    char token[SESSILE_TOKEN_BUFFER];
    size_t token_len = 0;
    sessile_session s;
    int has = current(e, req, now, token, &token_len, &s);
    if (has == STORE_DOWN) {
        served(SESSILE_RESULT_STORE_UNAVAILABLE, r);
        return;
    }
    int authed = has && s.authenticated;
    const char *user = authed ? (const char *)s.principal : NULL;
    sessile_client client = {(const uint8_t *)req->ip, strlen(req->ip),
                             req->user_agent_len ? (const uint8_t *)req->user_agent : NULL, req->user_agent_len};
    const char *m = req->method, *p = req->path;
    char msg[300];

    if (strcmp(p, "/") == 0 && strcmp(m, "GET") == 0) {
        reply(r, 200, "sessile demo\n");
        if (!has) {
            char t[SESSILE_TOKEN_BUFFER];
            size_t n;
            sessile_session fresh;
            sessile_result rc = sessile_engine_create(e, now, &client, t, sizeof t, &n, &fresh);
            if (!served(rc, r)) {
                if (r->status != 503) {
                    snprintf(msg, sizeof msg, "%s\n", sessile_result_str(rc));
                    reply(r, 503, msg);
                }
                return;
            }
            set_cookie_for(e, t, n, fresh.handle, now, r);
        }
    } else if (strcmp(p, "/login") == 0 && strcmp(m, "POST") == 0) {
        char name[SESSILE_MAX_PRINCIPAL + 1], password[256];
        if (!form_field(req->body, "username", name, sizeof name) ||
            !form_field(req->body, "password", password, sizeof password)) {
            reply(r, 400, "username and password required\n");
            return;
        }
        int known = 0;
        for (size_t i = 0; i < sizeof USERS / sizeof USERS[0]; i++)
            known |= strcmp(USERS[i][0], name) == 0 && strcmp(USERS[i][1], password) == 0;
        if (!known) {
            reply(r, 401, "bad credentials\n");
            return;
        }
        /* Log the current session in (its ID rotates: fixation-proof), or start one. */
        sessile_result rc = SESSILE_RESULT_OK;
        if (!has) rc = sessile_engine_create(e, now, &client, token, sizeof token, &token_len, NULL);
        char fresh[SESSILE_TOKEN_BUFFER];
        size_t n = 0;
        if (rc == SESSILE_RESULT_OK)
            rc = sessile_engine_login(e, (const uint8_t *)token, token_len, (const uint8_t *)name, strlen(name), now,
                                      fresh, sizeof fresh, &n, &s);
        if (!served(rc, r)) {
            if (r->status != 503) {
                snprintf(msg, sizeof msg, "%s\n", sessile_result_str(rc));
                reply(r, 503, msg);
            }
            return;
        }
        if (!set_cookie_for(e, fresh, n, s.handle, now, r)) return;
        snprintf(msg, sizeof msg, "logged in as %s\n", name);
        reply(r, 200, msg);
    } else if (strcmp(p, "/profile") == 0 && strcmp(m, "GET") == 0) {
        if (!authed) {
            reply(r, 401, "not logged in\n");
            return;
        }
        snprintf(msg, sizeof msg, "profile of %s\n", user);
        reply(r, 200, msg);
    } else if (strcmp(p, "/logout") == 0 && strcmp(m, "POST") == 0) {
        /* A dead token was already looked up above, which reports its reuse as an event. */
        /* A logout the store did not take is not a logout: 503, and the cookie stays. */
        if (has && store_down(sessile_engine_logout(e, (const uint8_t *)token, token_len, now))) {
            served(SESSILE_RESULT_STORE_UNAVAILABLE, r);
            return;
        }
        size_t n;
        sessile_engine_clear_cookie(e, r->set_cookie, sizeof r->set_cookie, &n);
        reply(r, 200, "logged out\n");
    } else if (strcmp(p, "/logout-everywhere") == 0 && strcmp(m, "POST") == 0) {
        if (!authed) {
            reply(r, 401, "not logged in\n");
            return;
        }
        size_t count = 0, n;
        if (!served(sessile_engine_revoke_principal(e, s.principal, s.principal_len, now, &count), r)) {
            if (r->status != 503) reply(r, 503, "could not end the sessions\n");
            return;
        }
        sessile_engine_clear_cookie(e, r->set_cookie, sizeof r->set_cookie, &n);
        snprintf(msg, sizeof msg, "ended %zu sessions\n", count);
        reply(r, 200, msg);
    } else if (strcmp(p, "/sessions") == 0 && strcmp(m, "GET") == 0) {
        if (!authed) {
            reply(r, 401, "not logged in\n");
            return;
        }
        size_t count = 0;
        if (!served(sessile_engine_sessions_of(e, s.principal, s.principal_len, now, NULL, 0, &count), r)) {
            if (r->status != 503) reply(r, 503, "could not list the sessions\n");
            return;
        }
        snprintf(msg, sizeof msg, "{\"count\": %zu}\n", count);
        reply(r, 200, msg);
    } else if (!strcmp(p, "/") || !strcmp(p, "/login") || !strcmp(p, "/profile") || !strcmp(p, "/logout") ||
               !strcmp(p, "/logout-everywhere") || !strcmp(p, "/sessions")) {
        reply(r, 405, "method not allowed\n");
    } else {
        reply(r, 404, "not found\n");
    }
}

static const char *reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

/* One client connection: it reads its request into `in`, then writes `out` and closes. */
typedef struct {
    int fd; /* -1: free slot */
    uint64_t deadline;
    char ip[INET_ADDRSTRLEN];
    char in[MAX_HEAD + MAX_BODY];
    size_t have;
    char out[2048];
    size_t out_len, out_sent; /* out_len > 0: the response is being written */
} conn;

static conn conns[MAX_CONNS];

static void drop(conn *c) {
    close(c->fd);
    c->fd = -1;
}

/* Write what the socket takes now; poll() calls again on POLLOUT for the rest. */
static void flush(conn *c) {
    while (c->out_sent < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, 0);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (w <= 0) break;
        c->out_sent += (size_t)w;
    }
    drop(c);
}

/* Answer a complete request (status 0) or a refused one, and start writing the answer. */
static void respond(sessile_engine *e, conn *c, int status, const request *req) {
    static response r;
    memset(&r, 0, sizeof r);
    if (status) {
        reply(&r, status, "bad request\n");
    } else {
        handle(e, req, &r);
    }
    sessile_event ev;
    while (sessile_engine_next_event(e, &ev) == SESSILE_RESULT_OK) {
        fprintf(stderr, "sessile-event %s session=%016" PRIx64 "\n", sessile_event_kind_str(ev.kind), ev.session);
    }
    int n = snprintf(c->out, sizeof c->out,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nVary: Cookie\r\nConnection: close\r\n%s%s%s\r\n%s",
                     r.status, reason(r.status), strlen(r.body), r.set_cookie[0] ? "Set-Cookie: " : "",
                     r.set_cookie, r.set_cookie[0] ? "\r\n" : "", r.body);
    if (n < 0 || (size_t)n >= sizeof c->out) { /* cannot happen with these sizes; never send a cut reply */
        drop(c);
        return;
    }
    c->out_len = (size_t)n;
    c->out_sent = 0;
    c->deadline = now_ms() + DEADLINE_MS; /* a fresh allowance for a client slow to read */
    flush(c);
}

/* The socket is readable: take what arrived and answer once the request is whole. */
static void on_readable(sessile_engine *e, conn *c) {
    static request req;
    ssize_t n = recv(c->fd, c->in + c->have, sizeof c->in - c->have, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n < 0) {
        drop(c);
        return;
    }
    if (n == 0) { /* the client stopped sending before the request was whole */
        respond(e, c, 400, NULL);
        return;
    }
    c->have += (size_t)n;
    memset(&req, 0, sizeof req);
    int status = parse_request(c->in, c->have, &req);
    if (status == INCOMPLETE) return; /* parse_request asks for more only while `in` has room */
    memcpy(req.ip, c->ip, sizeof req.ip);
    respond(e, c, status, &req);
}

/* Take a new connection. When every slot is in use, the connection nearest its deadline is
 * closed for it: a flood of idle connections then cannot lock real clients out. */
static void on_accept(int lfd) {
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = accept(lfd, (struct sockaddr *)&peer, &plen);
    if (fd < 0) return;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return;
    }
    conn *c = NULL;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        if (conns[i].fd < 0) {
            c = &conns[i];
            break;
        }
        if (!c || conns[i].deadline < c->deadline) c = &conns[i];
    }
    if (c->fd >= 0) drop(c);
    c->fd = fd;
    c->deadline = now_ms() + DEADLINE_MS;
    c->have = c->out_len = c->out_sent = 0;
    inet_ntop(AF_INET, &peer.sin_addr, c->ip, sizeof c->ip);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns so we can clean up */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    sessile_config c;
    sessile_config_default(&c);
    c.capacity = env_u32("SESSILE_CAPACITY", c.capacity);
    c.idle_timeout_ms = env_u32("SESSILE_IDLE_MS", c.idle_timeout_ms);
    c.absolute_timeout_ms = env_u32("SESSILE_ABSOLUTE_MS", c.absolute_timeout_ms);
    /* The store, by the names every binding takes (unset: this process's table). */
    const char *store_keys[3], *store_values[3];
    size_t stores = 0;
    const char *env[][2] = {
        {"SESSILE_STORE", "store"}, {"SESSILE_STORE_KEY", "store_key"}, {"SESSILE_STORE_PREFIX", "store_prefix"}};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(env[i][0]);
        if (v && *v) {
            store_keys[stores] = env[i][1];
            store_values[stores++] = v;
        }
    }
    sessile_engine *e = NULL;
    sessile_result rc = sessile_engine_open(&c, store_keys, store_values, stores, &e);
    if (rc != SESSILE_RESULT_OK) {
        fprintf(stderr, "cannot start engine: %s\n", sessile_result_str(rc));
        return 2;
    }
    uint32_t port = env_u32("PORT", 8080);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    /* Non-blocking: a connection reset between poll() and accept() must not block the loop. */
    if (port > 65535 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
        fprintf(stderr, "cannot listen on 127.0.0.1:%u: %s\n", port, strerror(errno));
        close(fd);
        sessile_engine_free(&e);
        return 1;
    }
    printf("listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
    fflush(stdout);

    /* pfd[0] is the listener, pfd[1 + i] is conns[i] (poll() skips a negative fd). */
    struct pollfd pfd[1 + MAX_CONNS];
    pfd[0].fd = fd;
    pfd[0].events = POLLIN;
    for (size_t i = 0; i < MAX_CONNS; i++) conns[i].fd = -1;
    while (!stop) {
        uint64_t now = now_ms();
        /* At most a second, so a signal landing just before poll() is still seen soon. */
        uint64_t wait = 1000;
        for (size_t i = 0; i < MAX_CONNS; i++) {
            conn *k = &conns[i];
            pfd[1 + i].fd = k->fd;
            pfd[1 + i].events = k->out_len ? POLLOUT : POLLIN;
            pfd[1 + i].revents = 0;
            uint64_t left = k->deadline > now ? k->deadline - now : 0;
            if (k->fd >= 0 && left < wait) wait = left;
        }
        if (poll(pfd, 1 + MAX_CONNS, (int)wait) < 0) continue; /* EINTR: check stop */
        for (size_t i = 0; i < MAX_CONNS; i++) {
            conn *k = &conns[i];
            if (k->fd < 0 || !pfd[1 + i].revents) continue;
            if (k->out_len) {
                flush(k);
            } else {
                on_readable(e, k);
            }
        }
        now = now_ms();
        for (size_t i = 0; i < MAX_CONNS; i++) {
            if (conns[i].fd >= 0 && now >= conns[i].deadline) drop(&conns[i]);
        }
        if (pfd[0].revents & POLLIN) on_accept(fd);
    }
    for (size_t i = 0; i < MAX_CONNS; i++) {
        if (conns[i].fd >= 0) drop(&conns[i]);
    }
    close(fd);
    sessile_engine_free(&e);
    return 0;
}
