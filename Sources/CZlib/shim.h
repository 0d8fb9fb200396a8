#ifndef NETCACHE_CZLIB_SHIM_H
#define NETCACHE_CZLIB_SHIM_H

#include <zlib.h>

/* deflateInit2 is a macro, which Swift cannot call: a raw deflate stream (no zlib or gzip
   wrapper, 32 KiB window) at the given level. */
static inline int netcache_deflate_init_raw(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

#endif
