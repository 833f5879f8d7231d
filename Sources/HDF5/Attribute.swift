#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// The value of an attribute that gnorm writes or reads back.
public enum AttributeValue: Equatable, Sendable {
    case string(String)
    /// A fixed-length string: netCDF's NC_CHAR, the only text the netCDF-4 classic model allows.
    case fixedString(String)
    case integer(Int)
    /// A 32-bit integer: netCDF's NC_INT (the classic model has no 64-bit integers).
    case integer32(Int32)
    case double(Double)
    case doubles([Double])
}

/// `H5T_VARIABLE`, `(size_t)-1`, as a size for `H5Tset_size`.
private let variableLength = Int(bitPattern: UInt.max)

/// Attribute operations shared by files (their root group), groups and datasets.
enum Attributes {
    /// Writes (or replaces) a scalar attribute. The HDF5 calls are `H5Acreate2` and `H5Awrite`.
    static func set(_ name: String, _ value: AttributeValue, on object: hid_t) throws(HDF5Error) {
        if H5Aexists(object, name) > 0 {
            try checkedStatus(H5Adelete(object, name), "H5Adelete '\(name)'")
        }
        switch value {
        case .string(let text):
            // Variable-length UTF-8, as h5py writes str attributes (and reads them back as str).
            let type = try checkedId(H5Tcopy(chdf5_c_s1()), "H5Tcopy string")
            defer { H5Tclose(type) }
            try checkedStatus(H5Tset_size(type, variableLength), "H5Tset_size variable")
            try checkedStatus(H5Tset_cset(type, H5T_CSET_UTF8), "H5Tset_cset")
            let space = try Dataspace(shape: [])
            let attribute = try checkedId(
                H5Acreate2(object, name, type, space.id, chdf5_default(), chdf5_default()),
                "H5Acreate2 '\(name)'")
            defer { H5Aclose(attribute) }
            let status = text.withCString { characters in
                var pointer: UnsafePointer<CChar>? = characters
                return H5Awrite(attribute, type, &pointer)
            }
            try checkedStatus(status, "H5Awrite '\(name)'")
        case .fixedString(let text):
            let type = try checkedId(H5Tcopy(chdf5_c_s1()), "H5Tcopy string")
            defer { H5Tclose(type) }
            var bytes = Array(text.utf8)
            try checkedStatus(H5Tset_size(type, max(1, bytes.count)), "H5Tset_size \(bytes.count)")
            if bytes.isEmpty { bytes = [0] }
            try write(name, type: type, memoryType: type, count: nil, &bytes, on: object)
        case .integer32(let number):
            var stored = number
            try write(name, type: chdf5_std_i32le(), memoryType: chdf5_native_int32(), count: nil, &stored, on: object)
        case .integer(let number):
            var stored = Int64(number)
            try write(name, type: chdf5_std_i64le(), memoryType: chdf5_native_int64(), count: nil, &stored, on: object)
        case .double(let number):
            var stored = number
            try write(
                name, type: chdf5_ieee_f64le(), memoryType: chdf5_native_double(), count: nil, &stored, on: object)
        case .doubles(let numbers):
            var stored = numbers
            try write(
                name, type: chdf5_ieee_f64le(), memoryType: chdf5_native_double(), count: numbers.count, &stored,
                on: object)
        }
    }

    private static func write(
        _ name: String, type: hid_t, memoryType: hid_t, count: Int?,
        _ buffer: UnsafeMutableRawPointer, on object: hid_t
    ) throws(HDF5Error) {
        let space = try Dataspace(shape: count.map { [$0] } ?? [])
        let attribute = try checkedId(
            H5Acreate2(object, name, type, space.id, chdf5_default(), chdf5_default()),
            "H5Acreate2 '\(name)'")
        defer { H5Aclose(attribute) }
        try checkedStatus(H5Awrite(attribute, memoryType, buffer), "H5Awrite '\(name)'")
    }

