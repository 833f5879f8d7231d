import Testing

@testable import GroupNormKernel

/// The kernel's float16 entry points (HalfSlabs.swift: float16 bits in, float16 bits out, widened
/// and narrowed in registers) against the staged path they replace (Float16Conversion.widen, the
/// Float kernel with `float16Output`, Float16Conversion.narrow) and against an independent float64
/// reference written here: statistics in Float80 by two passes, the formula evaluated in Double and
/// rounded once by Swift's `Float16(_: Double)` (compiler-rt's `__truncdfhf2`). Both must agree bit
/// for bit, for every thread count and instruction set, with NaN, Inf and constant groups, results
/// that are float16 subnormals or overflow to Inf, and runs whose length is no multiple of 8 or 16.
@Suite struct HalfSlabTests {
    static let shapes: [KernelCase] = [
        KernelCase(n: 2, c: 10, s: 9, groups: 2, channelsLast: false),  // tails of 9, 45-value groups
        KernelCase(n: 3, c: 32, s: 35, groups: 8, channelsLast: false),
        KernelCase(n: 2, c: 12, s: 7, groups: 12, channelsLast: false),  // instance: runs of 7
        KernelCase(n: 2, c: 12, s: 13, groups: 1, channelsLast: false),  // layer
        KernelCase(n: 1, c: 2, s: 3 * 4096 + 5, groups: 1, channelsLast: false),  // blocks of 4096 and a tail
        KernelCase(n: 2, c: 16, s: 515, groups: 4, channelsLast: false, offset: 1e3),
        // Batch statistics: moments, then normalization with them (the path of groups over 4 MiB too).
        KernelCase(n: 4, c: 6, s: 25, groups: nil, channelsLast: false),
        KernelCase(n: 2, c: 20, s: 30, groups: 4, channelsLast: true),  // channels last: staged inside
        KernelCase(n: 3, c: 6, s: 16, groups: nil, channelsLast: true),
    ]

    /// The instruction sets this CPU runs.
    static let sets: [InstructionSet] = cpuHasAVX2 ? [.baseline, .avx2] : [.baseline]

    /// float16 data of `shape` with, channels first and three statistics or more, a NaN in the first
    /// statistic, +Inf in the second and the third constant (batch: channels 0, 1, 2 of sample 0).
    static func halves(_ shape: KernelCase, seed: UInt64) -> [UInt16] {
        var values = shape.values(seed: seed).map { Float16($0).bitPattern }
        let perGroup = shape.groups.map { shape.c / $0 * shape.s } ?? shape.s
        guard !shape.channelsLast, (shape.groups.map { shape.n * $0 } ?? shape.c) >= 3 else { return values }
        values[perGroup / 2] = Float16.nan.bitPattern
        values[perGroup + 3] = Float16.infinity.bitPattern
        for index in (2 * perGroup)..<(3 * perGroup) { values[index] = Float16(-2.5).bitPattern }
        return values
    }

    /// Per channel γ and β: channel 0 tiny (float16 subnormal results), channel 1 huge (results
    /// past float16's 65504 round to Inf), the rest of the outputs' size (many results near zero).
    static func affine(_ c: Int) -> (scale: [Double], shift: [Double]) {
        var random = SplitMix(state: 41)
        var scale = (0..<c).map { _ in 0.5 + abs(random.normal()) }
        var shift = (0..<c).map { _ in random.normal() }
        (scale[0], shift[0]) = (3e-6, 0)
        if c > 1 { (scale[1], shift[1]) = (4e4, 1) }
        return (scale, shift)
    }

    /// Which statistic and channel value `index` of an (N, C, S) or (N, S, C) buffer belongs to.
    static func position(_ index: Int, _ shape: KernelCase) -> (statistic: Int, channel: Int) {
        let channel = shape.channelsLast ? index % shape.c : index / shape.s % shape.c
        let sample = index / (shape.s * shape.c)
        guard let groups = shape.groups else { return (channel, channel) }
        return (sample * groups + channel / (shape.c / groups), channel)
    }

    /// The float64 formula rounded once to float16, from statistics taken here in Float80.
    static func reference(_ x: [UInt16], _ shape: KernelCase, scale: [Double]?, shift: [Double]?) -> [UInt16] {
        let values = x.map { Float80(Float16(bitPattern: $0)) }
        let statistics = shape.groups.map { shape.n * $0 } ?? shape.c
        var members = [[Float80]](repeating: [], count: statistics)
        for index in values.indices { members[position(index, shape).statistic].append(values[index]) }
        let moments = members.map { group -> (mean: Double, variance: Double) in
            let mean = group.reduce(0, +) / Float80(group.count)
            let variance = group.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float80(group.count)
            return (Double(mean), Double(variance))
        }
        return values.indices.map { index in
            let (statistic, channel) = position(index, shape)
            let (mean, variance) = moments[statistic]
            let y =
                (Double(values[index]) - mean) * ((scale?[channel] ?? 1) / (variance + 1e-5).squareRoot())
                + (shift?[channel] ?? 0)
            return Float16(y).bitPattern
        }
    }

    /// The staged path: widened to Float, the Float kernel with `float16Output`, narrowed.
    static func staged(
        _ x: [UInt16], _ plan: GroupNormPlan, _ n: Int, scale: [Double]?, shift: [Double]?
    ) throws -> (bits: [UInt16], moments: [Moments]) {
        var floats = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { source in
            floats.withUnsafeMutableBufferPointer { Float16Conversion.widen(source, into: $0, threadCount: 2) }
        }
        let moments = try floats.withUnsafeMutableBufferPointer { buffer in
            try plan.with(float16Output: true).normalizeWithOwnStatistics(
                UnsafeBufferPointer(buffer), into: buffer, sampleCount: n, scale: scale, shift: shift, epsilon: 1e-5)
        }
        var bits = [UInt16](repeating: 0, count: x.count)
        floats.withUnsafeBufferPointer { source in
            bits.withUnsafeMutableBufferPointer { Float16Conversion.narrow(source, into: $0, threadCount: 2) }
        }
        return (bits, moments)
    }

