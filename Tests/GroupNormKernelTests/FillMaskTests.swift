import GroupNormKernel
import Testing

/// Fill values (CF `_FillValue`) left out of the statistics and kept in the output,
/// against the plain float64 reference, in every layout and scope.
@Suite struct FillMaskTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let groups: Int?
        let layout: ChannelLayout
        let fill: Double
        var testDescription: String { "\(groups.map { "G\($0)" } ?? "batch") \(layout.rawValue) fill \(fill)" }
    }

    static let cases: [Case] = [4, nil].flatMap { groups in
        [ChannelLayout.channelsFirst, .channelsLast].flatMap { layout in
            [-9999.0, .nan].map { Case(groups: groups, layout: layout, fill: $0) }
        }
    }

    /// n × c × s values, a tenth of them fill, and the whole first group of sample 1 fill.
    static func input(n: Int, c: Int, s: Int, layout: ChannelLayout, fill: Double) -> [Double] {
        var generator = SplitMix(state: 7)
        var x = (0..<(n * c * s)).map { _ in 1e3 + generator.normal() }
        for index in x.indices where generator.next() % 10 == 0 { x[index] = fill }
        for channel in 0..<(c / 4) {
            for position in 0..<s {
                x[layout == .channelsLast ? (1 * s + position) * c + channel : (1 * c + channel) * s + position] = fill
            }
        }
        return x
    }

    @Test(arguments: cases)
    func maskedStatisticsAndOutputsMatchTheReference(_ test: Case) throws {
        let (n, c, s) = (3, 8, 1100)  // 2 × 1100 values per group: blocks of 4096 unmasked values and tails
        let x = Self.input(n: n, c: c, s: s, layout: test.layout, fill: test.fill)
        let scope: StatisticsScope = test.groups.map { .groups($0) } ?? .channels
        let expected = Reference.normalize(
            x, n: n, c: c, s: s, groups: test.groups,
            channelsLast: test.layout == .channelsLast, fill: test.fill)
        var outputs: [[Double]] = []
        for threads in [1, 3] {
            let plan = try GroupNormPlan(
                channelCount: c, spatialCount: s, layout: test.layout, scope: scope,
                threadCount: threads)
            let mask = FillMask<Double>(markers: [test.fill], outputFill: test.fill)
            var y = x
            try y.withUnsafeMutableBufferPointer { buffer in
                let source = UnsafeBufferPointer(buffer)
                let fill = mask.positions(in: source)
                #expect(fill.count == x.filter { test.fill.isNaN ? $0.isNaN : $0 == test.fill }.count)
                let moments = plan.moments(of: source, sampleCount: n, excluding: fill)
                for (got, want) in zip(moments, zip(expected.mean, expected.variance)) {
                    if want.0.isNaN {
                        #expect(got.count == 0 && got.mean.isNaN, "a group of fill only has no statistics")
                    } else {
                        #expect(abs(got.mean - want.0) <= 1e-12 * abs(want.0))
                        #expect(abs(got.variance - want.1) <= 1e-9 * want.1)
                    }
                }
                try plan.normalize(
                    source, into: buffer, sampleCount: n,
                    parameters: NormalizationParameters(
                        mean: moments.map(\.mean), variance: moments.map(\.variance), epsilon: 1e-5))
                plan.restore(fill, in: buffer, fill: mask)
            }
            for (got, want) in zip(y, expected.y) {
                if want.isNaN { #expect(got.isNaN) } else { #expect(abs(got - want) <= 1e-9, "\(got) vs \(want)") }
            }
            outputs.append(y)
        }
        #expect(outputs[0].map(\.bitPattern) == outputs[1].map(\.bitPattern), "every thread count gives the same bits")
    }
}
