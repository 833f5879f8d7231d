#ifndef GNORM_CDEFLATE_SHIM_H
#define GNORM_CDEFLATE_SHIM_H

// libdeflate (Debian's libdeflate-dev): whole-buffer zlib streams, 2-3x faster
// than zlib, so gzip chunks can be inflated and deflated on every core.
#include <libdeflate.h>

#endif
