internal import CHDF5

/// HDF5's one-time setup: open the library and stop it printing its error
/// stack to stderr, since every failure is reported as an `HDF5Error` instead.
/// The corresponding HDF5 calls are `H5open` and `H5Eset_auto2`.
let libraryReady: Bool = {
    _ = H5open()
    _ = H5Eset_auto2(chdf5_error_default(), nil, nil)
    return true
}()

@inline(__always)
func ensureLibrary() {
    precondition(libraryReady)
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

/// Calls `body` with a temporary id and closes it with `close` on every path.
@inline(__always)
func withTemporary<R>(
    _ id: hid_t, close: (hid_t) -> herr_t, _ body: (hid_t) throws(HDF5Error) -> R
) throws(HDF5Error) -> R {
    defer { _ = close(id) }
    return try body(id)
}
