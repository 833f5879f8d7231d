#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// An open dataset, owning its id.
public struct Dataset: ~Copyable {
    let id: hid_t
    /// Its absolute path in the file, for messages.
    public let path: String

    /// Chunking and filters, read once when the dataset is opened: a failure to read them
    /// fails the open rather than passing for a contiguous, unfiltered dataset.
    /// The HDF5 call is `H5Dget_create_plist`.
    public let creation: DatasetCreation

    init(opening path: String, in location: hid_t) throws(HDF5Error) {
        ensureLibrary()
        let access = try datasetAccess(in: location)
        defer { if access != chdf5_default() { H5Pclose(access) } }
        var id = try checkedId(H5Dopen2(location, path, access), "H5Dopen2 '\(path)'")
        if access != chdf5_default(), let bytes = largeFilteredChunkBytes(id) {
            // Reopened with a chunk cache that holds one whole chunk (ExternalStorage.swift).
            H5Dclose(id)
            try wholeChunkCache(access, bytes: bytes)
            id = try checkedId(H5Dopen2(location, path, access), "H5Dopen2 '\(path)'")
        }
        try self.init(adopting: id, path: path)
    }

    /// Takes ownership of `id` (closed also when this fails).
    init(adopting id: hid_t, path: String) throws(HDF5Error) {
        let plist = H5Dget_create_plist(id)
        guard plist >= 0 else {
            let error = HDF5Error.capture("H5Dget_create_plist '\(path)'")
            H5Dclose(id)
            throw error
        }
        defer { H5Pclose(plist) }
        creation = DatasetCreation(propertyList: plist)
        self.id = id
        self.path = path
    }

    deinit { H5Dclose(id) }

    /// The extent; H5Dget_space cannot fail on an open dataset short of memory exhaustion.
    public var shape: [Int] {
        let space = H5Dget_space(id)
        precondition(space >= 0, "H5Dget_space '\(path)'")
        defer { H5Sclose(space) }
        return Dataspace.shape(of: space)
    }

    public var maximumShape: [Int?] {
        let space = H5Dget_space(id)
        precondition(space >= 0, "H5Dget_space '\(path)'")
        defer { H5Sclose(space) }
        return Dataspace.maximumShape(of: space)
    }

    public var elementType: ElementType {
        let type = H5Dget_type(id)
        guard type >= 0 else { return .unsupported("unreadable type") }
        defer { H5Tclose(type) }
        return ElementType(typeId: type)
    }

    /// Where the values live. The HDF5 calls are `H5Pget_layout`, `H5Pget_external_count`,
    /// `H5Dget_offset` and `H5Dget_storage_size`.
    public func storage() throws(HDF5Error) -> DatasetStorage {
        let plist = try checkedId(H5Dget_create_plist(id), "H5Dget_create_plist '\(path)'")
        defer { H5Pclose(plist) }
        switch H5Pget_layout(plist) {
        case H5D_VIRTUAL: return .virtual
        case H5D_CHUNKED: return .chunked
        case H5D_COMPACT: return .compact
        default:
            if H5Pget_external_count(plist) > 0 { return .external }
            let offset = H5Dget_offset(id)
            guard offset != chdf5_haddr_undef() else { return .contiguous(byteRange: nil) }
            let start = Int(offset)
            return .contiguous(byteRange: start..<start + Int(H5Dget_storage_size(id)))
        }
    }

    /// The descriptor libhdf5 reads this dataset's file through, when that is a plain POSIX file
    /// (the default sec2 driver): the byte range `storage()` gives can then be mapped. nil for
    /// file images, MPI-IO and other drivers. The HDF5 calls are `H5Iget_file_id`,
    /// `H5Fget_access_plist`, `H5Pget_driver` and `H5Fget_vfd_handle`.
    public func fileDescriptor() -> Int32? {
        // Asking an MPI-IO file for its access list is a collective call.
        guard !isParallel(id) else { return nil }
        let file = H5Iget_file_id(id)
        guard file >= 0 else { return nil }
        defer { H5Fclose(file) }
        return sec2Descriptor(of: file)
    }

