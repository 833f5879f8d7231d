import Foundation
import Testing

@testable import GroupNormKernel

/// Whether this CPU runs the AVX2 build: AVX2 and F16C (Linux lists a flag only when it also saves the registers).
let cpuHasAVX2 = {
    let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    return flags.contains(" avx2") && flags.contains(" f16c")
}()

@Suite struct InstructionSetTests {
    /// Statistics, normalization and the fused path give the same bits on every instruction set.
    @Test(.enabled(if: cpuHasAVX2), arguments: kernelCases)
    func everyInstructionSetGivesTheSameBits(_ shape: KernelCase) throws {
        let doubles = shape.values(seed: 11)
        let floats = doubles.map { Float($0) }
        var random = SplitMix(state: 5)
        let scale = (0..<shape.c).map { _ in 0.5 + abs(random.normal()) }
        let shift = (0..<shape.c).map { _ in random.normal() }
        let plan = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout, scope: shape.scope, threadCount: 2)
        let baseline = try Self.run(plan.with(instructionSet: .baseline), floats, shape.n, scale, shift)
        let avx2 = try Self.run(plan.with(instructionSet: .avx2), floats, shape.n, scale, shift)
        #expect(Self.firstDifference(avx2, baseline) == nil)
        let baseline64 = try Self.run(plan.with(instructionSet: .baseline), doubles, shape.n, scale, shift)
        let avx264 = try Self.run(plan.with(instructionSet: .avx2), doubles, shape.n, scale, shift)
        #expect(Self.firstDifference(avx264, baseline64) == nil)
    }

    /// Where two runs' bits first differ (-1: in length), or nil; cheap to report, unlike the arrays.
    static func firstDifference(_ a: [UInt64], _ b: [UInt64]) -> Int? {
        a.count != b.count ? -1 : a.indices.first { a[$0] != b[$0] }
    }

    /// The bit patterns of the statistics, the normalized values and the fused path's values.
    static func run<E: KernelElement>(
        _ plan: GroupNormPlan, _ x: [E], _ n: Int, _ scale: [Double], _ shift: [Double]
    ) throws -> [UInt64] {
        let moments = x.withUnsafeBufferPointer { plan.moments(of: $0, sampleCount: n) }
        var y = [E](repeating: 0, count: x.count)
        var fused = y
        var fusedMoments: [Moments] = []
        try x.withUnsafeBufferPointer { input in
            try y.withUnsafeMutableBufferPointer { output in
                try plan.normalize(
                    input, into: output, sampleCount: n,
                    parameters: NormalizationParameters(
                        mean: moments.map(\.mean), variance: moments.map(\.variance), scale: scale, shift: shift,
                        epsilon: 1e-5))
            }
            fusedMoments = try fused.withUnsafeMutableBufferPointer { output in
                try plan.normalizeWithOwnStatistics(
                    input, into: output, sampleCount: n, scale: scale, shift: shift, epsilon: 1e-5)
            }
        }
        let statistics = (moments + fusedMoments).flatMap { [$0.mean.bitPattern, $0.m2.bitPattern] }
        return statistics + (y + fused).map { UInt64(Double($0).bitPattern) }
    }
}
