import Platform

/// Makes a written file's data durable (`fsync`; `F_FULLFSYNC` on Darwin).
func syncFile(_ path: String) throws(SystemCallError) {
    let descriptor = try System.open(path, O_RDONLY | O_CLOEXEC)
    defer { close(descriptor) }
    try System.synchronize(descriptor, path: path)
}

/// Makes the names in `folder` durable (a rename into it), as far as the filesystem allows:
/// a failure here loses no data already synced, so it is not reported.
func syncFolder(_ folder: String) {
    do throws(SystemCallError) {
        let descriptor = try System.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(descriptor) }
        try System.synchronize(descriptor, path: folder)
    } catch {
        // Not reported, as said above: the files' data is durable already.
    }
}

/// Starts writing a file's dirty pages to disk without waiting (`sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE` on Linux): called after each slab, so that the disk works while the next
/// slabs are computed and the final fsync finds little left to do. Only a head start:
/// durability is still the fsync's.
func startWriteback(_ descriptor: Int32) {
    System.startWriteback(descriptor)
}
