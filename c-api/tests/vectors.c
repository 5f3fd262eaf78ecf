/* The shared conformance vectors (the JSON files of tests/vectors, format in its README.md) driven
 * through the C API. Usage: vectors <dir>. Every file of the directory must be known here,
 * and every key of every vector understood, so that nothing is skipped silently. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <inttypes.h>

#include "check.h"
#include "json.h"

static char where[512]; /* the vector being run, for failure messages */

#define FAIL(...)                                            \
    do {                                                     \
        fprintf(stderr, "%s: ", where);                      \
        fprintf(stderr, __VA_ARGS__);                        \
        fputc('\n', stderr);                                 \
        check_failures++;                                    \
    } while (0)

/* Buffers made for one vector, freed after it. */
static void *scratch[256];
static size_t nscratch;
static void *scratch_alloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (nscratch < sizeof scratch / sizeof scratch[0]) scratch[nscratch++] = p;
    return p;
}
static void scratch_free(void) {
    while (nscratch) free(scratch[--nscratch]);
}

/* Refuse keys this driver does not understand: a typo must fail loudly. */
static void known_keys(const json *obj, const char *const *allowed) {
    if (!obj || obj->type != J_OBJ) return;
    for (size_t i = 0; i < obj->n; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) ok |= !strcmp(obj->keys[i], *a);
        if (!ok) FAIL("unknown key \"%s\"", obj->keys[i]);
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The byte string named `base` (base / base_repeat / base_hex), NUL-terminated in
 * scratch memory. 0 when absent (or JSON null). */
static int bytes_of(const json *obj, const char *base, const uint8_t **out, size_t *len) {
    char key[64];
    snprintf(key, sizeof key, "%s_hex", base);
    const json *hex = jget(obj, key);
    if (hex && hex->type == J_STR) {
        uint8_t *b = scratch_alloc(hex->len / 2 + 1);
        for (size_t i = 0; i + 1 < hex->len + 1 && 2 * i < hex->len; i++) {
            int hi = hexval(hex->str[2 * i]), lo = hexval(hex->str[2 * i + 1]);
            if (hi < 0 || lo < 0) FAIL("bad hex in %s", key);
            b[i] = (uint8_t)(hi << 4 | lo);
        }
        *out = b;
        *len = hex->len / 2;
        return 1;
    }
    const json *s = jget(obj, base);
    if (!s || s->type != J_STR) return 0;
    snprintf(key, sizeof key, "%s_repeat", base);
    const json *rep = jget(obj, key);
    size_t times = rep && rep->is_int ? (size_t)rep->integer : 1;
    uint8_t *b = scratch_alloc(s->len * times + 1);
    for (size_t i = 0; i < times; i++) memcpy(b + i * s->len, s->str, s->len);
    *out = b;
    *len = s->len * times;
    return 1;
}

static int str_is(const json *v, const char *s) { return v && v->type == J_STR && !strcmp(v->str, s); }

static int to_u32(const json *v, const char *name, uint64_t max, uint32_t *out) {
    if (!v || !v->is_int || v->integer < 0 || (uint64_t)v->integer > max) {
        FAIL("%s: not an integer in 0..%" PRIu64, name, max);
        return 0;
    }
    *out = (uint32_t)v->integer;
    return 1;
}

/* Apply a config object through sessile_config_set: every key is the core's vocabulary,
 * so this driver keeps no table of names or spellings. Returns the first refusal. */
static sessile_result apply_config(sessile_config *c, const json *cfg) {
    for (size_t i = 0; cfg && i < cfg->n; i++) {
        const json *v = &cfg->items[i];
        char num[32];
        const char *text = NULL;
        if (v->type == J_NUM && v->is_int) {
            snprintf(num, sizeof num, "%lld", (long long)v->integer);
            text = num;
        } else if (v->type == J_BOOL) {
            text = v->boolean ? "true" : "false";
        } else if (v->type == J_STR) {
            text = v->str;
        } else if (v->type != J_NULL) {
            FAIL("%s: not a config value", cfg->keys[i]);
            continue;
        }
        sessile_result r = sessile_config_set(c, cfg->keys[i], text);
        if (r != SESSILE_RESULT_OK) return r;
    }
    return SESSILE_RESULT_OK;
}

static int seed_of(const json *v, uint8_t seed[32]) {
    if (!v || v->type != J_STR || v->len != 64) {
        FAIL("seed_hex must be 64 hex digits");
        return 0;
    }
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(hexval(v->str[2 * i]) << 4 | hexval(v->str[2 * i + 1]));
    return 1;
}

static void expect_code(sessile_result r, const json *want, const char *op) {
    const char *w = want ? (want->type == J_STR ? want->str : "?") : "ok";
    if (strcmp(sessile_result_str(r), w) != 0) FAIL("%s returned %s, expected %s", op, sessile_result_str(r), w);
}

/* ---- config.json ---- */

static int same_text(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* Field by field: memcmp would read the struct's padding. */
static int same_config(const sessile_config *a, const sessile_config *b) {
    return a->capacity == b->capacity && a->pool_bytes == b->pool_bytes && a->max_payload == b->max_payload &&
           a->token_bytes == b->token_bytes && a->idle_timeout_ms == b->idle_timeout_ms &&
           a->absolute_timeout_ms == b->absolute_timeout_ms && a->max_idle_timeout_ms == b->max_idle_timeout_ms &&
           a->max_absolute_timeout_ms == b->max_absolute_timeout_ms && a->tombstones == b->tombstones &&
           a->events == b->events && a->max_sessions_per_principal == b->max_sessions_per_principal &&
           a->principal_limit_policy == b->principal_limit_policy && a->rotated_reuse == b->rotated_reuse &&
           a->ip_policy == b->ip_policy && a->user_agent_policy == b->user_agent_policy &&
           a->max_addresses == b->max_addresses && same_text(a->cookie_name, b->cookie_name) &&
           same_text(a->cookie_domain, b->cookie_domain) && same_text(a->cookie_path, b->cookie_path) &&
           a->cookie_secure == b->cookie_secure && a->cookie_http_only == b->cookie_http_only &&
           a->cookie_same_site == b->cookie_same_site && a->cookie_partitioned == b->cookie_partitioned &&
           a->cookie_priority == b->cookie_priority && a->cookie_persistent == b->cookie_persistent &&
           a->cookie_style == b->cookie_style;
}

static void config_file(const json *doc) {
    static const char *const top[] = {"description", "defaults", "profiles", "cases", NULL};
    known_keys(doc, top);
    sessile_config c;
    sessile_config_default(&c);
    const json *d = jget(doc, "defaults");
    snprintf(where, sizeof where, "config.json defaults");
    for (size_t i = 0; d && i < d->n; i++) {
        const char *k = d->keys[i];
        const json *v = &d->items[i];
        sessile_config want = c;
        json one = {.type = J_OBJ, .n = 1, .items = (json *)v, .keys = (char **)&d->keys[i]};
        OK(apply_config(&want, &one));
        if (!same_config(&want, &c)) FAIL("default of %s differs", k);
    }
    const json *p = jget(doc, "profiles");
    for (size_t i = 0; p && i < p->n; i++) {
        snprintf(where, sizeof where, "config.json profile %s", p->keys[i]);
        uint32_t profile = !strcmp(p->keys[i], "aal1") ? 1 : !strcmp(p->keys[i], "aal2") ? 2 : !strcmp(p->keys[i], "aal3") ? 3 : 0;
        OK(sessile_config_profile(&c, profile));
        uint32_t idle = 0, absolute = 0;
        to_u32(jget(&p->items[i], "idle_timeout_ms"), "idle_timeout_ms", UINT32_MAX, &idle);
        to_u32(jget(&p->items[i], "absolute_timeout_ms"), "absolute_timeout_ms", UINT32_MAX, &absolute);
        if (c.idle_timeout_ms != idle || c.absolute_timeout_ms != absolute) FAIL("timeouts differ");
    }
    const json *cases = jget(doc, "cases");
    static const char *const case_keys[] = {"name", "config", "error", NULL};
    for (size_t i = 0; cases && i < cases->n; i++) {
        const json *k = &cases->items[i];
        snprintf(where, sizeof where, "config.json case \"%s\"", jget(k, "name") ? jget(k, "name")->str : "?");
        known_keys(k, case_keys);
        sessile_config_default(&c);
        const json *err = jget(k, "error");
        const json *want_err = err && err->type == J_STR ? err : NULL;
        sessile_result r = apply_config(&c, jget(k, "config"));
        if (r != SESSILE_RESULT_OK) {
            /* Refused key by key: the rule's code, and nothing else to build. */
            expect_code(r, want_err, "sessile_config_set");
            scratch_free();
            continue;
        }
        r = sessile_config_validate(&c);
        expect_code(r, want_err, "validate");
        static const uint8_t seed[32] = {0};
        sessile_engine *e = NULL;
        r = sessile_engine_new_seeded(&c, seed, sizeof seed, &e);
        expect_code(r, want_err, "sessile_engine_new_seeded");
        if (e) sessile_engine_free(&e);
        /* The same config in caller memory. */
        size_t size = sessile_engine_size(&c);
        if ((size == 0) != (err && err->type == J_STR)) FAIL("sessile_engine_size gave %zu", size);
        if (size) {
            void *mem = malloc(size);
            OK(sessile_engine_init(mem, size, &c, seed, sizeof seed, &e));
            OK(sessile_engine_deinit(e));
            free(mem);
        }
        scratch_free();
    }
}

/* ---- cookies.json ---- */

static void cookies_file(const json *doc) {
    static const char *const top[] = {"description", "set_cookie", "clear_cookie", "parse", NULL};
    static const char *const set_keys[] = {"name", "config", "value", "value_repeat", "value_hex", "max_age_s", "expect", NULL};
    static const char *const parse_keys[] = {"name", "cookie_name", "header", "header_repeat", "header_hex", "expect", NULL};
    known_keys(doc, top);
    char out[SESSILE_SET_COOKIE_BUFFER];
    size_t len;
    for (int clear = 0; clear < 2; clear++) {
        const json *list = jget(doc, clear ? "clear_cookie" : "set_cookie");
        for (size_t i = 0; list && i < list->n; i++) {
            const json *k = &list->items[i];
            snprintf(where, sizeof where, "cookies.json %s \"%s\"", clear ? "clear_cookie" : "set_cookie",
                     jget(k, "name") ? jget(k, "name")->str : "?");
            known_keys(k, set_keys);
            sessile_config c;
            sessile_config_default(&c);
            sessile_result r = apply_config(&c, jget(k, "config"));
            if (r != SESSILE_RESULT_OK) {
                /* refused while setting: no cookie text */
            } else if (clear) {
                r = sessile_cookie_clear(&c, out, sizeof out, &len);
            } else {
                const uint8_t *v = (const uint8_t *)"";
                size_t vlen = 0;
                bytes_of(k, "value", &v, &vlen);
                const json *age = jget(k, "max_age_s");
                int64_t max_age = age && age->is_int ? age->integer : -1;
                r = sessile_cookie_set(&c, v, vlen, max_age, out, sizeof out, &len);
            }
            const json *want = jget(k, "expect");
            if (want && want->type == J_STR) {
                if (r != SESSILE_RESULT_OK) FAIL("returned %s", sessile_result_str(r));
                else if (len != want->len || strcmp(out, want->str)) FAIL("gave \"%s\", expected \"%s\"", out, want->str);
            } else if (r == SESSILE_RESULT_OK) {
                FAIL("gave \"%s\", expected a refusal", out);
            }
            scratch_free();
        }
    }
    const json *list = jget(doc, "parse");
    for (size_t i = 0; list && i < list->n; i++) {
        const json *k = &list->items[i];
        snprintf(where, sizeof where, "cookies.json parse \"%s\"", jget(k, "name") ? jget(k, "name")->str : "?");
        known_keys(k, parse_keys);
        const uint8_t *h = (const uint8_t *)"";
        size_t hlen = 0;
        bytes_of(k, "header", &h, &hlen);
        const json *name = jget(k, "cookie_name");
        const uint8_t *val = NULL;
        size_t vlen = 0;
        sessile_result r = sessile_cookie_parse(h, hlen, name ? name->str : "", &val, &vlen);
        const json *want = jget(k, "expect");
        const json *err = jget(want, "error");
        if (err) {
            expect_code(r, err, "parse");
        } else if (r != SESSILE_RESULT_OK) {
            FAIL("parse returned %s", sessile_result_str(r));
        } else {
            const json *wv = jget(want, "value");
            if (!wv || wv->type == J_NULL) {
                if (val) FAIL("found a value, expected none");
            } else if (!val || vlen != wv->len || memcmp(val, wv->str, vlen)) {
                FAIL("value differs from \"%s\"", wv->str);
            }
        }
        scratch_free();
    }
}

/* ---- tokens.json ---- */

static void tokens_file(const json *doc) {
    static const char *const top[] = {"description", "engines", NULL};
    static const char *const eng_keys[] = {"name", "seed_hex", "config", "issued", "cases", NULL};
    static const char *const case_keys[] = {"name", "token", "token_repeat", "token_hex", "expect", NULL};
    known_keys(doc, top);
    const json *engines = jget(doc, "engines");
    for (size_t i = 0; engines && i < engines->n; i++) {
        const json *k = &engines->items[i];
        snprintf(where, sizeof where, "tokens.json engine \"%s\"", jget(k, "name") ? jget(k, "name")->str : "?");
        known_keys(k, eng_keys);
        sessile_config c;
        sessile_config_default(&c);
        OK(apply_config(&c, jget(k, "config")));
        uint8_t seed[32];
        sessile_engine *e = NULL;
        if (!seed_of(jget(k, "seed_hex"), seed)) continue;
        OK(sessile_engine_new_seeded(&c, seed, sizeof seed, &e));
        if (!e) continue;
        const json *issued = jget(k, "issued");
        for (size_t j = 0; issued && j < issued->n; j++) {
            char tok[SESSILE_TOKEN_BUFFER];
            size_t n = 0;
            OK(sessile_engine_create(e, 0, NULL, tok, sizeof tok, &n, NULL));
            if (n != issued->items[j].len || strcmp(tok, issued->items[j].str))
                FAIL("token %zu is %s, expected %s", j, tok, issued->items[j].str);
        }
        const json *cases = jget(k, "cases");
        for (size_t j = 0; cases && j < cases->n; j++) {
            const json *t = &cases->items[j];
            known_keys(t, case_keys);
            const uint8_t *b = (const uint8_t *)"";
            size_t n = 0;
            bytes_of(t, "token", &b, &n);
            sessile_result r = sessile_engine_validate(e, b, n, 1, NULL, NULL);
            char op[200];
            snprintf(op, sizeof op, "validate \"%s\"", jget(t, "name") ? jget(t, "name")->str : "?");
            expect_code(r, jget(t, "expect"), op);
            scratch_free();
        }
        for (size_t j = 0; issued && j < issued->n; j++)
            OK(sessile_engine_validate(e, (const uint8_t *)issued->items[j].str, issued->items[j].len, 2, NULL, NULL));
        sessile_engine_free(&e);
    }
}

/* ---- script.json ---- */

typedef struct {
    char name[32];
    char token[SESSILE_TOKEN_BUFFER];
    size_t len;
    uint64_t handle, tag;
} binding;

static binding binds[256];
static size_t nbinds;

static binding *bound(const json *v) {
    if (!v || v->type != J_STR) return NULL;
    for (size_t i = nbinds; i-- > 0;)
        if (!strcmp(binds[i].name, v->str)) return &binds[i];
    FAIL("unbound name %s", v->str);
    return NULL;
}

static void bind(const json *as, const char *token, size_t len, const sessile_session *s) {
    if (!as || as->type != J_STR || nbinds == sizeof binds / sizeof binds[0]) return;
    binding *b = &binds[nbinds++];
    snprintf(b->name, sizeof b->name, "%s", as->str);
    memcpy(b->token, token, len + 1);
    b->len = len;
    b->handle = s->handle;
    b->tag = s->tag;
}

static void check_fields(const json *fields, const sessile_session *s) {
    static const char *const keys[] = {"principal", "created_ms", "last_seen_ms", "idle_deadline_ms",
                                       "absolute_deadline_ms", "idle_timeout_ms", "absolute_timeout_ms",
                                       "payload_len", NULL};
    if (!fields) return;
    known_keys(fields, keys);
    struct { const char *k; uint64_t v; } nums[] = {
        {"created_ms", s->created_ms}, {"last_seen_ms", s->last_seen_ms}, {"idle_deadline_ms", s->idle_deadline_ms},
        {"absolute_deadline_ms", s->absolute_deadline_ms}, {"idle_timeout_ms", s->idle_timeout_ms},
        {"absolute_timeout_ms", s->absolute_timeout_ms}, {"payload_len", s->payload_len}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const json *v = jget(fields, nums[i].k);
        if (v && (!v->is_int || (uint64_t)v->integer != nums[i].v))
            FAIL("%s is %" PRIu64 ", expected %" PRId64, nums[i].k, nums[i].v, v->integer);
    }
    const json *p = jget(fields, "principal");
    if (p && p->type == J_NULL && s->authenticated) FAIL("principal is %s, expected none", (const char *)s->principal);
    if (p && p->type == J_STR &&
        (!s->authenticated || s->principal_len != p->len || memcmp(s->principal, p->str, p->len)))
        FAIL("principal differs from %s", p->str);
}

static void check_count(const json *step, size_t got) {
    const json *v = jget(step, "count");
    if (v && (!v->is_int || (uint64_t)v->integer != got)) FAIL("count is %zu, expected %" PRId64, got, v->integer);
}

/* The Cookie header of a validate_cookie step: the engine's cookie once per entry of
 * `cookies` (a bound name's token, or {"raw": text}), `name=<value>; name=<value>`. */
static const char *cookie_header(const json *cookies, const char *name, size_t *len) {
    size_t cap = 1;
    for (size_t i = 0; cookies && i < cookies->n; i++) cap += strlen(name) + 3 + SESSILE_TOKEN_BUFFER;
    for (size_t i = 0; cookies && i < cookies->n; i++) {
        const json *raw = jget(&cookies->items[i], "raw");
        if (raw && raw->type == J_STR) cap += raw->len;
    }
    char *h = scratch_alloc(cap);
    size_t at = 0;
    for (size_t i = 0; cookies && i < cookies->n; i++) {
        const json *c = &cookies->items[i];
        const char *value = NULL;
        if (c->type == J_STR) {
            binding *b = bound(c);
            value = b ? b->token : NULL;
        } else {
            static const char *const ckeys[] = {"raw", NULL};
            known_keys(c, ckeys);
            const json *raw = jget(c, "raw");
            value = raw && raw->type == J_STR ? raw->str : NULL;
        }
        if (!value) {
            FAIL("cookie %zu: neither a bound name nor {\"raw\": text}", i);
            continue;
        }
        at += (size_t)snprintf(h + at, cap - at, "%s%s=%s", at ? "; " : "", name, value);
    }
    *len = at;
    return h;
}

static void run_step(sessile_engine *e, const json *st, const char *cookie_name) {
    static const char *const keys[] = {"op", "now", "as", "expect", "token", "token_raw", "token_raw_repeat",
                                       "token_raw_hex", "session", "client", "fields", "principal",
                                       "principal_repeat", "principal_hex", "count", "sessions", "data",
                                       "data_repeat", "data_hex", "expect_data", "expect_data_repeat",
                                       "expect_data_hex", "idle_ms", "absolute_ms", "stats", "events",
                                       "cookies", "chosen", NULL};
    known_keys(st, keys);
    const json *opv = jget(st, "op");
    const char *op = opv && opv->type == J_STR ? opv->str : "?";
    const json *nowv = jget(st, "now");
    uint64_t now = nowv && nowv->is_int ? (uint64_t)nowv->integer : 0;
    const json *expect = jget(st, "expect");
    const json *cl = jget(st, "client");
    sessile_client client = {0};
    const uint8_t *b;
    size_t n;
    if (cl) {
        static const char *const ckeys[] = {"ip", "user_agent", NULL};
        known_keys(cl, ckeys);
        if (bytes_of(cl, "ip", &b, &n)) client.ip = b, client.ip_len = n;
        if (bytes_of(cl, "user_agent", &b, &n)) client.user_agent = b, client.user_agent_len = n;
    }
    const uint8_t *tok = (const uint8_t *)"";
    size_t tlen = 0;
    if (jget(st, "token")) {
        binding *t = bound(jget(st, "token"));
        if (t) tok = (const uint8_t *)t->token, tlen = t->len;
    } else {
        bytes_of(st, "token_raw", &tok, &tlen);
    }
    uint64_t handle = 0;
    if (jget(st, "session")) {
        binding *s = bound(jget(st, "session"));
        if (s) handle = s->handle;
    }
    const uint8_t *principal = (const uint8_t *)"";
    size_t plen = 0;
    bytes_of(st, "principal", &principal, &plen);
    char fresh[SESSILE_TOKEN_BUFFER];
    size_t flen = 0;
    size_t count = 0;
    sessile_session s;
    sessile_result r = SESSILE_RESULT_OK;
    const char *outcome = NULL; /* when the outcome is not a result code */

    if (!strcmp(op, "create")) {
        r = sessile_engine_create(e, now, cl ? &client : NULL, fresh, sizeof fresh, &flen, &s);
    } else if (!strcmp(op, "validate")) {
        r = sessile_engine_validate(e, tok, tlen, now, cl ? &client : NULL, &s);
    } else if (!strcmp(op, "peek")) {
        r = sessile_engine_peek(e, tok, tlen, now, &s);
    } else if (!strcmp(op, "validate_cookie")) {
        size_t hlen = 0;
        const char *header = cookie_header(jget(st, "cookies"), cookie_name, &hlen);
        const uint8_t *used = NULL;
        size_t ulen = 0;
        r = sessile_engine_validate_cookie_header(e, (const uint8_t *)header, hlen, now, cl ? &client : NULL, &used,
                                                  &ulen, &s);
        if (r == SESSILE_RESULT_OK && !used) {
            outcome = ulen == 0 ? "none" : "none with a length";
        } else if (r == SESSILE_RESULT_OK) {
            const json *chosen = jget(st, "chosen");
            binding *want = chosen ? bound(chosen) : NULL;
            if (!chosen) FAIL("no \"chosen\" for a session found");
            if ((const char *)used < header || (const char *)used + ulen > header + hlen)
                FAIL("the token used does not point into the header");
            else if (want && (ulen != want->len || memcmp(used, want->token, ulen)))
                FAIL("used %.*s, expected %s's token", (int)ulen, (const char *)used, want->name);
        }
    } else if (!strcmp(op, "login")) {
        r = sessile_engine_login(e, tok, tlen, principal, plen, now, fresh, sizeof fresh, &flen, &s);
    } else if (!strcmp(op, "rotate")) {
        r = sessile_engine_rotate(e, tok, tlen, now, fresh, sizeof fresh, &flen, &s);
    } else if (!strcmp(op, "logout")) {
        r = sessile_engine_logout(e, tok, tlen, now);
    } else if (!strcmp(op, "revoke")) {
        r = sessile_engine_revoke(e, handle, now);
    } else if (!strcmp(op, "revoke_principal")) {
        r = sessile_engine_revoke_principal(e, principal, plen, now, &count);
        if (r == SESSILE_RESULT_OK) check_count(st, count);
    } else if (!strcmp(op, "revoke_all")) {
        r = sessile_engine_revoke_all(e, now, &count);
        if (r == SESSILE_RESULT_OK) check_count(st, count);
    } else if (!strcmp(op, "sweep")) {
        r = sessile_engine_sweep(e, now, &count);
        if (r == SESSILE_RESULT_OK) check_count(st, count);
    } else if (!strcmp(op, "sessions_of")) {
        r = sessile_engine_sessions_of(e, principal, plen, now, NULL, 0, &count);
        sessile_session *list = scratch_alloc((count ? count : 1) * sizeof *list);
        if (r == SESSILE_RESULT_OK) r = sessile_engine_sessions_of(e, principal, plen, now, list, count, &count);
        const json *want = jget(st, "sessions");
        if (r == SESSILE_RESULT_OK && want) {
            if (want->n != count) FAIL("%zu sessions, expected %zu", count, want->n);
            for (size_t i = 0; i < want->n && i < count; i++) {
                binding *w = bound(&want->items[i]);
                if (w && w->handle != list[i].handle) FAIL("session %zu is not %s", i, want->items[i].str);
            }
        }
    } else if (!strcmp(op, "write")) {
        const uint8_t *data = (const uint8_t *)"";
        size_t dlen = 0;
        bytes_of(st, "data", &data, &dlen);
        r = sessile_engine_write(e, handle, data, dlen, now);
    } else if (!strcmp(op, "read")) {
        static uint8_t buf[1 << 20];
        size_t len = 0;
        r = sessile_engine_read(e, handle, now, buf, sizeof buf, &len);
        const uint8_t *want;
        size_t wlen;
        if (r == SESSILE_RESULT_OK && bytes_of(st, "expect_data", &want, &wlen) &&
            (len != wlen || memcmp(buf, want, len)))
            FAIL("read %zu bytes, expected %zu", len, wlen);
    } else if (!strcmp(op, "set_timeouts")) {
        const json *iv = jget(st, "idle_ms"), *av = jget(st, "absolute_ms");
        uint32_t idle = 0, absolute = 0;
        int has_idle = iv && iv->type != J_NULL && to_u32(iv, "idle_ms", UINT32_MAX, &idle);
        int has_abs = av && av->type != J_NULL && to_u32(av, "absolute_ms", UINT32_MAX, &absolute);
        r = sessile_engine_set_timeouts(e, handle, has_idle ? &idle : NULL, has_abs ? &absolute : NULL, now, &s);
    } else if (!strcmp(op, "stats")) {
        sessile_stats x;
        OK(sessile_engine_stats(e, &x));
        const json *want = jget(st, "stats");
        static const char *const skeys[] = {"capacity", "live", "anonymous", "authenticated", "pool_used_bytes",
                                            "pool_total_bytes", "created", "evictions", "expirations",
                                            "revocations", "tombstones", "events_pending", "events_dropped", NULL};
        known_keys(want, skeys);
        uint64_t got[] = {x.capacity, x.live, x.anonymous, x.authenticated, x.pool_used_bytes,
                          x.pool_total_bytes, x.created, x.evictions, x.expirations, x.revocations,
                          x.tombstones, x.events_pending, x.events_dropped};
        for (size_t i = 0; skeys[i]; i++) {
            const json *v = jget(want, skeys[i]);
            if (v && (!v->is_int || (uint64_t)v->integer != got[i]))
                FAIL("stats.%s is %" PRIu64 ", expected %" PRId64, skeys[i], got[i], v->integer);
        }
    } else if (!strcmp(op, "events")) {
        const json *want = jget(st, "events");
        sessile_event ev;
        size_t i = 0;
        while (sessile_engine_next_event(e, &ev) == SESSILE_RESULT_OK) {
            const char *kind = sessile_event_kind_str(ev.kind);
            if (!want || i >= want->n) {
                FAIL("unexpected event %s at %" PRIu64, kind, ev.at_ms);
                i++;
                continue;
            }
            const json *w = &want->items[i++];
            static const char *const ekeys[] = {"kind", "session", "at_ms", NULL};
            known_keys(w, ekeys);
            const json *wk = jget(w, "kind"), *ws = jget(w, "session"), *wa = jget(w, "at_ms");
            if (!str_is(wk, kind)) FAIL("event %zu is %s, expected %s", i - 1, kind, wk ? wk->str : "?");
            uint64_t tag = 0;
            if (ws && ws->type == J_STR) {
                binding *bb = bound(ws);
                tag = bb ? bb->tag : 1;
            }
            if (ev.session != tag) FAIL("event %zu (%s) names another session", i - 1, kind);
            if (wa && (!wa->is_int || (uint64_t)wa->integer != ev.at_ms))
                FAIL("event %zu (%s) at %" PRIu64 ", expected %" PRId64, i - 1, kind, ev.at_ms, wa->integer);
        }
        if (want && i < want->n) FAIL("%zu events, expected %zu", i, want->n);
    } else {
        FAIL("unknown op %s", op);
        return;
    }
    if (outcome) {
        const char *w = expect ? (expect->type == J_STR ? expect->str : "?") : "ok";
        if (strcmp(outcome, w)) FAIL("%s gave %s, expected %s", op, outcome, w);
        return;
    }
    expect_code(r, expect, op);
    if (r != SESSILE_RESULT_OK) return;
    if (!strcmp(op, "create") || !strcmp(op, "login") || !strcmp(op, "rotate")) bind(jget(st, "as"), fresh, flen, &s);
    if (!strcmp(op, "create") || !strcmp(op, "validate") || !strcmp(op, "login") || !strcmp(op, "rotate") ||
        !strcmp(op, "set_timeouts") || !strcmp(op, "peek") || !strcmp(op, "validate_cookie"))
        check_fields(jget(st, "fields"), &s);
}

static void script_file(const json *doc) {
    static const char *const top[] = {"description", "seed_hex", "base_config", "scripts", NULL};
    static const char *const skeys[] = {"name", "description", "config", "seed_hex", "steps", NULL};
    known_keys(doc, top);
    const json *scripts = jget(doc, "scripts");
    for (size_t i = 0; scripts && i < scripts->n; i++) {
        const json *sc = &scripts->items[i];
        const char *name = jget(sc, "name") ? jget(sc, "name")->str : "?";
        snprintf(where, sizeof where, "script.json \"%s\"", name);
        known_keys(sc, skeys);
        sessile_config c;
        sessile_config_default(&c);
        OK(apply_config(&c, jget(doc, "base_config")));
        OK(apply_config(&c, jget(sc, "config")));
        uint8_t seed[32];
        if (!seed_of(jget(sc, "seed_hex") ? jget(sc, "seed_hex") : jget(doc, "seed_hex"), seed)) continue;
        /* Alternate the two kinds of engine: heap for even scripts, caller memory for odd. */
        sessile_engine *e = NULL;
        void *mem = NULL;
        if (i % 2 == 0) {
            OK(sessile_engine_new_seeded(&c, seed, sizeof seed, &e));
        } else {
            size_t size = sessile_engine_size(&c);
            mem = malloc(size ? size : 1);
            OK(sessile_engine_init(mem, size, &c, seed, sizeof seed, &e));
        }
        if (!e) {
            free(mem);
            scratch_free();
            continue;
        }
        nbinds = 0;
        const json *steps = jget(sc, "steps");
        for (size_t j = 0; steps && j < steps->n; j++) {
            const json *op = jget(&steps->items[j], "op");
            snprintf(where, sizeof where, "script.json \"%s\" step %zu (%s)", name, j, op && op->str ? op->str : "?");
            run_step(e, &steps->items[j], c.cookie_name);
        }
        if (mem) {
            OK(sessile_engine_deinit(e));
            free(mem);
        } else {
            OK(sessile_engine_free(&e));
        }
        scratch_free();
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/vectors";
    struct { const char *file; void (*run)(const json *); int seen; } files[] = {
        {"config.json", config_file, 0},
        {"cookies.json", cookies_file, 0},
        {"tokens.json", tokens_file, 0},
        {"script.json", script_file, 0},
    };
    size_t nfiles = sizeof files / sizeof files[0];
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "vectors: cannot open %s\n", dir);
        return 1;
    }
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t l = strlen(ent->d_name);
        if (l < 5 || strcmp(ent->d_name + l - 5, ".json")) continue;
        size_t k = 0;
        while (k < nfiles && strcmp(files[k].file, ent->d_name)) k++;
        if (k == nfiles) {
            fprintf(stderr, "vectors: %s/%s has no driver here\n", dir, ent->d_name);
            check_failures++;
        }
    }
    closedir(d);
    for (size_t k = 0; k < nfiles; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, files[k].file);
        json doc;
        if (json_load(path, &doc) != 0) {
            fprintf(stderr, "vectors: cannot read or parse %s\n", path);
            check_failures++;
            continue;
        }
        int before = check_failures;
        files[k].run(&doc);
        json_free(&doc);
        printf("vectors: %s %s\n", files[k].file, check_failures == before ? "passed" : "FAILED");
    }
    return check_done("vectors");
}
