/* Stable messages for the error codes the library promises (wattprof.h). */
#include "wattprof.h"

#include <errno.h>
#include <stdlib.h>

struct error_entry {
    int code;
    const char *message;
};

#define ERROR_ENTRY(e, msg) { e, msg },
static const struct error_entry errors[] = { WATTPROF_ERRORS(ERROR_ENTRY) };
#undef ERROR_ENTRY

WATTPROF_API const char *wattprof_strerror(int code)
{
    int e = code < 0 ? -code : code;
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (errors[i].code == e)
            return errors[i].message;
    return "unknown error";
}

WATTPROF_API const char *wattprof_version(void)
{
    return WATTPROF_VERSION;
}

WATTPROF_API void wattprof_free(void *p)
{
    free(p);
}
