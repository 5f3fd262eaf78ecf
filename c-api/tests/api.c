/* The C API end to end: configuration, both kinds of engine, every operation, events,
 * cookies, and bad calls of every kind (NULLs, short buffers, wrong sizes, double free). */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static const uint8_t SEED[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static void config_rules(void) {
    sessile_config c;
    OK(sessile_config_default(&c));
    CHECK(c.capacity == 10000 && c.token_bytes == 32);
    CHECK(strcmp(c.cookie_name, "__Host-sid") == 0 && strcmp(c.cookie_path, "/") == 0);
    CHECK(c.cookie_domain == NULL && c.cookie_secure && c.cookie_http_only);
    CHECK(c.cookie_same_site == SESSILE_SAME_SITE_LAX && c.cookie_persistent);
    OK(sessile_config_validate(&c));

    OK(sessile_config_profile(&c, SESSILE_PROFILE_AAL3));
    CHECK(c.idle_timeout_ms == 15u * 60 * 1000 && c.absolute_timeout_ms == 12u * 3600 * 1000);
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_config_profile(&c, 9));

    sessile_config d;
    sessile_config_default(&d);
    d.capacity = 0;
    EXPECT(SESSILE_RESULT_CONFIG_CAPACITY, sessile_config_validate(&d));
    CHECK(strcmp(sessile_result_str(sessile_config_validate(&d)), "capacity") == 0);
    sessile_config_default(&d);
    d.token_bytes = 8;
    EXPECT(SESSILE_RESULT_CONFIG_TOKEN_BYTES, sessile_config_validate(&d));
    sessile_config_default(&d);
    d.idle_timeout_ms = d.absolute_timeout_ms + 1;
    EXPECT(SESSILE_RESULT_CONFIG_IDLE_ABOVE_ABSOLUTE, sessile_config_validate(&d));
    sessile_config_default(&d);
    d.cookie_secure = false;
    EXPECT(SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_SECURE, sessile_config_validate(&d));
    CHECK(strcmp(sessile_result_str(SESSILE_RESULT_COOKIE_HOST_PREFIX_NEEDS_SECURE),
                 "cookie_host_prefix_needs_secure") == 0);
    sessile_config_default(&d);
    d.cookie_name = "bad name";
    EXPECT(SESSILE_RESULT_COOKIE_INVALID_NAME, sessile_config_validate(&d));
    d.cookie_name = "\xff\xfe";
    EXPECT(SESSILE_RESULT_COOKIE_INVALID_NAME, sessile_config_validate(&d));
    d.cookie_name = NULL;
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_config_validate(&d));
    sessile_config_default(&d);
    d.cookie_name = "__Host-sid";
    d.cookie_domain = "example.com";
    EXPECT(SESSILE_RESULT_COOKIE_HOST_PREFIX_FORBIDS_DOMAIN, sessile_config_validate(&d));
    sessile_config_default(&d);
    d.ip_policy = 77;
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_config_validate(&d));
    sessile_config_default(&d);
    d.cookie_same_site = 4;
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_config_validate(&d));

    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_config_default(NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_config_validate(NULL));
    CHECK(sessile_engine_size(NULL) == 0);
    d.capacity = 0;
    CHECK(sessile_engine_size(&d) == 0);
}

/* Options by name, as a config file would give them: the core's names and spellings. */
static void config_by_name(void) {
    sessile_config c;
    memset(&c, 0, sizeof c);
    OK(sessile_config_default(&c));
    OK(sessile_config_set(&c, "capacity", "500"));
    OK(sessile_config_set(&c, "profile", "aal3"));
    OK(sessile_config_set(&c, "cookie_same_site", "strict"));
    OK(sessile_config_set(&c, "principal_limit_policy", "refuse"));
    OK(sessile_config_set(&c, "cookie_secure", "true"));
    CHECK(c.capacity == 500 && c.idle_timeout_ms == 15u * 60 * 1000);
    CHECK(c.cookie_same_site == SESSILE_SAME_SITE_STRICT);
    CHECK(c.principal_limit_policy == SESSILE_PRINCIPAL_LIMIT_POLICY_REFUSE);
    static const char name[] = "__Secure-sid";
    OK(sessile_config_set(&c, "cookie_name", name));
    OK(sessile_config_set(&c, "cookie_domain", "example.com"));
    CHECK(c.cookie_name == name && strcmp(c.cookie_domain, "example.com") == 0);
    OK(sessile_config_set(&c, "cookie_domain", NULL));
    CHECK(c.cookie_domain == NULL);
    OK(sessile_config_validate(&c));
    /* A bad value names its rule, and leaves the config as it was. */
    sessile_config before;
    memcpy(&before, &c, sizeof c); /* bytes, padding included: memcmp below */
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, sessile_config_set(&c, "capacity", "99999999999"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, sessile_config_set(&c, "capacity", "12x"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, sessile_config_set(&c, "ip_policy", "Enforce"));
    EXPECT(SESSILE_RESULT_CONFIG_BAD_VALUE, sessile_config_set(&c, "cookie_secure", "yes"));
    EXPECT(SESSILE_RESULT_CONFIG_UNKNOWN_KEY, sessile_config_set(&c, "capacty", "5"));
    EXPECT(SESSILE_RESULT_COOKIE_INVALID_NAME, sessile_config_set(&c, "cookie_name", "a b"));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_config_set(&c, NULL, "5"));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_config_set(NULL, "capacity", "5"));
    CHECK(memcmp(&before, &c, sizeof c) == 0);
    CHECK(strcmp(sessile_result_str(SESSILE_RESULT_CONFIG_BAD_VALUE), "bad_value") == 0);
}

static void strings(void) {
    CHECK(strcmp(sessile_version(), SESSILE_VERSION) == 0);
    CHECK(strcmp(sessile_result_str(SESSILE_RESULT_OK), "ok") == 0);
    CHECK(strcmp(sessile_result_str(SESSILE_RESULT_EXPIRED_IDLE), "expired_idle") == 0);
    CHECK(strcmp(sessile_result_str(9), "unknown_result") == 0);
    CHECK(strcmp(sessile_result_str(UINT32_MAX), "unknown_result") == 0);
    CHECK(strcmp(sessile_event_kind_str(SESSILE_EVENT_REUSE_AFTER_LOGOUT), "reuse_after_logout") == 0);
    CHECK(strcmp(sessile_event_kind_str(1000), "unknown_event") == 0);
}

