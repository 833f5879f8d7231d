#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// An open HDF5 file, owning its id. Closed in `deinit`; `close()` reports
/// failures where they could lose data.
public struct File: ~Copyable {
    /// -1 once `close()` has closed it.
    var id: hid_t
    /// The name it was opened under, for messages.
    public let name: String

    /// Opens an existing file read-only. The HDF5 call is `H5Fopen`.
    public init(openingForReading path: String) throws(HDF5Error) {
        ensureLibrary()
        id = try checkedId(H5Fopen(path, chdf5_acc_rdonly(), chdf5_default()), "H5Fopen '\(path)'")
        name = path
    }

    /// Opens an existing file for reading and writing. The HDF5 call is `H5Fopen`.
    public init(openingForWriting path: String) throws(HDF5Error) {
        ensureLibrary()
        id = try checkedId(H5Fopen(path, chdf5_acc_rdwr(), chdf5_default()), "H5Fopen '\(path)' read-write")
        name = path
    }

    /// Creates a file, replacing one that exists. The HDF5 call is `H5Fcreate`.
    public init(creating path: String) throws(HDF5Error) {
        ensureLibrary()
        id = try checkedId(
            H5Fcreate(path, chdf5_acc_trunc(), chdf5_default(), chdf5_default()), "H5Fcreate '\(path)'")
        name = path
    }

    /// Opens a file image held in memory (e.g. read from standard input), read-only.
    /// The HDF5 calls are `H5Pset_fapl_core` and `H5Pset_file_image`.
    public init(image: [UInt8], name: String) throws(HDF5Error) {
        ensureLibrary()
        let fapl = try checkedId(H5Pcreate(chdf5_file_access_class()), "H5Pcreate fapl")
        defer { H5Pclose(fapl) }
        try checkedStatus(H5Pset_fapl_core(fapl, 1 << 20, false), "H5Pset_fapl_core")
        let status = image.withUnsafeBytes { bytes in
            H5Pset_file_image(fapl, UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
        }
        try checkedStatus(status, "H5Pset_file_image")
        id = try checkedId(H5Fopen(name, chdf5_acc_rdonly(), fapl), "H5Fopen '\(name)'")
        self.name = name
    }

    deinit {
        if id >= 0 {
            forgetParallelFile(id)
            H5Fclose(id)
        }
    }

    /// Whether `path` starts with an HDF5 signature. The HDF5 call is `H5Fis_hdf5`.
    public static func isHDF5(_ path: String) -> Bool {
        ensureLibrary()
        return H5Fis_hdf5(path) > 0
    }

    /// Flushes and closes the file, reporting a failure to write it out
    /// (disk full, file-size limit). The HDF5 calls are `H5Fflush`, `H5Fclose`.
    public consuming func close() throws(HDF5Error) {
        try flush()
        forgetParallelFile(id)
        let status = H5Fclose(id)
        id = -1
        try checkedStatus(status, "H5Fclose '\(name)'")
    }

    /// Writes buffered data to the file. The HDF5 call is `H5Fflush`.
    public func flush() throws(HDF5Error) {
        try checkedStatus(H5Fflush(id, H5F_SCOPE_LOCAL), "H5Fflush '\(name)'")
    }

    // MARK: The file underneath

    /// The descriptor libhdf5 reads this file through, when that is a plain POSIX file (the
    /// default sec2 driver); nil for file images, MPI-IO and other drivers. The HDF5 calls are
    /// `H5Fget_access_plist`, `H5Pget_driver` and `H5Fget_vfd_handle`.
    public func posixDescriptor() -> Int32? {
        // Asking an MPI-IO file for its access list is a collective call.
        guard !isParallel(id) else { return nil }
        return sec2Descriptor(of: id)
    }

    /// The size libhdf5 takes the file to have: the larger of its end of file when opened and
    /// the end of the space its metadata allocates. The HDF5 call is `H5Fget_filesize`.
    public func size() throws(HDF5Error) -> Int {
        var size: hsize_t = 0
        try checkedStatus(H5Fget_filesize(id, &size), "H5Fget_filesize '\(name)'")
        return Int(size)
    }

    // MARK: Objects

    public func openDataset(_ path: String) throws(HDF5Error) -> Dataset {
        try Dataset(opening: path, in: id)
    }

    /// Whether a link path resolves to an object (intermediate groups included).
    public func exists(_ path: String) -> Bool {
        guard path != "/" else { return true }
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if H5Lexists(id, prefix, chdf5_default()) <= 0 { return false }
        }
        return H5Oexists_by_name(id, path, chdf5_default()) > 0
    }

