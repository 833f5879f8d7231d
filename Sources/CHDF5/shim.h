#ifndef GNORM_CHDF5_SHIM_H
#define GNORM_CHDF5_SHIM_H

// The serial libhdf5 (Debian's libhdf5-dev, pkg-config hdf5-serial).
#include <hdf5.h>
#include "accessors.h"

#endif
