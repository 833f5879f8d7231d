import Foundation
import Platform

/// Names of the temporary files gnorm writes before a rename, and the removal of those that
/// runs killed with SIGKILL (or by a power cut) left behind.
///
/// A temporary name is `.NAME.gnorm-tmp-HOST-PID-RANDOM` beside the final file (standard
/// output's: `.gnorm-stdout-HOST-PID-RANDOM.h5` in $TMPDIR). Before gnorm makes one in a
/// folder it removes that folder's temporaries whose HOST is this machine and whose PID no
/// longer runs: the next run in the same folder cleans up after a killed one. A PID that was
/// reused keeps its file until the next run after that; a file from another machine sharing the
/// folder (NFS) is never touched.
enum Temporaries {
    static let marker = ".gnorm-tmp-"
    static let standardOutputMarker = ".gnorm-stdout-"

    /// The temporary name for a file that will be renamed to `final`, after removing stale
    /// temporaries of dead runs from its folder. Under MPI only process 0 cleans up (`sweeping`);
    /// the others leave the folder alone.
    static func name(for final: String, sweeping: Bool) -> String {
        let url = URL(fileURLWithPath: final)
        let folder = url.deletingLastPathComponent().path
        if sweeping { removeStale(in: folder) }
        let tail = marker + "\(host)-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        // NAME_MAX is 255 bytes: a long final name is shortened in its temporary one.
        var base = ""
        for character in url.lastPathComponent {
            if base.utf8.count + character.utf8.count + tail.utf8.count + 1 > 255 { break }
            base.append(character)
        }
        return folder + "/." + base + tail
    }

    /// The temporary file that standard output's image is made in, in $TMPDIR.
    static func standardOutputName(sweeping: Bool) -> String {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        if sweeping { removeStale(in: folder) }
        return folder + "/" + standardOutputMarker + "\(host)-\(getpid())-\(UInt32.random(in: 0 ... .max)).h5"
    }

    /// This machine's name, as temporary names carry it (no '/', which a name cannot hold).
    static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name.replacingOccurrences(of: "/", with: "_")
    }()

    private static let lock = NSLock()
    // Guarded by `lock`.
    private static let swept = ProcessGlobal<Set<String>>([])

    /// Removes, once per folder and process, the temporaries in `folder` that dead runs on
    /// this machine left. Returns how many were removed.
    @discardableResult
    static func removeStale(in folder: String) -> Int {
        lock.lock()
        let first = swept.value.insert(folder).inserted
        lock.unlock()
        guard first, let directory = opendir(folder) else { return 0 }
        defer { closedir(directory) }
        var removed = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix("."), leftByDeadRun(name) else { continue }
            let path = folder + "/" + name
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Whether `name` is a temporary file made on this machine by a process that no longer exists.
    static func leftByDeadRun(_ name: String) -> Bool {
        let tail: Substring
        if let range = name.range(of: marker, options: .backwards) {
            tail = name[range.upperBound...]
        } else if name.hasPrefix(standardOutputMarker), name.hasSuffix(".h5") {
            tail = name.dropFirst(standardOutputMarker.count).dropLast(3)
        } else {
            return false
        }
        // HOST-PID-RANDOM, HOST possibly holding '-'.
        let parts = tail.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.dropLast(2).joined(separator: "-") == host,
            UInt32(parts[parts.count - 1]) != nil, let pid = Int32(parts[parts.count - 2]), pid > 0,
            pid != getpid()
        else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// Points where the tests stop a run to make races deterministic. `GNORM_TEST_PAUSE_BEFORE_COMMIT`
/// names a FIFO: before gnorm first renames a finished file into place it opens the FIFO for
/// reading (which returns once the test opens it for writing, so the test knows where gnorm is)
/// and reads until the test closes it. Unset, nothing happens.
enum TestHooks {
    private static let lock = NSLock()
    // Guarded by `lock`.
    private static let paused = ProcessGlobal(false)

    static func pauseBeforeCommit() {
        guard let fifo = ProcessInfo.processInfo.environment["GNORM_TEST_PAUSE_BEFORE_COMMIT"], !fifo.isEmpty else {
            return
        }
        lock.lock()
        defer { lock.unlock() }
        guard !paused.value else { return }
        paused.value = true
        let descriptor = open(fifo, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var byte: UInt8 = 0
        while read(descriptor, &byte, 1) > 0 {}
    }
}
