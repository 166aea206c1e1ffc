#ifndef CNGHTTP2_SHIM_H
#define CNGHTTP2_SHIM_H
// Debian 12 ships libnghttp2 1.52: the `*2` API (mem_recv2, submit_response2) is not used.
#include <nghttp2/nghttp2.h>
#endif
