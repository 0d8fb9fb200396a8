#ifndef NETCACHE_CARCHIVE_SHIM_H
#define NETCACHE_CARCHIVE_SHIM_H

#include <archive.h>
#include <archive_entry.h>

#endif
