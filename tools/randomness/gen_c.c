/* Print N session tokens from the C API (0 = until stdout closes), one per line.
 *   gen_c N
 * Built by mk/randomness.mk against libsessile.a and c-api/include/sessile.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "sessile.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s N   (N tokens; 0 = endless)\n", argv[0]);
        return 2;
    }
    unsigned long long n = strtoull(argv[1], NULL, 10);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is the normal end of an endless run */

    sessile_config config;
    sessile_result r = sessile_config_default(&config);
    if (r != SESSILE_RESULT_OK) {
        fprintf(stderr, "gen_c: config: %s\n", sessile_result_str(r));
        return 1;
    }
    config.capacity = 1024; /* most creates evict: constant memory */
    sessile_engine *engine = NULL;
    r = sessile_engine_new(&config, &engine);
    if (r != SESSILE_RESULT_OK) {
        fprintf(stderr, "gen_c: engine: %s\n", sessile_result_str(r));
        return 1;
    }
    char token[SESSILE_TOKEN_BUFFER + 1];
    int status = 0;
    for (unsigned long long i = 0; n == 0 || i < n; i++) {
        uint64_t now = 0;
        size_t len = 0;
        r = sessile_engine_now(engine, &now);
        if (r == SESSILE_RESULT_OK)
            r = sessile_engine_create(engine, now, NULL, token, SESSILE_TOKEN_BUFFER, &len, NULL);
        if (r != SESSILE_RESULT_OK) {
            fprintf(stderr, "gen_c: create: %s\n", sessile_result_str(r));
            status = 1;
            break;
        }
        token[len] = '\n';
        if (fwrite(token, 1, len + 1, stdout) != len + 1)
            break; /* EPIPE: the reader has what it needs */
    }
    if (fflush(stdout) != 0 && errno != EPIPE)
        status = 1;
    sessile_engine_free(&engine);
    return status;
}
