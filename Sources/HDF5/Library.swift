import Platform

#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// HDF5's one-time setup: open the library and stop it printing its error
/// stack to stderr, since every failure is reported as an `HDF5Error` instead.
/// The corresponding HDF5 calls are `H5open` and `H5Eset_auto2`.
let libraryReady: Bool = {
    // External raw files and VDS sources named by relative paths are found beside the file that
    // names them, for every open of every dataset: libhdf5 reads these variables at each open
    // and prefers them to the dataset access list, and from 1.12 on it refuses to open a dataset
    // already open under another prefix — which its own opens (H5Oopen, references an attribute
    // holds) made with the default list did (ExternalStorage.swift). A user's own value would
    // move what gnorm checks against INPUT's folder, so gnorm's wins.
    setenv("HDF5_EXTFILE_PREFIX", "${ORIGIN}", 1)
    setenv("HDF5_VDS_PREFIX", "${ORIGIN}", 1)
    _ = H5open()
    _ = H5Eset_auto2(chdf5_error_default(), nil, nil)
    // Debian's hdf5-plugin-lzf is linked without liblzf, whose symbols it then
    // cannot resolve when HDF5 loads it (undefined symbol: lzf_decompress);
    // with liblzf already loaded globally, it works.
    _ = dlopen("liblzf.so.1", RTLD_NOW | RTLD_GLOBAL)
    return true
}()

/// The libhdf5 gnorm runs with, e.g. "1.10.8". The HDF5 call is `H5get_libversion`.
public let libraryVersion: String = {
    var major: UInt32 = 0
    var minor: UInt32 = 0
    var release: UInt32 = 0
    _ = H5get_libversion(&major, &minor, &release)
    return "\(major).\(minor).\(release)"
}()

/// The HDF5 gnorm was compiled against (its headers' H5_VERS_*), e.g. "1.14.6".
public let buildVersion: String = {
    let number = chdf5_header_version()
    return "\(number / 10000).\(number / 100 % 100).\(number % 100)"
}()

/// Opens the library once, and silences HDF5's error printing on the calling thread:
/// the thread-safe libhdf5 keeps that setting per thread, so a thread that only ever
/// inherited the default would print HDF5-DIAG stacks on stderr.
@inline(__always)
func ensureLibrary() {
    precondition(libraryReady)
    _ = H5Eset_auto2(chdf5_error_default(), nil, nil)
}

/// Returns a valid id, or throws an `HDF5Error` naming `operation` with HDF5's error stack.
@inline(__always)
func checkedId(_ id: hid_t, _ operation: @autoclosure () -> String) throws(HDF5Error) -> hid_t {
    if id < 0 { throw HDF5Error.capture(operation()) }
    return id
}

/// Throws an `HDF5Error` when an HDF5 status is negative.
@inline(__always)
func checkedStatus(_ status: herr_t, _ operation: @autoclosure () -> String) throws(HDF5Error) {
    if status < 0 { throw HDF5Error.capture(operation()) }
}
