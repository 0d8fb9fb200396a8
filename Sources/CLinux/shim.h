#ifndef NETCACHE_CLINUX_SHIM_H
#define NETCACHE_CLINUX_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/statvfs.h>

/* renameat2 is a GNU extension Swift's Glibc module does not show. RENAME_NOREPLACE moves
   a directory into place only if nothing is there: a plain rename silently replaces an
   empty directory. */
static inline int netcache_rename_noreplace(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

/* syncfs is a GNU extension too: it flushes one file system, not every one. */
static inline int netcache_syncfs(int descriptor) {
    return syncfs(descriptor);
}

#endif
