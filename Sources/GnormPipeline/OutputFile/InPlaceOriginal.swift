import Foundation
import Platform

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
            let failure = SystemCallError("stat", path: path)
            throw .inputUnavailable("cannot read: \(failure.reason)", file: name, cause: failure)
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
        let descriptor: Int32
        do { descriptor = try System.open(temporary, O_RDONLY | O_CLOEXEC) } catch {
            return ["cannot keep INPUT's owner and mode: \(error.reason)"]
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
            let failure = SystemCallError("fchmod", path: temporary)
            warnings.append("INPUT's mode \(String(mode, radix: 8)) could not be kept: \(failure.reason)")
        }
        warnings += copyExtendedAttributes(to: descriptor)
        return warnings
    }

    /// Copies every extended attribute of INPUT that the system lets this user set.
    private func copyExtendedAttributes(to descriptor: Int32) -> [String] {
        let names: [String]
        do { names = try System.extendedAttributeNames(path) } catch { return [] }
        var warnings: [String] = []
        for name in names {
            do throws(SystemCallError) {
                let value = try System.extendedAttribute(name, of: path)
                try System.setExtendedAttribute(name, value, on: descriptor)
            } catch {
                warnings.append("extended attribute \(name) of INPUT not kept: \(error.reason)")
            }
        }
        return warnings
    }
}
