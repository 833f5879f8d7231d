#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// A dataset being replaced by one of another type or layout, in the same file,
/// so that readers still see the same object: same names (each at its place),
/// shape, attributes in their order, fill value (converted) and creation flags.
///
/// The new dataset is created unnamed (`dataset`); the caller fills it, then
/// `finish()` rewrites the references to the old one and moves every name of
/// the old one onto it.
public struct DatasetReplacement: ~Copyable {
    /// The new dataset, not yet linked into the file.
    public let dataset: Dataset
    /// Held open until the replacement is dropped: an open object is not freed when `finish`
    /// moves its last name away, so its address cannot be reused while references to it are
    /// still being rewritten.
    let old: Dataset
    public let oldAddress: ObjectAddress
    /// Every hard-link name of the old dataset.
    public let names: [String]
}

/// What becomes of the attributes of a replaced dataset.
public struct AttributeEdits: Sendable {
    /// Attributes left out (e.g. `scale_factor` of a packed variable now stored as floats).
    public var dropped: Set<String>
    /// Attributes whose numeric values are stored again in the new element type (`_FillValue`).
    public var retyped: Set<String>

    public init(dropped: Set<String> = [], retyped: Set<String> = []) {
        self.dropped = dropped
        self.retyped = retyped
    }
}

extension File {
    /// Starts replacing the dataset at `path` with one of `elementType` stored as `creation`.
    /// The HDF5 calls are `H5Dget_create_plist`, `H5Pget_fill_value`, `H5Dcreate_anon`.
    public func beginReplacing(
        _ path: String, elementType: ElementType, creation: DatasetCreation, attributes edits: AttributeEdits
    ) throws(HDF5Error) -> DatasetReplacement {
        let old = try openDataset(path)
        let oldAddress = try old.address()
        let names = try hardLinkNames(of: oldAddress)
        let space = try Dataspace(adopting: H5Dget_space(old.id), "H5Dget_space '\(path)'")
        let type = try elementType.makeStorageTypeId()
        defer { H5Tclose(type) }
        let oldPlist = try checkedId(H5Dget_create_plist(old.id), "H5Dget_create_plist '\(path)'")
        defer { H5Pclose(oldPlist) }
        let plist = try creation.makePropertyList()
        defer { H5Pclose(plist) }
        try carryCreationFlags(from: oldPlist, to: plist, elementType: elementType, path: path)
        if try Attributes.largestStorageSize(on: old.id) > 60_000 {
            // Attributes over 64 KiB live in dense storage, which needs the newer object header.
            try checkedStatus(H5Pset_attr_phase_change(plist, 0, 0), "H5Pset_attr_phase_change")
        }
        let created = try checkedId(
            H5Dcreate_anon(id, type, space.id, plist, chdf5_default()), "H5Dcreate_anon for '\(path)'")
        let dataset = try Dataset(adopting: created, path: path)
        try Attributes.copyAll(from: old.id, to: dataset.id, edits: edits, retypedAs: elementType)
        return DatasetReplacement(dataset: dataset, old: old, oldAddress: oldAddress, names: names)
    }

    /// Fill value (converted to the new type), fill time, attribute order tracking
    /// and phase change, and time tracking: the creation properties that are not layout.
    private func carryCreationFlags(
        from old: hid_t, to new: hid_t, elementType: ElementType, path: String
    ) throws(HDF5Error) {
        var defined = H5D_FILL_VALUE_UNDEFINED
        try checkedStatus(H5Pfill_value_defined(old, &defined), "H5Pfill_value_defined '\(path)'")
        if defined == H5D_FILL_VALUE_USER_DEFINED {
            var fill = 0.0
            try checkedStatus(H5Pget_fill_value(old, chdf5_native_double(), &fill), "H5Pget_fill_value '\(path)'")
            var bytes = elementType.encoded(fill)
            let type = try elementType.makeStorageTypeId()
            defer { H5Tclose(type) }
            try checkedStatus(H5Pset_fill_value(new, type, &bytes), "H5Pset_fill_value '\(path)'")
        }
        var fillTime = H5D_FILL_TIME_IFSET
        if H5Pget_fill_time(old, &fillTime) >= 0 { H5Pset_fill_time(new, fillTime) }
        var orderFlags: UInt32 = 0
        if H5Pget_attr_creation_order(old, &orderFlags) >= 0, orderFlags != 0 {
            try checkedStatus(H5Pset_attr_creation_order(new, orderFlags), "H5Pset_attr_creation_order '\(path)'")
        }
        var compactLimit: UInt32 = 8
        var denseLimit: UInt32 = 6
        if H5Pget_attr_phase_change(old, &compactLimit, &denseLimit) >= 0 {
            H5Pset_attr_phase_change(new, compactLimit, denseLimit)
        }
        var tracksTimes = false
        if H5Pget_obj_track_times(old, &tracksTimes) >= 0 { H5Pset_obj_track_times(new, tracksTimes) }
    }
}

extension DatasetReplacement {
    /// Rewrites every reference to the old dataset to name the new one, then moves every
    /// name of the old dataset onto the new one, each at its place. Returns a line for each
    /// reference that could not be kept. The references are rewritten while both datasets
    /// have a name (region references are resolved and made again by name), under a
    /// temporary name for the new one.
    public func finish(in file: borrowing File) throws(HDF5Error) -> [String] {
        let temporary = "/.gnorm-replacing"
        try checkedStatus(
            H5Olink(dataset.id, file.id, temporary, chdf5_default(), chdf5_default()),
            "H5Olink '\(temporary)'")
        let unresolved = try file.remapReferences([
            oldAddress: MovedObject(address: try dataset.address(), path: temporary)
        ])
        for name in names {
            try file.relink(name, to: dataset.id)
        }
        try checkedStatus(H5Ldelete(file.id, temporary, chdf5_default()), "H5Ldelete '\(temporary)'")
        return unresolved
    }
}
