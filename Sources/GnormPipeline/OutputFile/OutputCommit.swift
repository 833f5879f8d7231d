import Foundation
import Platform

/// How a finished temporary file takes its final name (SPEC §3): OUTPUT appears complete,
/// never replaces a file that appeared at its name during the run unless `--force` was given,
/// and never replaces anything but a regular file. Every check is made by the rename itself
/// (`renameat2`), so nothing that appears between a check and the rename is lost.
enum OutputCommit {
    /// What the final name may hold when the file is put there.
    enum Policy: Sendable {
        /// Nothing (no `--force`): whatever appeared at the name during the run stays.
        case noReplace
        /// `--force`: a regular file, or a symbolic link to one or to nothing (the link is
        /// replaced, never its target).
        case replace
        /// `--in-place`: INPUT itself, the file (device, inode) that was read.
        case replaceInput(device: UInt64, inode: UInt64)
    }

    /// Why a file was not put in place; the temporary file is still there.
    enum Refusal: Error, Equatable {
        /// Without `--force`, something appeared at the name during the run.
        case appeared
        /// What is at the name is not a file `--force` replaces ("a FIFO", …).
        case notRegular(String)
        /// With `--in-place`, INPUT's name now holds another file.
        case inputReplaced
        /// The rename failed (errno).
        case system(Int32)
    }

    /// Puts `temporary` at `final` as `policy` allows; nil when done.
    static func put(_ temporary: String, at final: String, policy: Policy) -> Refusal? {
        switch policy {
        case .noReplace:
            return putWithoutReplacing(temporary, at: final)
        case .replace, .replaceInput:
            let exchanged = swap(temporary, final, policy: policy)
            if exchanged.errno != ENOENT { return exchanged.refusal }
            // Nothing at the final name (or, --in-place, INPUT gone).
            if case .replaceInput = policy { return .inputReplaced }
            let refusal = putWithoutReplacing(temporary, at: final)
            // Something appeared since: one more swap, then give up.
            if refusal == .appeared { return swap(temporary, final, policy: policy).refusal }
            return refusal
        }
    }

    /// What a swap came to: its errno (ENOENT: nothing to swap with) and the refusal, if any.
    private struct Swap {
        let errno: Int32
        let refusal: Refusal?
    }

    /// Swaps the names (RENAME_EXCHANGE), looks at what was at the final name and swaps back
    /// when it may not go; removes it otherwise. Where the filesystem lacks RENAME_EXCHANGE:
    /// a look, then a plain rename (a window of microseconds).
    private static func swap(_ temporary: String, _ final: String, policy: Policy) -> Swap {
        let exchanged = errorCode { () throws(SystemCallError) in try System.exchange(temporary, final) }
        if exchanged == 0 {
            if let refusal = refusal(of: temporary, policy: policy) {
                let back = errorCode { () throws(SystemCallError) in try System.exchange(temporary, final) }
                return Swap(errno: 0, refusal: back == 0 ? refusal : .system(back))
            }
            unlink(temporary)  // what the final name held before: replaced
            return Swap(errno: 0, refusal: nil)
        }
        if exchanged == ENOENT { return Swap(errno: ENOENT, refusal: .system(ENOENT)) }
        guard [EINVAL, ENOSYS, EOPNOTSUPP].contains(exchanged) else {
            return Swap(errno: exchanged, refusal: .system(exchanged))
        }
        if let refusal = refusal(of: final, policy: policy) { return Swap(errno: 0, refusal: refusal) }
        return Swap(errno: 0, refusal: plainRename(temporary, final))
    }

    /// RENAME_NOREPLACE, or where the filesystem lacks it a hard link (which never replaces
    /// either) and the temporary name removed; where there are no hard links either (vfat,
    /// some FUSE filesystems), a check just before a plain rename.
    private static func putWithoutReplacing(_ temporary: String, at final: String) -> Refusal? {
        let renamed = errorCode { () throws(SystemCallError) in
            try System.renameWithoutReplacing(temporary, to: final)
        }
        if renamed == 0 { return nil }
        if renamed == EEXIST { return .appeared }
        guard [EINVAL, ENOSYS, EOPNOTSUPP].contains(renamed) else { return .system(renamed) }
        if link(temporary, final) == 0 {
            unlink(temporary)
            return nil
        }
        let linked = errno
        if linked == EEXIST { return .appeared }
        guard [EPERM, EOPNOTSUPP, ENOSYS].contains(linked) else { return .system(linked) }
        var status = stat()
        if lstat(final, &status) == 0 { return .appeared }
        return plainRename(temporary, final)
    }

    /// rename(2), which replaces: only after the caller looked at the final name.
    private static func plainRename(_ temporary: String, _ final: String) -> Refusal? {
        let failure = errorCode { () throws(SystemCallError) in try System.rename(temporary, to: final) }
        return failure == 0 ? nil : .system(failure)
    }

    /// 0 when `call` succeeds, else its errno.
    private static func errorCode(_ call: () throws(SystemCallError) -> Void) -> Int32 {
        do { try call() } catch { return error.code }
        return 0
    }

    /// Why what is at `path` may not be replaced under `policy`; nil when it may.
    private static func refusal(of path: String, policy: Policy) -> Refusal? {
        switch policy {
        case .noReplace:
            var status = stat()
            return lstat(path, &status) == 0 ? .appeared : nil
        case .replace:
            return unreplaceable(path).map { .notRegular($0) }
        case .replaceInput(let device, let inode):
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG,
                UInt64(status.st_dev) == device, UInt64(status.st_ino) == inode
            else { return .inputReplaced }
            return nil
        }
    }

    /// What is at `path` when `--force` may not replace it ("a FIFO", "a symbolic link to a
    /// directory", …); nil when the name is free, a regular file, or a symbolic link to a
    /// regular file or to nothing.
    static func unreplaceable(_ path: String) -> String? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        var prefix = ""
        if status.st_mode & S_IFMT == S_IFLNK {
            guard stat(path, &status) == 0 else { return nil }  // a dangling link
            prefix = "a symbolic link to "
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return prefix + "a directory"
        case S_IFCHR: return prefix + "a character device"
        case S_IFBLK: return prefix + "a block device"
        case S_IFIFO: return prefix + "a FIFO"
        case S_IFSOCK: return prefix + "a socket"
        default: return prefix + "not a regular file"
        }
    }

    /// The failure a refusal is reported as (SPEC §5: 73, OUTPUT cannot be created).
    static func failure(_ refusal: Refusal, name: String) -> PipelineError {
        switch refusal {
        case .appeared:
            return .outputUnavailable("OUTPUT appeared during the run; use --force to replace it", file: name)
        case .notRegular(let kind):
            return .outputUnavailable("OUTPUT is \(kind); gnorm replaces only regular files", file: name)
        case .inputReplaced:
            return .outputUnavailable("INPUT was replaced or removed during the run; it was left alone", file: name)
        case .system(let code):
            let failure = SystemCallError("rename", path: name, code: code)
            return .outputUnavailable("cannot rename into place: \(failure.reason)", file: name, cause: failure)
        }
    }
}
