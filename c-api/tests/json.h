/* A small JSON reader for the conformance vectors (libc only): parses a whole document
 * into a tree; strings keep their exact bytes (\u escapes become UTF-8). */
#ifndef SESSILE_TEST_JSON_H
#define SESSILE_TEST_JSON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct json {
    jtype type;
    int boolean;
    int is_int;
    int64_t integer;
    double number;
    char *str; /* J_STR: NUL-terminated copy, `len` bytes (may hold NULs) */
    size_t len;
    struct json *items; /* J_ARR and J_OBJ: `n` values */
    char **keys;        /* J_OBJ: `n` keys */
    size_t n;
} json;

typedef struct {
    const char *p, *end;
    int err;
} jparser;

static void j_ws(jparser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

static int j_hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static char *j_string(jparser *ps, size_t *len) {
    ps->p++; /* opening quote */
    size_t cap = 16, n = 0;
    char *out = malloc(cap);
    while (ps->p < ps->end && *ps->p != '"') {
        if (n + 5 >= cap) out = realloc(out, cap *= 2);
        char c = *ps->p++;
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        if (ps->p >= ps->end) break;
        c = *ps->p++;
        switch (c) {
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'u': {
            unsigned cp;
            if (ps->end - ps->p < 4 || !j_hex4(ps->p, &cp)) goto bad;
            ps->p += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned lo;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || !j_hex4(ps->p + 2, &lo)) goto bad;
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp < 0x80) {
                out[n++] = (char)cp;
            } else if (cp < 0x800) {
                out[n++] = (char)(0xc0 | (cp >> 6));
                out[n++] = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                out[n++] = (char)(0xe0 | (cp >> 12));
                out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[n++] = (char)(0x80 | (cp & 0x3f));
            } else {
                out[n++] = (char)(0xf0 | (cp >> 18));
                out[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[n++] = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default: out[n++] = c; /* \" \\ \/ */
        }
    }
    if (ps->p >= ps->end) goto bad;
    ps->p++; /* closing quote */
    out[n] = 0;
    *len = n;
    return out;
bad:
    ps->err = 1;
    out[n] = 0;
    *len = n;
    return out;
}

static void j_value(jparser *ps, json *v);

static void j_push(json *v, size_t *cap) {
    if (v->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        v->items = realloc(v->items, *cap * sizeof *v->items);
        if (v->type == J_OBJ) v->keys = realloc(v->keys, *cap * sizeof *v->keys);
    }
}

static void j_value(jparser *ps, json *v) {
    memset(v, 0, sizeof *v);
    j_ws(ps);
    if (ps->p >= ps->end) {
        ps->err = 1;
        return;
    }
    char c = *ps->p;
    if (c == '"') {
        v->type = J_STR;
        v->str = j_string(ps, &v->len);
    } else if (c == '{' || c == '[') {
        v->type = c == '{' ? J_OBJ : J_ARR;
        char close = c == '{' ? '}' : ']';
        size_t cap = 0;
        ps->p++;
        j_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return;
        }
        while (!ps->err) {
            j_push(v, &cap);
            if (v->type == J_OBJ) {
                j_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"') {
                    ps->err = 1;
                    return;
                }
                size_t klen;
                v->keys[v->n] = j_string(ps, &klen);
                j_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') {
                    free(v->keys[v->n]);
                    ps->err = 1;
                    return;
                }
                ps->p++;
            }
            j_value(ps, &v->items[v->n++]);
            j_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return;
            }
            ps->err = 1;
        }
    } else if (!strncmp(ps->p, "null", 4)) {
        v->type = J_NULL;
        ps->p += 4;
    } else if (!strncmp(ps->p, "true", 4)) {
        v->type = J_BOOL;
        v->boolean = 1;
        ps->p += 4;
    } else if (!strncmp(ps->p, "false", 5)) {
        v->type = J_BOOL;
        ps->p += 5;
    } else {
        char *end;
        v->type = J_NUM;
        v->number = strtod(ps->p, &end);
        if (end == ps->p) {
            ps->err = 1;
            return;
        }
        v->is_int = 1;
        for (const char *q = ps->p; q < end; q++) v->is_int &= *q != '.' && *q != 'e' && *q != 'E';
        if (v->is_int) v->integer = strtoll(ps->p, NULL, 10);
        ps->p = end;
    }
}

static void json_free(json *v) {
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

/* Parse a whole file; returns 0 on success. */
static int json_load(const char *path, json *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    jparser ps = {buf, buf + got, 0};
    j_value(&ps, out);
    j_ws(&ps);
    int bad = ps.err || ps.p != ps.end;
    free(buf);
    if (bad) json_free(out);
    return bad ? -1 : 0;
}

static json *jget(const json *obj, const char *key) {
    if (!obj || obj->type != J_OBJ) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return &obj->items[i];
    return NULL;
}

#endif
