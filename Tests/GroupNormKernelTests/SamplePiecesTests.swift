import Testing

@testable import GroupNormKernel

/// A sample taken in pieces gives the whole-sample kernel's bits: statistics and outputs.
@Suite struct SamplePiecesTests {
    /// Piece lengths (values; channels-last: rows of C) that cut blocks anywhere, and a piece of one value.
    static let pieceLengths = [1, 7, 4095, 4097, 1000, 3, 12289]

    static func pieces(of total: Int, unit: Int, seed: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        var index = seed
        while start < total {
            let length = max(1, pieceLengths[index % pieceLengths.count] / unit) * unit
            ranges.append(start..<min(total, start + length))
            start += length
            index += 1
        }
        return ranges
    }

    func check<E: KernelElement>(_ type: E.Type, _ shape: KernelCase, threads: Int, seed: Int) throws {
        var x = shape.values(seed: UInt64(seed + 11)).map { E($0) }
        // A NaN in one group of the first sample (when there is more than one group).
        if shape.groups.map({ $0 > 1 }) ?? true { x[3] = .nan }
        let plan = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout,
            scope: shape.scope, threadCount: threads)
        let scale = (0..<shape.c).map { 0.5 + Double($0) / 7 }
        let shift = (0..<shape.c).map { Double($0) / 3 - 1 }
        let whole = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: shape.n) }
        var expected = x
        try x.withUnsafeBufferPointer { input in
            try expected.withUnsafeMutableBufferPointer { output in
                try plan.normalize(
                    input, into: output, sampleCount: shape.n,
                    parameters: NormalizationParameters(
                        mean: whole.map(\.mean), variance: whole.map(\.variance), scale: scale, shift: shift,
                        epsilon: 1e-5))
            }
        }
        let sampleElements = shape.c * shape.s
        let unit = shape.channelsLast ? shape.c : 1
        var perSample: [Moments] = []
        for sample in 0..<shape.n {
            var accumulator = SampleMomentsAccumulator<E>(plan: plan)
            x.withUnsafeBufferPointer { all in
                for piece in Self.pieces(of: sampleElements, unit: unit, seed: seed + sample) {
                    let offset = sample * sampleElements
                    accumulator.add(
                        UnsafeBufferPointer(rebasing: all[offset + piece.lowerBound..<offset + piece.upperBound]))
                }
            }
            perSample += accumulator.finish()
        }
        let streamed = plan.finished(perSample, sampleCount: shape.n)
        #expect(firstDifference(streamed.map(\.mean), whole.map(\.mean)) == nil)
        #expect(firstDifference(streamed.map(\.m2), whole.map(\.m2)) == nil)
        var y = x
        let perSampleStatistics = plan.statisticCount(sampleCount: 1)
        for sample in 0..<shape.n {
            let statistics =
                plan.scope == .channels
                ? 0..<perSampleStatistics
                : sample * perSampleStatistics..<(sample + 1) * perSampleStatistics
            let parameters = NormalizationParameters(
                mean: streamed[statistics].map(\.mean), variance: streamed[statistics].map(\.variance),
                scale: scale, shift: shift, epsilon: 1e-5)
            for piece in Self.pieces(of: sampleElements, unit: unit, seed: seed * 3 + sample) {
                let range = sample * sampleElements + piece.lowerBound..<sample * sampleElements + piece.upperBound
                try y.withUnsafeMutableBufferPointer { all in
                    let part = UnsafeMutableBufferPointer(rebasing: all[range])
                    try plan.normalize(
                        part: UnsafeBufferPointer(part), into: part, at: piece.lowerBound, parameters: parameters)
                }
            }
        }
        #expect(firstDifference(y.map(Double.init), expected.map(Double.init)) == nil)
    }

    /// The first index where the bits differ (a short message where a whole-array diff would not be).
    func firstDifference(_ a: [Double], _ b: [Double]) -> Int? {
        a.count != b.count ? -1 : a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
    }

    @Test(arguments: kernelCases)
    func piecesAreBitwiseTheWholeSample(_ shape: KernelCase) throws {
        for threads in [1, 3] {
            try check(Float.self, shape, threads: threads, seed: threads)
            try check(Double.self, shape, threads: threads, seed: threads + 5)
        }
    }
}
