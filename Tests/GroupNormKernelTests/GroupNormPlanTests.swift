import Testing

@testable import GroupNormKernel

/// One shape of the table: N, C, S, groups (nil = batch statistics), layout.
struct KernelCase: CustomTestStringConvertible, Sendable {
    let n: Int, c: Int, s: Int
    let groups: Int?
    let channelsLast: Bool
    var offset: Double = 0

    var testDescription: String {
        "N\(n) C\(c) S\(s) \(groups.map { "G\($0)" } ?? "batch") \(channelsLast ? "nhwc" : "nchw")"
            + (offset != 0 ? " +\(offset)" : "")
    }

    var layout: ChannelLayout { channelsLast ? .channelsLast : .channelsFirst }
    var scope: StatisticsScope { groups.map { .groups($0) } ?? .channels }

    func values(seed: UInt64) -> [Double] {
        var random = SplitMix(state: seed)
        return (0..<(n * c * s)).map { _ in offset + random.normal() }
    }
}

let kernelCases: [KernelCase] = [
    KernelCase(n: 2, c: 10, s: 9, groups: 2, channelsLast: false),  // the seed's shape, SIMD tails
    KernelCase(n: 3, c: 32, s: 35, groups: 8, channelsLast: false),
    KernelCase(n: 2, c: 12, s: 7, groups: 1, channelsLast: false),  // layer
    KernelCase(n: 2, c: 12, s: 7, groups: 12, channelsLast: false),  // instance
    KernelCase(n: 1, c: 4, s: 256 * 256, groups: 1, channelsLast: false),  // one huge group: many blocks
    KernelCase(n: 2, c: 20, s: 30, groups: 4, channelsLast: true),  // channels last, C tail
    KernelCase(n: 2, c: 7, s: 13, groups: 7, channelsLast: true),
    KernelCase(n: 1, c: 64, s: 4096, groups: 32, channelsLast: true),  // several row blocks
    KernelCase(n: 4, c: 6, s: 25, groups: nil, channelsLast: false),  // batch
    KernelCase(n: 3, c: 6, s: 16, groups: nil, channelsLast: true),
    KernelCase(n: 5, c: 8, s: 1, groups: 2, channelsLast: false),  // rank 2
    KernelCase(n: 2, c: 16, s: 4096, groups: 4, channelsLast: false, offset: 1e4),
    KernelCase(n: 2, c: 16, s: 4096, groups: 4, channelsLast: true, offset: 1e4),
]

