import Testing

@testable import GroupNormKernel

/// The inverse map, against a plain float64 inverse of the reference's outputs.
@Suite struct InversionTests {
    /// x = (y − β)·sqrt(var + eps)/γ + mean of the reference's own y, within 4 ulp of the larger of
    /// |x − mean| and |β|·sqrt(var + eps)/|γ| (a few float64 roundings), on every layout and scope;
    /// the same bits on 1 and 3 threads, and whole or in pieces.
    @Test(arguments: kernelCases)
    func float64InverseMatchesThePlainInverse(_ shape: KernelCase) throws {
        let x = shape.values(seed: 5)
        var random = SplitMix(state: 9)
        let scale = (0..<shape.c).map { channel in (0.5 + abs(random.normal())) * (channel % 2 == 0 ? 1 : -1) }
        let shift = (0..<shape.c).map { _ in random.normal() }
        let forward = Reference.normalize(
            x, n: shape.n, c: shape.c, s: shape.s, groups: shape.groups,
            channelsLast: shape.channelsLast, scale: scale, shift: shift)
        let parameters = NormalizationParameters(
            mean: forward.mean, variance: forward.variance, scale: scale, shift: shift, epsilon: 1e-5,
            direction: .invert)
        func inverted(threads: Int) throws -> [Double] {
            let plan = try GroupNormPlan(
                channelCount: shape.c, spatialCount: shape.s, layout: shape.layout, scope: shape.scope,
                threadCount: threads)
            var back = [Double](repeating: 0, count: x.count)
            try forward.y.withUnsafeBufferPointer { input in
                try back.withUnsafeMutableBufferPointer { output in
                    try plan.normalize(input, into: output, sampleCount: shape.n, parameters: parameters)
                }
            }
            return back
        }
        let back = try inverted(threads: 3)
        #expect(back.count == x.count)
        #expect(back.map(\.bitPattern) == (try inverted(threads: 1)).map(\.bitPattern))
        let perSample = shape.c * shape.s
        var worst = 0.0
        for index in x.indices {
            let sample = index / perSample
            let channel = shape.channelsLast ? index % shape.c : index % perSample / shape.s
            let statistic =
                shape.groups.map { sample * $0 + channel / (shape.c / $0) } ?? channel
            let mean = forward.mean[statistic]
            let deviation = (forward.variance[statistic] + 1e-5).squareRoot()
            let plain = (forward.y[index] - shift[channel]) * deviation / scale[channel] + mean
            let size = max(abs(x[index] - mean), abs(shift[channel]) * deviation / abs(scale[channel]))
            worst = max(worst, abs(back[index] - plain) / size.ulp)
        }
        #expect(worst <= 4, "\(worst) ulp")

        // In pieces (one sample at a time, cut anywhere): the whole sample's bits.
        let plan = try GroupNormPlan(
            channelCount: shape.c, spatialCount: shape.s, layout: shape.layout, scope: shape.scope, threadCount: 2)
        let statisticsPerSample = plan.statisticCount(sampleCount: 1)
        let forwardValues = UnsafeMutableBufferPointer<Double>.allocate(capacity: x.count)
        let piecesValues = UnsafeMutableBufferPointer<Double>.allocate(capacity: x.count)
        defer {
            forwardValues.deallocate()
            piecesValues.deallocate()
        }
        _ = forwardValues.initialize(from: forward.y)
        piecesValues.initialize(repeating: 0)
        for sample in 0..<shape.n {
            var sampleParameters = parameters
            if shape.groups != nil {
                let statistics = sample * statisticsPerSample..<(sample + 1) * statisticsPerSample
                sampleParameters.mean = Array(parameters.mean[statistics])
                sampleParameters.variance = Array(parameters.variance[statistics])
            }
            let unit = shape.channelsLast ? shape.c : 1
            for piece in SamplePiecesTests.pieces(of: perSample, unit: unit, seed: sample) {
                let values = sample * perSample + piece.lowerBound..<sample * perSample + piece.upperBound
                let input = UnsafeBufferPointer(rebasing: forwardValues[values])
                let output = UnsafeMutableBufferPointer(rebasing: piecesValues[values])
                try plan.normalize(part: input, into: output, at: piece.lowerBound, parameters: sampleParameters)
            }
        }
        #expect(piecesValues.map(\.bitPattern) == back.map(\.bitPattern))
    }
}
