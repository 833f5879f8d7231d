#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// Re-pointing the names of an object at another object, each name kept at its
/// place in the iteration order of its group (netCDF-4 numbers variables by link
/// creation order, so a name moved to the end would renumber them).
extension File {
    /// Every hard link that names the object at `address`, as absolute paths,
    /// one per link (a group reachable by two names is visited once).
    /// The HDF5 call is `H5Lvisit` (`chdf5_visit_links`).
    func hardLinkNames(of address: ObjectAddress) throws(HDF5Error) -> [String] {
        typealias Found = (target: haddr_t, paths: [String])
        let (status, found) = CallbackContext<Found>.run((address.rawValue, [])) { context in
            chdf5_visit_links(
                id, H5_INDEX_NAME, H5_ITER_INC,
                { name, type, address, context in
                    guard let name else { return -1 }
                    return CallbackContext<Found>.update(context) { found in
                        if type == H5L_TYPE_HARD, address == found.target {
                            found.paths.append("/" + String(cString: name))
                        }
                    }
                }, context)
        }
        try checkedStatus(status, "H5Lvisit '\(name)'")
        return found.paths
    }

    /// Makes `link` another name of the object at `target`. The HDF5 call is `H5Lcreate_hard`.
    public func createHardLink(_ link: String, to target: String) throws(HDF5Error) {
        try checkedStatus(
            H5Lcreate_hard(id, target, id, link, chdf5_default(), chdf5_default()),
            "H5Lcreate_hard '\(link)'")
    }

    /// Makes the link at `path` name `object` instead of what it named. In a group
    /// that tracks creation order, the links created after it are re-created after
    /// it, in their order, so that it keeps its place. The HDF5 calls are
    /// `H5Ldelete`, `H5Olink`, `H5Lcopy` and `H5Lmove`.
    func relink(_ path: String, to object: hid_t) throws(HDF5Error) {
        let (parentPath, linkName) = Self.split(path)
        let parent = try checkedId(H5Gopen2(id, parentPath, chdf5_default()), "H5Gopen2 '\(parentPath)'")
        defer { H5Gclose(parent) }
        let later = try linksCreated(after: linkName, in: parent, path: parentPath)
        try checkedStatus(H5Ldelete(parent, linkName, chdf5_default()), "H5Ldelete '\(path)'")
        try checkedStatus(H5Olink(object, parent, linkName, chdf5_default(), chdf5_default()), "H5Olink '\(path)'")
        let temporary = ".gnorm-relink"
        for name in later {
            try checkedStatus(
                H5Lcopy(parent, name, parent, temporary, chdf5_default(), chdf5_default()),
                "H5Lcopy '\(parentPath)/\(name)'")
            try checkedStatus(H5Ldelete(parent, name, chdf5_default()), "H5Ldelete '\(parentPath)/\(name)'")
            try checkedStatus(
                H5Lmove(parent, temporary, parent, name, chdf5_default(), chdf5_default()),
                "H5Lmove '\(parentPath)/\(name)'")
        }
    }

    /// The links of `group` created after `name`, in creation order; none when
    /// the group does not track creation order (it iterates by name then).
    private func linksCreated(after name: String, in group: hid_t, path: String) throws(HDF5Error) -> [String] {
        let gcpl = try checkedId(H5Gget_create_plist(group), "H5Gget_create_plist '\(path)'")
        defer { H5Pclose(gcpl) }
        var flags: UInt32 = 0
        try checkedStatus(H5Pget_link_creation_order(gcpl, &flags), "H5Pget_link_creation_order '\(path)'")
        guard flags & chdf5_crt_order_tracked() != 0 else { return [] }
        var index: hsize_t = 0
        let (status, names) = CallbackContext<[String]>.run([]) { context in
            chdf5_iterate_links(
                group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &index,
                { name, _, _, context in CallbackContext<[String]>.append(name, to: context) }, context)
        }
        try checkedStatus(status, "H5Literate '\(path)' by creation order")
        guard let position = names.firstIndex(of: name) else { return [] }
        return Array(names[(position + 1)...])
    }

    static func split(_ path: String) -> (parent: String, name: String) {
        let components = path.split(separator: "/")
        let parent = "/" + components.dropLast().joined(separator: "/")
        return (parent, String(components.last ?? ""))
    }
}
