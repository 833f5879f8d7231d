import Foundation
import HDF5
import Testing

/// Issue 19: `gnorm apply` of float16 INPUT to float16 OUTPUT streams float16 bits through the
/// kernel's float16 entry points (no widening or narrowing pass; which passes do is
/// GnormPipelineTests' `Float16SlabPlanTests`). Its OUTPUT and statistics are bitwise those of the
/// staged path, here the float32 twin of each dataset (the same values, exact as float32) written
/// with `--dtype f16`: widened values, the Float kernel with float16 results, the narrowing pass.
/// Read through HDF5, mapped, and through the deflate codec, in one slab or many, on 1 and 3
/// threads, both `--cpu` sets. (The float64 reference is `Float16Tests`' and `HalfSlabTests`'.)
@Suite struct Float16StreamTests {
    /// float16 datasets and their float32 twins: contiguous and small (read through HDF5),
    /// contiguous and 8.6 MB (mapped: `MappedDataset.smallestMapped` is 8 MiB), and gzip chunks
    /// of one sample (the parallel-deflate codec).
    static let datasets: [(name: String, shape: [Int], chunked: Bool)] = [
        ("plain", [3, 8, 24, 16], false),
        ("mapped", [3, 16, 300, 300], false),
        ("gzip", [4, 8, 40, 33], true),
    ]

    static func makeInput(at path: String) throws {
        let file = try File(creating: path)
        var state: UInt64 = 19
        for (name, shape, chunked) in datasets {
            let count = shape.reduce(1, *)
            var bits = (0..<count).map { _ -> UInt16 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float16(Double(state >> 11) / Double(1 << 53) * 6 - 2).bitPattern
            }
            // A constant group, a NaN group, and a group with +Inf (groups of C/4 channels).
            let group = shape[1] / 4 * shape.dropFirst(2).reduce(1, *)
            for index in 0..<group { bits[index] = Float16(1.5).bitPattern }
            bits[group + 7] = Float16.nan.bitPattern
            bits[2 * group + 1] = Float16.infinity.bitPattern
            let creation =
                chunked
                ? DatasetCreation(chunkShape: [1] + shape.dropFirst(), filters: [.shuffle, .deflate(level: 1)])
                : DatasetCreation()
            let half = try file.createDataset("/h_\(name)", shape: shape, elementType: .float16, creation: creation)
            try bits.withUnsafeBytes { try half.writeStored(rows: 0..<shape[0], from: $0) }
            let twin = try file.createDataset("/f_\(name)", shape: shape, elementType: .float32)
            try twin.writeAll(bits.map { Float(Float16(bitPattern: $0)) })
        }
        try file.close()
    }

    /// A dataset's stored bytes and its statistics' bits.
    static func stored(_ file: String, _ dataset: String) throws -> (bits: [UInt16], statistics: [UInt64]) {
        let opened = try File(openingForReading: file).openDataset(dataset)
        var bits = [UInt16](repeating: 0, count: opened.shape.reduce(1, *))
        try bits.withUnsafeMutableBytes {
            try opened.readStored(Hyperslab(rows: 0..<opened.shape[0], of: opened.shape), into: $0)
        }
        let moments = try Gnorm.read(file, "/gnorm\(dataset)/mean") + Gnorm.read(file, "/gnorm\(dataset)/var")
        return (bits, moments.map(\.bitPattern))
    }

    @Test func float16SlabsAreBitwiseTheStagedPath() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in.h5"
        try Self.makeInput(at: input)
        let halves = Self.datasets.flatMap { ["-d", "/h_\($0.name)"] }
        let twins = Self.datasets.flatMap { ["-d", "/f_\($0.name)"] }
        // 64 MiB: one slab each; 3 MiB: slabs of one sample (the mapped dataset's is 2.9 MB).
        let hasAVX2 = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").contains(" avx2")
        let runs = [("1", "64", "baseline"), ("3", "3", "baseline")] + (hasAVX2 ? [("3", "64", "avx2")] : [])
        for (threads, memory, cpu) in runs {
            let context = "--threads \(threads) --memory-limit \(memory) --cpu \(cpu)"
            let common = ["-g", "4", "--threads", threads, "--memory-limit", memory, "--cpu", cpu, "--no-history"]
            let fusedFile = folder + "/halves-\(threads)-\(memory)-\(cpu).h5"
            let fusedRun = try Gnorm.run(["apply", "-q"] + common + halves + [input, fusedFile])
            #expect(fusedRun.status == 0, "\(context): \(fusedRun.stderr)")
            let stagedFile = folder + "/staged-\(threads)-\(memory)-\(cpu).h5"
            let stagedRun = try Gnorm.run(["apply", "-q", "--dtype", "f16"] + common + twins + [input, stagedFile])
            #expect(stagedRun.status == 0, "\(context): \(stagedRun.stderr)")
            for (name, _, _) in Self.datasets {
                let fused = try Self.stored(fusedFile, "/h_\(name)")
                let staged = try Self.stored(stagedFile, "/f_\(name)")
                #expect(fused.bits.count == staged.bits.count && !staged.bits.isEmpty, "\(name), \(context)")
                let difference = fused.bits.indices.first { fused.bits[$0] != staged.bits[$0] }
                #expect(difference == nil, "\(name), \(context): first difference at \(difference ?? 0)")
                #expect(fused.statistics == staged.statistics, "statistics of \(name), \(context)")
                let written = try File(openingForReading: fusedFile).openDataset("/h_\(name)")
                let source = try File(openingForReading: input).openDataset("/h_\(name)")
                #expect(written.elementType == .float16 && written.creation == source.creation, "\(name)")
            }
        }
    }
}
