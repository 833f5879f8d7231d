/// A deliberately plain float64 implementation of SPEC §1 — one loop per
/// formula, no blocks, no SIMD, no merging — that the kernel is checked against.
enum Reference {
    struct Result {
        var y: [Double]
        var mean: [Double]
        var variance: [Double]
    }

    /// Group statistics (groups > 0) or per-channel batch statistics (groups == nil).
    /// Values equal to `fill` (any NaN when it is NaN) are left out and stay `fill`.
    static func normalize(
        _ x: [Double], n: Int, c: Int, s: Int, groups: Int?, channelsLast: Bool,
        scale: [Double]? = nil, shift: [Double]? = nil, epsilon: Double = 1e-5, fill: Double? = nil
    ) -> Result {
        func isFill(_ value: Double) -> Bool {
            guard let fill else { return false }
            return fill.isNaN ? value.isNaN : value == fill
        }
        func index(_ sample: Int, _ channel: Int, _ position: Int) -> Int {
            channelsLast ? (sample * s + position) * c + channel : (sample * c + channel) * s + position
        }
        var y = [Double](repeating: 0, count: x.count)
        var means: [Double] = []
        var variances: [Double] = []
        // Each statistic is a list of (sample, channel) members.
        var members: [[(Int, Int)]] = []
        if let groups {
            let k = c / groups
            for sample in 0..<n {
                for group in 0..<groups { members.append((group * k..<(group + 1) * k).map { (sample, $0) }) }
            }
        } else {
            for channel in 0..<c { members.append((0..<n).map { ($0, channel) }) }
        }
        for statistic in members {
            var values: [Double] = []
            for (sample, channel) in statistic {
                for position in 0..<s where !isFill(x[index(sample, channel, position)]) {
                    values.append(x[index(sample, channel, position)])
                }
            }
            let count = Double(values.count)
            let mean = values.reduce(0, +) / count
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / count
            means.append(mean)
            variances.append(variance)
            for (sample, channel) in statistic {
                for position in 0..<s {
                    let i = index(sample, channel, position)
                    if isFill(x[i]) {
                        y[i] = fill!
                        continue
                    }
                    y[i] =
                        (x[i] - mean) / (variance + epsilon).squareRoot() * (scale?[channel] ?? 1)
                        + (shift?[channel] ?? 0)
                }
            }
        }
        return Result(y: y, mean: means, variance: variances)
    }
}

/// A small deterministic generator (SplitMix64) so tests need no seeds from outside.
struct SplitMix {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Standard normal values (Box–Muller).
    mutating func normal() -> Double {
        let u1 = Double(next() >> 11) / Double(1 << 53) + 1e-300
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }
}

// Foundation-free elementary functions for the generator.
@_silgen_name("log") func _log(_ x: Double) -> Double
@_silgen_name("cos") func _cos(_ x: Double) -> Double
