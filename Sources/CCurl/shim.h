#ifndef NETCACHE_CCURL_SHIM_H
#define NETCACHE_CCURL_SHIM_H

#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic: Swift reaches them through these
   typed wrappers, one per argument type. */

typedef size_t (*netcache_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode netcache_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode netcache_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode netcache_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode netcache_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode netcache_curl_setopt_callback(CURL *handle, CURLoption option, netcache_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

typedef int (*netcache_curl_progress_callback)(void *context, curl_off_t downloadTotal, curl_off_t downloaded, curl_off_t uploadTotal, curl_off_t uploaded);

static inline CURLcode netcache_curl_setopt_progress(CURL *handle, netcache_curl_progress_callback value) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}

static inline CURLcode netcache_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