@Suite struct GroupNormPlanTests {
    @Test(arguments: kernelCases)
    func float64MatchesReference(_ shape: KernelCase) throws {
        let x = shape.values(seed: 1)
        var random = SplitMix(state: 7)
        let scale = (0..<shape.c).map { _ in 0.5 + abs(random.normal()) }
        let shift = (0..<shape.c).map { _ in random.normal() }
        let expected = Reference.normalize(
            x, n: shape.n, c: shape.c, s: shape.s, groups: shape.groups,
            channelsLast: shape.channelsLast, scale: scale, shift: shift)
        let plan = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout,
            scope: shape.scope, threadCount: 2)
        let moments = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: shape.n) }
        for (moment, (mean, variance)) in zip(moments, zip(expected.mean, expected.variance)) {
            #expect(abs(moment.mean - mean) <= 1e-12 * max(1, abs(mean)))
            #expect(abs(moment.variance - variance) <= 1e-10 * max(1, variance))
        }
        var y = [Double](repeating: .nan, count: x.count)
        let parameters = NormalizationParameters(
            mean: moments.map(\.mean), variance: moments.map(\.variance),
            scale: scale, shift: shift, epsilon: 1e-5)
        try x.withUnsafeBufferPointer { input in
            try y.withUnsafeMutableBufferPointer { output in
                try plan.normalize(input, into: output, sampleCount: shape.n, parameters: parameters)
            }
        }
        let scaleOfOutput = scale.max()! + shift.map(abs).max()!
        let worst = zip(y, expected.y).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-10 * scaleOfOutput, "max error \(worst)")
    }

    @Test(arguments: kernelCases)
    func float32WithinUlpsOfFloat64Reference(_ shape: KernelCase) throws {
        // The reference sees exactly the stored float32 values.
        let x = shape.values(seed: 2).map { Float($0) }
        let expected = Reference.normalize(
            x.map(Double.init), n: shape.n, c: shape.c, s: shape.s,
            groups: shape.groups, channelsLast: shape.channelsLast)
        let plan = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout,
            scope: shape.scope, threadCount: 3)
        let moments = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: shape.n) }
        var y = x
        let parameters = NormalizationParameters(
            mean: moments.map(\.mean), variance: moments.map(\.variance), epsilon: 1e-5)
        try y.withUnsafeMutableBufferPointer { buffer in
            try plan.normalize(UnsafeBufferPointer(buffer), into: buffer, sampleCount: shape.n, parameters: parameters)
        }
        let worst = zip(y, expected.y).map { abs(Double($0) - $1) }.max() ?? 0
        // Unit-scale outputs: 3e-6 absolute is a few float32 ulps, even at offset 1e4.
        #expect(worst <= 3e-6, "max error \(worst)")
    }

    /// A block whose first value (channels first) or first row (channels last) is far from its
    /// mean would cancel in the one-pass sums shifted by it: the kernel must keep the digits a
    /// two-pass gives. Outliers sit at the start of every 4096-value block.
    @Test(arguments: [(1e6, false), (-3e8, false), (1e12, false), (1e6, true), (-3e8, true), (1e12, true)])
    func outlyingFirstValuesKeepTheVarianceDigits(_ outlier: Double, _ channelsLast: Bool) throws {
        let (n, c, s) = (2, 4, 5000)
        var random = SplitMix(state: 9)
        var x = (0..<(n * c * s)).map { _ in random.normal() }
        if channelsLast {
            for sample in 0..<n {
                for row in stride(from: 0, to: s, by: 4096 / c) {
                    for channel in 0..<c { x[(sample * s + row) * c + channel] = outlier }
                }
            }
        } else {
            let groupLength = c / 2 * s
            for group in 0..<(2 * n) {
                for block in stride(from: 0, to: groupLength, by: 4096) { x[group * groupLength + block] = outlier }
            }
        }
        let expected = Reference.normalize(x, n: n, c: c, s: s, groups: 2, channelsLast: channelsLast)
        let plan = try GroupNormPlan(
            channelCount: c, spatialCount: s, layout: channelsLast ? .channelsLast : .channelsFirst, scope: .groups(2),
            threadCount: 2)
        let moments = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: n) }
        for (moment, (mean, variance)) in zip(moments, zip(expected.mean, expected.variance)) {
            #expect(abs(moment.mean - mean) <= 1e-13 * max(1, abs(mean)), "mean \(moment.mean) vs \(mean)")
            #expect(abs(moment.variance - variance) <= 1e-13 * variance, "variance \(moment.variance) vs \(variance)")
        }
    }

    @Test func bitwiseIdenticalForEveryThreadCount() throws {
        for shape in [kernelCases[4], kernelCases[7], kernelCases[8], kernelCases[11]] {
            let x = shape.values(seed: 3).map { Float($0) }
            var outputs: [[Float]] = []
            var statistics: [[Moments]] = []
            for threads in [1, 2, 3, 8] {
                let plan = try GroupNormPlan(
                    channelCount: shape.c, spatialCount: shape.s, layout: shape.layout,
                    scope: shape.scope, threadCount: threads)
                let moments = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: shape.n) }
                var y = [Float](repeating: 0, count: x.count)
                try x.withUnsafeBufferPointer { input in
                    try y.withUnsafeMutableBufferPointer { output in
                        try plan.normalize(
                            input, into: output, sampleCount: shape.n,
                            parameters: NormalizationParameters(
                                mean: moments.map(\.mean), variance: moments.map(\.variance), epsilon: 1e-5))
                    }
                }
                outputs.append(y)
                statistics.append(moments)
            }
            for index in 1..<outputs.count {
                #expect(outputs[index].map(\.bitPattern) == outputs[0].map(\.bitPattern), "\(shape.testDescription)")
                #expect(statistics[index] == statistics[0])
            }
        }
    }

    @Test(arguments: [ChannelLayout.channelsFirst, .channelsLast])
    func constantGroupGivesExactlyShift(_ layout: ChannelLayout) throws {
        // 0.1 is not a sum-exact value in float64: a naive mean drifts, the kernel must not.
        for value in [0.1, 5.0, -3.25e7] {
            let x = [Double](repeating: value, count: 2 * 4 * 9)
            let plan = try GroupNormPlan(
                channelCount: 4, spatialCount: 9, layout: layout, scope: .groups(2), threadCount: 2)
            let moments = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: 2) }
            #expect(moments.count == 2 * 2 && moments.allSatisfy { $0.mean == value && $0.variance == 0 })
            var y = x
            let shift = [0.25, -0.5, 1.0, 2.0]
            try y.withUnsafeMutableBufferPointer { buffer in
                try plan.normalize(
                    UnsafeBufferPointer(buffer), into: buffer, sampleCount: 2,
                    parameters: NormalizationParameters(
                        mean: moments.map(\.mean), variance: moments.map(\.variance), shift: shift, epsilon: 1e-5))
            }
            for (index, output) in y.enumerated() {
                let channel = layout == .channelsFirst ? index / 9 % 4 : index % 4
                #expect(output == shift[channel])
            }
        }
    }

    @Test(arguments: [ChannelLayout.channelsFirst, .channelsLast])
    func nonFiniteValuesPoisonOnlyTheirGroup(_ layout: ChannelLayout) throws {
        for poison in [Float.nan, .infinity, -.infinity] {
            var random = SplitMix(state: 11)
            var x = (0..<(2 * 4 * 9)).map { _ in Float(random.normal()) }
            // Sample 1, channel 2 (group 1): one bad value.
            let position = layout == .channelsFirst ? (1 * 4 + 2) * 9 + 4 : (1 * 9 + 4) * 4 + 2
            x[position] = poison
            let plan = try GroupNormPlan(
                channelCount: 4, spatialCount: 9, layout: layout, scope: .groups(2), threadCount: 2)
            let moments = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: 2) }
            #expect(moments[3].mean.isNaN && moments[3].variance.isNaN)
            #expect(moments[0..<3].allSatisfy { $0.mean.isFinite && $0.variance.isFinite })
            var y = x
            try y.withUnsafeMutableBufferPointer { buffer in
                try plan.normalize(
                    UnsafeBufferPointer(buffer), into: buffer, sampleCount: 2,
                    parameters: NormalizationParameters(
                        mean: moments.map(\.mean), variance: moments.map(\.variance), epsilon: 1e-5))
            }
            for (index, value) in y.enumerated() {
                let (sample, channel) = layout == .channelsFirst ? (index / 36, index / 9 % 4) : (index / 36, index % 4)
                #expect(value.isNaN == (sample == 1 && channel >= 2))
            }
        }
    }

    @Test func invalidShapesAreRejectedWithTheValidGroupCounts() {
        #expect(throws: GroupNormError.channelsNotDivisible(channels: 10, groups: 32)) {
            try GroupNormPlan(
                channelCount: 10, spatialCount: 4, layout: .channelsFirst, scope: .groups(32), threadCount: 1)
        }
        #expect(
            GroupNormError.channelsNotDivisible(channels: 10, groups: 32).description
                == "10 channels cannot be split into 32 groups; valid group counts: 1, 2, 5, 10")
        #expect(throws: GroupNormError.self) {
            try GroupNormPlan(
                channelCount: 0, spatialCount: 4, layout: .channelsFirst, scope: .groups(1), threadCount: 1)
        }
    }

    @Test func wrongParameterLengthsAreRejected() throws {
        let plan = try GroupNormPlan(
            channelCount: 4, spatialCount: 2, layout: .channelsFirst, scope: .groups(2), threadCount: 1)
        let good = NormalizationParameters(mean: [0, 0], variance: [1, 1], epsilon: 0)
        #expect(throws: Never.self) { try plan.validate(good, sampleCount: 1) }
        var bad = good
        bad.scale = [1, 2, 3]
        #expect(throws: GroupNormError.parameterLength(name: "weight", expected: 4, actual: 3)) {
            try plan.validate(bad, sampleCount: 1)
        }
    }

    @Test func chanMergeMatchesTheWholeSet() {
        let a: [Double] = [1, 2, 3, 4.5]
        let b: [Double] = [10, -2, 7]
        func moments(_ values: [Double]) -> Moments {
            let mean = values.reduce(0, +) / Double(values.count)
            return Moments(
                count: Double(values.count), mean: mean, m2: values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +))
        }
        let merged = moments(a).merging(moments(b))
        let whole = moments(a + b)
        #expect(abs(merged.mean - whole.mean) < 1e-14)
        #expect(abs(merged.m2 - whole.m2) < 1e-12)
        #expect(Moments.empty.merging(moments(a)) == moments(a))
    }
}

