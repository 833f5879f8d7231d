import Foundation

/// What some tests need from the machine, asked once; a test that needs one names it in an
/// `.enabled(if:)` trait, so Swift Testing reports it as skipped (not passed) where it is missing.
enum Conditions {
    /// Root: gnorm can be run as another user (`setpriv`), and file modes bind only through mounts.
    static let isRoot = getuid() == 0

    /// Whether a tmpfs can be mounted here (root, outside a container that forbids it): the tests
    /// that fill a disk or need a read-only folder mount a small one.
    static let canMountTmpfs: Bool = {
        guard let folder = try? Gnorm.scratchFolder() else { return false }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let mounted = try? Gnorm.run(
            ["-c", "mount -t tmpfs -o size=64k tmpfs \"$0\" && umount \"$0\"", folder], shell: true)
        return mounted?.status == 0
    }()
}
