import Foundation

/// Makes a written file's data durable. Returns the errno of a failure, 0 on success.
/// The system call is `fsync`.
func syncFile(_ path: String) -> Int32 {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return errno }
    defer { close(descriptor) }
    return fsync(descriptor) == 0 ? 0 : errno
}

/// Makes the names in `folder` durable (a rename into it), as far as the filesystem allows:
/// a failure here loses no data already synced, so it is not reported.
func syncFolder(_ folder: String) {
    let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    fsync(descriptor)
    close(descriptor)
}
