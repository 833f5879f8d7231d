#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

// MARK: Files a dataset's values live in

/// A source of a virtual dataset (VDS): a dataset in a file, "." for the same file.
public struct VirtualSource: Equatable, Sendable {
    public let file: String
    public let dataset: String
}

extension Dataset {
    /// The raw files of external storage, as the dataset names them (relative or absolute).
    /// The HDF5 calls are `H5Pget_external_count` and `H5Pget_external`.
    public func externalFiles() throws(HDF5Error) -> [String] {
        let plist = try checkedId(H5Dget_create_plist(id), "H5Dget_create_plist '\(path)'")
        defer { H5Pclose(plist) }
        let count = H5Pget_external_count(plist)
        try checkedStatus(count, "H5Pget_external_count '\(path)'")
        var files: [String] = []
        for index in 0..<UInt32(count) {
            // libhdf5 tells no name's length; 4 KiB is PATH_MAX.
            var name = [CChar](repeating: 0, count: 4097)
            var offset = off_t()
            var size = hsize_t()
            try checkedStatus(
                H5Pget_external(plist, index, name.count - 1, &name, &offset, &size),
                "H5Pget_external '\(path)' \(index)")
            files.append(String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return files
    }

    /// The sources of a virtual dataset, in mapping order (empty for other layouts).
    /// The HDF5 calls are `H5Pget_virtual_count`, `H5Pget_virtual_filename` and `H5Pget_virtual_dsetname`.
    public func virtualSources() throws(HDF5Error) -> [VirtualSource] {
        let plist = try checkedId(H5Dget_create_plist(id), "H5Dget_create_plist '\(path)'")
        defer { H5Pclose(plist) }
        guard H5Pget_layout(plist) == H5D_VIRTUAL else { return [] }
        var count = 0
        try checkedStatus(H5Pget_virtual_count(plist, &count), "H5Pget_virtual_count '\(path)'")
        func text(_ get: (UnsafeMutablePointer<CChar>?, Int) -> Int, _ what: String) throws(HDF5Error) -> String {
            let length = get(nil, 0)
            guard length >= 0 else { throw HDF5Error.capture(what) }
            var bytes = [CChar](repeating: 0, count: length + 1)
            guard get(&bytes, bytes.count) >= 0 else { throw HDF5Error.capture(what) }
            return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var sources: [VirtualSource] = []
        for index in 0..<count {
            let file = try text(
                { H5Pget_virtual_filename(plist, index, $0, $1) }, "H5Pget_virtual_filename '\(path)' \(index)")
            let dataset = try text(
                { H5Pget_virtual_dsetname(plist, index, $0, $1) }, "H5Pget_virtual_dsetname '\(path)' \(index)")
            sources.append(VirtualSource(file: file, dataset: dataset))
        }
        return sources
    }
}

/// The dataset access list a dataset of a file opened read-only is opened with: external raw
/// files and VDS source files named by relative paths are found beside the file that names them
/// (`${ORIGIN}`), not in the current directory. Datasets of a file open for writing (OUTPUT, whose
/// external and virtual datasets gnorm replaces, never reads) get the default list: libhdf5
/// refuses to open one dataset twice with different prefixes, and `H5Oopen` uses the default.
/// The HDF5 calls are `H5Fget_intent`, `H5Pset_efile_prefix` and `H5Pset_virtual_prefix`.
func datasetAccess(in location: hid_t) throws(HDF5Error) -> hid_t {
    let file = try checkedId(H5Iget_file_id(location), "H5Iget_file_id")
    defer { H5Fclose(file) }
    var intent: UInt32 = 0
    try checkedStatus(H5Fget_intent(file, &intent), "H5Fget_intent")
    guard intent & chdf5_acc_rdwr() == 0 else { return chdf5_default() }
    let dapl = try checkedId(H5Pcreate(chdf5_dataset_access_class()), "H5Pcreate dapl")
    guard H5Pset_efile_prefix(dapl, "${ORIGIN}") >= 0, H5Pset_virtual_prefix(dapl, "${ORIGIN}") >= 0 else {
        let error = HDF5Error.capture("H5Pset_efile_prefix")
        H5Pclose(dapl)
        throw error
    }
    return dapl
}

// MARK: Chunks larger than libhdf5's chunk cache

/// The bytes of one chunk of dataset `id` once inflated, when it is filtered and larger than
/// libhdf5's default chunk cache (1 MiB). Such a chunk is not cached: libhdf5 inflates it again
/// for every read of part of it (`stats` of one 1 GiB gzip chunk read in pieces took 354 s).
/// The HDF5 calls are `H5Dget_create_plist`, `H5Pget_layout`, `H5Pget_nfilters`,
/// `H5Pget_chunk`, `H5Dget_type` and `H5Tget_size`.
func largeFilteredChunkBytes(_ id: hid_t) -> Int? {
    let plist = H5Dget_create_plist(id)
    guard plist >= 0 else { return nil }
    defer { H5Pclose(plist) }
    guard H5Pget_layout(plist) == H5D_CHUNKED, H5Pget_nfilters(plist) > 0 else { return nil }
    var chunk = [hsize_t](repeating: 0, count: 32)
    let rank = H5Pget_chunk(plist, Int32(chunk.count), &chunk)
    guard rank > 0 else { return nil }
    let type = H5Dget_type(id)
    guard type >= 0 else { return nil }
    defer { H5Tclose(type) }
    var bytes = Double(H5Tget_size(type))
    for extent in chunk.prefix(Int(rank)) { bytes *= Double(extent) }
    return bytes > Double(1 << 20) && bytes < 0x1p62 ? Int(bytes) : nil
}

/// Sets the chunk cache of `access` to hold one chunk of `bytes` (gnorm's memory plan counts a
/// whole filtered chunk already). The HDF5 call is `H5Pset_chunk_cache` (521 slots and w0 0.75,
/// libhdf5's defaults).
func wholeChunkCache(_ access: hid_t, bytes: Int) throws(HDF5Error) {
    try checkedStatus(H5Pset_chunk_cache(access, 521, bytes + (1 << 20), 0.75), "H5Pset_chunk_cache")
}