@Suite struct FusedGroupNormTests {
    @Test(arguments: kernelCases.filter { $0.groups != nil })
    func fusedPathIsBitwiseTheTwoStepPath(_ shape: KernelCase) throws {
        let x = shape.values(seed: 5).map { Float($0) }
        var random = SplitMix(state: 9)
        let scale = (0..<shape.c).map { _ in random.normal() }
        let shift = (0..<shape.c).map { _ in random.normal() }
        let plan = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout,
            scope: shape.scope, threadCount: 2)
        let twoStep = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: shape.n) }
        var expected = [Float](repeating: 0, count: x.count)
        try x.withUnsafeBufferPointer { input in
            try expected.withUnsafeMutableBufferPointer { output in
                try plan.normalize(
                    input, into: output, sampleCount: shape.n,
                    parameters: NormalizationParameters(
                        mean: twoStep.map(\.mean), variance: twoStep.map(\.variance), scale: scale, shift: shift,
                        epsilon: 1e-5))
            }
        }
        var fused = x
        let statistics = try fused.withUnsafeMutableBufferPointer { buffer in
            try plan.normalizeWithOwnStatistics(
                UnsafeBufferPointer(buffer), into: buffer, sampleCount: shape.n,
                scale: scale, shift: shift, epsilon: 1e-5)
        }
        #expect(statistics == twoStep)
        #expect(fused.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}
