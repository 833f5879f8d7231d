/// Whether a run of the kernel normalizes, or undoes a normalization with the same statistics,
/// scale and shift (`gnorm invert`).
public enum TransformDirection: Sendable {
    /// y = (x − mean) / sqrt(var + eps) · γ + β.
    case normalize
    /// x = (y − β) · sqrt(var + eps) / γ + mean: the inverse map, where γ ≠ 0.
    case invert
}

extension RunParameters {
    /// The inverse map of one channel under one statistic, through the same loops as the
    /// normalization (both layouts, whole samples and pieces): the kernel's y = (x − centre)·scale
    /// + shift, evaluated in float64 and rounded once, with
    ///
    ///     normalize: centre = mean, scale = γ / sqrt(var + eps), shift = β
    ///     invert:    centre = β,    scale = sqrt(var + eps) / γ, shift = mean
    ///
    /// `varianceScale` s as in the normalization: sqrt(var + eps) = s·sqrt(variance + eps/s²).
    /// γ = 0 gives an infinite scale: callers refuse it before data moves.
    @inline(__always)
    init(inverting parameters: NormalizationParameters, statistic: Int, channel: Int) {
        let varianceScale = parameters.varianceScale?[statistic] ?? 1
        let inner = parameters.variance[statistic] + parameters.epsilon / (varianceScale * varianceScale)
        mean = parameters.shift?[channel] ?? 0
        scale = inner.squareRoot() * varianceScale / (parameters.scale?[channel] ?? 1)
        shift = parameters.mean[statistic]
    }
}
