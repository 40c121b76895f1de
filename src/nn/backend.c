/* Choosing a backend by name, for command-line options (backend.h).
 *
 * The names are the ones the backends report in Backend.name, plus "ref"
 * as a short form of "reference". A build without oneDNN still knows the
 * name "dnnl", to say what is missing. */
#include "nn/backend.h"

#include "util/err.h"

#include <stddef.h>
#include <string.h>

const Backend *backend_by_name(const char *name) {
    if (name && (strcmp(name, "reference") == 0 || strcmp(name, "ref") == 0))
        return backend_reference();
    if (name && strcmp(name, "blas") == 0)
        return backend_blas();
    if (name && strcmp(name, "dnnl") == 0)
        return backend_dnnl();
    err_set(ERR_USAGE, "unknown backend \"%s\": expected reference, ref, blas or dnnl",
            name ? name : "(none)");
    return NULL;
}

const Backend *backend_default(void) {
#ifdef NOISETTE_HAVE_DNNL
    return backend_dnnl();
#else
    return backend_blas();
#endif
}

#ifndef NOISETTE_HAVE_DNNL
/* This build has no oneDNN: CMake did not find libdnnl-dev. */
const Backend *backend_dnnl(void) {
    err_set(ERR_USAGE, "backend \"dnnl\": this build has no oneDNN; install libdnnl-dev "
            "(scripts/install-deps.sh) and rebuild");
    return NULL;
}
#endif