/* The request seam: one load (cookie header -> session and payload), one save that never
 * lands on a session re-keyed or ended since the load. */
static void request_seam(sessile_engine *e) {
    char tok[SESSILE_TOKEN_BUFFER], tok2[SESSILE_TOKEN_BUFFER], header[128];
    size_t n = 0, n2 = 0, len = 0;
    sessile_session s, loaded;
    uint32_t saved = 99;
    const uint64_t T = (uint64_t)1 << 40; /* after every time the other tests use */
    OK(sessile_engine_create(e, T + 0, NULL, tok, sizeof tok, &n, &s));
    OK(sessile_engine_save(e, s.handle, s.epoch, S("{\"n\":1}"), T + 0, &saved));
    CHECK(saved == SESSILE_SAVED_WRITTEN);
    OK(sessile_engine_save(e, s.handle, s.epoch, S("{\"n\":1}"), T + 0, &saved));
    CHECK(saved == SESSILE_SAVED_UNCHANGED);

    snprintf(header, sizeof header, "a=b; __Host-sid=%s", tok);
    const uint8_t *t = NULL;
    size_t tlen = 0;
    uint8_t buf[64];
    OK(sessile_engine_load_cookie_header(e, (const uint8_t *)header, strlen(header), T + 1, NULL,
                                         &t, &tlen, &loaded, buf, sizeof buf, &len));
    CHECK(tlen == n && memcmp(t, tok, n) == 0);
    CHECK(len == 7 && memcmp(buf, "{\"n\":1}", 7) == 0);
    CHECK(loaded.last_seen_ms == T + 1);
    len = 99;
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL,
           sessile_engine_load_cookie_header(e, (const uint8_t *)header, strlen(header), T + 1, NULL,
                                             &t, &tlen, &loaded, buf, 3, &len));
    CHECK(len == 99);
    OK(sessile_engine_load_cookie_header(e, S("a=b"), T + 1, NULL, &t, &tlen, NULL, buf, sizeof buf, &len));
    CHECK(t == NULL && tlen == 0 && len == 0);

    /* Another request logs in meanwhile: the first request's save is dropped. */
    OK(sessile_engine_login(e, (const uint8_t *)tok, n, S("carol"), T + 2, tok2, sizeof tok2, &n2, &s));
    OK(sessile_engine_save(e, s.handle, s.epoch, S("{\"user\":1}"), T + 2, &saved));
    OK(sessile_engine_save(e, loaded.handle, loaded.epoch, S("{\"n\":2}"), T + 3, &saved));
    CHECK(saved == SESSILE_SAVED_DROPPED);
    OK(sessile_engine_read(e, s.handle, T + 3, buf, sizeof buf, &len));
    CHECK(len == 10 && memcmp(buf, "{\"user\":1}", 10) == 0);
    /* After logout, a save resurrects nothing. */
    OK(sessile_engine_logout(e, (const uint8_t *)tok2, n2, T + 4));
    OK(sessile_engine_save(e, s.handle, s.epoch, S("{}"), T + 5, &saved));
    CHECK(saved == SESSILE_SAVED_DROPPED);
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_save(e, s.handle, s.epoch, S("{}"), T + 5, NULL));
}

