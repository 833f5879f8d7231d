#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// Where a replaced object now lives.
public struct MovedObject: Sendable {
    public let address: ObjectAddress
    /// One of its names, for region references (which HDF5 creates by name).
    public let path: String

    public init(address: ObjectAddress, path: String) {
        self.address = address
        self.path = path
    }
}

extension File {
    /// Rewrites, everywhere in the file, every object and region reference to an
    /// old object of `moved` so that it names the new one: in attributes and in
    /// datasets, inside compounds, arrays and variable-length sequences too (so
    /// dimension scales' `DIMENSION_LIST` and `REFERENCE_LIST`). Values are written
    /// back in place, so attributes keep their order. Call it while the old objects
    /// are still open: region references are resolved through them.
    /// Returns a line for each reference it could not resolve, for the caller to report.
    /// The HDF5 calls are `H5Ovisit`, `H5Aread`/`H5Awrite`, `H5Dread`/`H5Dwrite`,
    /// `H5Rdereference2`, `H5Rget_region` and `H5Rcreate`.
    public func remapReferences(_ moved: [ObjectAddress: MovedObject]) throws(HDF5Error) -> [String] {
        guard !moved.isEmpty else { return [] }
        var remapper = ReferenceRemapper(file: id, moved: moved)
        for entry in try objects() {
            let object = try checkedId(H5Oopen(id, entry.path, chdf5_default()), "H5Oopen '\(entry.path)'")
            defer { H5Oclose(object) }
            for name in try Attributes.names(on: object) {
                try remapper.remapAttribute(name, of: object, at: entry.path)
            }
            if entry.kind == .dataset {
                try remapper.remapDataset(object, at: entry.path)
            }
        }
        return remapper.unresolved
    }
}

private struct ReferenceRemapper {
    let file: hid_t
    let moved: [ObjectAddress: MovedObject]
    var unresolved: [String] = []

    mutating func remapAttribute(_ name: String, of object: hid_t, at path: String) throws(HDF5Error) {
        let attribute = try checkedId(H5Aopen(object, name, chdf5_default()), "H5Aopen '\(path)' '\(name)'")
        defer { H5Aclose(attribute) }
        try rewrite(
            "attribute \(name) of \(path)", type: { H5Aget_type(attribute) }, space: { H5Aget_space(attribute) },
            read: { type, buffer in H5Aread(attribute, type, buffer) },
            write: { type, buffer in H5Awrite(attribute, type, buffer) })
    }

    mutating func remapDataset(_ dataset: hid_t, at path: String) throws(HDF5Error) {
        try rewrite(
            "dataset \(path)", type: { H5Dget_type(dataset) }, space: { H5Dget_space(dataset) },
            read: { type, buffer in H5Dread(dataset, type, chdf5_all(), chdf5_all(), chdf5_default(), buffer) },
            write: { type, buffer in
                H5Dwrite(dataset, type, chdf5_all(), chdf5_all(), transferList(for: dataset), buffer)
            })
    }