    /// The first component of `path` that is an external link, with its target file and object.
    /// The HDF5 calls are `H5Lget_info` (`chdf5_link_info`), `H5Lget_val` and `H5Lunpack_elink_val`.
    public func externalLink(on path: String) -> (link: String, target: (file: String, object: String))? {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var type = H5L_TYPE_ERROR
            var valueSize = 0
            guard H5Lexists(id, prefix, chdf5_default()) > 0, chdf5_link_info(id, prefix, &type, &valueSize) >= 0
            else {
                return nil
            }
            guard type == H5L_TYPE_EXTERNAL else { continue }
            var value = [UInt8](repeating: 0, count: valueSize + 1)
            guard H5Lget_val(id, prefix, &value, value.count, chdf5_default()) >= 0 else { return nil }
            var flags: UInt32 = 0
            var file: UnsafePointer<CChar>? = nil
            var object: UnsafePointer<CChar>? = nil
            let unpacked = value.withUnsafeBytes {
                H5Lunpack_elink_val($0.baseAddress, $0.count, &flags, &file, &object)
            }
            guard unpacked >= 0 else { return nil }
            return (prefix, (file.map { String(cString: $0) } ?? "?", object.map { String(cString: $0) } ?? "?"))
        }
        return nil
    }

    /// `path` with soft links in its last component followed to their targets
    /// (relative targets resolved against the link's group). The HDF5 calls are `H5Lget_info`
    /// (`chdf5_link_info`) and `H5Lget_val`.
    public func resolvingSoftLinks(_ path: String) -> String {
        var current = path
        for _ in 0..<16 {
            var type = H5L_TYPE_ERROR
            var valueSize = 0
            guard H5Lexists(id, current, chdf5_default()) > 0,
                chdf5_link_info(id, current, &type, &valueSize) >= 0, type == H5L_TYPE_SOFT
            else { return current }
            var value = [CChar](repeating: 0, count: valueSize + 1)
            guard H5Lget_val(id, current, &value, value.count, chdf5_default()) >= 0 else { return current }
            let target = String(decoding: value.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") {
                current = target
            } else {
                let parent = current.split(separator: "/").dropLast().joined(separator: "/")
                current = "/" + (parent.isEmpty ? target : parent + "/" + target)
            }
        }
        return current
    }

    /// What the object at `path` is (following soft links), or nil when there is none.
    /// The HDF5 call is `H5Oget_info_by_name` (`chdf5_object_type_by_name`).
    public func kindOfObject(at path: String) -> ObjectEntry.Kind? {
        guard exists(path) else { return nil }
        var type = H5O_TYPE_UNKNOWN
        guard chdf5_object_type_by_name(id, path, &type) >= 0 else { return nil }
        return ObjectEntry.Kind(type)
    }

    /// Every object in the file once, by its first path in name order.
    /// The HDF5 call is `H5Ovisit` (`chdf5_visit_objects`).
    public func objects() throws(HDF5Error) -> [ObjectEntry] {
        let (status, entries) = CallbackContext<[ObjectEntry]>.run([]) { context in
            chdf5_visit_objects(
                id, H5_INDEX_NAME, H5_ITER_INC,
                { name, type, context in
                    guard let name else { return -1 }
                    let relative = String(cString: name)
                    let entry = ObjectEntry(path: relative == "." ? "/" : "/" + relative, kind: .init(type))
                    return CallbackContext<[ObjectEntry]>.update(context) { $0.append(entry) }
                }, context)
        }
        try checkedStatus(status, "H5Ovisit '\(name)'")
        return entries
    }

    /// Creates a dataset, and the groups above it.
    /// The HDF5 calls are `H5Pset_create_intermediate_group` and `H5Dcreate2`.
    public func createDataset(
        _ path: String, shape: [Int], maximumShape: [Int?]? = nil,
        elementType: ElementType, creation: DatasetCreation = DatasetCreation()
    ) throws(HDF5Error) -> Dataset {
        let type = try elementType.makeStorageTypeId()
        defer { H5Tclose(type) }
        let space = try Dataspace(shape: shape, maximumShape: maximumShape)
        let dcpl = try creation.makePropertyList()
        defer { H5Pclose(dcpl) }
        let lcpl = try intermediateGroupsPropertyList()
        defer { H5Pclose(lcpl) }
        let dataset = try checkedId(
            H5Dcreate2(id, path, type, space.id, lcpl, dcpl, chdf5_default()), "H5Dcreate2 '\(path)'")
        return try Dataset(adopting: dataset, path: path)
    }

    /// Removes the link at `path` if there is one. The HDF5 call is `H5Ldelete`.
    public func removeLink(_ path: String) throws(HDF5Error) {
        // A dangling soft link is a link too (`exists` asks for its target).
        guard H5Lexists(id, path, chdf5_default()) > 0 else { return }
        try checkedStatus(H5Ldelete(id, path, chdf5_default()), "H5Ldelete '\(path)'")
    }

    /// Whether the group at `path` has no links. The HDF5 call is `H5Gget_info_by_name`.
    public func isEmptyGroup(_ path: String) throws(HDF5Error) -> Bool {
        var info = H5G_info_t()
        try checkedStatus(H5Gget_info_by_name(id, path, &info, chdf5_default()), "H5Gget_info_by_name '\(path)'")
        return info.nlinks == 0
    }

    private func intermediateGroupsPropertyList() throws(HDF5Error) -> hid_t {
        let lcpl = try checkedId(H5Pcreate(chdf5_link_create_class()), "H5Pcreate lcpl")
        if H5Pset_create_intermediate_group(lcpl, 1) < 0 {
            H5Pclose(lcpl)
            throw HDF5Error.capture("H5Pset_create_intermediate_group")
        }
        return lcpl
    }

    // MARK: Attributes of an object by path

    public func setAttribute(_ name: String, _ value: AttributeValue, on path: String = "/") throws(HDF5Error) {
        let object = try checkedId(H5Oopen(id, path, chdf5_default()), "H5Oopen '\(path)'")
        defer { H5Oclose(object) }
        try Attributes.set(name, value, on: object)
    }

    /// Replaces a string attribute's text, keeping its place and its kind of string.
    /// A new one is fixed-length with `fixedIfNew` (netCDF's NC_CHAR), variable-length otherwise.
    public func replaceText(of name: String, with text: String, on path: String = "/", fixedIfNew: Bool = false)
        throws(HDF5Error)
    {
        let object = try checkedId(H5Oopen(id, path, chdf5_default()), "H5Oopen '\(path)'")
        defer { H5Oclose(object) }
        try Attributes.replaceText(name, with: text, on: object, fixedIfNew: fixedIfNew)
    }

    /// Whether the object at `path` has an attribute `name`. The HDF5 call is `H5Aexists_by_name`.
    public func hasAttribute(_ name: String, on path: String = "/") -> Bool {
        H5Aexists_by_name(id, path, name, chdf5_default()) > 0
    }

    public func attribute(_ name: String, on path: String = "/") throws(HDF5Error) -> AttributeValue? {
        let object = try checkedId(H5Oopen(id, path, chdf5_default()), "H5Oopen '\(path)'")
        defer { H5Oclose(object) }
        return try Attributes.get(name, on: object)
    }
}

/// The descriptor of `file` where its driver is sec2 (a plain POSIX file), else nil.
/// The HDF5 calls are `H5Fget_access_plist`, `H5Pget_driver` and `H5Fget_vfd_handle`.
func sec2Descriptor(of file: hid_t) -> Int32? {
    let access = H5Fget_access_plist(file)
    guard access >= 0 else { return nil }
    defer { H5Pclose(access) }
    guard H5Pget_driver(access) == chdf5_driver_sec2() else { return nil }
    var handle: UnsafeMutableRawPointer? = nil
    guard H5Fget_vfd_handle(file, access, &handle) >= 0, let handle else { return nil }
    return handle.load(as: Int32.self)
}

/// An object found by `File.objects()`.
public struct ObjectEntry: Equatable, Sendable {
    public enum Kind: Sendable { case group, dataset, namedType, unknown }
    public let path: String
    public let kind: Kind
}

extension ObjectEntry.Kind {
    init(_ type: H5O_type_t) {
        switch type {
        case H5O_TYPE_GROUP: self = .group
        case H5O_TYPE_DATASET: self = .dataset
        case H5O_TYPE_NAMED_DATATYPE: self = .namedType
        default: self = .unknown
        }
    }
}
