import Testing

@testable import GroupNormKernel

/// The channels-last row-wise statistics walk (GroupNormLoops' `rowWiseChannelSums`: from
/// `rowWiseChannels` channels and `rowWiseColumnBytes` per channel in a block), which takes
/// `rowsPerStep` rows at a time with eight channels' sums in registers, each step's lines read in
/// address order first: channel counts that are and are not multiples of 8, blocks whose row
/// count is not a multiple of `rowsPerStep`, a last block of one row, the fused and the unfused paths.
/// Each channel's statistics (instance norm) and every output are checked against a float64
/// reference, and the bits must not depend on the thread count or the instruction set.
@Suite struct RowWiseWalkTests {
    /// (C, S): 128 rows per block from C = 32, so S = 129 ends in a one-row block, 194 in a
    /// block of 66 (float64: row-wise, two rows past the last step of four), 261 in one of 5.
    static let cases = [(32, 194), (45, 261), (64, 129), (128, 129), (131, 194), (136, 261), (257, 194), (512, 130)]

    /// Row-major [N][S][C] values: channel c constant where c % 7 == 2, constant but for one
    /// row in the last step where c % 7 == 5, else uniform around `offset`.
    static func values(n: Int, s: Int, c: Int, offset: Double) -> [Double] {
        var random = SplitMix(state: UInt64(c * 1000 + s))
        var x = [Double](repeating: 0, count: n * s * c)
        for sample in 0..<n {
            for row in 0..<s {
                for channel in 0..<c {
                    let index = (sample * s + row) * c + channel
                    switch channel % 7 {
                    case 2: x[index] = 0.375 * Double(channel)
                    case 5: x[index] = row == s - 2 ? -1.5 : 0.75
                    default: x[index] = offset + random.normal()
                    }
                }
            }
        }
        return x
    }

    @Test(arguments: cases)
    func matchesAFloat64ReferenceWithTheSameBitsEverywhere(_ c: Int, _ s: Int) throws {
        let n = 3
        let x = Self.values(n: n, s: s, c: c, offset: 2)
        let scale = (0..<c).map { 0.5 + Double($0 % 5) * 0.25 }
        let shift = (0..<c).map { Double($0 % 3) - 1 }
        let sets = InstructionSet.allCases.filter { $0 == .baseline || cpuHasAVX2 }
        try check(Float.self, x.map { Double(Float($0)) }, n: n, c: c, s: s, scale: scale, shift: shift, sets: sets)
        try check(Double.self, x, n: n, c: c, s: s, scale: scale, shift: shift, sets: sets)
    }

    private func check<E: KernelElement>(
        _ type: E.Type, _ x: [Double], n: Int, c: Int, s: Int, scale: [Double], shift: [Double],
        sets: [InstructionSet]
    ) throws {
        let reference = Reference.normalize(
            x, n: n, c: c, s: s, groups: c, channelsLast: true, scale: scale, shift: shift)
        let input = x.map { E($0) }
        var first: (statistics: [Moments], moments: [Moments], fused: [E], split: [E])?
        for set in sets {
            for threads in [1, 2, 3] {
                let plan = try GroupNormPlan(
                    channelCount: c, spatialCount: s, layout: .channelsLast, scope: .groups(c), threadCount: threads
                ).with(instructionSet: set)
                var fused = [E](repeating: 0, count: input.count)
                let statistics = try input.withUnsafeBufferPointer { source in
                    try fused.withUnsafeMutableBufferPointer {
                        try plan.normalizeWithOwnStatistics(
                            source, into: $0, sampleCount: n, scale: scale, shift: shift, epsilon: 1e-5)
                    }
                }
                let moments = input.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: n) }
                var split = [E](repeating: 0, count: input.count)
                try input.withUnsafeBufferPointer { source in
                    try split.withUnsafeMutableBufferPointer {
                        try plan.normalize(
                            source, into: $0, sampleCount: n,
                            parameters: NormalizationParameters(
                                statistics: moments, scale: scale, shift: shift, epsilon: 1e-5))
                    }
                }
                try #require(statistics.count == n * c && moments.count == n * c)
                try #require(fused.count == x.count && split.count == x.count)
                if let first {
                    let label = "C \(c) S \(s) \(E.self) \(set) threads \(threads)"
                    #expect(statistics == first.statistics && moments == first.moments, "\(label)")
                    #expect(bits(fused) == bits(first.fused) && bits(split) == bits(first.split), "\(label)")
                    continue
                }
                first = (statistics, moments, fused, split)
                #expect(statistics == moments)
                for index in 0..<n * c {
                    let (mean, variance) = (reference.mean[index], reference.variance[index])
                    let channel = index % c
                    if channel % 7 == 2 {
                        #expect(statistics[index].mean == mean && statistics[index].variance == 0, "channel \(channel)")
                    } else {
                        #expect(variance > 0, "channel \(channel)")
                        #expect(abs(statistics[index].mean - mean) <= 1e-12 * max(1, abs(mean)), "channel \(channel)")
                        #expect(abs(statistics[index].variance - variance) <= 1e-10 * variance, "channel \(channel)")
                    }
                }
                // float32 outputs within an ulp and a half of the float64 formula (its own
                // rounding plus the statistics' ~1e-12); float64 within 1e-12.
                var worst = 0.0
                for (index, value) in fused.enumerated() {
                    let expected = reference.y[index]
                    let bound =
                        E.self == Float.self
                        ? 1.5 * Double(Float(expected).ulp) : 1e-12 * max(1, abs(expected))
                    worst = max(worst, abs(Double(value) - expected) / bound)
                }
                #expect(worst <= 1, "C \(c) S \(s) \(E.self): worst \(worst) of the bound")
                #expect(bits(fused) == bits(split), "C \(c) S \(s) \(E.self): fused and unfused differ")
            }
        }
    }

    private func bits<E: KernelElement>(_ values: [E]) -> [UInt64] {
        values.map { Double($0).bitPattern }
    }
}
