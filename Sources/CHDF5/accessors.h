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

// HDF5's error numbers are `(H5OPEN H5E_*_g)` macros: ids libhdf5 assigns as it opens (other values
// in 1.10 and 1.14), which `HDF5Error` compares frames of the error stack with instead of their text.
// Major numbers (error classes): "File accessibility"; "Plugin for dynamically loaded library", whose
// frame 1.14 adds below a missing filter's.
static inline hid_t chdf5_error_file(void) { return H5E_FILE; }
static inline hid_t chdf5_error_plugin(void) { return H5E_PLUGIN; }
// Minor numbers: "Not an HDF5 file" (no superblock signature); "Wrong version number" (a format newer
// than the library's).
static inline hid_t chdf5_error_not_hdf5(void) { return H5E_NOTHDF5; }
static inline hid_t chdf5_error_version(void) { return H5E_VERSION; }

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

// ---------------------------------------------------------------------------------------------
// One face over HDF5 1.10 and 1.12+ (the pattern of GRDB's SQLITE_VERSION_NUMBER checks). From
// 1.12 on, H5Lget_info, H5Literate, H5Lvisit, H5Oget_info*, H5Ovisit and H5R_DATASET_REGION are
// macros over versioned functions and types (H5Lget_info2, H5O_info2_t with an object token in place
// of the address, ...), which Swift does not import. Each function below is written once per line
// of the library; the Swift side sees only these.

#if H5_VERSION_GE(1, 12, 0)
#define CHDF5_TOKENS 1
#else
#define CHDF5_TOKENS 0
#endif

// The HDF5 the module was compiled against, e.g. 11408 for 1.14.8 (major*10000 + minor*100 + release).
static inline unsigned chdf5_header_version(void) {
    return H5_VERS_MAJOR * 10000 + H5_VERS_MINOR * 100 + H5_VERS_RELEASE;
}

#if CHDF5_TOKENS
// An object token of the native file format is its header's address (H5VLnative_token_to_addr):
// gnorm keeps addresses as identities on both lines, since object references store addresses.
static inline haddr_t chdf5_token_address(hid_t location, H5O_token_t token) {
    haddr_t address = HADDR_UNDEF;
    if (H5VLnative_token_to_addr(location, token, &address) < 0) return HADDR_UNDEF;
    return address;
}
#endif

// The object's identity in its file: the address of its header (1.10: H5O_info_t.addr; 1.12+: the
// address of H5O_info2_t.token). HADDR_UNDEF and -1 on failure.
static inline herr_t chdf5_object_address(hid_t object, haddr_t *address) {
#if CHDF5_TOKENS
    H5O_info2_t info;
    if (H5Oget_info3(object, &info, H5O_INFO_BASIC) < 0) return -1;
    *address = chdf5_token_address(object, info.token);
    return *address == HADDR_UNDEF ? -1 : 0;
#else
    H5O_info_t info;
    if (H5Oget_info2(object, &info, H5O_INFO_BASIC) < 0) return -1;
    *address = info.addr;
    return 0;
#endif
}

