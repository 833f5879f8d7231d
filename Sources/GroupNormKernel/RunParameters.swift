/// The affine map y = (x − mean)·scale + shift for one run, evaluated in float64 whatever the
/// stored type and rounded once to it: every float32 result is the float64 formula's value
/// within half an ulp (plus the float64 evaluation's few 1e-16 of |x − mean|·scale + |shift|).
///
/// x − mean is exact for float32 data far from zero (x = 1e4 + N(0,1)), where the usual
/// folding y = a·x + b cancels catastrophically; the sum with the shift cancels in float64
/// only, 2^29 times finer than float32's ulp, so outputs near zero keep their digits.
struct RunParameters {
    var mean: Double
    var scale: Double
    var shift: Double

    /// γ / sqrt(var + eps) and β for one channel under one statistic. Every path builds its
    /// maps here, which keeps them bitwise equal. `varianceScale` s (a power of two, 1 for
    /// ordinary data) says the variance is `variance`·s²: sqrt(var + eps) = s·sqrt(variance + eps/s²).
    /// A group of variance 0 with eps 0 (constant) gives exactly β, not 0·∞.
    @inline(__always)
    init(
        mean: Double, variance: Double, varianceScale: Double = 1, epsilon: Double, channel: Int, scale: [Double]?,
        shift: [Double]?
    ) {
        let inner = variance + epsilon / (varianceScale * varianceScale)
        let deviation = inner.squareRoot() * varianceScale
        let gamma = scale?[channel] ?? 1
        self.mean = mean
        self.scale = inner == 0 ? 0 : gamma / deviation
        self.shift = shift?[channel] ?? 0
    }
}
