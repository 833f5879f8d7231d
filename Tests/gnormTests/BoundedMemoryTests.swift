import Foundation
import HDF5
import Testing

/// Issue 9: one sample 8× the memory budget (a scaled-down (1, 32, 1024, 1024, 64) volume)
/// streams in bounded memory: peak RSS stays under the limit plus gnorm's footprint (`PeakMemory`).
@Suite struct BoundedMemoryTests {
    @Test(.enabled(if: PeakMemory.available, "needs /usr/bin/time"))
    func aSample8TimesTheLimitStaysUnderLimitPlusOverhead() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/volume.h5"
        do {
            // 32 MiB of float32 in one sample; --memory-limit 4 makes it 8× the limit.
            let file = try File(creating: input)
            let shape = [1, 32, 64, 64, 64]
            var state: UInt64 = 3
            let values = (0..<shape.reduce(1, *)).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(state >> 40) / Float(1 << 24) + 2
            }
            try file.createDataset("/x", shape: shape, elementType: .float32).writeAll(values)
        }
        let bound = try PeakMemory.bound(limit: 4)
        for arguments in [["-g", "8"], ["--layout", "nhwc", "--mode", "batch"]] {
            let (run, kibibytes) = try PeakMemory.measure(
                ["apply", "-q", "-f", "--memory-limit", "4"] + arguments + [input, folder + "/out.h5"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(kibibytes < bound, "\(arguments): peak RSS \(kibibytes) KiB, bound \(bound) KiB")
        }
    }
}