// The type of the object `name` names (soft links followed).
static inline herr_t chdf5_object_type_by_name(hid_t location, const char *name, H5O_type_t *type) {
#if CHDF5_TOKENS
    H5O_info2_t info;
    if (H5Oget_info_by_name3(location, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(location, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#endif
    *type = info.type;
    return 0;
}

// The kind of the link `name` (hard, soft, external) and, for soft and external links, the size of
// its value (H5Lget_info / H5Lget_info2).
static inline herr_t chdf5_link_info(hid_t location, const char *name, H5L_type_t *type, size_t *value_size) {
#if CHDF5_TOKENS
    H5L_info2_t info;
    if (H5Lget_info2(location, name, &info, H5P_DEFAULT) < 0) return -1;
#else
    H5L_info_t info;
    if (H5Lget_info(location, name, &info, H5P_DEFAULT) < 0) return -1;
#endif
    *type = info.type;
    *value_size = info.type == H5L_TYPE_HARD ? 0 : info.u.val_size;
    return 0;
}

// A link met while visiting or iterating: its name (relative to where the walk started), its kind,
// and for hard links the address of the object it names (HADDR_UNDEF for others). Return 0 to go on,
// > 0 to stop, < 0 to fail.
typedef herr_t (*chdf5_link_callback)(const char *name, H5L_type_t type, haddr_t address, void *context);
// An object met while visiting: its first path relative to the start ("." for the start) and type.
typedef herr_t (*chdf5_object_callback)(const char *name, H5O_type_t type, void *context);

struct chdf5_walk {
    hid_t location;
    chdf5_link_callback link;
    chdf5_object_callback object;
    void *context;
};

#if CHDF5_TOKENS
static herr_t chdf5_link_adapter(hid_t group, const char *name, const H5L_info2_t *info, void *data) {
    struct chdf5_walk *walk = (struct chdf5_walk *)data;
    haddr_t address = info->type == H5L_TYPE_HARD ? chdf5_token_address(group, info->u.token) : HADDR_UNDEF;
    return walk->link(name, info->type, address, walk->context);
}
static herr_t chdf5_object_adapter(hid_t object, const char *name, const H5O_info2_t *info, void *data) {
    (void)object;
    struct chdf5_walk *walk = (struct chdf5_walk *)data;
    return walk->object(name, info->type, walk->context);
}
#else
static herr_t chdf5_link_adapter(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)group;
    struct chdf5_walk *walk = (struct chdf5_walk *)data;
    haddr_t address = info->type == H5L_TYPE_HARD ? info->u.address : HADDR_UNDEF;
    return walk->link(name, info->type, address, walk->context);
}
static herr_t chdf5_object_adapter(hid_t object, const char *name, const H5O_info_t *info, void *data) {
    (void)object;
    struct chdf5_walk *walk = (struct chdf5_walk *)data;
    return walk->object(name, info->type, walk->context);
}
#endif

// Every link below `group`, recursively, in `index` order (H5Lvisit / H5Lvisit2).
static inline herr_t chdf5_visit_links(hid_t group, H5_index_t index, H5_iter_order_t order,
                                       chdf5_link_callback callback, void *context) {
    struct chdf5_walk walk = {group, callback, 0, context};
#if CHDF5_TOKENS
    return H5Lvisit2(group, index, order, chdf5_link_adapter, &walk);
#else
    return H5Lvisit(group, index, order, chdf5_link_adapter, &walk);
#endif
}

// The links of `group` itself, in `index` order from `*position` (H5Literate / H5Literate2).
static inline herr_t chdf5_iterate_links(hid_t group, H5_index_t index, H5_iter_order_t order, hsize_t *position,
                                         chdf5_link_callback callback, void *context) {
    struct chdf5_walk walk = {group, callback, 0, context};
#if CHDF5_TOKENS
    return H5Literate2(group, index, order, position, chdf5_link_adapter, &walk);
#else
    return H5Literate(group, index, order, position, chdf5_link_adapter, &walk);
#endif
}

// Every object reachable from `location` once (H5Ovisit2 / H5Ovisit3, basic information only).
static inline herr_t chdf5_visit_objects(hid_t location, H5_index_t index, H5_iter_order_t order,
                                         chdf5_object_callback callback, void *context) {
    struct chdf5_walk walk = {location, 0, callback, context};
#if CHDF5_TOKENS
    return H5Ovisit3(location, index, order, chdf5_object_adapter, &walk, H5O_INFO_BASIC);
#else
    return H5Ovisit2(location, index, order, chdf5_object_adapter, &walk, H5O_INFO_BASIC);
#endif
}

// The reference kind of the region references files store (hdset_reg_ref_t, H5T_STD_REF_DSETREG):
// H5R_DATASET_REGION on 1.10, H5R_DATASET_REGION1 (the same value) on 1.12+, whose H5R_DATASET_REGION
// is a macro. H5Rcreate, H5Rdereference2 and H5Rget_region keep serving these references on 1.12+;
// the new H5R API (H5Rcreate_region, H5R_ref_t) is for the new H5T_STD_REF references only.
static inline H5R_type_t chdf5_ref_dataset_region(void) {
#if CHDF5_TOKENS
    return H5R_DATASET_REGION1;
#else
    return H5R_DATASET_REGION;
#endif
}

// Frees the variable-length data HDF5 allocated in `buffer` (H5Dvlen_reclaim; H5Treclaim on 1.12+,
// where H5Dvlen_reclaim is deprecated).
static inline herr_t chdf5_reclaim(hid_t type, hid_t space, void *buffer) {
#if CHDF5_TOKENS
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

#endif
