import Foundation
import Testing

/// Peak resident memory of gnorm runs, as `/usr/bin/time -f %M` (Debian's `time`) reports it.
///
/// SPEC §6 bounds memory by a working set, which `--memory-limit` sets; the process adds a fixed
/// footprint (code, libhdf5, the Swift runtime, thread stacks) that depends on the build. So the
/// bound is stated against the same binary's footprint, measured here on a small run, not as a
/// number tuned to one build: release 35.0 MiB, debug 37.5 MiB (2026-12-04, `stats -g 4 demo.h5`).
enum PeakMemory {
    static let time = "/usr/bin/time"
    static let available = FileManager.default.isExecutableFile(atPath: time)

    /// What a run holds beyond limit and footprint, measured on release (and debug): 1.4 (1.5) MiB
    /// streaming a sample 8× `--memory-limit 4`, 3.5 (4.3) MiB reading 131,072 one-value chunks
    /// under `--memory-limit 32` (libhdf5's bookkeeping past gnorm's estimate of it). A run that
    /// held its whole 32 MiB sample instead of streaming it goes 24 MiB past the bound.
    static let marginMiB = 8

    /// gnorm `arguments`' run and its peak RSS in KiB.
    static func measure(_ arguments: [String]) throws -> (run: Run, kibibytes: Int) {
        let run = try Gnorm.run(["-c", "exec \(time) -f '%M' \"$@\"", "sh", Gnorm.binary] + arguments, shell: true)
        let kibibytes = try #require(Int(run.stderr.split(separator: "\n").last ?? ""), "\(run.stderr)")
        return (run, kibibytes)
    }

    /// The binary's fixed footprint in KiB: statistics of demo.h5 (1 MiB of values) read whole.
    static func footprint() throws -> Int {
        let (run, kibibytes) = try measure(["stats", "-g", "4", Gnorm.fixture("demo.h5")])
        try #require(run.status == 0, "\(run.stderr)")
        return kibibytes
    }

    /// The most a run under `--memory-limit limit` (MiB) may hold, in KiB.
    static func bound(limit: Int) throws -> Int {
        try footprint() + (limit + marginMiB) << 10
    }
}