    /// The object's identity in its file. The HDF5 call is `H5Oget_info` (`chdf5_object_address`:
    /// the address on 1.10, the token's address on 1.12+).
    public func address() throws(HDF5Error) -> ObjectAddress {
        var address: haddr_t = 0
        try checkedStatus(chdf5_object_address(id, &address), "H5Oget_info '\(path)'")
        return ObjectAddress(rawValue: address)
    }

    /// Reads `rows` along axis 0 (all of every other axis), converting to `T`.
    /// The HDF5 call is `H5Dread`.
    public func read<T: NativeElement>(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws(HDF5Error) {
        try read(Hyperslab(rows: rows, of: shape), into: buffer)
    }

    /// Reads `block`, converting to `T`, into `buffer` in row-major order. The HDF5 call is `H5Dread`.
    public func read<T: NativeElement>(_ block: Hyperslab, into buffer: UnsafeMutableBufferPointer<T>) throws(HDF5Error)
    {
        try transfer(
            block, count: buffer.count, T.memoryType, UnsafeMutableRawPointer(buffer.baseAddress), writing: false)
    }

    /// Writes `rows` along axis 0 from `buffer`, converting to the stored type.
    /// The HDF5 call is `H5Dwrite`.
    public func write<T: NativeElement>(rows: Range<Int>, from buffer: UnsafeBufferPointer<T>) throws(HDF5Error) {
        try write(Hyperslab(rows: rows, of: shape), from: buffer)
    }

    /// Writes `block` from `buffer` (row-major), converting to the stored type. The HDF5 call is `H5Dwrite`.
    public func write<T: NativeElement>(_ block: Hyperslab, from buffer: UnsafeBufferPointer<T>) throws(HDF5Error) {
        try transfer(
            block, count: buffer.count, T.memoryType, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
            writing: true)
    }

    /// Reads `block` as stored, without conversion, into `buffer`, which holds its values in
    /// the file type (e.g. float16 bits as h5py stores them). The HDF5 call is `H5Dread`
    /// with the dataset's own type in memory.
    public func readStored(_ block: Hyperslab, into buffer: UnsafeMutableRawBufferPointer) throws(HDF5Error) {
        try transferStored(block, byteCount: buffer.count, buffer.baseAddress, writing: false)
    }

    /// Writes `rows` already in the file type, so HDF5 converts nothing.
    /// The HDF5 call is `H5Dwrite` with the dataset's own type in memory.
    public func writeStored(rows: Range<Int>, from buffer: UnsafeRawBufferPointer) throws(HDF5Error) {
        try writeStored(Hyperslab(rows: rows, of: shape), from: buffer)
    }

    /// Writes `block` already in the file type (see `writeStored(rows:from:)`).
    public func writeStored(_ block: Hyperslab, from buffer: UnsafeRawBufferPointer) throws(HDF5Error) {
        try transferStored(
            block, byteCount: buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress), writing: true)
    }

    /// Moves `block` in the dataset's own type: `byteCount` must be whole values of it.
    private func transferStored(
        _ block: Hyperslab, byteCount: Int, _ pointer: UnsafeMutableRawPointer?, writing: Bool
    ) throws(HDF5Error) {
        let type = try checkedId(H5Dget_type(id), "H5Dget_type '\(path)'")
        defer { H5Tclose(type) }
        let size = H5Tget_size(type)
        precondition(size > 0 && byteCount % size == 0, "\(byteCount) bytes are not whole values of \(size)")
        try transfer(block, byteCount: byteCount, elementSize: size, type, pointer, writing: writing)
    }

    private func transfer(
        _ block: Hyperslab, count: Int, _ memoryType: MemoryType, _ pointer: UnsafeMutableRawPointer?, writing: Bool
    ) throws(HDF5Error) {
        try transfer(
            block, byteCount: count * memoryType.size, elementSize: memoryType.size, memoryType.typeId,
            pointer, writing: writing)
    }

