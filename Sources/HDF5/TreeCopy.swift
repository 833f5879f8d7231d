internal import CHDF5

extension File {
    /// Recreates every object, link and attribute of `source` in this file,
    /// except the datasets at `skipped` (absolute paths), which the caller writes.
    /// Groups are rebuilt so that skipped datasets are never copied; everything
    /// else is copied whole. Objects reached by several hard links stay one object.
    /// Returns the other names of skipped objects, as (name, skipped path): hard
    /// links for the caller to make once it has written those datasets.
    /// The HDF5 calls are `H5Literate`, `H5Ocopy`, `H5Lcreate_soft`, `H5Lcreate_external`, `H5Lcreate_hard`.
    public func copyTree(from source: borrowing File, skipping skipped: Set<String>) throws(HDF5Error) -> [(link: String, target: String)] {
        try Attributes.copyAll(from: source.id, to: id)
        var copiedAt: [haddr_t: String] = [:]
        var pending: [(link: String, target: String)] = []
        try copyMembers(of: "/", from: source.id, skipping: skipped, copiedAt: &copiedAt, pending: &pending)
        return pending
    }

    /// Makes `link` another name of the object at `target`. The HDF5 call is `H5Lcreate_hard`.
    public func createHardLink(_ link: String, to target: String) throws(HDF5Error) {
        try checkedStatus(H5Lcreate_hard(id, target, id, link, chdf5_default(), chdf5_default()),
                          "H5Lcreate_hard '\(link)'")
    }

    private func copyMembers(
        of group: String, from source: hid_t, skipping skipped: Set<String>, copiedAt: inout [haddr_t: String],
        pending: inout [(link: String, target: String)]
    ) throws(HDF5Error) {
        for link in try Self.links(in: group, of: source) {
            let path = group == "/" ? "/" + link.name : group + "/" + link.name
            switch link.kind {
            case .soft(let target):
                try checkedStatus(H5Lcreate_soft(target, id, path, chdf5_default(), chdf5_default()),
                                  "H5Lcreate_soft '\(path)'")
            case .external(let file, let object):
                try checkedStatus(H5Lcreate_external(file, object, id, path, chdf5_default(), chdf5_default()),
                                  "H5Lcreate_external '\(path)'")
            case .hard:
                var info = H5O_info_t()
                try checkedStatus(H5Oget_info_by_name2(source, path, &info, chdf5_oinfo_basic(), chdf5_default()),
                                  "H5Oget_info_by_name '\(path)'")
                if let first = copiedAt[info.addr] {
                    if skipped.contains(first) {
                        pending.append((link: path, target: first))
                    } else {
                        try checkedStatus(H5Lcreate_hard(id, first, id, path, chdf5_default(), chdf5_default()),
                                          "H5Lcreate_hard '\(path)'")
                    }
                    continue
                }
                copiedAt[info.addr] = path
                if skipped.contains(path) { continue }
                if info.type == H5O_TYPE_GROUP {
                    try copyGroupShell(path, from: source)
                    try copyMembers(of: path, from: source, skipping: skipped, copiedAt: &copiedAt, pending: &pending)
                } else {
                    try checkedStatus(H5Ocopy(source, path, id, path, chdf5_default(), chdf5_default()),
                                      "H5Ocopy '\(path)'")
                }
            case .unknown:
                continue
            }
        }
    }

    /// Creates the group with the source's creation properties and attributes, no members.
    private func copyGroupShell(_ path: String, from source: hid_t) throws(HDF5Error) {
        let sourceGroup = try checkedId(H5Gopen2(source, path, chdf5_default()), "H5Gopen2 '\(path)'")
        defer { H5Gclose(sourceGroup) }
        let gcpl = try checkedId(H5Gget_create_plist(sourceGroup), "H5Gget_create_plist '\(path)'")
        defer { H5Pclose(gcpl) }
        let group = try checkedId(H5Gcreate2(id, path, chdf5_default(), gcpl, chdf5_default()), "H5Gcreate2 '\(path)'")
        defer { H5Gclose(group) }
        try Attributes.copyAll(from: sourceGroup, to: group)
    }

    private struct Link {
        enum Kind { case hard, soft(String), external(file: String, object: String), unknown }
        let name: String
        let kind: Kind
    }

    /// The links of one group in name order, with soft and external targets resolved.
    private static func links(in group: String, of file: hid_t) throws(HDF5Error) -> [Link] {
        final class Names { var list: [(String, H5L_type_t)] = [] }
        let names = Names()
        let groupId = try checkedId(H5Gopen2(file, group, chdf5_default()), "H5Gopen2 '\(group)'")
        defer { H5Gclose(groupId) }
        var index: hsize_t = 0
        let status = withExtendedLifetime(names) {
            H5Literate(groupId, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, info, context in
                guard let name, let info, let context else { return -1 }
                Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append((String(cString: name), info.pointee.type))
                return 0
            }, Unmanaged.passUnretained(names).toOpaque())
        }
        try checkedStatus(status, "H5Literate '\(group)'")
        var links: [Link] = []
        for (name, type) in names.list {
            switch type {
            case H5L_TYPE_HARD:
                links.append(Link(name: name, kind: .hard))
            case H5L_TYPE_SOFT, H5L_TYPE_EXTERNAL:
                let value = try linkValue(name, in: groupId)
                if type == H5L_TYPE_SOFT {
                    links.append(Link(name: name, kind: .soft(String(decoding: value.prefix { $0 != 0 }, as: UTF8.self))))
                } else {
                    var flags: UInt32 = 0
                    var filePointer: UnsafePointer<CChar>? = nil
                    var objectPointer: UnsafePointer<CChar>? = nil
                    let target: (file: String, object: String)? = value.withUnsafeBytes { bytes in
                        guard H5Lunpack_elink_val(bytes.baseAddress, bytes.count, &flags, &filePointer, &objectPointer) >= 0
                        else { return nil }
                        return (filePointer.map { String(cString: $0) } ?? "", objectPointer.map { String(cString: $0) } ?? "")
                    }
                    guard let target else { throw HDF5Error.capture("H5Lunpack_elink_val '\(name)'") }
                    links.append(Link(name: name, kind: .external(file: target.file, object: target.object)))
                }
            default:
                links.append(Link(name: name, kind: .unknown))
            }
        }
        return links
    }

    private static func linkValue(_ name: String, in group: hid_t) throws(HDF5Error) -> [UInt8] {
        var info = H5L_info_t()
        try checkedStatus(H5Lget_info(group, name, &info, chdf5_default()), "H5Lget_info '\(name)'")
        let size = Int(info.u.val_size)
        var value = [UInt8](repeating: 0, count: size + 1)
        try checkedStatus(H5Lget_val(group, name, &value, size, chdf5_default()), "H5Lget_val '\(name)'")
        return value
    }
}
