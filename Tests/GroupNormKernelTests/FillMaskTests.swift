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
            let mask = FillMask<Double>(markers: [test.fill])
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
                plan.restore(fill, in: buffer)
            }
            for (got, want) in zip(y, expected.y) {
                if want.isNaN { #expect(got.isNaN) } else { #expect(abs(got - want) <= 1e-9, "\(got) vs \(want)") }
            }
            outputs.append(y)
        }
        #expect(outputs[0].map(\.bitPattern) == outputs[1].map(\.bitPattern), "every thread count gives the same bits")
    }

    /// Every element of a vector `missing_value` is masked and keeps the value it held; a value
    /// outside the valid range is masked and becomes the out-of-range fill (CF readers mask both).
    @Test func everyMarkerKeepsItsValueAndOutOfRangeBecomesFill() throws {
        // One sample, 2 channels × 6 positions, one group: data 100...600, markers -1 and -2,
        // 5000 and -50 outside [0, 1000].
        let x: [Double] = [100, -2, 200, 5000, 300, -1, 400, -1, -50, 500, -2, 600]
        let plan = try GroupNormPlan(
            channelCount: 2, spatialCount: 6, layout: .channelsFirst, scope: .groups(1),
            threadCount: 1)
        let mask = FillMask<Double>(markers: [-1, -2], validMin: 0, validMax: 1000, outOfRangeFill: -1)
        var y = x
        try y.withUnsafeMutableBufferPointer { buffer in
            let fill = mask.positions(in: UnsafeBufferPointer(buffer))
            #expect(fill.count == 6)
            let moments = plan.moments(of: UnsafeBufferPointer(buffer), sampleCount: 1, excluding: fill)
            #expect(moments.count == 1)
            let data: [Double] = [100, 200, 300, 400, 500, 600]
            let mean = data.reduce(0, +) / 6
            #expect(moments[0].mean == mean)
            #expect(abs(moments[0].variance - data.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6) < 1e-9)
            try plan.normalize(
                UnsafeBufferPointer(buffer), into: buffer, sampleCount: 1,
                parameters: NormalizationParameters(
                    mean: moments.map(\.mean), variance: moments.map(\.variance), epsilon: 1e-5))
            plan.restore(fill, in: buffer)
        }
        let kept = [1: -2.0, 3: -1, 5: -1, 7: -1, 8: -1, 10: -2]
        #expect(kept.allSatisfy { y[$0.key] == $0.value }, "\(y)")
        #expect(y[0] < -1.4 && y[0] > -1.5 && y[11] > 1.4 && y[11] < 1.5)
    }
}