    private func transfer(
        _ block: Hyperslab, byteCount: Int, elementSize: Int, _ memoryType: hid_t, _ pointer: UnsafeMutableRawPointer?,
        writing: Bool
    ) throws(HDF5Error) {
        let count = byteCount / max(elementSize, 1)
        let fileSpace = try Dataspace(adopting: H5Dget_space(id), "H5Dget_space '\(path)'")
        let shape = fileSpace.shape
        if shape.isEmpty || block.count.contains(0) {
            // A process of an MPI job with no rows still joins the collective write.
            if writing && !shape.isEmpty && isParallel(id) { try writeNothing(memoryType) }
            return
        }
        precondition(
            block.count.count == shape.count
                && zip(zip(block.start, block.count), shape).allSatisfy {
                    $0.0 >= 0 && $0.0 + $0.1 <= $1
                }, "\(block) outside \(shape)")
        precondition(count == block.elementCount, "buffer of \(count) for \(block)")
        try fileSpace.select(block)
        // The memory space has the block's own shape: HDF5 then maps chunks to
        // memory directly instead of projecting a 1-D selection element by element.
        let memorySpace = try Dataspace(shape: block.count)
        let verb = writing ? "H5Dwrite" : "H5Dread"
        let status =
            writing
            ? H5Dwrite(id, memoryType, memorySpace.id, fileSpace.id, transferList(for: id), pointer)
            : H5Dread(id, memoryType, memorySpace.id, fileSpace.id, transferList(for: id), pointer)
        try checkedStatus(status, "\(verb) '\(path)' \(block)")
    }

    /// Reads the whole dataset, converting to `T`.
    public func readAll<T: NativeElement>(as type: T.Type = T.self) throws(HDF5Error) -> [T] {
        let shape = self.shape
        let count = shape.reduce(1, *)
        if count == 0 { return [] }
        var values = [T](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        if shape.isEmpty {
            try checkedStatus(
                values.withUnsafeMutableBytes {
                    H5Dread(id, T.memoryType.typeId, chdf5_all(), chdf5_all(), chdf5_default(), $0.baseAddress)
                }, "H5Dread '\(path)'")
            return values
        }
        try values.withUnsafeMutableBufferPointer { (buffer) throws(HDF5Error) in
            try read(rows: 0..<shape[0], into: buffer)
        }
        return values
    }

    /// Writes a whole dataset from `values`.
    public func writeAll<T: NativeElement>(_ values: [T]) throws(HDF5Error) {
        let shape = self.shape
        if shape.isEmpty || shape[0] == 0 { return }
        // In a file shared by an MPI job every process passes the same values; rank 0 writes them.
        let rows = writesWholeValues ? 0..<shape[0] : 0..<0
        try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try write(rows: rows, from: UnsafeBufferPointer(rebasing: buffer[0..<(rows.isEmpty ? 0 : buffer.count)]))
        }
    }

    public func setAttribute(_ name: String, _ value: AttributeValue) throws(HDF5Error) {
        try Attributes.set(name, value, on: id)
    }

    public func attribute(_ name: String) throws(HDF5Error) -> AttributeValue? {
        try Attributes.get(name, on: id)
    }

    /// Every element of a numeric attribute as float64 (a CF `missing_value` may be a list);
    /// nil when it does not exist or is not numeric.
    public func numbers(_ name: String) throws(HDF5Error) -> [Double]? {
        try Attributes.numbers(name, on: id)
    }

    /// Replaces a string attribute's text, keeping its place and its kind of string (`File.replaceText`).
    public func replaceText(of name: String, with text: String) throws(HDF5Error) {
        try Attributes.replaceText(name, with: text, on: id)
    }

