#ifndef GNORM_CPREFETCH_H
#define GNORM_CPREFETCH_H

// A software prefetch for the kernel's strided walks (GroupNormLoops), which Swift cannot spell:
// the line holding `address` asked into the caches ahead of its load. A hint only: no fault,
// no effect on any value.
static inline __attribute__((always_inline)) void gnorm_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
