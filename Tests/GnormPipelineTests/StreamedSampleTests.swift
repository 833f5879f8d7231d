import Foundation
import GroupNormKernel
import HDF5
import Testing

@testable import GnormPipeline

/// Issue 9: a sample larger than the memory budget streams in pieces with the bits of
/// the whole-sample path, for every mode, layout, type, thread count, with and without mask.
@Suite struct StreamedSampleTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let layout: ChannelLayout
        let mode: NormalizationMode
        let bits: Int
        let masked: Bool
        var groups = 4

        var testDescription: String { "\(layout.rawValue) \(mode.rawValue) f\(bits)\(masked ? " masked" : "")" }
        var shape: [Int] { layout == .channelsFirst ? [2, 8, 40, 128] : [2, 40, 128, 8] }
        var sampleElements: Int { shape.dropFirst().reduce(1, *) }
        /// One sample is 8× the budget: pieces of sampleElements / 8 values (2 buffers of the compute type).
        var memoryLimit: Int { sampleElements * 2 * (bits / 8) / 8 }
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        for layout in [ChannelLayout.channelsFirst, .channelsLast] {
            for mode in NormalizationMode.allCases {
                for bits in [32, 64] {
                    for masked in [false, true] {
                        cases.append(Case(layout: layout, mode: mode, bits: bits, masked: masked))
                    }
                }
            }
        }
        return cases
    }()

    static let fill = -999.0

    /// Writes the case's input: N(0,1) + 3 with a NaN-free, fill-sprinkled pattern when masked.
    static func makeInput(_ testCase: Case, at path: String) throws {
        let file = try File(creating: path)
        let count = testCase.shape.reduce(1, *)
        var state: UInt64 = 42
        var values = (0..<count).map { _ -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) * 4 + 1
        }
        if testCase.masked { for index in stride(from: 5, to: count, by: 37) { values[index] = fill } }
        let dataset = try file.createDataset(
            "/x", shape: testCase.shape,
            elementType: testCase.bits == 32 ? .float32 : .float64)
        if testCase.bits == 32 { try dataset.writeAll(values.map { Float($0) }) } else { try dataset.writeAll(values) }
        if testCase.masked { try dataset.setAttribute("_FillValue", .double(fill)) }
        try file.close()
    }

    static func run(_ testCase: Case, input: String, output: String, memoryLimit: Int, threads: Int) throws {
        var options = NormalizationOptions()
        options.datasets = ["/x"]
        options.groups = .count(testCase.groups)
        options.mode = testCase.mode
        options.layout = testCase.layout == .channelsLast ? .nhwc : .nchw
        options.threadCount = threads
        options.memoryLimit = memoryLimit
        var apply = ApplyOptions()
        apply.history = false
        apply.weight = nil
        try ApplyRun.run(input: input, output: output, options: options, apply: apply)
    }

    /// The first index where the bits differ, or nil.
    static func firstDifference(_ a: [Double], _ b: [Double]) -> Int? {
        a.count != b.count ? -1 : a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
    }

    @Test(arguments: cases)
    func piecesAreBitwiseTheWholeSample(_ testCase: Case) throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in.h5"
        try Self.makeInput(testCase, at: input)
        try Self.run(testCase, input: input, output: folder + "/whole.h5", memoryLimit: 256 << 20, threads: 2)
        let expected = try ["/x", "/gnorm/x/mean", "/gnorm/x/var"].map { try Fixtures.read(folder + "/whole.h5", $0) }
        for threads in [1, 3] {
            let output = folder + "/pieces\(threads).h5"
            // Masked statistics gathered across pieces of one group (or channels-last sample) are refused.
            if testCase.masked && (testCase.layout == .channelsLast || [.group, .layer].contains(testCase.mode)) {
                #expect {
                    try Self.run(
                        testCase, input: input, output: output, memoryLimit: testCase.memoryLimit, threads: threads)
                } throws: { error in
                    guard case PipelineError.data(let message, _, _, _) = error else { return false }
                    return message.contains("--no-mask") && message.contains("--memory-limit")
                }
                continue
            }
            try Self.run(testCase, input: input, output: output, memoryLimit: testCase.memoryLimit, threads: threads)
            for (index, name) in ["/x", "/gnorm/x/mean", "/gnorm/x/var"].enumerated() {
                let difference = Self.firstDifference(try Fixtures.read(output, name), expected[index])
                #expect(difference == nil, "\(name) with \(threads) threads differs at \(difference ?? 0)")
            }
        }
    }

    @Test func pieceFloorAndPlanning() {
        // Channels-first: the outermost axis whose one index fits; whole groups on the channel axis.
        let groups = PiecePlan(sampleShape: [8, 40, 128], layout: .channelsFirst, maxElements: 10240, multiple: 2)
        #expect(groups.axis == 0 && groups.run == 2 && groups.count == 4)
        let rows = PiecePlan(sampleShape: [8, 40, 128], layout: .channelsFirst, maxElements: 1000)
        #expect(rows.axis == 1 && rows.run == 7 && rows.count == 8 * 6)
        let last = rows.piece(rows.count - 1, ofSample: 1)
        #expect(last.block == Hyperslab(start: [1, 7, 35, 0], count: [1, 1, 5, 128]))
        #expect(last.values == 8 * 40 * 128 - 5 * 128..<8 * 40 * 128)
        // Channels-last: never inside a row of C.
        let wide = PiecePlan(sampleShape: [4, 4, 10000], layout: .channelsLast, maxElements: 100)
        #expect(wide.axis == 1 && wide.run == 1 && wide.unitElements == 10000)
        // Whole chunks where a chunk's slab fits.
        let chunked = PiecePlan(
            sampleShape: [8, 40, 128], layout: .channelsFirst, maxElements: 1000, chunk: [1, 1, 4, 128])
        #expect(chunked.axis == 1 && chunked.run == 4)
    }
}

