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

/// Starts writing a file's dirty pages to disk without waiting (`sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`): called after each slab, so that the disk works while the next
/// slabs are computed and the final fsync finds little left to do. Only a head start:
/// durability is still the fsync's.
func startWriteback(_ descriptor: Int32) {
    guard let syncFileRange = syncFileRange else { return }
    let write: UInt32 = 2  // SYNC_FILE_RANGE_WRITE
    _ = syncFileRange(descriptor, 0, 0, write)
}

/// glibc's `sync_file_range`, which Swift's Glibc module does not import (it needs _GNU_SOURCE).
private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
private let syncFileRange: SyncFileRange? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
    return unsafeBitCast(symbol, to: SyncFileRange.self)
}()
