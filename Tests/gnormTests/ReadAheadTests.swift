import Foundation
import Testing

/// Issue 19: INPUT is read one slab ahead (`MappedDataset.prepare` asks for the next slab's
/// pages with MADV_WILLNEED, `ChunkReadAhead` for a chunked dataset's next chunks with
/// POSIX_FADV_WILLNEED). The hint must not change OUTPUT, must stop at each dataset's end, and
/// must not bring pages into the process: `--memory-limit` still bounds peak RSS.
@Suite struct ReadAheadTests {

    /// 24.5 MiB of float32 and 10 MiB of int16 (each followed by another dataset) and two
    /// chunked float32 datasets (gzip, one sample per chunk; unfiltered, four chunks per sample),
    /// dropped from the page cache before each run so that the read-ahead reads from the disk,
    /// streamed in slabs of one or two samples under `--memory-limit 4` (about 20 slabs of the
    /// float32 dataset, each hinting the next): OUTPUT matches the float64 NumPy reference and is
    /// bitwise what the read through HDF5 gives (a limit that streams each sample in pieces), and
    /// peak RSS stays under the limit plus the fixed overhead: the 34.5 MiB mapped on top of that
    /// overhead would break the bound.
    @Test(.enabled(if: PeakMemory.available))
    func readAheadKeepsOutputAndTheMemoryLimit() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("read_ahead_cases.py", ["make", folder])
        try #require(made.status == 0, "\(made.output)")
        let input = folder + "/in.h5"
        let bound = try PeakMemory.bound(limit: 4)
        // Contiguous and chunked datasets in runs of their own: each holds the bound alone.
        for (name, datasets) in [("contiguous", ["f32", "i16"]), ("chunked", ["gz32", "c32"])] {
            let evicted = try Python.run("read_ahead_cases.py", ["evict", input])
            try #require(evicted.status == 0, "\(evicted.output)")
            let output = folder + "/\(name).h5"
            let (run, kibibytes) = try PeakMemory.measure(
                ["apply", "-q", "-g", "4", "--memory-limit", "4"] + datasets.flatMap { ["-d", "/" + $0] }
                    + [input, output])
            #expect(run.status == 0, "\(run.stderr)")
            // Slabs and their mapped pages within 4 MiB over the binary's own footprint (PeakMemory).
            #expect(kibibytes < bound, "\(name): peak RSS \(kibibytes) KiB, bound \(bound) KiB")
            let checked = try Python.run("read_ahead_cases.py", ["check", folder, output] + datasets)
            #expect(checked.status == 0 && checked.output == "ok\n", "\(name): \(checked.output)")
        }
        let evicted = try Python.run("read_ahead_cases.py", ["evict", input])
        try #require(evicted.status == 0, "\(evicted.output)")
        let pieces = try Gnorm.run(["apply", "-q", "-g", "4", "--memory-limit", "1", input, folder + "/pieces.h5"])
        #expect(pieces.status == 0, "\(pieces.stderr)")
        for name in ["/f32", "/i16", "/gz32", "/c32"] {
            let streamed = folder + (name.hasPrefix("/gz") || name.hasPrefix("/c") ? "/chunked.h5" : "/contiguous.h5")
            let a = try Gnorm.read(streamed, name).map(\.bitPattern)
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
