import Synchronization

#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

// Files written by every process of an MPI job together (the MPI build only; the
// serial build compiles the same API, which there opens nothing in parallel).
//
// Rules of parallel HDF5 1.10 that the rest of gnorm relies on:
// - every process makes the same metadata calls in the same order (collective metadata);
// - every process joins every `H5Dwrite` of a file opened this way, with an empty
//   selection when it has nothing to write;
// - memory buffers are in the file's type: a conversion turns collective I/O off
//   (and a filtered dataset then refuses the write);
// - no direct chunk writes (`H5Dwrite_chunk` corrupts data under MPI-IO).

extension File {
    /// Opens an existing file for reading and writing by every process of the MPI job
    /// (MPI-IO on `MPI_COMM_WORLD`), with collective metadata reads and writes.
    /// Every process calls this, with the same path. The HDF5 calls are `H5Pset_fapl_mpio`,
    /// `H5Pset_all_coll_metadata_ops`, `H5Pset_coll_metadata_write` and `H5Fopen`.
    public init(openingForWritingByAllProcesses path: String) throws(HDF5Error) {
        ensureLibrary()
        #if MPI
            let fapl = try checkedId(H5Pcreate(chdf5_file_access_class()), "H5Pcreate fapl")
            defer { H5Pclose(fapl) }
            try checkedStatus(H5Pset_fapl_mpio(fapl, chdf5_comm_world(), chdf5_info_null()), "H5Pset_fapl_mpio")
            try checkedStatus(H5Pset_all_coll_metadata_ops(fapl, true), "H5Pset_all_coll_metadata_ops")
            try checkedStatus(H5Pset_coll_metadata_write(fapl, true), "H5Pset_coll_metadata_write")
            id = try checkedId(H5Fopen(path, chdf5_acc_rdwr(), fapl), "H5Fopen '\(path)' read-write, MPI-IO")
            name = path
            parallelFiles.withLock { _ = $0.insert(id) }
        #else
            preconditionFailure("opening '\(path)' in parallel needs the MPI build")
        #endif
    }
}

extension Dataset {
    /// Whether this dataset's file was opened by every process together: its writes are then
    /// collective, and every process must make each of them (`write(rows: 0..<0, ...)` when
    /// it has no rows). The HDF5 calls are `H5Iget_file_id`, `H5Fget_access_plist`, `H5Pget_driver`.
    public var isSharedByAllProcesses: Bool { isParallel(id) }
}

/// Ids of the files open with the MPI-IO driver. Asking HDF5 instead (`H5Fget_access_plist`)
/// duplicates the communicator, a collective call, which would hang a process that asks alone.
/// Behind a lock: the main thread opens and closes files while I/O threads ask about theirs.
private let parallelFiles = Mutex<Set<hid_t>>([])

/// Forgets a file closed by `File.close()` or `deinit`.
func forgetParallelFile(_ id: hid_t) {
    parallelFiles.withLock { _ = $0.remove(id) }
}

/// Whether the object's file is open with the MPI-IO driver. The HDF5 call is `H5Iget_file_id`,
/// which returns the id the file was opened with.
func isParallel(_ object: hid_t) -> Bool {
    guard !parallelFiles.withLock(\.isEmpty) else { return false }
    let file = H5Iget_file_id(object)
    guard file >= 0 else { return false }
    defer { H5Fclose(file) }
    return parallelFiles.withLock { $0.contains(file) }
}

/// The data transfer property list for `H5Dread`/`H5Dwrite` on `object`: collective
/// MPI-IO in a file open by all processes, the default otherwise.
func transferList(for object: hid_t) -> hid_t {
    #if MPI
        return isParallel(object) ? collectiveTransfer : chdf5_default()
    #else
        return chdf5_default()
    #endif
}

#if MPI
    /// One collective transfer list for the process; never closed. The HDF5 call is `H5Pset_dxpl_mpio`.
    private let collectiveTransfer: hid_t = {
        let dxpl = H5Pcreate(chdf5_dataset_transfer_class())
        precondition(dxpl >= 0 && H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) >= 0, "H5Pset_dxpl_mpio")
        return dxpl
    }()

    /// This process's rank in `MPI_COMM_WORLD` (0 when MPI is not initialised).
    func worldRank() -> Int {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        guard initialized != 0 else { return 0 }
        var rank: Int32 = 0
        MPI_Comm_rank(chdf5_comm_world(), &rank)
        return Int(rank)
    }
#endif

extension Dataset {
    /// Joins a collective write with nothing to write: an empty selection in memory and file.
    /// The HDF5 calls are `H5Sselect_none` and `H5Dwrite`.
    func writeNothing(_ memoryType: hid_t) throws(HDF5Error) {
        let fileSpace = try Dataspace(adopting: H5Dget_space(id), "H5Dget_space '\(path)'")
        try checkedStatus(H5Sselect_none(fileSpace.id), "H5Sselect_none")
        let memorySpace = try Dataspace(shape: [1])
        try checkedStatus(H5Sselect_none(memorySpace.id), "H5Sselect_none")
        var placeholder: UInt64 = 0
        try checkedStatus(
            H5Dwrite(id, memoryType, memorySpace.id, fileSpace.id, transferList(for: id), &placeholder),
            "H5Dwrite '\(path)' (no rows)")
    }

    /// Whether this process holds the values that `writeAll` stores: every process in a serial
    /// file; only rank 0 in a file shared by all processes (the others join with no rows).
    var writesWholeValues: Bool {
        #if MPI
            return !isParallel(id) || worldRank() == 0
        #else
            return true
        #endif
    }
}
