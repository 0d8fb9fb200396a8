#ifndef NETCACHE_CLINUX_SHIM_H
#define NETCACHE_CLINUX_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/statvfs.h>

/* renameat2 is a GNU extension Swift's Glibc module does not show. RENAME_NOREPLACE moves
   a directory into place only if nothing is there: a plain rename silently replaces an
   empty directory. */
static inline int netcache_rename_noreplace(int from_directory, const char *from, const char *to) {
    return renameat2(from_directory, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

/* memmem is a GNU extension too: the relocation scan looks for software_root in files. */
static inline const void *netcache_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}

/* An unnamed file in a directory, on the same file system: O_TMPFILE is a macro built of
   two flags, which Swift does not import. */
static inline int netcache_open_unnamed(const char *directory) {
    return open(directory, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* The same, in a directory held by a descriptor: nothing is looked up by name. */
static inline int netcache_open_unnamed_at(int directory) {
    return openat(directory, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* O_PATH is a GNU flag too: a descriptor that only marks a directory to work relative
   to, opened without needing read permission on it. */
static const int netcache_o_path = O_PATH;

/* syncfs is a GNU extension too: it flushes one file system, not every one. */
static inline int netcache_syncfs(int descriptor) {
    return syncfs(descriptor);
}

#endif
