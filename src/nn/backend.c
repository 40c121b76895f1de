/* Choosing a backend by name, for command-line options (backend.h).
 *
 * The names are the ones the backends report in Backend.name, plus "ref"
 * as a short form of "reference". */
#include "nn/backend.h"

#include "util/err.h"

#include <stddef.h>
#include <string.h>

const Backend *backend_by_name(const char *name) {
    if (name && (strcmp(name, "reference") == 0 || strcmp(name, "ref") == 0))
        return backend_reference();
    if (name && strcmp(name, "blas") == 0)
        return backend_blas();
    err_set(ERR_USAGE, "unknown backend \"%s\": expected reference, ref or blas",
            name ? name : "(none)");
    return NULL;
}
