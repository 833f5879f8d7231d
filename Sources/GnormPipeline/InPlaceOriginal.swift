import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// INPUT as `--in-place` found it. `--in-place` replaces INPUT's name with a new file (README,
/// "--in-place"), so it refuses what would make that differ from rewriting the file itself —
/// other hard links (they would keep the old data), a file the user could not write (the folder
/// being writable is not enough) — and the new file keeps INPUT's owner, group, permission
/// bits and extended attributes (ACLs included) where the system lets it.
struct InPlaceOriginal {
    let device: UInt64
    let inode: UInt64
    let owner: uid_t
    let group: gid_t
    let mode: mode_t
    /// INPUT's path (symbolic links resolved), where its extended attributes are read.
    let path: String

    init(checking path: String, name: String) throws(PipelineError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw .inputUnavailable("cannot read: \(String(cString: strerror(errno)))", file: name)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw .outputUnavailable("--in-place rewrites regular files only", file: name)
        }
        guard status.st_nlink <= 1 else {
            throw .outputUnavailable(
                "INPUT has \(status.st_nlink) hard links: --in-place would leave the old data under the other "
                    + "names; write a new OUTPUT instead", file: name)
        }
        guard faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0 else {
            throw .outputUnavailable(
                "INPUT is not writable by you (mode \(String(status.st_mode & 0o7777, radix: 8))): --in-place "
                    + "replaces only what you could write", file: name)
        }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        owner = status.st_uid
        group = status.st_gid
        mode = status.st_mode & 0o7777
        self.path = path
    }

    /// Gives `temporary` INPUT's owner, group, permission bits and extended attributes; returns
    /// what could not be kept, as warnings.
    func keep(on temporary: String) -> [String] {
        let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return ["cannot keep INPUT's owner and mode: \(String(cString: strerror(errno)))"]
        }
        defer { close(descriptor) }
        var warnings: [String] = []
        var status = stat()
        fstat(descriptor, &status)
        // Owner before mode: a change of owner clears set-user-ID bits.
        if (status.st_uid != owner || status.st_gid != group) && fchown(descriptor, owner, group) != 0 {
            // Not root: the group alone where the user belongs to it.
            if status.st_gid != group && fchown(descriptor, uid_t.max, group) != 0 {
                warnings.append("INPUT's group (gid \(group)) could not be kept: the file now has gid \(status.st_gid)")
            }
            if status.st_uid != owner {
                warnings.append(
                    "INPUT's owner (uid \(owner)) could not be kept: the file now belongs to uid \(getuid())")
            }
        }
        if fchmod(descriptor, mode) != 0 {
            warnings.append(
                "INPUT's mode \(String(mode, radix: 8)) could not be kept: \(String(cString: strerror(errno)))")
        }
        warnings += copyExtendedAttributes(to: descriptor)
        return warnings
    }

    /// Copies every extended attribute of INPUT that the system lets this user set.
    private func copyExtendedAttributes(to descriptor: Int32) -> [String] {
        guard let calls = ExtendedAttributes.calls else { return [] }
        let size = calls.list(path, nil, 0)
        guard size > 0 else { return [] }
        var names = [CChar](repeating: 0, count: size)
        let listed = calls.list(path, &names, size)
        guard listed > 0 else { return [] }
        var warnings: [String] = []
        for nameBytes in names[0..<listed].split(separator: 0) {
            let name = String(decoding: nameBytes.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let valueSize = calls.get(path, name, nil, 0)
            guard valueSize >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: max(valueSize, 1))
            let read = calls.get(path, name, &value, valueSize)
            guard read >= 0, calls.set(descriptor, name, value, read, 0) != 0 else { continue }
            warnings.append("extended attribute \(name) of INPUT not kept: \(String(cString: strerror(errno)))")
        }
        return warnings
    }
}

/// glibc's listxattr, getxattr and fsetxattr (<sys/xattr.h>), which Swift's Glibc module does
/// not import.
private enum ExtendedAttributes {
    typealias List = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    typealias Get = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    typealias Set = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32

    static let calls: (list: List, get: Get, set: Set)? = {
        let library = UnsafeMutableRawPointer(bitPattern: 0)
        guard let list = dlsym(library, "listxattr"), let get = dlsym(library, "getxattr"),
            let set = dlsym(library, "fsetxattr")
        else { return nil }
        return (
            unsafeBitCast(list, to: List.self), unsafeBitCast(get, to: Get.self), unsafeBitCast(set, to: Set.self)
        )
    }()
}