/// Issue 9: float16 through the parallel-deflate path, read and written, is bitwise the HDF5 path.
@Suite struct Float16DeflateTests {
    @Test func gzipFloat16IsBitwiseTheContiguousPath() throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let shape = [5, 8, 24, 16]
        var state: UInt64 = 7
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) * 6 - 2
        }
        let input = folder + "/in.h5"
        do {
            let file = try File(creating: input)
            // Whole samples per chunk, shuffled and deflated (the codec's case), and the same values contiguous.
            let gzip = try file.createDataset(
                "/gzip", shape: shape, elementType: .float16,
                creation: DatasetCreation(
                    chunkShape: [2] + shape.dropFirst(), filters: [.shuffle, .deflate(level: 4)]))
            // The bits themselves: libhdf5's float32 → float16 conversion rounds differently by layout.
            var bits = [UInt16](repeating: 0, count: values.count)
            values.withUnsafeBufferPointer { source in
                bits.withUnsafeMutableBufferPointer { Float16Conversion.narrow(source, into: $0, threadCount: 1) }
            }
            try bits.withUnsafeBytes { bytes in try gzip.writeStored(rows: 0..<shape[0], from: bytes) }
            let plain = try file.createDataset("/plain", shape: shape, elementType: .float16)
            try bits.withUnsafeBytes { bytes in try plain.writeStored(rows: 0..<shape[0], from: bytes) }
        }
        var results: [String: [Double]] = [:]
        for (dataset, threads) in [("/gzip", 1), ("/gzip", 3), ("/plain", 2)] {
            var options = NormalizationOptions()
            options.datasets = [dataset]
            options.groups = .count(4)
            options.threadCount = threads
            var apply = ApplyOptions()
            apply.history = false
            let output = folder + "/out\(dataset.dropFirst())\(threads).h5"
            try ApplyRun.run(input: input, output: output, options: options, apply: apply)
            let written = try File(openingForReading: output).openDataset(dataset)
            let source = try File(openingForReading: input).openDataset(dataset)
            #expect(written.elementType == .float16 && written.creation == source.creation)
            // The gzip dataset is one ParallelDeflate moves (float16 bits, whole samples per chunk).
            #expect(
                (ParallelDeflate(creation: source.creation, shape: shape, elementType: .float16, slotCount: 0) != nil)
                    == (dataset == "/gzip"))
            results["\(dataset)\(threads)"] =
                try written.readAll(as: Double.self)
                + Fixtures.read(output, "/gnorm\(dataset)/mean") + Fixtures.read(output, "/gnorm\(dataset)/var")
        }
        let plain = try #require(results["/plain2"])
        for key in ["/gzip1", "/gzip3"] {
            let difference = StreamedSampleTests.firstDifference(try #require(results[key]), plain)
            #expect(
                difference == nil,
                "\(key) at \(difference ?? 0): \(results[key]![difference ?? 0]) vs \(plain[difference ?? 0])")
        }
    }
}
