#ifndef GNORM_CMPI_SHIM_H
#define GNORM_CMPI_SHIM_H

#include <mpi.h>

// OpenMPI spells its handles as casts of addresses of library globals
// (`((MPI_Comm)&ompi_mpi_comm_world)`), which Swift does not import.
static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_char(void) { return MPI_CHAR; }
static inline MPI_Datatype cmpi_int(void) { return MPI_INT; }
static inline MPI_Op cmpi_max(void) { return MPI_MAX; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }
static inline int cmpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }
// `MPI_THREAD_FUNNELED` is an enum constant; kept here with the rest for one spelling.
static inline int cmpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
// `MPI_SUCCESS` is a macro.
static inline int cmpi_success(void) { return MPI_SUCCESS; }

#endif
