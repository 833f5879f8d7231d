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
