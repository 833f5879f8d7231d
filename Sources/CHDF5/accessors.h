#ifndef GNORM_CHDF5_ACCESSORS_H
#define GNORM_CHDF5_ACCESSORS_H

// The accessors of both builds' HDF5 modules (CHDF5, serial; CHDF5MPI, parallel): each
// shim includes <hdf5.h> from its own pkg-config include path, then this file, so the
// HDF5 module's Swift code is the same in both builds. A textual header of CHDF5.

// HDF5 spells its predefined types, property-list classes and flags as macros
// that expand to `H5OPEN global_g` or to casts; Swift imports none of them, so
// each one gets a tiny accessor here.

// The native types expand to `(H5open(), H5T_NATIVE_*_g)`.
static inline hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_native_uint8(void) { return H5T_NATIVE_UINT8; }
// Little-endian IEEE types are the base of h5py's float16 and of our f32/f64 outputs.
static inline hid_t chdf5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t chdf5_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_std_i64le(void) { return H5T_STD_I64LE; }
// netCDF-4 classic-model files allow 32-bit integer attributes only.
static inline hid_t chdf5_std_i32le(void) { return H5T_STD_I32LE; }
// Object and region references: the types gnorm rewrites when a dataset it
// replaces was the target of a reference.
static inline hid_t chdf5_std_ref_obj(void) { return H5T_STD_REF_OBJ; }
static inline hid_t chdf5_std_ref_dsetreg(void) { return H5T_STD_REF_DSETREG; }
// Strings are copies of this 1-byte C string type.
static inline hid_t chdf5_c_s1(void) { return H5T_C_S1; }

// `H5P_DEFAULT`, `H5S_ALL` and `H5E_DEFAULT` are `(hid_t)0` casts.
static inline hid_t chdf5_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_all(void) { return H5S_ALL; }
static inline hid_t chdf5_error_default(void) { return H5E_DEFAULT; }

// Property-list classes expand to `(H5open(), H5P_CLS_*_ID_g)`.
static inline hid_t chdf5_file_access_class(void) { return H5P_FILE_ACCESS; }
static inline hid_t chdf5_dataset_create_class(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_link_create_class(void) { return H5P_LINK_CREATE; }
// Datasets are opened with external and VDS files resolved beside their file (ExternalStorage.swift).
static inline hid_t chdf5_dataset_access_class(void) { return H5P_DATASET_ACCESS; }

// `H5P_CRT_ORDER_TRACKED` is a flag macro; a replaced link keeps its place only in such groups.
static inline unsigned chdf5_crt_order_tracked(void) { return H5P_CRT_ORDER_TRACKED; }
// `HADDR_UNDEF` is `((haddr_t)(int64_t)(-1))`: storage never allocated.
static inline haddr_t chdf5_haddr_undef(void) { return HADDR_UNDEF; }

// `H5FD_SEC2` expands to `(H5FD_sec2_init())`: the default driver, a plain POSIX file
// whose descriptor gnorm may map.
static inline hid_t chdf5_driver_sec2(void) { return H5FD_SEC2; }

// File access flags are unsigned-literal macros.
static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }

// `H5F_LIBVER_LATEST` is an enum alias macro; `H5O_INFO_BASIC` a flag macro.
static inline unsigned chdf5_oinfo_basic(void) { return H5O_INFO_BASIC; }

// Filter ids are `((H5Z_filter_t)N)` casts.
static inline int chdf5_filter_deflate(void) { return H5Z_FILTER_DEFLATE; }
static inline int chdf5_filter_shuffle(void) { return H5Z_FILTER_SHUFFLE; }

// `H5S_UNLIMITED` is `((hsize_t)(hssize_t)(-1))`.
static inline hsize_t chdf5_unlimited(void) { return H5S_UNLIMITED; }

#endif