/* The whole session life cycle, the same on either kind of engine. */
static void life_cycle(sessile_engine *e) {
    char tok[SESSILE_TOKEN_BUFFER], tok2[SESSILE_TOKEN_BUFFER];
    size_t n = 0, n2 = 0;
    sessile_session s;
    sessile_client client = {S("203.0.113.9"), S("curl/8")};

    OK(sessile_engine_create(e, 1000, &client, tok, sizeof tok, &n, &s));
    CHECK(n == 43 && strlen(tok) == 43);
    CHECK(!s.authenticated && s.created_ms == 1000 && s.principal_len == 0);
    uint64_t handle = s.handle;

    OK(sessile_engine_validate(e, (const uint8_t *)tok, n, 2000, &client, &s));
    CHECK(s.last_seen_ms == 2000);

    /* Payload round trip, and the bounds. */
    OK(sessile_engine_write(e, handle, S("{\"cart\":[1,2]}"), 2000));
    uint8_t buf[64];
    size_t len = 0;
    OK(sessile_engine_read(e, handle, 2000, buf, sizeof buf, &len));
    CHECK(len == 14 && memcmp(buf, "{\"cart\":[1,2]}", 14) == 0);
    len = 99;
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL, sessile_engine_read(e, handle, 2000, buf, 3, &len));
    CHECK(len == 99);

    /* Login rotates: the anonymous token dies (fixation), the data stays. */
    OK(sessile_engine_login(e, (const uint8_t *)tok, n, S("alice"), 3000, tok2, sizeof tok2, &n2, &s));
    CHECK(s.authenticated && s.principal_len == 5 && strcmp((const char *)s.principal, "alice") == 0);
    CHECK(s.payload_len == 14 && strcmp(tok, tok2) != 0);
    EXPECT(SESSILE_RESULT_ROTATED_OUT, sessile_engine_validate(e, (const uint8_t *)tok, n, 3001, NULL, NULL));
    OK(sessile_engine_validate(e, (const uint8_t *)tok2, n2, 3002, NULL, NULL));
    handle = s.handle;

    /* Set-Cookie for it: Max-Age is the rest of its absolute lifetime (8 h). */
    char cookie[SESSILE_SET_COOKIE_BUFFER];
    size_t clen = 0;
    OK(sessile_engine_set_cookie(e, (const uint8_t *)tok2, n2, handle, 3002, cookie, sizeof cookie, &clen));
    CHECK(strncmp(cookie, "__Host-sid=", 11) == 0 && strstr(cookie, tok2) != NULL);
    CHECK(strstr(cookie, "Max-Age=28800; HttpOnly; Secure; SameSite=Lax") != NULL);
    CHECK(clen == strlen(cookie));
    clen = 7;
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL, sessile_engine_set_cookie(e, (const uint8_t *)tok2, n2, handle, 3002, cookie, 10, &clen));
    CHECK(clen == 7);
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_engine_set_cookie(e, S("a;b"), handle, 3002, cookie, sizeof cookie, &clen));

    /* Finding the token in a Cookie header. */
    char header[200];
    snprintf(header, sizeof header, "theme=dark; __Host-sid=%s", tok2);
    const uint8_t *found = NULL;
    size_t flen = 0;
    OK(sessile_engine_token_from_cookie_header(e, (const uint8_t *)header, strlen(header), &found, &flen));
    CHECK(flen == n2 && memcmp(found, tok2, n2) == 0);
    OK(sessile_engine_token_from_cookie_header(e, S("theme=dark"), &found, &flen));
    CHECK(found == NULL && flen == 0);
    EXPECT(SESSILE_RESULT_COOKIE_DUPLICATE, sessile_engine_token_from_cookie_header(e, S("__Host-sid=a; __Host-sid=b"), &found, &flen));

    /* Rotation, listing, timeouts. */
    char tok3[SESSILE_TOKEN_BUFFER];
    size_t n3 = 0;
    OK(sessile_engine_rotate(e, (const uint8_t *)tok2, n2, 4000, tok3, sizeof tok3, &n3, NULL));
    EXPECT(SESSILE_RESULT_ROTATED_OUT, sessile_engine_validate(e, (const uint8_t *)tok2, n2, 4001, NULL, NULL));
    size_t count = 0;
    OK(sessile_engine_sessions_of(e, S("alice"), 4001, NULL, 0, &count));
    CHECK(count == 1);
    sessile_session list[2];
    OK(sessile_engine_sessions_of(e, S("alice"), 4001, list, 2, &count));
    CHECK(count == 1 && list[0].handle == handle);
    uint32_t idle = 5000;
    OK(sessile_engine_set_timeouts(e, handle, &idle, NULL, 4000, &s));
    CHECK(s.idle_timeout_ms == 5000 && s.idle_deadline_ms == s.last_seen_ms + 5000);
    uint64_t deadline = s.idle_deadline_ms;
    uint32_t zero = 0;
    EXPECT(SESSILE_RESULT_INVALID_TIMEOUT, sessile_engine_set_timeouts(e, handle, &zero, NULL, 4000, NULL));
    /* The override holds, and the session is dead exactly at its idle deadline. */
    OK(sessile_engine_session(e, handle, 4000, &s));
    CHECK(s.idle_deadline_ms == deadline);
    EXPECT(SESSILE_RESULT_EXPIRED_IDLE, sessile_engine_validate(e, (const uint8_t *)tok3, n3, deadline, NULL, NULL));
    EXPECT(SESSILE_RESULT_STALE_HANDLE, sessile_engine_session(e, handle, 4001, &s));

    /* Logout is server-side, and reuse is reported as an event. */
    OK(sessile_engine_create(e, 10000, NULL, tok, sizeof tok, &n, NULL));
    OK(sessile_engine_login(e, (const uint8_t *)tok, n, S("bob"), 10000, tok2, sizeof tok2, &n2, NULL));
    OK(sessile_engine_logout(e, (const uint8_t *)tok2, n2, 11000));
    EXPECT(SESSILE_RESULT_LOGGED_OUT, sessile_engine_validate(e, (const uint8_t *)tok2, n2, 12000, NULL, NULL));
    EXPECT(SESSILE_RESULT_MALFORMED, sessile_engine_validate(e, S("not a token"), 12000, NULL, NULL));

    /* Log out everywhere. */
    for (int i = 0; i < 3; i++) {
        OK(sessile_engine_create(e, 13000, NULL, tok, sizeof tok, &n, NULL));
        OK(sessile_engine_login(e, (const uint8_t *)tok, n, S("carol"), 13000, tok2, sizeof tok2, &n2, NULL));
    }
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL, sessile_engine_sessions_of(e, S("carol"), 13000, list, 2, &count));
    OK(sessile_engine_revoke_principal(e, S("carol"), 14000, &count));
    CHECK(count == 3);
    EXPECT(SESSILE_RESULT_REVOKED, sessile_engine_validate(e, (const uint8_t *)tok2, n2, 14001, NULL, NULL));

    /* Events, drained one at a time. */
    sessile_event ev;
    int created = 0, reuse_logout = 0, reuse_rotation = 0, total = 0;
    while (sessile_engine_next_event(e, &ev) == SESSILE_RESULT_OK) {
        total++;
        created += ev.kind == SESSILE_EVENT_CREATED;
        reuse_logout += ev.kind == SESSILE_EVENT_REUSE_AFTER_LOGOUT;
        reuse_rotation += ev.kind == SESSILE_EVENT_REUSE_AFTER_ROTATION;
        if (ev.kind == SESSILE_EVENT_REUSE_AFTER_LOGOUT) CHECK(ev.security_alert && ev.session != 0);
    }
    CHECK(created == 5 && reuse_logout == 1 && reuse_rotation >= 2 && total > 10);
    EXPECT(SESSILE_RESULT_NO_EVENT, sessile_engine_next_event(e, &ev));

    sessile_stats st;
    OK(sessile_engine_stats(e, &st));
    CHECK(st.created == 5 && st.live == 0 && st.revocations == 3 && st.events_pending == 0);

    /* The clock never runs backwards; revoke_all ends whatever is left. */
    uint64_t clock = 0;
    OK(sessile_engine_now(e, &clock));
    CHECK(clock == 14001);
    OK(sessile_engine_create(e, 100, NULL, tok, sizeof tok, &n, NULL));
    OK(sessile_engine_now(e, &clock));
    CHECK(clock == 14001);
    OK(sessile_engine_revoke_all(e, 14002, &count));
    CHECK(count == 1);
    EXPECT(SESSILE_RESULT_REVOKED, sessile_engine_validate(e, (const uint8_t *)tok, n, 14003, NULL, NULL));
    while (sessile_engine_next_event(e, &ev) == SESSILE_RESULT_OK) {
    }

    OK(sessile_engine_clear_cookie(e, cookie, sizeof cookie, &clen));
    CHECK(strstr(cookie, "__Host-sid=; Path=/; Max-Age=0") == cookie);
    OK(sessile_engine_sweep(e, 1u << 30, &count));
}

