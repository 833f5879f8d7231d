import Foundation
import GroupNormKernel
import HDF5
import Testing

@testable import GnormPipeline

/// Issue 19: which `apply` passes stream float16 bits through the kernel's float16 entry points
/// (`TransferPlan.halves`): float16 INPUT and OUTPUT, little-endian, channels first, group
/// statistics, nothing masked, whole samples; a mapped INPUT is read by the kernel in place. The
/// others keep the staged path (Float slabs). Their OUTPUT is checked by gnormTests' `Float16StreamTests`.
@Suite struct Float16SlabPlanTests {
    @Test func onlyFloat16InAndOutChannelsFirstStreamsBits() throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in.h5"
        do {
            let file = try File(creating: input)
            // Contiguous and small, contiguous and 8.6 MB (mapped from 8 MiB), gzip chunks of one sample.
            for (name, shape, chunked) in [
                ("plain", [3, 8, 24, 16], false), ("mapped", [3, 16, 300, 300], false), ("gzip", [4, 8, 40, 33], true),
            ] {
                let creation =
                    chunked
                    ? DatasetCreation(chunkShape: [1] + shape.dropFirst(), filters: [.shuffle, .deflate(level: 1)])
                    : DatasetCreation()
                let half = try file.createDataset("/h_\(name)", shape: shape, elementType: .float16, creation: creation)
                try half.writeAll([Float](repeating: 1, count: shape.reduce(1, *)))
            }
            try file.createDataset("/f_plain", shape: [3, 8, 24, 16], elementType: .float32).writeAll(
                [Float](repeating: 1, count: 3 * 8 * 24 * 16))
            try file.close()
        }
        let file = try File(openingForReading: input)
        let output = try File(creating: folder + "/out.h5")
        var made = 0
        func transfer(
            _ name: String, storing outputType: ElementType = .float16, layout: TensorLayout = .nchw,
            mode: NormalizationMode = .group, memoryLimit: Int = 64 << 20, fill: Bool = false
        ) throws -> TransferPlan<Float> {
            let dataset = try file.openDataset(name)
            var options = NormalizationOptions()
            options.groups = .count(4)
            options.threadCount = 2
            options.memoryLimit = memoryLimit
            options.layout = layout
            options.mode = mode
            var selected = SelectedDataset(path: name, shape: dataset.shape, elementType: dataset.elementType)
            if fill { selected.missing = MissingValues(markers: [-999]) }
            var job = try DatasetJob(selected, options: options, file: input)
            if case .float(16, _) = outputType { job.plan = job.plan.with(float16Output: true) }
            made += 1
            let target = try output.createDataset("/t\(made)", shape: dataset.shape, elementType: outputType)
            return try TransferPlan<Float>(job, reading: dataset, writing: target, storing: outputType, share: .whole)
        }
        #expect(try transfer("/h_plain").halves)
        let gzip = try transfer("/h_gzip")
        #expect(gzip.halves && gzip.readCodec != nil)
        let mapped = try transfer("/h_mapped")
        #expect(mapped.halves && mapped.memory.mapsInput && mapped.input.directHalves != nil)
        // Without conversion passes on the I/O thread, the kernel has every thread.
        #expect(mapped.kernel.threadCount == 2)
        #expect(try !transfer("/h_plain", storing: .float32).halves)
        #expect(try !transfer("/f_plain").halves)
        #expect(try !transfer("/h_plain", layout: .nhwc).halves)
        #expect(try !transfer("/h_plain", mode: .batch).halves)
        #expect(try !transfer("/h_plain", fill: true).halves)
        // A sample larger than the budget streams in pieces of Floats.
        #expect(try !transfer("/h_mapped", memoryLimit: 1 << 20).halves)
    }
}