    /// Rewrites the references among the values of an attribute or a dataset (`place`), given
    /// how to get its type and dataspace, and how to read and write its values.
    private mutating func rewrite(
        _ place: String, type typeId: () -> hid_t, space spaceId: () -> hid_t,
        read: (hid_t, UnsafeMutableRawPointer) -> herr_t, write: (hid_t, UnsafeMutableRawPointer) -> herr_t
    ) throws(HDF5Error) {
        let fileType = try checkedId(typeId(), "getting the type of \(place)")
        defer { H5Tclose(fileType) }
        guard H5Tdetect_class(fileType, H5T_REFERENCE) > 0 else { return }
        let space = try Dataspace(adopting: spaceId(), "getting the dataspace of \(place)")
        let memoryType = try checkedId(H5Tget_native_type(fileType, H5T_DIR_DEFAULT), "H5Tget_native_type \(place)")
        defer { H5Tclose(memoryType) }
        let count = Int(H5Sget_simple_extent_npoints(space.id))
        let size = H5Tget_size(memoryType)
        guard count > 0 else { return }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count * size, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: count * size)
        defer { buffer.deallocate() }
        try checkedStatus(read(memoryType, buffer), "reading \(place)")
        defer {
            if H5Tdetect_class(memoryType, H5T_VLEN) > 0 {
                chdf5_reclaim(memoryType, space.id, buffer)
            }
        }
        var changed = false
        for index in 0..<count {
            changed = patch(buffer + index * size, type: memoryType, place: place) || changed
        }
        if changed {
            try checkedStatus(write(memoryType, buffer), "rewriting references in \(place)")
        }
    }

    /// Rewrites the references in one element of `type` at `pointer`; true if any changed.
    private mutating func patch(_ pointer: UnsafeMutableRawPointer, type: hid_t, place: String) -> Bool {
        guard H5Tdetect_class(type, H5T_REFERENCE) > 0 else { return false }
        switch H5Tget_class(type) {
        case H5T_REFERENCE:
            if H5Tequal(type, chdf5_std_ref_obj()) > 0 {
                let address = pointer.loadUnaligned(as: haddr_t.self)
                guard let target = moved[ObjectAddress(rawValue: address)] else { return false }
                pointer.storeBytes(of: target.address.rawValue, as: haddr_t.self)
                return true
            }
            return H5Tequal(type, chdf5_std_ref_dsetreg()) > 0 && patchRegion(pointer, place: place)
        case H5T_COMPOUND:
            var changed = false
            for member in 0..<UInt32(max(0, H5Tget_nmembers(type))) {
                let memberType = H5Tget_member_type(type, member)
                guard memberType >= 0 else { continue }
                changed = patch(pointer + H5Tget_member_offset(type, member), type: memberType, place: place) || changed
                H5Tclose(memberType)
            }
            return changed
        case H5T_ARRAY:
            let base = H5Tget_super(type)
            guard base >= 0 else { return false }
            defer { H5Tclose(base) }
            let elements = H5Tget_size(type) / max(1, H5Tget_size(base))
            var changed = false
            for index in 0..<elements {
                changed = patch(pointer + index * H5Tget_size(base), type: base, place: place) || changed
            }
            return changed
        case H5T_VLEN:
            let base = H5Tget_super(type)
            guard base >= 0 else { return false }
            defer { H5Tclose(base) }
            let sequence = pointer.loadUnaligned(as: hvl_t.self)
            guard let elements = sequence.p else { return false }
            var changed = false
            for index in 0..<sequence.len {
                changed = patch(elements + index * H5Tget_size(base), type: base, place: place) || changed
            }
            return changed
        default:
            return false
        }
    }

    /// A region reference is a heap entry naming the object and the selection:
    /// one to a moved dataset is made again, with the same selection, to the new one.
    private mutating func patchRegion(_ pointer: UnsafeMutableRawPointer, place: String) -> Bool {
        guard
            UnsafeRawBufferPointer(start: pointer, count: MemoryLayout<hdset_reg_ref_t>.size).contains(where: {
                $0 != 0
            })
        else { return false }
        let object = H5Rdereference2(file, chdf5_default(), chdf5_ref_dataset_region(), pointer)
        guard object >= 0 else {
            unresolved.append("a region reference in \(place) could not be resolved")
            return false
        }
        var address: haddr_t = 0
        let found = chdf5_object_address(object, &address)
        H5Oclose(object)
        guard found >= 0, let target = moved[ObjectAddress(rawValue: address)] else { return false }
        let region = H5Rget_region(file, chdf5_ref_dataset_region(), pointer)
        guard region >= 0 else {
            unresolved.append("a region reference in \(place) to \(target.path) lost its selection")
            return false
        }
        defer { H5Sclose(region) }
        guard H5Rcreate(pointer, file, target.path, chdf5_ref_dataset_region(), region) >= 0 else {
            unresolved.append("a region reference in \(place) to \(target.path) could not be made again")
            return false
        }
        return true
    }
}