/* Every function refuses NULL where it needs a pointer, and short buffers change nothing. */
static void bad_calls(sessile_engine *e) {
    char tok[SESSILE_TOKEN_BUFFER];
    size_t n = 0;
    sessile_session s;
    sessile_event ev;
    sessile_stats st;
    sessile_config c;
    sessile_config_default(&c);
    const uint8_t *found;

    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_create(NULL, 0, NULL, tok, sizeof tok, &n, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_create(e, 0, NULL, NULL, sizeof tok, &n, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_create(e, 0, NULL, tok, sizeof tok, NULL, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_validate(e, NULL, 0, 0, NULL, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_validate(NULL, S("x"), 0, NULL, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_login(e, NULL, 0, S("a"), 0, tok, sizeof tok, &n, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_login(e, S("x"), NULL, 1, 0, tok, sizeof tok, &n, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_rotate(e, S("x"), 0, NULL, 0, &n, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_logout(e, NULL, 3, 0));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_revoke(NULL, 0, 0));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_revoke_principal(e, S("a"), 0, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_sessions_of(e, S("a"), 0, NULL, 4, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_sessions_of(e, S("a"), 0, NULL, 0, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_session(e, 0, 0, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_set_timeouts(NULL, 0, NULL, NULL, 0, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_write(e, 0, NULL, 0, 0));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_read(e, 0, 0, NULL, 0, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_sweep(e, 0, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_next_event(e, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_next_event(NULL, &ev));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_stats(e, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_stats(NULL, &st));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_set_cookie(e, NULL, 0, 0, 0, tok, sizeof tok, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_clear_cookie(e, NULL, 100, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_token_from_cookie_header(e, NULL, 0, &found, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_token_from_cookie_header(e, S("a=b"), NULL, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_reseed_with(e, NULL, 32));
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_engine_reseed_with(e, SEED, 31));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_reseed(NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_peek(e, NULL, 0, 0, &s));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_validate_cookie_header(e, NULL, 0, 0, NULL, &found, &n, &s));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_revoke_all(e, 0, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_now(e, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_cookie_set(NULL, S("v"), 1, tok, sizeof tok, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_cookie_set(&c, NULL, 0, 1, tok, sizeof tok, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_cookie_clear(&c, tok, sizeof tok, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_cookie_parse(S("a=b"), NULL, &found, &n));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_cookie_parse(NULL, 0, "a", &found, &n));

    /* A token buffer one byte short: refused before anything happens. */
    OK(sessile_engine_stats(e, &st));
    uint64_t created = st.created;
    n = 1234;
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL, sessile_engine_create(e, 0, NULL, tok, 43, &n, &s));
    CHECK(n == 1234);
    OK(sessile_engine_stats(e, &st));
    CHECK(st.created == created);

    /* Oversized input is a typed error. */
    static uint8_t big[20000];
    memset(big, 'a', sizeof big);
    EXPECT(SESSILE_RESULT_COOKIE_HEADER_TOO_LONG, sessile_engine_token_from_cookie_header(e, big, sizeof big, &found, &n));
    EXPECT(SESSILE_RESULT_INVALID_PRINCIPAL, sessile_engine_login(e, S("x"), big, 129, 0, tok, sizeof tok, &n, NULL));
    EXPECT(SESSILE_RESULT_STALE_HANDLE, sessile_engine_write(e, 0xdeadbeef, big, 10, 0));
}

/* Cookie text without an engine. */
static void cookies(void) {
    sessile_config c;
    sessile_config_default(&c);
    char out[SESSILE_SET_COOKIE_BUFFER];
    size_t len = 0;
    OK(sessile_cookie_set(&c, S("tok"), 60, out, sizeof out, &len));
    CHECK(strcmp(out, "__Host-sid=tok; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax") == 0);
    OK(sessile_cookie_set(&c, S("tok"), -1, out, sizeof out, &len));
    CHECK(strcmp(out, "__Host-sid=tok; Path=/; HttpOnly; Secure; SameSite=Lax") == 0 && len == strlen(out));
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_cookie_set(&c, S("a b"), 60, out, sizeof out, &len));
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL, sessile_cookie_set(&c, S("tok"), 60, out, 20, &len));
    c.cookie_name = "sid";
    c.cookie_secure = false;
    c.cookie_same_site = SESSILE_SAME_SITE_STRICT;
    OK(sessile_cookie_clear(&c, out, sizeof out, &len));
    CHECK(strcmp(out, "sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict") == 0);
    c.cookie_same_site = SESSILE_SAME_SITE_NONE;
    EXPECT(SESSILE_RESULT_COOKIE_SAME_SITE_NONE_NEEDS_SECURE, sessile_cookie_clear(&c, out, sizeof out, &len));
    const uint8_t *v = NULL;
    size_t vlen = 0;
    OK(sessile_cookie_parse(S("a=1; sid=xyz"), "sid", &v, &vlen));
    CHECK(vlen == 3 && memcmp(v, "xyz", 3) == 0);
    EXPECT(SESSILE_RESULT_COOKIE_DUPLICATE, sessile_cookie_parse(S("sid=1; sid=2"), "sid", &v, &vlen));
}

/* By handle, a session past its deadline at the engine's clock is expired, swept or not. */
static void lapsed_handles(void) {
    sessile_config c;
    sessile_config_default(&c);
    c.idle_timeout_ms = 1000;
    sessile_engine *e = NULL;
    OK(sessile_engine_new(&c, &e));
    char tok[SESSILE_TOKEN_BUFFER], tok2[SESSILE_TOKEN_BUFFER];
    size_t n = 0, n2 = 0, count = 9, len = 0;
    sessile_session a, b;
    OK(sessile_engine_create(e, 0, NULL, tok, sizeof tok, &n, NULL));
    OK(sessile_engine_login(e, (const uint8_t *)tok, n, S("ann"), 0, tok2, sizeof tok2, &n2, &a));
    OK(sessile_engine_create(e, 0, NULL, tok, sizeof tok, &n, &b));
    OK(sessile_engine_write(e, b.handle, S("kept"), 999));
    /* Another call moves the engine's clock to both idle deadlines; nothing is swept. */
    OK(sessile_engine_create(e, 1000, NULL, tok2, sizeof tok2, &n2, NULL));
    OK(sessile_engine_sessions_of(e, S("ann"), 1000, NULL, 0, &count));
    CHECK(count == 0);
    EXPECT(SESSILE_RESULT_EXPIRED_IDLE, sessile_engine_session(e, a.handle, 1000, &a));
    uint8_t out[16];
    EXPECT(SESSILE_RESULT_EXPIRED_IDLE, sessile_engine_read(e, b.handle, 1000, out, sizeof out, &len));
    CHECK(len == 0);
    EXPECT(SESSILE_RESULT_STALE_HANDLE, sessile_engine_write(e, b.handle, S("late"), 1000));
    EXPECT(SESSILE_RESULT_EXPIRED_IDLE, sessile_engine_validate(e, (const uint8_t *)tok, n, 1000, NULL, NULL));
    OK(sessile_engine_free(&e));
}

/* Run `test` on a fresh heap engine and on a fresh engine in caller memory. */
static void on_both_kinds(const sessile_config *c, void (*test)(sessile_engine *)) {
    sessile_engine *e = NULL;
    OK(sessile_engine_new_seeded(c, SEED, sizeof SEED, &e));
    if (e) test(e);
    OK(sessile_engine_free(&e));
    size_t size = sessile_engine_size(c);
    void *mem = malloc(size);
    OK(sessile_engine_init(mem, size, c, SEED, sizeof SEED, &e));
    if (e) {
        test(e);
        OK(sessile_engine_deinit(e));
    }
    free(mem);
}

/* sessile_engine_now_ms reads the clock an engine takes: for one whose sessions live in
 * this process, a monotonic clock (far below Unix ms), never going back, that its calls
 * accept. (Over a shared store it is Unix ms: c-api/tests/redis.c.) */
static void own_clock(sessile_engine *e) {
    uint64_t t0 = UINT64_MAX, t1 = 0;
    char tok[SESSILE_TOKEN_BUFFER];
    size_t n = 0;
    OK(sessile_engine_now_ms(e, &t0));
    OK(sessile_engine_create(e, t0, NULL, tok, sizeof tok, &n, NULL));
    OK(sessile_engine_now_ms(e, &t1));
    CHECK(t0 < 1000000000000ull && t1 >= t0);
    OK(sessile_engine_validate(e, (const uint8_t *)tok, n, t1, NULL, NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_now_ms(e, NULL));
}

static int drain(sessile_engine *e, sessile_event_kind kind) {
    sessile_event ev;
    int n = 0;
    while (sessile_engine_next_event(e, &ev) == SESSILE_RESULT_OK) n += ev.kind == kind;
    return n;
}

/* One call per request: find the session cookie and validate it, by the core's rule for
 * several copies; the token used points into the header; outputs only on success. */
static void cookie_header(sessile_engine *e) {
    char a[SESSILE_TOKEN_BUFFER], b[SESSILE_TOKEN_BUFFER], dead[SESSILE_TOKEN_BUFFER], header[300];
    size_t na, nb, nd;
    sessile_session s, before;
    OK(sessile_engine_create(e, 0, NULL, a, sizeof a, &na, NULL));
    OK(sessile_engine_create(e, 0, NULL, dead, sizeof dead, &nd, NULL));
    OK(sessile_engine_logout(e, (const uint8_t *)dead, nd, 0));

    const uint8_t *t = NULL;
    size_t tn = 0;
    sessile_client client = {S("203.0.113.9"), S("curl/8")};
    snprintf(header, sizeof header, "theme=dark; __Host-sid=%s", a);
    OK(sessile_engine_validate_cookie_header(e, (const uint8_t *)header, strlen(header), 100, &client, &t, &tn, &s));
    CHECK(t == (const uint8_t *)header + 23 && tn == na && memcmp(t, a, na) == 0);
    CHECK(s.last_seen_ms == 100 && !s.authenticated); /* validated: it counts as use */
    OK(sessile_engine_validate_cookie_header(e, (const uint8_t *)header, strlen(header), 150, NULL, &t, &tn, NULL));

    /* No session cookie: OK with no token, and no snapshot written. */
    memset(&before, 0x5a, sizeof before);
    memcpy(&s, &before, sizeof s);
    OK(sessile_engine_validate_cookie_header(e, S("theme=dark"), 200, NULL, &t, &tn, &s));
    CHECK(t == NULL && tn == 0 && memcmp(&s, &before, sizeof s) == 0);
    OK(sessile_engine_validate_cookie_header(e, S(""), 200, NULL, &t, &tn, &s));
    CHECK(t == NULL && tn == 0);

    /* A planted dead copy in front does not lock the user out: the live copy is used. */
    int at = snprintf(header, sizeof header, "__Host-sid=%s; __Host-sid=", dead);
    snprintf(header + at, sizeof header - (size_t)at, "%s", a);
    OK(sessile_engine_validate_cookie_header(e, (const uint8_t *)header, strlen(header), 300, NULL, &t, &tn, &s));
    CHECK(t == (const uint8_t *)header + at && tn == na);

    /* No live copy: the first copy's reason, and nothing written. */
    const uint8_t *const mark = (const uint8_t *)"mark";
    t = mark;
    tn = 77;
    memcpy(&s, &before, sizeof s);
    snprintf(header, sizeof header, "__Host-sid=%s; __Host-sid=planted", dead);
    EXPECT(SESSILE_RESULT_LOGGED_OUT,
           sessile_engine_validate_cookie_header(e, (const uint8_t *)header, strlen(header), 400, NULL, &t, &tn, &s));
    snprintf(header, sizeof header, "__Host-sid=planted; __Host-sid=%s", dead);
    EXPECT(SESSILE_RESULT_MALFORMED,
           sessile_engine_validate_cookie_header(e, (const uint8_t *)header, strlen(header), 400, NULL, &t, &tn, &s));
    CHECK(t == mark && tn == 77 && memcmp(&s, &before, sizeof s) == 0);
    CHECK(drain(e, SESSILE_EVENT_REUSE_AFTER_LOGOUT) == 1);

    /* Two live copies: which is the user's is unknown, so both sessions end. */
    OK(sessile_engine_create(e, 500, NULL, b, sizeof b, &nb, NULL));
    snprintf(header, sizeof header, "__Host-sid=%s; __Host-sid=%s", a, b);
    EXPECT(SESSILE_RESULT_COOKIE_DUPLICATE,
           sessile_engine_validate_cookie_header(e, (const uint8_t *)header, strlen(header), 600, NULL, &t, &tn, &s));
    CHECK(t == mark && tn == 77);
    EXPECT(SESSILE_RESULT_REVOKED, sessile_engine_validate(e, (const uint8_t *)a, na, 601, NULL, NULL));
    EXPECT(SESSILE_RESULT_REVOKED, sessile_engine_validate(e, (const uint8_t *)b, nb, 601, NULL, NULL));
    sessile_event ev;
    int dup = 0, revoked = 0;
    while (sessile_engine_next_event(e, &ev) == SESSILE_RESULT_OK) {
        if (ev.kind == SESSILE_EVENT_DUPLICATE_COOKIE) CHECK(ev.security_alert && ev.at_ms == 600);
        dup += ev.kind == SESSILE_EVENT_DUPLICATE_COOKIE;
        revoked += ev.kind == SESSILE_EVENT_REVOKED;
    }
    CHECK(dup == 2 && revoked == 2);
    CHECK(strcmp(sessile_event_kind_str(SESSILE_EVENT_DUPLICATE_COOKIE), "duplicate_cookie") == 0);

    static uint8_t big[20000];
    memset(big, 'a', sizeof big);
    EXPECT(SESSILE_RESULT_COOKIE_HEADER_TOO_LONG,
           sessile_engine_validate_cookie_header(e, big, sizeof big, 700, NULL, &t, &tn, &s));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_validate_cookie_header(NULL, S("a=b"), 0, NULL, &t, &tn, &s));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_validate_cookie_header(e, NULL, 0, 0, NULL, &t, &tn, &s));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_validate_cookie_header(e, S("a=b"), 0, NULL, NULL, &tn, &s));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_validate_cookie_header(e, S("a=b"), 0, NULL, &t, NULL, &s));
    CHECK(t == mark && tn == 77);
}

/* A peek reports without touching: no idle restart, no event, nothing ended, the engine's
 * clock where it was. */
static void peeking(sessile_engine *e) {
    char a[SESSILE_TOKEN_BUFFER], dead[SESSILE_TOKEN_BUFFER];
    size_t na, nd;
    sessile_session s;
    uint32_t idle = 1000;
    OK(sessile_engine_create(e, 0, NULL, a, sizeof a, &na, &s));
    OK(sessile_engine_set_timeouts(e, s.handle, &idle, NULL, 0, NULL));
    OK(sessile_engine_create(e, 0, NULL, dead, sizeof dead, &nd, NULL));
    OK(sessile_engine_logout(e, (const uint8_t *)dead, nd, 0));
    drain(e, SESSILE_EVENT_CREATED);

    OK(sessile_engine_peek(e, (const uint8_t *)a, na, 900, &s));
    CHECK(s.last_seen_ms == 0 && s.idle_deadline_ms == 1000);
    OK(sessile_engine_peek(e, (const uint8_t *)a, na, 900, NULL));
    /* At the deadline it reports expired, and ends nothing: a validation at an earlier
     * time still finds the session (the peek did not move the clock either). */
    EXPECT(SESSILE_RESULT_EXPIRED_IDLE, sessile_engine_peek(e, (const uint8_t *)a, na, 1000, &s));
    uint64_t clock = 0;
    OK(sessile_engine_now(e, &clock));
    CHECK(clock == 0);
    OK(sessile_engine_validate(e, (const uint8_t *)a, na, 999, NULL, &s));
    CHECK(s.last_seen_ms == 999);
    /* Dead and foreign tokens: their reason, and no reuse event. */
    EXPECT(SESSILE_RESULT_LOGGED_OUT, sessile_engine_peek(e, (const uint8_t *)dead, nd, 1000, &s));
    EXPECT(SESSILE_RESULT_MALFORMED, sessile_engine_peek(e, S("nope"), 1000, &s));
    sessile_event ev;
    EXPECT(SESSILE_RESULT_NO_EVENT, sessile_engine_next_event(e, &ev));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_peek(NULL, (const uint8_t *)a, na, 0, &s));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_peek(e, NULL, 0, 0, &s));
}

/* Three engines on one seed issue the same tokens until they are reseeded. */
static void reseeding(sessile_engine *e) {
    static const uint8_t OTHER[32] = {99, 98, 97};
    sessile_config c;
    sessile_config_default(&c);
    sessile_engine *twin = NULL, *same = NULL;
    OK(sessile_engine_new_seeded(&c, SEED, sizeof SEED, &twin));
    OK(sessile_engine_new_seeded(&c, SEED, sizeof SEED, &same));
    char x[SESSILE_TOKEN_BUFFER], y[SESSILE_TOKEN_BUFFER], z[SESSILE_TOKEN_BUFFER];
    size_t n;
    OK(sessile_engine_create(e, 0, NULL, x, sizeof x, &n, NULL));
    OK(sessile_engine_create(twin, 0, NULL, y, sizeof y, &n, NULL));
    OK(sessile_engine_create(same, 0, NULL, z, sizeof z, &n, NULL));
    CHECK(strcmp(x, y) == 0 && strcmp(x, z) == 0);

    /* The same given seed: the same new stream, off the old one. */
    OK(sessile_engine_reseed_with(e, OTHER, sizeof OTHER));
    OK(sessile_engine_reseed_with(same, OTHER, sizeof OTHER));
    OK(sessile_engine_create(e, 0, NULL, x, sizeof x, &n, NULL));
    OK(sessile_engine_create(twin, 0, NULL, y, sizeof y, &n, NULL));
    OK(sessile_engine_create(same, 0, NULL, z, sizeof z, &n, NULL));
    CHECK(strcmp(x, z) == 0 && strcmp(x, y) != 0);

    /* From the OS: a stream nobody shares (a restored clone leaves its original's). */
    OK(sessile_engine_reseed(e));
    OK(sessile_engine_create(e, 0, NULL, x, sizeof x, &n, NULL));
    OK(sessile_engine_create(same, 0, NULL, z, sizeof z, &n, NULL));
    CHECK(strlen(x) == 43 && strcmp(x, z) != 0);

    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_reseed(NULL));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_reseed_with(NULL, OTHER, 32));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_reseed_with(e, NULL, 32));
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_engine_reseed_with(e, OTHER, 31));
    OK(sessile_engine_free(&twin));
    OK(sessile_engine_free(&same));
}

static void heap_engine(void) {
    sessile_config c;
    sessile_config_default(&c);
    sessile_engine *e = NULL;
    OK(sessile_engine_new(&c, &e));
    CHECK(e != NULL);
    life_cycle(e);
    request_seam(e);
    bad_calls(e);
    /* A heap engine is not ended by deinit. */
    EXPECT(SESSILE_RESULT_WRONG_ENGINE_KIND, sessile_engine_deinit(e));
    OK(sessile_engine_free(&e));
    CHECK(e == NULL);
    OK(sessile_engine_free(&e)); /* double free through the same variable: harmless */
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_free(NULL));

    /* Bad construction arguments leave *out untouched. */
    sessile_engine *untouched = (sessile_engine *)&c;
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_new(NULL, &untouched));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_new(&c, NULL));
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_engine_new_seeded(&c, SEED, 16, &untouched));
    c.events = 0;
    EXPECT(SESSILE_RESULT_CONFIG_EVENTS, sessile_engine_new(&c, &untouched));
    CHECK(untouched == (sessile_engine *)&c);

    /* Same seed, same tokens: reproducible for vectors. */
    sessile_config_default(&c);
    sessile_engine *a = NULL, *b = NULL;
    OK(sessile_engine_new_seeded(&c, SEED, sizeof SEED, &a));
    OK(sessile_engine_new_seeded(&c, SEED, sizeof SEED, &b));
    char ta[SESSILE_TOKEN_BUFFER], tb[SESSILE_TOKEN_BUFFER];
    size_t na, nb;
    OK(sessile_engine_create(a, 0, NULL, ta, sizeof ta, &na, NULL));
    OK(sessile_engine_create(b, 0, NULL, tb, sizeof tb, &nb, NULL));
    CHECK(na == nb && strcmp(ta, tb) == 0);
    OK(sessile_engine_free(&a));
    OK(sessile_engine_free(&b));
}

