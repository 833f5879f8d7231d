import Testing

@testable import GroupNormKernel

/// SPEC §1: every stored float32 result is the float64 formula rounded once. Checked against
/// an independent Float80 evaluation of (x − mean)/sqrt(var + eps)·γ + β with the kernel's
/// float64 statistics: a result may be off by half an ulp of float32 (the rounding) plus the
/// float64 evaluation's bound, 5·2^-53·(|x − mean|·|γ|/σ + |β|), and no more. Where the float64
/// evaluation is exact by construction (outputs 2^-29 ulp from a rounding midpoint), the
/// result must be the correctly rounded value itself.
@Suite struct CorrectRoundingTests {
    /// One violation of the bound, for the failure message.
    struct Miss: CustomStringConvertible {
        let index: Int
        let got: Float
        let exact: Float80
        let ulps: Float80

        var description: String { "[\(index)] \(got) vs \(exact): \(ulps) ulp" }
    }

    /// Which statistic and channel value `index` of an (N, C, S) or (N, S, C) buffer belongs to.
    static func position(_ index: Int, _ shape: KernelCase) -> (statistic: Int, channel: Int) {
        let channel = shape.channelsLast ? index % shape.c : index / shape.s % shape.c
        let sample = shape.channelsLast ? index / (shape.s * shape.c) : index / (shape.s * shape.c)
        guard let groups = shape.groups else { return (channel, channel) }
        return (sample * groups + channel / (shape.c / groups), channel)
    }

    /// The largest error in float32 ulps beyond the float64 evaluation's bound, and the values past
    /// half an ulp + that bound. `exact(i)` is the Float80 formula; `slack(i)` the float64 bound.
    static func misses(_ y: [Float], exact: (Int) -> Float80, slack: (Int) -> Float80) -> (worst: Float80, [Miss]) {
        var worst: Float80 = 0
        var misses: [Miss] = []
        for index in y.indices {
            let value = Float80(y[index])
            let target = exact(index)
            // The float32 gap on the exact value's side of the result.
            let gap = Float80(target >= value ? y[index].nextUp - y[index] : y[index] - y[index].nextDown)
            let error = abs(value - target)
            let ulps = max(0, error - slack(index)) / gap
            worst = max(worst, error / gap)
            if !(y[index].isFinite && ulps <= 0.5) {
                misses.append(Miss(index: index, got: y[index], exact: target, ulps: ulps))
            }
        }
        return (worst, misses)
    }

