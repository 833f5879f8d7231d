#ifndef GNORM_CISAL_SHIM_H
#define GNORM_CISAL_SHIM_H

// ISA-L's igzip (Debian's libisal-dev): deflate at levels 1-3, ~4x faster than
// zlib-1 at a similar ratio, for writing gzip chunks.
#include <isa-l/igzip_lib.h>

// The level buffer sizes are macro arithmetic that Swift cannot import.
static inline unsigned cisal_level_buffer_size(unsigned level) {
    switch (level) {
    case 0: return ISAL_DEF_LVL0_DEFAULT;
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    default: return ISAL_DEF_LVL3_DEFAULT;
    }
}

// `IGZIP_ZLIB` asks for a zlib wrapper (RFC 1950), which HDF5's deflate filter reads.
static inline unsigned short cisal_zlib_wrapper(void) { return IGZIP_ZLIB; }
static inline int cisal_comp_ok(void) { return COMP_OK; }

#endif