static void placed_engine(void) {
    sessile_config c;
    sessile_config_default(&c);
    c.capacity = 64;
    c.pool_bytes = 8192;
    c.max_payload = 1024;
    c.token_bytes = 16;
    size_t size = sessile_engine_size(&c);
    CHECK(size > 0);
    /* Deliberately misaligned memory: the engine aligns itself inside it. */
    unsigned char *raw = malloc(size + 1);
    void *mem = raw + 1;
    sessile_engine *e = NULL;

    EXPECT(SESSILE_RESULT_STORAGE_SIZE, sessile_engine_init(mem, size - 1 - 8, &c, SEED, sizeof SEED, &e));
    EXPECT(SESSILE_RESULT_STORAGE_SIZE, sessile_engine_init(mem, 3, &c, SEED, sizeof SEED, &e));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_init(NULL, size, &c, SEED, sizeof SEED, &e));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_init(mem, size, &c, NULL, 32, &e));
    EXPECT(SESSILE_RESULT_INVALID_ARGUMENT, sessile_engine_init(mem, size, &c, SEED, 33, &e));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_init(mem, size, &c, SEED, sizeof SEED, NULL));
    CHECK(e == NULL);
    OK(sessile_engine_init(mem, size, &c, SEED, sizeof SEED, &e));
    CHECK((unsigned char *)e >= raw && (unsigned char *)e < raw + size + 1);

    /* token_bytes = 16: 22 characters; a 22-byte buffer (no room for the NUL) is short. */
    char tok[23];
    size_t n;
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL, sessile_engine_create(e, 0, NULL, tok, 22, &n, NULL));
    OK(sessile_engine_create(e, 0, NULL, tok, sizeof tok, &n, NULL));
    CHECK(n == 22);

    /* Payload bounds and a full table, in caller memory. */
    static uint8_t payload[1025];
    sessile_session s;
    OK(sessile_engine_validate(e, (const uint8_t *)tok, n, 1, NULL, &s));
    EXPECT(SESSILE_RESULT_PAYLOAD_TOO_LARGE, sessile_engine_write(e, s.handle, payload, 1025, 1));
    OK(sessile_engine_write(e, s.handle, payload, 1024, 1));
    char t2[23];
    int made = 1;
    for (int i = 0; i < 63; i++) {
        if (sessile_engine_create(e, 2, NULL, t2, sizeof t2, &n, NULL) == SESSILE_RESULT_OK) made++;
    }
    CHECK(made == 64);
    sessile_stats st;
    OK(sessile_engine_stats(e, &st));
    CHECK(st.live == 64 && st.capacity == 64);

    OK(sessile_engine_deinit(e));
    EXPECT(SESSILE_RESULT_NOT_AN_ENGINE, sessile_engine_deinit(e));
    EXPECT(SESSILE_RESULT_NOT_AN_ENGINE, sessile_engine_create(e, 0, NULL, tok, sizeof tok, &n, NULL));
    free(raw);

    /* The life cycle on a default-sized engine in caller memory. */
    sessile_config_default(&c);
    size = sessile_engine_size(&c);
    raw = malloc(size);
    OK(sessile_engine_init(raw, size, &c, SEED, sizeof SEED, &e));
    sessile_engine *as_heap = e;
    EXPECT(SESSILE_RESULT_WRONG_ENGINE_KIND, sessile_engine_free(&as_heap));
    CHECK(as_heap == e);
    life_cycle(e);
    request_seam(e);
    bad_calls(e);
    OK(sessile_engine_deinit(e));
    free(raw);
}

