#ifndef GNORM_CPREFETCH_H
#define GNORM_CPREFETCH_H

#include <stddef.h>

// A cache hint for the kernel's strided walks (GroupNormLoops), which Swift cannot spell: it
// changes no value.

/// Reads one byte of every 64-byte line of `bytes` bytes from `start`, in address order: a
/// sequential stream the hardware prefetcher follows, whose loads are independent, so the lines
/// arrive in L1 together before a strided walk over them (a volatile read: never optimized out).
static inline __attribute__((always_inline)) void gnorm_touch_lines(const void *start, size_t bytes) {
    const volatile unsigned char *line = (const volatile unsigned char *)start;
    for (size_t offset = 0; offset < bytes; offset += 64) {
        (void)line[offset];
    }
}

#endif