    /// Removes an attribute if it exists. The HDF5 call is `H5Adelete`.
    public func deleteAttribute(_ name: String) throws(HDF5Error) {
        guard H5Aexists(id, name) > 0 else { return }
        try checkedStatus(H5Adelete(id, name), "H5Adelete '\(name)'")
    }

    /// Copies every attribute of `source` onto this dataset.
    public func copyAttributes(from source: borrowing Dataset) throws(HDF5Error) {
        try Attributes.copyAll(from: source.id, to: id)
    }
}

/// Where a dataset's values are stored.
public enum DatasetStorage: Equatable, Sendable {
    /// In one block of the file; nil until it is first written.
    case contiguous(byteRange: Range<Int>?)
    case chunked
    /// Inside the object header.
    case compact
    /// Mapped from other datasets (VDS).
    case virtual
    /// In raw files outside the HDF5 file.
    case external
}

/// An object's address in its file: equal for every name of the same object (on HDF5 1.12+, the
/// address its object token encodes in the native file format).
public struct ObjectAddress: Hashable, Sendable {
    let rawValue: haddr_t
}

// MARK: Raw chunks

extension Dataset {
    /// How many chunks have storage. The HDF5 call is `H5Dget_num_chunks`.
    public func allocatedChunkCount() throws(HDF5Error) -> Int {
        var count: hsize_t = 0
        let space = try Dataspace(adopting: H5Dget_space(id), "H5Dget_space '\(path)'")
        try checkedStatus(H5Dget_num_chunks(id, space.id, &count), "H5Dget_num_chunks '\(path)'")
        return Int(count)
    }

    /// Bytes stored for the chunk at `offset`. The HDF5 call is `H5Dget_chunk_storage_size`.
    public func storedChunkSize(at offset: [Int]) throws(HDF5Error) -> Int {
        var size: hsize_t = 0
        let coordinates = offset.map { hsize_t($0) }
        try checkedStatus(
            H5Dget_chunk_storage_size(id, coordinates, &size), "H5Dget_chunk_storage_size '\(path)' \(offset)")
        return Int(size)
    }

    /// The stored (filtered) bytes of the chunk at `offset`, and the mask of
    /// filters that were skipped for it. The HDF5 call is `H5Dread_chunk`.
    public func readRawChunk(at offset: [Int]) throws(HDF5Error) -> (bytes: [UInt8], filterMask: UInt32) {
        let size = try storedChunkSize(at: offset)
        var bytes = [UInt8](repeating: 0, count: size)
        var mask: UInt32 = 0
        let coordinates = offset.map { hsize_t($0) }
        let status = bytes.withUnsafeMutableBytes {
            H5Dread_chunk(id, chdf5_default(), coordinates, &mask, $0.baseAddress)
        }
        try checkedStatus(status, "H5Dread_chunk '\(path)' \(offset)")
        return (bytes, mask)
    }

    /// Reads the stored bytes of the chunk at `offset` into `buffer`, which must
    /// hold `storedChunkSize(at:)` bytes; returns the skipped-filter mask.
    public func readRawChunk(at offset: [Int], into buffer: UnsafeMutableRawBufferPointer) throws(HDF5Error) -> UInt32 {
        var mask: UInt32 = 0
        let coordinates = offset.map { hsize_t($0) }
        try checkedStatus(
            H5Dread_chunk(id, chdf5_default(), coordinates, &mask, buffer.baseAddress),
            "H5Dread_chunk '\(path)' \(offset)")
        return mask
    }

    /// Stores already-filtered bytes as the chunk at `offset`. The HDF5 call is `H5Dwrite_chunk`.
    public func writeRawChunk(at offset: [Int], bytes: UnsafeRawBufferPointer, filterMask: UInt32 = 0) throws(HDF5Error)
    {
        let coordinates = offset.map { hsize_t($0) }
        try checkedStatus(
            H5Dwrite_chunk(id, chdf5_default(), filterMask, coordinates, bytes.count, bytes.baseAddress),
            "H5Dwrite_chunk '\(path)' \(offset)")
    }
}