    /// Reads a string or numeric attribute; nil when it does not exist.
    static func get(_ name: String, on object: hid_t) throws(HDF5Error) -> AttributeValue? {
        guard H5Aexists(object, name) > 0 else { return nil }
        let attribute = try checkedId(H5Aopen(object, name, chdf5_default()), "H5Aopen '\(name)'")
        defer { H5Aclose(attribute) }
        let type = try checkedId(H5Aget_type(attribute), "H5Aget_type '\(name)'")
        defer { H5Tclose(type) }
        let space = try Dataspace(adopting: H5Aget_space(attribute), "H5Aget_space '\(name)'")
        let count = max(1, Int(H5Sget_simple_extent_npoints(space.id)))
        switch H5Tget_class(type) {
        case H5T_STRING:
            if H5Tis_variable_str(type) > 0 {
                var pointer: UnsafeMutablePointer<CChar>? = nil
                let memory = try checkedId(H5Tcopy(chdf5_c_s1()), "H5Tcopy")
                defer { H5Tclose(memory) }
                H5Tset_size(memory, variableLength)
                H5Tset_cset(memory, H5Tget_cset(type))
                try checkedStatus(H5Aread(attribute, memory, &pointer), "H5Aread '\(name)'")
                defer { if let pointer { H5free_memory(pointer) } }
                return .string(pointer.map { String(cString: $0) } ?? "")
            }
            let size = H5Tget_size(type)
            var bytes = [UInt8](repeating: 0, count: size * count + 1)
            try checkedStatus(H5Aread(attribute, type, &bytes), "H5Aread '\(name)'")
            let text = bytes.prefix(size).prefix { $0 != 0 }
            return .string(String(decoding: text, as: UTF8.self))
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: count)
            try checkedStatus(H5Aread(attribute, chdf5_native_int64(), &values), "H5Aread '\(name)'")
            return .integer(Int(values[0]))
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            try checkedStatus(H5Aread(attribute, chdf5_native_double(), &values), "H5Aread '\(name)'")
            return count == 1 && H5Sget_simple_extent_ndims(space.id) == 0 ? .double(values[0]) : .doubles(values)
        default:
            return nil
        }
    }

    /// Every element of a numeric attribute (integer or float, scalar or vector) as float64,
    /// converted by libhdf5; nil when it does not exist or is not numeric.
    static func numbers(_ name: String, on object: hid_t) throws(HDF5Error) -> [Double]? {
        guard H5Aexists(object, name) > 0 else { return nil }
        let attribute = try checkedId(H5Aopen(object, name, chdf5_default()), "H5Aopen '\(name)'")
        defer { H5Aclose(attribute) }
        let type = try checkedId(H5Aget_type(attribute), "H5Aget_type '\(name)'")
        defer { H5Tclose(type) }
        guard case let typeClass = H5Tget_class(type), typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else {
            return nil
        }
        let space = try Dataspace(adopting: H5Aget_space(attribute), "H5Aget_space '\(name)'")
        let count = Int(H5Sget_simple_extent_npoints(space.id))
        guard count > 0 else { return [] }
        var values = [Double](repeating: 0, count: count)
        try checkedStatus(H5Aread(attribute, chdf5_native_double(), &values), "H5Aread '\(name)'")
        return values
    }

    /// Replaces the text of a string attribute without moving it: a variable-length one
    /// is rewritten where it is; a fixed-length one (netCDF-C writes text so) is made again
    /// with the new length, and the attributes created after it are made again after it,
    /// so that tools listing attributes in creation order (ncdump) show the same order.
    /// A missing attribute is created as `set` does, fixed-length when `fixedIfNew`.
    static func replaceText(_ name: String, with text: String, on object: hid_t, fixedIfNew: Bool = false)
        throws(HDF5Error)
    {
        guard H5Aexists(object, name) > 0 else {
            return try set(name, fixedIfNew ? .fixedString(text) : .string(text), on: object)
        }
        let attribute = try checkedId(H5Aopen(object, name, chdf5_default()), "H5Aopen '\(name)'")
        var attributeOpen = true
        defer { if attributeOpen { H5Aclose(attribute) } }
        let type = try checkedId(H5Aget_type(attribute), "H5Aget_type '\(name)'")
        defer { H5Tclose(type) }
        let space = try Dataspace(adopting: H5Aget_space(attribute), "H5Aget_space '\(name)'")
        guard H5Tget_class(type) == H5T_STRING, H5Sget_simple_extent_npoints(space.id) == 1 else {
            return try set(name, .string(text), on: object)
        }
        if H5Tis_variable_str(type) > 0 {
            let status = text.withCString { characters in
                var pointer: UnsafePointer<CChar>? = characters
                return H5Awrite(attribute, type, &pointer)
            }
            return try checkedStatus(status, "H5Awrite '\(name)'")
        }
        let later = names(on: object, createdAfter: name)
        H5Aclose(attribute)
        attributeOpen = false
        let fixed = try checkedId(H5Tcopy(type), "H5Tcopy '\(name)'")
        defer { H5Tclose(fixed) }
        var bytes = Array(text.utf8)
        try checkedStatus(H5Tset_size(fixed, max(1, bytes.count)), "H5Tset_size '\(name)'")
        if bytes.isEmpty { bytes = [0] }
        try checkedStatus(H5Adelete(object, name), "H5Adelete '\(name)'")
        let created = try checkedId(
            H5Acreate2(object, name, fixed, space.id, chdf5_default(), chdf5_default()),
            "H5Acreate2 '\(name)'")
        defer { H5Aclose(created) }
        try checkedStatus(H5Awrite(created, fixed, &bytes), "H5Awrite '\(name)'")
        for other in later { try copy(other, from: object, to: object) }
    }

    /// The attributes created after `name`, in creation order; none where the object
    /// does not track creation order (its attributes are listed by name then).
    private static func names(on object: hid_t, createdAfter name: String) -> [String] {
        guard let all = names(of: object, along: H5_INDEX_CRT_ORDER), let position = all.firstIndex(of: name) else {
            return []
        }
        return Array(all[(position + 1)...])
    }

    /// The names of an object's attributes in creation order where it tracks it, by name otherwise.
    /// The HDF5 call is `H5Aiterate2`.
    static func names(on object: hid_t) throws(HDF5Error) -> [String] {
        if let tracked = names(of: object, along: H5_INDEX_CRT_ORDER) { return tracked }
        guard let byName = names(of: object, along: H5_INDEX_NAME) else { throw HDF5Error.capture("H5Aiterate2") }
        return byName
    }

    /// The names along `index`; nil where the object has no such index (an object without
    /// creation-order tracking only has a name index) or the iteration fails.
    private static func names(of object: hid_t, along index: H5_index_t) -> [String]? {
        var position: hsize_t = 0
        let (status, names) = CallbackContext<[String]>.run([]) { context in
            H5Aiterate2(
                object, index, H5_ITER_INC, &position,
                { _, name, _, context in CallbackContext<[String]>.append(name, to: context) }, context)
        }
        return status < 0 ? nil : names
    }

    /// The largest attribute of an object, in stored bytes. The HDF5 call is `H5Aget_storage_size`.
    static func largestStorageSize(on object: hid_t) throws(HDF5Error) -> Int {
        var largest = 0
        for name in try names(on: object) {
            let attribute = try checkedId(H5Aopen(object, name, chdf5_default()), "H5Aopen '\(name)'")
            largest = max(largest, Int(H5Aget_storage_size(attribute)))
            H5Aclose(attribute)
        }
        return largest
    }

    /// Copies every attribute of `source` onto `destination`, whatever its type,
    /// in order, by reading it in its native memory form and writing it back;
    /// `edits` drops some and stores others again as `retypedAs`.
    /// The HDF5 calls are `H5Aiterate2`, `H5Aread`, `H5Awrite`, `H5Dvlen_reclaim` (`chdf5_reclaim`).
    static func copyAll(
        from source: hid_t, to destination: hid_t, edits: AttributeEdits = AttributeEdits(),
        retypedAs newType: ElementType? = nil
    ) throws(HDF5Error) {
        for name in try names(on: source) where !edits.dropped.contains(name) {
            if let newType, edits.retyped.contains(name), try retype(name, from: source, to: destination, as: newType) {
                continue
            }
            try copy(name, from: source, to: destination)
        }
    }

    /// Stores a numeric attribute again in `type` (exactly, as gnorm converts);
    /// false when it is not numeric, for the caller to copy it as it is.
    private static func retype(_ name: String, from source: hid_t, to destination: hid_t, as type: ElementType)
        throws(HDF5Error) -> Bool
    {
        let attribute = try checkedId(H5Aopen(source, name, chdf5_default()), "H5Aopen '\(name)'")
        defer { H5Aclose(attribute) }
        let fileType = try checkedId(H5Aget_type(attribute), "H5Aget_type '\(name)'")
        defer { H5Tclose(fileType) }
        let typeClass = H5Tget_class(fileType)
        guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else { return false }
        let space = try Dataspace(adopting: H5Aget_space(attribute), "H5Aget_space '\(name)'")
        let count = max(1, Int(H5Sget_simple_extent_npoints(space.id)))
        var values = [Double](repeating: 0, count: count)
        try checkedStatus(H5Aread(attribute, chdf5_native_double(), &values), "H5Aread '\(name)'")
        var bytes = values.flatMap { type.encoded($0) }
        let storedType = try type.makeStorageTypeId()
        defer { H5Tclose(storedType) }
        if H5Aexists(destination, name) > 0 { H5Adelete(destination, name) }
        let copied = try checkedId(
            H5Acreate2(destination, name, storedType, space.id, chdf5_default(), chdf5_default()),
            "H5Acreate2 '\(name)'")
        defer { H5Aclose(copied) }
        try checkedStatus(H5Awrite(copied, storedType, &bytes), "H5Awrite '\(name)'")
        return true
    }

    private static func copy(_ name: String, from source: hid_t, to destination: hid_t) throws(HDF5Error) {
        let attribute = try checkedId(H5Aopen(source, name, chdf5_default()), "H5Aopen '\(name)'")
        defer { H5Aclose(attribute) }
        let fileType = try checkedId(H5Aget_type(attribute), "H5Aget_type '\(name)'")
        defer { H5Tclose(fileType) }
        let memoryType = try checkedId(H5Tget_native_type(fileType, H5T_DIR_DEFAULT), "H5Tget_native_type '\(name)'")
        defer { H5Tclose(memoryType) }
        let space = try Dataspace(adopting: H5Aget_space(attribute), "H5Aget_space '\(name)'")
        let count = max(1, Int(H5Sget_simple_extent_npoints(space.id)))
        let size = max(1, H5Tget_size(memoryType) * count)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        defer { buffer.deallocate() }
        try checkedStatus(H5Aread(attribute, memoryType, buffer), "H5Aread '\(name)'")
        defer {
            if H5Tdetect_class(memoryType, H5T_VLEN) > 0 || H5Tis_variable_str(memoryType) > 0 {
                chdf5_reclaim(memoryType, space.id, buffer)
            }
        }
        if H5Aexists(destination, name) > 0 { H5Adelete(destination, name) }
        let copied = try checkedId(
            H5Acreate2(destination, name, fileType, space.id, chdf5_default(), chdf5_default()),
            "H5Acreate2 '\(name)'")
        defer { H5Aclose(copied) }
        try checkedStatus(H5Awrite(copied, memoryType, buffer), "H5Awrite '\(name)'")
    }
}

extension Dataset {
    /// The bytes of its largest attribute's values, as stored. The HDF5 call is `H5Aiterate2`.
    public func largestAttributeBytes() throws(HDF5Error) -> Int {
        var position: hsize_t = 0
        let (status, largest) = CallbackContext<Int>.run(0) { context in
            H5Aiterate2(
                id, H5_INDEX_NAME, H5_ITER_INC, &position,
                { _, _, info, context in
                    guard let info else { return -1 }
                    return CallbackContext<Int>.update(context) { $0 = max($0, Int(info.pointee.data_size)) }
                }, context)
        }
        try checkedStatus(status, "H5Aiterate2 '\(path)'")
        return largest
    }
}