    /// The first index where two results differ as float16 (NaNs of any payload alike; -1: in length).
    static func firstDifference(_ a: [UInt16], _ b: [UInt16]) -> Int? {
        guard a.count == b.count else { return -1 }
        return a.indices.first { index in
            let (x, y) = (Float16(bitPattern: a[index]), Float16(bitPattern: b[index]))
            return !(x.isNaN && y.isNaN) && a[index] != b[index]
        }
    }

    /// The statistics' bit patterns (NaN statistics compare equal when their bits do).
    static func bits(_ moments: [Moments]) -> [UInt64] {
        moments.flatMap { [$0.count.bitPattern, $0.mean.bitPattern, $0.m2.bitPattern, $0.scale.bitPattern] }
    }

    /// The first index where the bits differ (-1: in length), or nil: a short failure message.
    static func firstBitDifference(_ a: [UInt16], _ b: [UInt16]) -> Int? {
        a.count != b.count ? -1 : a.indices.first { a[$0] != b[$0] }
    }

    @Test(arguments: shapes)
    func float16SlabsAreTheStagedBitsAndTheFloat64ResultRoundedOnce(_ shape: KernelCase) throws {
        let x = Self.halves(shape, seed: 53)
        #expect(x.count == shape.n * shape.c * shape.s)
        let base = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout, scope: shape.scope, threadCount: 2)
        let (scale, shift) = Self.affine(shape.c)
        for affine in [false, true] {
            let (gamma, beta) = affine ? (scale, shift) : (nil, nil)
            let reference = Self.reference(x, shape, scale: gamma, shift: beta)
            let staged = try Self.staged(x, base, shape.n, scale: gamma, shift: beta)
            #expect(staged.bits.count == reference.count)
            let stagedMiss = Self.firstDifference(staged.bits, reference)
            #expect(stagedMiss == nil, "staged vs reference at \(stagedMiss ?? 0), affine \(affine)")
            for threads in [1, 3] {
                for set in Self.sets {
                    let plan = base.with(threadCount: threads).with(instructionSet: set)
                    var fused = [UInt16](repeating: 0xFFFF, count: x.count)
                    let moments = try x.withUnsafeBufferPointer { source in
                        try fused.withUnsafeMutableBufferPointer {
                            try plan.normalizeWithOwnStatistics(
                                halves: source, into: $0, sampleCount: shape.n, scale: gamma, shift: beta,
                                epsilon: 1e-5)
                        }
                    }
                    let context = "threads \(threads), \(set), affine \(affine)"
                    #expect(fused.count == staged.bits.count)
                    #expect(
                        Self.firstBitDifference(fused, staged.bits) == nil,
                        "fused vs staged at \(Self.firstBitDifference(fused, staged.bits) ?? 0), \(context)")
                    let miss = Self.firstDifference(fused, reference)
                    #expect(miss == nil, "fused vs reference at \(miss ?? 0), \(context)")
                    #expect(Self.bits(moments) == Self.bits(staged.moments), "statistics, \(context)")
                    // In place, and in two steps with the statistics given.
                    var inPlace = x
                    _ = try inPlace.withUnsafeMutableBufferPointer { buffer in
                        try plan.normalizeWithOwnStatistics(
                            halves: UnsafeBufferPointer(buffer), into: buffer, sampleCount: shape.n, scale: gamma,
                            shift: beta, epsilon: 1e-5)
                    }
                    #expect(Self.firstBitDifference(inPlace, fused) == nil, "in place, \(context)")
                    var twoStep = [UInt16](repeating: 0xFFFF, count: x.count)
                    try x.withUnsafeBufferPointer { source in
                        try twoStep.withUnsafeMutableBufferPointer {
                            try plan.normalize(
                                halves: source, into: $0, sampleCount: shape.n,
                                parameters: NormalizationParameters(
                                    statistics: moments, scale: gamma, shift: beta, epsilon: 1e-5))
                        }
                    }
                    #expect(Self.firstBitDifference(twoStep, fused) == nil, "two steps, \(context)")
                }
            }
        }
    }

    /// Statistics of float16 bits are bitwise those of their Float widening, per sample and finished.
    @Test(arguments: shapes)
    func float16MomentsAreTheWidenedFloatsMoments(_ shape: KernelCase) throws {
        let x = Self.halves(shape, seed: 59)
        let floats = x.map { Float(Float16(bitPattern: $0)) }
        for set in Self.sets {
            let plan = try GroupNormPlan(
                channelCount: shape.c, spatialCount: shape.s, layout: shape.layout, scope: shape.scope,
                threadCount: 3
            ).with(instructionSet: set)
            let expected = floats.withUnsafeBufferPointer { plan.sampleMoments(of: $0, sampleCount: shape.n) }
            let perSample = x.withUnsafeBufferPointer { plan.sampleMoments(ofHalves: $0, sampleCount: shape.n) }
            #expect(perSample.count == expected.count && !expected.isEmpty)
            #expect(Self.bits(perSample) == Self.bits(expected), "\(set)")
            let finished = x.withUnsafeBufferPointer { plan.moments(ofHalves: $0, sampleCount: shape.n) }
            #expect(Self.bits(finished) == Self.bits(plan.finished(expected, sampleCount: shape.n)), "\(set)")
        }
    }
}
