// Kernels for one contiguous run of values that share their statistics and
// affine parameters: a (sample, group) in NCHW, or part of one.

/// Moments of `count` contiguous values: a sum pass, then a corrected
/// two-pass sum of squared deviations over the same (cache-resident) block.
@inline(__always)
func contiguousMoments<E: KernelElement>(_ values: UnsafePointer<E>, count: Int) -> Moments {
    precondition(count > 0)
    var sumLanes = SIMD8<Double>()
    let first = values[0]
    let firstBits = E.bits(SIMD8<E>(repeating: first))
    var differences = SIMD8<E.BitPattern>()
    var index = 0
    while index + 8 <= count {
        let lanes = values.lanes(at: index)
        sumLanes += E.widen(lanes)
        differences |= E.bits(lanes) ^ firstBits
        index += 8
    }
    var sum = sumLanes.sum()
    var constant = differences == SIMD8<E.BitPattern>()
    while index < count {
        let value = values[index]
        sum += Double(value)
        constant = constant && value == first
        index += 1
    }
    let n = Double(count)
    // A constant block has exactly its value as mean, whatever the rounding of the sum.
    if constant && sum.isFinite {
        return Moments(count: n, mean: Double(first), m2: 0)
    }
    let mean = sum / n
    let center = SIMD8<Double>(repeating: mean)
    var squareLanes = SIMD8<Double>()
    var deviationLanes = SIMD8<Double>()
    index = 0
    while index + 8 <= count {
        let deviation = E.widen(values.lanes(at: index)) - center
        squareLanes += deviation * deviation
        deviationLanes += deviation
        index += 8
    }
    var squares = squareLanes.sum()
    var deviations = deviationLanes.sum()
    while index < count {
        let deviation = Double(values[index]) - mean
        squares += deviation * deviation
        deviations += deviation
        index += 1
    }
    // Σd is zero in exact arithmetic; subtracting its square removes the
    // rounding error of the mean (the "corrected two-pass" algorithm).
    return Moments(count: n, mean: mean + deviations / n, m2: max(0, squares - deviations * deviations / n))
}

/// The affine map y = ((x − meanHigh) − meanLow)·scale + shift for one run.
///
/// The mean is split into a high part in E and the low remainder, so that
/// x − mean is exact for data far from zero (x = 1e4 + N(0,1) in float32)
/// where the usual folding y = a·x + b cancels catastrophically.
struct RunParameters<E: KernelElement> {
    var meanHigh: E
    var meanLow: E
    var scale: E
    var shift: E

    /// γ / sqrt(var + eps) and β for one channel under one statistic. The plain and
    /// the fused paths both build their maps here, which keeps them bitwise equal.
    @inline(__always)
    init(mean: Double, variance: Double, epsilon: Double, channel: Int, scale: [Double]?, shift: [Double]?) {
        let inverseDeviation = 1 / (variance + epsilon).squareRoot()
        self.init(mean: mean, scale: (scale?[channel] ?? 1) * inverseDeviation, shift: shift?[channel] ?? 0)
    }

    @inline(__always)
    init(mean: Double, scale: Double, shift: Double) {
        if mean.isFinite {
            meanHigh = E(mean)
            meanLow = E(mean - Double(meanHigh))
        } else {
            meanHigh = E(mean)
            meanLow = 0
        }
        self.scale = E(scale)
        self.shift = E(shift)
    }
}

@inline(__always)
func normalizeContiguous<E: KernelElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, count: Int, _ p: RunParameters<E>
) {
    let high = SIMD8<E>(repeating: p.meanHigh)
    let low = SIMD8<E>(repeating: p.meanLow)
    let scale = SIMD8<E>(repeating: p.scale)
    let shift = SIMD8<E>(repeating: p.shift)
    var index = 0
    while index + 8 <= count {
        let centered = (source.lanes(at: index) - high) - low
        destination.storeLanes(centered * scale + shift, at: index)
        index += 8
    }
    while index < count {
        destination[index] = ((source[index] - p.meanHigh) - p.meanLow) * p.scale + p.shift
        index += 1
    }
}
