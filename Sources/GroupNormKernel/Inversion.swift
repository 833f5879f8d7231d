/// Whether a run of the kernel normalizes, or undoes a normalization with the same statistics,
/// scale and shift (`gnorm invert`).
public enum TransformDirection: Sendable {
    /// y = (x − mean) / sqrt(var + eps) · γ + β.
    case normalize
    /// x = (y − β) · sqrt(var + eps) / γ + mean: the inverse map, where γ ≠ 0.
    case invert
}

extension RunParameters {
    /// The map of one channel under one statistic, in either direction. Both are the kernel's
    /// y = ((x − meanHigh) − meanLow)·scale + shift, with float64 parameters rounded to E:
    ///
    ///     normalize: meanHigh + meanLow = mean, scale = γ / sqrt(var + eps), shift = β
    ///     invert:    meanHigh + meanLow = β,    scale = sqrt(var + eps) / γ, shift = mean
    ///
    /// so inversion runs through the same loops (both layouts, whole samples and pieces).
    /// With E = Double the inverse of a value is (y − β)·s + mean with s = sqrt(var + eps)/γ
    /// correctly rounded: a few float64 roundings, each of half an ulp of its result.
    /// γ = 0 gives an infinite scale: callers refuse it before data moves.
    @inline(__always)
    init(_ parameters: NormalizationParameters, statistic: Int, channel: Int) {
        let mean = parameters.mean[statistic]
        let variance = parameters.variance[statistic]
        switch parameters.direction {
        case .normalize:
            self.init(
                mean: mean, variance: variance, epsilon: parameters.epsilon, channel: channel,
                scale: parameters.scale, shift: parameters.shift)
        case .invert:
            let deviation = (variance + parameters.epsilon).squareRoot()
            self.init(
                mean: parameters.shift?[channel] ?? 0, scale: deviation / (parameters.scale?[channel] ?? 1),
                shift: mean)
        }
    }
}
