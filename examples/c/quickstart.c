/* The C quickstart (docs/C-API.md); built and run by `make test-c` exactly as documented:
 *   cc quickstart.c $(pkg-config --cflags --libs sessile) -o quickstart */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sessile.h>

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(void) {
    sessile_config config;
    sessile_config_default(&config);
    config.idle_timeout_ms = 15 * 60 * 1000;

    sessile_engine *engine = NULL;
    sessile_result r = sessile_engine_new(&config, &engine);
    if (r != SESSILE_RESULT_OK) {
        fprintf(stderr, "engine: %s\n", sessile_result_str(r));
        return 1;
    }

    /* A visitor arrives: an anonymous session and its cookie. */
    char token[SESSILE_TOKEN_BUFFER];
    size_t token_len;
    sessile_session session;
    sessile_engine_create(engine, now_ms(), NULL, token, sizeof token, &token_len, &session);
    char cookie[SESSILE_SET_COOKIE_BUFFER];
    size_t cookie_len;
    sessile_engine_set_cookie(engine, (const uint8_t *)token, token_len, session.handle, now_ms(), cookie, sizeof cookie,
                              &cookie_len);
    printf("Set-Cookie: %.11s...\n", cookie);

    /* They log in: the token rotates, the old one is dead (no session fixation). */
    char fresh[SESSILE_TOKEN_BUFFER];
    size_t fresh_len;
    r = sessile_engine_login(engine, (const uint8_t *)token, token_len, (const uint8_t *)"alice", 5, now_ms(), fresh,
                             sizeof fresh, &fresh_len, &session);
    if (r != SESSILE_RESULT_OK) return 1;
    r = sessile_engine_validate(engine, (const uint8_t *)token, token_len, now_ms(), NULL, NULL);
    printf("old token: %s\n", sessile_result_str(r)); /* rotated_out */

    /* Next request: one call finds the session cookie in the Cookie header and validates it.
     * OK with presented == NULL means the request has no session cookie. */
    char header[128];
    snprintf(header, sizeof header, "theme=dark; __Host-sid=%s", fresh);
    const uint8_t *presented;
    size_t presented_len;
    if (sessile_engine_validate_cookie_header(engine, (const uint8_t *)header, strlen(header), now_ms(), NULL,
                                              &presented, &presented_len, &session) == SESSILE_RESULT_OK &&
        presented)
        printf("hello, %s\n", (const char *)session.principal);

    /* Security events, one at a time. */
    sessile_event event;
    while (sessile_engine_next_event(engine, &event) == SESSILE_RESULT_OK)
        printf("event: %s\n", sessile_event_kind_str(event.kind));

    sessile_engine_free(&engine); /* sets engine to NULL */
    return 0;
}