    /// Normalizes float32 `x` with its own statistics (the fused or the two-step path, as the
    /// kernel picks) and checks every output against the Float80 formula.
    static func check(
        _ x: [Float], _ shape: KernelCase, scale: [Double]?, shift: [Double]?, epsilon: Double = 1e-5,
        threads: Int = 2, set: InstructionSet = .baseline
    ) throws -> Float80 {
        let plan = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout, scope: shape.scope,
            threadCount: threads
        ).with(instructionSet: set)
        var y = [Float](repeating: .nan, count: x.count)
        let moments = try x.withUnsafeBufferPointer { input in
            try y.withUnsafeMutableBufferPointer { output in
                try plan.normalizeWithOwnStatistics(
                    input, into: output, sampleCount: shape.n, scale: scale, shift: shift, epsilon: epsilon)
            }
        }
        #expect(y.count == x.count)
        let (worst, missed) = misses(
            y,
            exact: { index in
                let (statistic, channel) = position(index, shape)
                let m = moments[statistic]
                let deviation = (Float80(m.variance) + Float80(epsilon)).squareRoot()
                return (Float80(x[index]) - Float80(m.mean)) / deviation * Float80(scale?[channel] ?? 1)
                    + Float80(shift?[channel] ?? 0)
            },
            slack: { index in
                let (statistic, channel) = position(index, shape)
                let m = moments[statistic]
                let deviation = (Float80(m.variance) + Float80(epsilon)).squareRoot()
                let term = abs((Float80(x[index]) - Float80(m.mean)) / deviation * Float80(scale?[channel] ?? 1))
                return 5 * 0x1p-53 * (term + abs(Float80(shift?[channel] ?? 0)))
            })
        #expect(missed.isEmpty, "\(missed.count) values past 0.5 ulp: \(missed.prefix(5))")
        return worst
    }

    static let shapes: [KernelCase] = [
        KernelCase(n: 2, c: 10, s: 9, groups: 2, channelsLast: false),
        KernelCase(n: 1, c: 4, s: 256 * 256, groups: 1, channelsLast: false),  // blocks, fused up to 4 MiB
        KernelCase(n: 2, c: 20, s: 30, groups: 4, channelsLast: true),
        KernelCase(n: 1, c: 64, s: 4096, groups: 32, channelsLast: true),
        KernelCase(n: 3, c: 6, s: 16, groups: nil, channelsLast: true),  // batch
        KernelCase(n: 4, c: 6, s: 25, groups: nil, channelsLast: false),
        KernelCase(n: 2, c: 16, s: 4096, groups: 4, channelsLast: false, offset: 1e4),
        KernelCase(n: 2, c: 16, s: 4096, groups: 4, channelsLast: true, offset: 1e6),
    ]

    @Test(arguments: shapes)
    func float32IsTheFloat64FormulaRoundedOnce(_ shape: KernelCase) throws {
        let x = shape.values(seed: 11).map { Float($0) }
        var random = SplitMix(state: 5)
        let scale = (0..<shape.c).map { _ in 0.5 + abs(random.normal()) }
        // Biases of the outputs' size: many results near zero, where a float32 sum cancels.
        let shift = (0..<shape.c).map { _ in random.normal() }
        _ = try Self.check(x, shape, scale: nil, shift: nil)
        _ = try Self.check(x, shape, scale: scale, shift: shift, set: .avx2)
    }

    /// Results placed at rounding midpoints: γ/σ a power of two and β chosen so that the float64
    /// evaluation is exact and every output lies 0, ±2^-29 or ±2^-28 float32 ulps from a midpoint
    /// (0: a tie, to even). A float32 evaluation, or one rounding of β to float32 first, gets
    /// about half of them wrong.
    @Test(arguments: [ChannelLayout.channelsFirst, .channelsLast])
    func midpointsRoundOnceToNearestEven(_ layout: ChannelLayout) throws {
        let (n, c, s) = (2, 8, 3000)
        let plan = try GroupNormPlan(
            channelCount: c, spatialCount: s, layout: layout, scope: .channels, threadCount: 2)
        // Per channel: mean, variance 4^k (eps 0) and γ a power of two; β a float32 midpoint plus
        // a double-only offset. x = mean + j·u with u the float32 ulp of the outputs, scaled back.
        let means: [Double] = [0, 1.5, -3.25, 1024, -0.125, 7, 1e3 + 0.5, -2]
        let variances: [Double] = [1, 4, 0.25, 16, 1, 0.0625, 4, 1]
        let gammas: [Double] = [1, 2, 0.5, 1, -1, 4, -2, 1]
        let offsets: [Double] = [0, 0x1p-29, -0x1p-29, 0x1p-28, 0, -0x1p-28, 0x1p-29, 0]
        var x = [Float](repeating: 0, count: n * c * s)
        var expected = [Float](repeating: .nan, count: x.count)
        var shift = [Double](repeating: 0, count: c)
        for channel in 0..<c {
            let factor = gammas[channel] / variances[channel].squareRoot()  // a power of two
            // Outputs in [1, 2): float32 ulp 2^-23; β = 1 + 2^-24 (a midpoint) + offset·2^-23.
            shift[channel] = 1 + 0x1p-24 + offsets[channel] * 0x1p-23
            for sample in 0..<n {
                for position in 0..<s {
                    let j = Double(sample * s + position)  // outputs 1 + 2^-24 + j·2^-23 + offset
                    let xValue = Float(means[channel] + j * 0x1p-23 / factor)
                    let index =
                        layout == .channelsLast
                        ? (sample * s + position) * c + channel : (sample * c + channel) * s + position
                    x[index] = xValue
                    let y = (Double(xValue) - means[channel]) * factor + shift[channel]  // exact by construction
                    expected[index] = Float(y)
                }
            }
        }
        var y = [Float](repeating: .nan, count: x.count)
        try x.withUnsafeBufferPointer { input in
            try y.withUnsafeMutableBufferPointer { output in
                try plan.normalize(
                    input, into: output, sampleCount: n,
                    parameters: NormalizationParameters(
                        mean: means, variance: variances, scale: gammas, shift: shift, epsilon: 0))
            }
        }
        // The construction itself: every output within 2^-28 ulp of a midpoint, ties included.
        let ties = zip(x.indices, expected).filter { index, _ in
            let channel = layout == .channelsLast ? index % c : index / s % c
            return offsets[channel] == 0
        }
        #expect(ties.count == 3 * n * s)
        #expect(y.count == expected.count)
        let wrong = zip(y, expected).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(wrong.isEmpty, "\(wrong.count) of \(y.count) not correctly rounded: \(wrong.prefix(5))")
        // A float32 sum of the rounded β gets many of them wrong: the test can fail.
        let naive = zip(x.indices, x).filter { index, value in
            let channel = layout == .channelsLast ? index % c : index / s % c
            let factor = Float(gammas[channel] / variances[channel].squareRoot())
            return (value - Float(means[channel])) * factor + Float(shift[channel]) != expected[index]
        }
        #expect(naive.count > x.count / 8)
    }

    /// float32 inputs near the float32 maximum (x − mean overflows in float32), near the
    /// smallest normal and subnormal: finite, correctly rounded outputs.
    @Test(arguments: [Float.greatestFiniteMagnitude, 1e38, Float.leastNormalMagnitude, 1e-40])
    func extremeFloat32InputsAreCorrectlyRounded(_ magnitude: Float) throws {
        for layout in ChannelLayout.allCases {
            let shape = KernelCase(n: 2, c: 8, s: 64, groups: 4, channelsLast: layout == .channelsLast)
            var random = SplitMix(state: 17)
            // Uniform in [−magnitude, magnitude]: both signs, so x − mean reaches 2·magnitude.
            let x = (0..<(shape.n * shape.c * shape.s)).map { _ in
                magnitude * Float(Double(random.next() >> 11) / 0x1p53 * 2 - 1)
            }
            #expect(x.allSatisfy { $0.isFinite })
            let worst = try Self.check(x, shape, scale: nil, shift: nil, epsilon: 0)
            #expect(worst <= 0.5 + 1e-6)
            let shift = (0..<shape.c).map { _ in random.normal() }
            _ = try Self.check(x, shape, scale: Array(repeating: 3, count: shape.c), shift: shift, epsilon: 0)
        }
    }

    /// SPEC §1: a constant group gives exactly β, with eps 0 too (not 0·∞ = NaN).
    @Test(arguments: [ChannelLayout.channelsFirst, .channelsLast])
    func constantGroupWithZeroEpsilonGivesExactlyShift(_ layout: ChannelLayout) throws {
        let plan = try GroupNormPlan(
            channelCount: 4, spatialCount: 50, layout: layout, scope: .groups(2), threadCount: 2)
        let x = [Float](repeating: 3.25, count: 2 * 4 * 50)
        let shift: [Double] = [0.1, -2, 0, 7]
        var y = [Float](repeating: .nan, count: x.count)
        let moments = try x.withUnsafeBufferPointer { input in
            try y.withUnsafeMutableBufferPointer { output in
                try plan.normalizeWithOwnStatistics(
                    input, into: output, sampleCount: 2, scale: [1, 2, 3, 4], shift: shift, epsilon: 0)
            }
        }
        #expect(moments.count == 2 * 2 && moments.allSatisfy { $0.mean == 3.25 && $0.variance == 0 })
        for index in y.indices {
            let channel = layout == .channelsLast ? index % 4 : index / 50 % 4
            #expect(y[index] == Float(shift[channel]))
        }
    }

    /// float64 data near 1e307 (Σx and (x − mean)² overflow float64): finite statistics and
    /// outputs, as the same formula evaluated in Float80 (whose range holds them) gives.
    @Test(arguments: [(1e307, 3e306), (0, 1e300), (-1.5e308, 1e307), (1e200, 1e190)])
    func float64NearTheMaximumDoesNotOverflow(_ offset: Double, _ spread: Double) throws {
        for layout in ChannelLayout.allCases {
            for scope in [StatisticsScope.groups(2), .channels] {
                let (n, c, s) = (2, 4, 700)
                let plan = try GroupNormPlan(
                    channelCount: c, spatialCount: s, layout: layout, scope: scope, threadCount: 2)
                var random = SplitMix(state: 23)
                let x = (0..<(n * c * s)).map { _ in offset + spread * (Double(random.next() >> 11) / 0x1p53 * 2 - 1) }
                #expect(x.allSatisfy { $0.isFinite })
                var y = [Double](repeating: .nan, count: x.count)
                let moments = try x.withUnsafeBufferPointer { input in
                    try y.withUnsafeMutableBufferPointer { output in
                        try plan.normalizeWithOwnStatistics(
                            input, into: output, sampleCount: n, scale: nil, shift: nil, epsilon: 1e-5)
                    }
                }
                #expect(!moments.isEmpty && moments.allSatisfy { $0.mean.isFinite && $0.m2.isFinite })
                #expect(y.allSatisfy { $0.isFinite })
                let shape = KernelCase(
                    n: n, c: c, s: s, groups: scope == .channels ? nil : 2, channelsLast: layout == .channelsLast)
                // Float80 statistics, plainly: its exponent range holds every square.
                var sums = [Float80](repeating: 0, count: moments.count)
                var counts = [Float80](repeating: 0, count: moments.count)
                for index in x.indices {
                    sums[Self.position(index, shape).statistic] += Float80(x[index])
                    counts[Self.position(index, shape).statistic] += 1
                }
                let means = zip(sums, counts).map { $0 / $1 }
                var squares = [Float80](repeating: 0, count: moments.count)
                for index in x.indices {
                    let statistic = Self.position(index, shape).statistic
                    squares[statistic] +=
                        (Float80(x[index]) - means[statistic]) * (Float80(x[index]) - means[statistic])
                }
                for index in x.indices {
                    let statistic = Self.position(index, shape).statistic
                    let deviation = (squares[statistic] / counts[statistic]).squareRoot()
                    let exact = (Float80(x[index]) - means[statistic]) / deviation
                    // The float64 mean is within a few ulp of the exact one: |mean|·2^-50 / σ.
                    let bound = 1e-13 * max(1, abs(exact)) + abs(means[statistic]) * 0x1p-50 / deviation
                    #expect(abs(Float80(y[index]) - exact) <= bound, "\(y[index]) vs \(exact)")
                }
                // The same bits through the two-step path (NormalizationParameters keep the scale).
                var twoStep = [Double](repeating: .nan, count: x.count)
                try x.withUnsafeBufferPointer { input in
                    try twoStep.withUnsafeMutableBufferPointer { output in
                        try plan.normalize(
                            input, into: output, sampleCount: n,
                            parameters: NormalizationParameters(
                                statistics: plan.moments(of: input, sampleCount: n), scale: nil, shift: nil,
                                epsilon: 1e-5))
                    }
                }
                #expect(twoStep == y)
            }
        }
    }

    @Test func scaledMergesMatchTheUnscaledOnes() {
        let a = Moments(count: 3, mean: 2, m2: 5)
        let b = Moments(count: 5, mean: -1, m2: 7)
        let plain = a.merging(b)
        // The same sets with every value multiplied by 2^600: means 2^600 times larger, M2 in units of 2^600.
        let scaled = Moments(count: 3, mean: 2 * 0x1p600, m2: 5, scale: 0x1p600).merging(
            Moments(count: 5, mean: -0x1p600, m2: 7, scale: 0x1p600))
        #expect(scaled.mean == plain.mean * 0x1p600)
        #expect(scaled.m2 == plain.m2 && scaled.scale == 0x1p600)
        // Means 3e200 apart: (Δ)² overflows unscaled, so the merge scales.
        let far = Moments(count: 1, mean: 1e200, m2: 0).merging(Moments(count: 1, mean: -2e200, m2: 0))
        #expect(far.scale == Moments.largeScale && far.m2.isFinite && far.mean == -5e199)
        #expect(abs(far.scaledVariance.squareRoot() * far.scale - 1.5e200) <= 1e186)
    }

    /// float16 results computed on Float slabs (`float16Output`) are bitwise the float64 path's results
    /// rounded once to float16: fused and two-step, in pieces, both layouts and instruction sets, with
    /// and without affine. A float32 rounded first would differ (the midpoint cases of
    /// `Fixtures/rounding_cases.py` show it).
    @Test(arguments: shapes)
    func float16FromFloatSlabsIsTheFloat64ResultRoundedOnce(_ shape: KernelCase) throws {
        // float16 inputs (exact as Float and Double), outputs of float16's size.
        let halves = shape.values(seed: 29).map { Float(Float16($0)) }
        var random = SplitMix(state: 31)
        let scale = (0..<shape.c).map { _ in 0.5 + abs(random.normal()) }
        let shift = (0..<shape.c).map { _ in random.normal() }
        let plan = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout, scope: shape.scope, threadCount: 2)
        func bits<E: KernelElement>(_ values: [E]) -> [UInt16] {
            var result = [UInt16](repeating: 0, count: values.count)
            values.withUnsafeBufferPointer { source in
                result.withUnsafeMutableBufferPointer { Float16Conversion.narrow(source, into: $0, threadCount: 2) }
            }
            return result
        }
        let doubles = halves.map(Double.init)
        var expected = [Double](repeating: .nan, count: doubles.count)
        _ = try doubles.withUnsafeBufferPointer { input in
            try expected.withUnsafeMutableBufferPointer { output in
                try plan.normalizeWithOwnStatistics(
                    input, into: output, sampleCount: shape.n, scale: scale, shift: shift, epsilon: 1e-5)
            }
        }
        let reference = bits(expected)
        for set in InstructionSet.allCases {
            let halfPlan = plan.with(float16Output: true).with(instructionSet: set)
            var fused = [Float](repeating: .nan, count: halves.count)
            let moments = try halves.withUnsafeBufferPointer { input in
                try fused.withUnsafeMutableBufferPointer { output in
                    try halfPlan.normalizeWithOwnStatistics(
                        input, into: output, sampleCount: shape.n, scale: scale, shift: shift, epsilon: 1e-5)
                }
            }
            #expect(bits(fused) == reference, "fused, \(set)")
            var twoStep = halves
            try twoStep.withUnsafeMutableBufferPointer { buffer in
                try halfPlan.normalize(
                    UnsafeBufferPointer(buffer), into: buffer, sampleCount: shape.n,
                    parameters: NormalizationParameters(statistics: moments, scale: scale, shift: shift, epsilon: 1e-5))
            }
            #expect(bits(twoStep) == reference, "two-step, \(set)")
            // One sample at a time, in pieces of 1000 values (whole rows channels last).
            guard shape.groups != nil else { continue }
            var pieces = halves
            let sampleElements = shape.c * shape.s
            let pieceLength = shape.channelsLast ? max(1, 1000 / shape.c) * shape.c : 1000
            let groups = shape.groups!
            for sample in 0..<shape.n {
                let statistics = Array(moments[(sample * groups)..<((sample + 1) * groups)])
                let parameters = NormalizationParameters(
                    statistics: statistics, scale: scale, shift: shift, epsilon: 1e-5)
                for start in stride(from: 0, to: sampleElements, by: pieceLength) {
                    let end = min(sampleElements, start + pieceLength)
                    try pieces.withUnsafeMutableBufferPointer { buffer in
                        let piece = UnsafeMutableBufferPointer(
                            rebasing: buffer[(sample * sampleElements + start)..<(sample * sampleElements + end)])
                        try halfPlan.normalize(
                            part: UnsafeBufferPointer(piece), into: piece, at: start, parameters: parameters)
                    }
                }
            }
            #expect(bits(pieces) == reference, "pieces, \(set)")
        }
    }
}
