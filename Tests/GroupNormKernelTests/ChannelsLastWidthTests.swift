import Testing

@testable import GroupNormKernel

/// Channels-last statistics walk sixteen channels at a time, then eight, then one, down the
/// rows, or from `rowWiseChannels` channels and `rowWiseColumnBytes` per channel row by row
/// (GroupNormLoops' `channelSums`): the channel counts here mix the widths and take both walks, and each
/// channel's statistics (instance norm, one channel per group) are checked against a float64
/// two-pass of that channel alone, on every instruction set. Constant channels in each width's
/// lanes must come out exactly (their value, variance 0), and a channel that differs from its
/// first row only in the last row must not.
@Suite struct ChannelsLastWidthTests {
    static let channelCounts = [16, 24, 27, 40, 48, 131, 136]

    /// Row-major [N][S][C] values: channel c constant where c % 5 == 3, constant but for its
    /// last row where c % 5 == 4, else normal around `offset`.
    static func values(n: Int, s: Int, c: Int, offset: Double) -> [Double] {
        var random = SplitMix(state: UInt64(c))
        var x = [Double](repeating: 0, count: n * s * c)
        for sample in 0..<n {
            for row in 0..<s {
                for channel in 0..<c {
                    let index = (sample * s + row) * c + channel
                    switch channel % 5 {
                    case 3: x[index] = 0.125 * Double(channel + 1)
                    case 4: x[index] = row == s - 1 ? 2.5 : 0.5
                    default: x[index] = offset + random.normal()
                    }
                }
            }
        }
        return x
    }

    @Test(arguments: channelCounts)
    func everyWidthMatchesAPerChannelReference(_ c: Int) throws {
        // 300 rows: more than one row block for every C here, the last one short; from C = 128
        // blocks of 128, 128 and 44 rows take both sides of `rowWiseColumnBytes` in both types.
        let (n, s) = (2, 300)
        let x = Self.values(n: n, s: s, c: c, offset: 3)
        let plan = try GroupNormPlan(
            channelCount: c, spatialCount: s, layout: .channelsLast, scope: .groups(c), threadCount: 2)
        let sets = InstructionSet.allCases.filter { $0 == .baseline || cpuHasAVX2 }
        for set in sets {
            let floats = x.map { Float($0) }
            let moments32 = floats.withUnsafeBufferPointer {
                plan.with(instructionSet: set).moments(of: $0, sampleCount: n)
            }
            let moments64 = x.withUnsafeBufferPointer {
                plan.with(instructionSet: set).moments(of: $0, sampleCount: n)
            }
            try #require(moments32.count == n * c && moments64.count == n * c)
            for (moments, data) in [(moments32, floats.map { Double($0) }), (moments64, x)] {
                for sample in 0..<n {
                    for channel in 0..<c {
                        let column = (0..<s).map { data[(sample * s + $0) * c + channel] }
                        let mean = column.reduce(0, +) / Double(s)
                        let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(s)
                        let got = moments[sample * c + channel]
                        if channel % 5 == 3 {
                            #expect(got.mean == column[0] && got.variance == 0, "C \(c) channel \(channel) \(set)")
                        } else {
                            #expect(variance > 0)
                            #expect(abs(got.mean - mean) <= 1e-12 * max(1, abs(mean)), "C \(c) channel \(channel)")
                            #expect(abs(got.variance - variance) <= 1e-10 * variance, "C \(c) channel \(channel)")
                        }
                    }
                }
            }
        }
    }
}
