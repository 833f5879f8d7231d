import Foundation
import Testing

/// Issue 19: a mapped INPUT is read one slab ahead (`MappedDataset.prepare` asks for the next
/// slab's pages with MADV_WILLNEED). The hint must not change OUTPUT, must stop at each dataset's
/// end, and must not bring pages into the process: `--memory-limit` still bounds peak RSS.
@Suite struct ReadAheadTests {
    static let time = "/usr/bin/time"

    /// 24.5 MiB of float32 and 10 MiB of int16 (each followed by another dataset), dropped from the
    /// page cache before each run so that the read-ahead reads from the disk, streamed in slabs of
    /// one or two samples under `--memory-limit 4` (about 20 slabs, each hinting the next): OUTPUT
    /// matches the float64 NumPy reference and is bitwise what the read through HDF5 gives (a
    /// limit that streams each sample in pieces), and peak RSS stays under the limit plus the
    /// fixed overhead: the 34.5 MiB read on top of that overhead would break the bound.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: time)))
    func readAheadKeepsOutputAndTheMemoryLimit() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("read_ahead_cases.py", ["make", folder])
        try #require(made.status == 0, "\(made.output)")
        let input = folder + "/in.h5"
        let run = try Gnorm.run(
            [
                "-c", "exec \(Self.time) -f '%M' \"$@\"", "sh", Gnorm.binary, "apply", "-q", "-g", "4",
                "--memory-limit", "4", input, folder + "/mapped.h5",
            ], shell: true)
        #expect(run.status == 0, "\(run.stderr)")
        let kibibytes = try #require(Int(run.stderr.split(separator: "\n").last ?? ""), "\(run.stderr)")
        // Slabs and their mapped pages within 4 MiB, over the fixed ~36 MiB of code, libhdf5,
        // runtime and stacks (BoundedMemoryTests; 42 MiB in all in a debug build).
        #expect(kibibytes < (4 + 44) << 10, "peak RSS \(kibibytes) KiB")
        let checked = try Python.run("read_ahead_cases.py", ["check", folder, folder + "/mapped.h5"])
        #expect(checked.status == 0 && checked.output == "ok\n", "\(checked.output)")
        let evicted = try Python.run("read_ahead_cases.py", ["evict", input])
        try #require(evicted.status == 0, "\(evicted.output)")
        let pieces = try Gnorm.run(["apply", "-q", "-g", "4", "--memory-limit", "1", input, folder + "/pieces.h5"])
        #expect(pieces.status == 0, "\(pieces.stderr)")
        for name in ["/f32", "/i16"] {
            let a = try Gnorm.read(folder + "/mapped.h5", name).map(\.bitPattern)
            let b = try Gnorm.read(folder + "/pieces.h5", name).map(\.bitPattern)
            #expect(!a.isEmpty && a.count == b.count, "\(name): \(a.count) and \(b.count) values")
            // The first difference only: describing two arrays of millions of values would take minutes.
            let difference = a.count == b.count ? a.indices.first { a[$0] != b[$0] } : nil
            #expect(difference == nil, "\(name) differs at \(difference ?? 0)")
        }
        // Statistics alone (`gnorm stats`) read ahead the same way.
        let evictedAgain = try Python.run("read_ahead_cases.py", ["evict", input])
        try #require(evictedAgain.status == 0, "\(evictedAgain.output)")
        let stats = try Gnorm.run(["stats", "-g", "4", "--format", "csv", "--memory-limit", "4", input])
        let throughHDF5 = try Gnorm.run(["stats", "-g", "4", "--format", "csv", "--memory-limit", "1", input])
        #expect(stats.status == 0 && !stats.stdout.isEmpty && stats.stdout == throughHDF5.stdout, "\(stats.stderr)")
    }
}
