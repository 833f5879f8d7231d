import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// glibc's `renameat2` (Linux 3.15+, glibc 2.28+), which Swift's Glibc module does not import
/// (it needs _GNU_SOURCE). Alone in this file so that it can move behind a platform layer.
enum RenameAt2 {
    /// RENAME_NOREPLACE: fail with EEXIST rather than replace what is at the new name.
    static let noReplace: UInt32 = 1
    /// RENAME_EXCHANGE: swap the two names atomically (both must exist).
    static let exchange: UInt32 = 2

    /// `renameat2(AT_FDCWD, from, AT_FDCWD, to, flags)`; returns 0 or the errno (ENOSYS where
    /// glibc has no such call; EINVAL where the filesystem does not take the flag).
    static func rename(_ from: String, _ to: String, flags: UInt32) -> Int32 {
        guard let call else { return ENOSYS }
        return call(AT_FDCWD, from, AT_FDCWD, to, flags) == 0 ? 0 : errno
    }

    private typealias Call = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let call: Call? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: Call.self)
    }()
}
