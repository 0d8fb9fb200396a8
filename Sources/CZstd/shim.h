#ifndef NETCACHE_CZSTD_SHIM_H
#define NETCACHE_CZSTD_SHIM_H

#include <zstd.h>

#endif
