#ifndef GNORM_CHDF5MPI_SHIM_H
#define GNORM_CHDF5MPI_SHIM_H

// The MPI build's libhdf5: Debian's libhdf5-openmpi, found by pkg-config hdf5-openmpi;
// its <hdf5.h> pulls in <mpi.h>. The accessors both builds share come from
// Sources/CHDF5/accessors.h (only one of the two modules is in a build); the MPI build's own follow.

#include <hdf5.h>
#include "../CHDF5/accessors.h"

// `MPI_COMM_WORLD` and `MPI_INFO_NULL` are casts of addresses of OpenMPI globals.
static inline MPI_Comm chdf5_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Info chdf5_info_null(void) { return MPI_INFO_NULL; }
// `H5P_DATASET_XFER` expands to `(H5open(), H5P_CLS_DATASET_XFER_ID_g)`.
static inline hid_t chdf5_dataset_transfer_class(void) { return H5P_DATASET_XFER; }

#endif