/* Snapshot and restore across a restart whose clock starts again at 0: the logged-in
 * session, its principal and payload come back, dead tokens stay dead; a changed byte, a
 * cut, a wrong key, a stale or future file is refused by name and the engine stays
 * empty. */
static void snapshots(void) {
    uint8_t key[SESSILE_SNAPSHOT_KEY_BYTES], other[SESSILE_SNAPSHOT_KEY_BYTES];
    memset(key, 0x42, sizeof key);
    memset(other, 0x43, sizeof other);
    const uint64_t WALL = 1796000000000ULL, MAX_AGE = SESSILE_SNAPSHOT_DEFAULT_MAX_AGE_MS;
    sessile_config c;
    sessile_config_default(&c);
    c.capacity = 64;
    c.pool_bytes = 8192;
    c.max_payload = 1024;
    sessile_engine *old = NULL, *e = NULL;
    OK(sessile_engine_new(&c, &old));
    char anon[SESSILE_TOKEN_BUFFER], live[SESSILE_TOKEN_BUFFER], dead[SESSILE_TOKEN_BUFFER];
    size_t na = 0, nl = 0, nd = 0, size = 0, len = 0;
    sessile_session s;
    OK(sessile_engine_create(old, 1000000, NULL, anon, sizeof anon, &na, NULL));
    OK(sessile_engine_login(old, (const uint8_t *)anon, na, S("alice"), 1000001, live, sizeof live, &nl, &s));
    OK(sessile_engine_write(old, s.handle, S("{\"cart\":3}"), 1000002));
    OK(sessile_engine_create(old, 1000003, NULL, dead, sizeof dead, &nd, NULL));
    OK(sessile_engine_logout(old, (const uint8_t *)dead, nd, 1000004));
    OK(sessile_engine_snapshot_size(old, &size));
    uint8_t *file = malloc(size);
    EXPECT(SESSILE_RESULT_BUFFER_TOO_SMALL,
           sessile_engine_snapshot(old, key, sizeof key, 1000005, WALL, file, size - 1, &len));
    EXPECT(SESSILE_RESULT_SNAPSHOT_KEY, sessile_engine_snapshot(old, key, 16, 1000005, WALL, file, size, &len));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_snapshot(old, key, sizeof key, 1000005, WALL, NULL, size, &len));
    CHECK(len == 0);
    OK(sessile_engine_snapshot(old, key, sizeof key, 1000005, WALL, file, size, &len));
    CHECK(len == size);
    CHECK(memmem(file, len, "alice", 5) == NULL && memmem(file, len, "cart", 4) == NULL);
    OK(sessile_engine_free(&old));

    /* The next process, 5 s later, its monotonic clock at 0. */
    OK(sessile_engine_new(&c, &e));
    sessile_restored r = {99, 99, 99};
    file[size / 2] ^= 1;
    EXPECT(SESSILE_RESULT_SNAPSHOT_TAMPERED, sessile_engine_restore(e, file, size, key, sizeof key, 0, WALL + 5000, MAX_AGE, &r));
    file[size / 2] ^= 1;
    EXPECT(SESSILE_RESULT_SNAPSHOT_TRUNCATED, sessile_engine_restore(e, file, size - 1, key, sizeof key, 0, WALL + 5000, MAX_AGE, &r));
    EXPECT(SESSILE_RESULT_SNAPSHOT_WRONG_KEY, sessile_engine_restore(e, file, size, other, sizeof other, 0, WALL + 5000, MAX_AGE, &r));
    EXPECT(SESSILE_RESULT_SNAPSHOT_STALE, sessile_engine_restore(e, file, size, key, sizeof key, 0, WALL + MAX_AGE + 1, MAX_AGE, &r));
    EXPECT(SESSILE_RESULT_SNAPSHOT_FUTURE, sessile_engine_restore(e, file, size, key, sizeof key, 0, WALL - 1, MAX_AGE, &r));
    EXPECT(SESSILE_RESULT_SNAPSHOT_UNRECOGNIZED, sessile_engine_restore(e, S("not a snapshot"), key, sizeof key, 0, WALL, MAX_AGE, &r));
    EXPECT(SESSILE_RESULT_NULL_ARGUMENT, sessile_engine_restore(e, NULL, size, key, sizeof key, 0, WALL, MAX_AGE, &r));
    CHECK(r.sessions == 99 && r.expired == 99 && r.tombstones == 99);
    EXPECT(SESSILE_RESULT_UNKNOWN, sessile_engine_validate(e, (const uint8_t *)live, nl, 0, NULL, NULL));

    OK(sessile_engine_restore(e, file, size, key, sizeof key, 0, WALL + 5000, MAX_AGE, &r));
    CHECK(r.sessions == 1 && r.expired == 0 && r.tombstones == 2);
    OK(sessile_engine_validate(e, (const uint8_t *)live, nl, 0, NULL, &s));
    CHECK(s.authenticated && strcmp((const char *)s.principal, "alice") == 0);
    /* Logged in 5 004 ms before the new clock's zero: reads 0; the deadline is exact. */
    CHECK(s.created_ms == 0 && s.absolute_deadline_ms == c.absolute_timeout_ms - 5004);
    uint8_t out[32];
    OK(sessile_engine_read(e, s.handle, 1, out, sizeof out, &len));
    CHECK(len == 10 && memcmp(out, "{\"cart\":3}", 10) == 0);
    EXPECT(SESSILE_RESULT_ROTATED_OUT, sessile_engine_validate(e, (const uint8_t *)anon, na, 2, NULL, NULL));
    EXPECT(SESSILE_RESULT_LOGGED_OUT, sessile_engine_validate(e, (const uint8_t *)dead, nd, 2, NULL, NULL));
    EXPECT(SESSILE_RESULT_SNAPSHOT_NOT_EMPTY, sessile_engine_restore(e, file, size, key, sizeof key, 3, WALL + 5000, MAX_AGE, NULL));
    OK(sessile_engine_free(&e));
    free(file);
}

int main(void) {
    config_rules();
    config_by_name();
    strings();
    cookies();
    heap_engine();
    lapsed_handles();
    placed_engine();
    sessile_config c;
    sessile_config_default(&c);
    on_both_kinds(&c, cookie_header);
    on_both_kinds(&c, peeking);
    on_both_kinds(&c, reseeding);
    on_both_kinds(&c, own_clock);
    snapshots();
    return check_done("api");
}
