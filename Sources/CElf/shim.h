#ifndef NETCACHE_CELF_SHIM_H
#define NETCACHE_CELF_SHIM_H

#include <libelf.h>
#include <gelf.h>

#endif
