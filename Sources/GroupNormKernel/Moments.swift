/// Count, mean and sum of squared deviations (M2) of a set of values, in float64.
///
/// Sets are combined with Chan et al.'s pairwise formula, so statistics of a
/// group can be gathered block by block in any fixed order without ever
/// forming E[x²] − E[x]².
///
/// Data so large that Σ(x − mean)² would overflow float64 (values beyond about 1e154) keeps
/// its M2 divided by `scale`², a power of two: the deviation √(M2 / count) and with it every
/// normalized value stay finite where the float64 formula is, while `variance` itself is +Inf
/// when it exceeds float64's range. Ordinary data has `scale` 1 and the unscaled bits.
public struct Moments: Equatable, Sendable {
    public var count: Double
    public var mean: Double
    /// Σ ((x − mean) / scale)².
    public var m2: Double
    /// 1, or `largeScale` for data whose M2 would overflow.
    public var scale: Double

    /// The power of two large data is divided by: values up to float64's maximum, divided by
    /// it, have squares and sums of 2^48 of them far inside float64's range.
    public static let largeScale = 0x1p600

    public static let empty = Moments(count: 0, mean: 0, m2: 0)

    /// The statistics of no values at all: NaN mean and variance.
    public static let undefined = Moments(count: 0, mean: .nan, m2: .nan)

    public init(count: Double, mean: Double, m2: Double, scale: Double = 1) {
        self.count = count
        self.mean = mean
        self.m2 = m2
        self.scale = scale
    }

    /// The biased variance M2 / count, as torch.nn.GroupNorm uses; NaN when empty, +Inf
    /// beyond float64's range.
    public var variance: Double { count > 0 ? m2 / count * scale * scale : .nan }

    /// M2 / count / scale²: the variance in units of `scale` (the variance itself when `scale` is 1).
    public var scaledVariance: Double { count > 0 ? m2 / count : .nan }

    /// The moments of the union of both sets (Chan, Golub & LeVeque 1979).
    @inlinable
    public func merging(_ other: Moments) -> Moments {
        if other.count == 0 { return self }
        if count == 0 { return other }
        let total = count + other.count
        if scale == 1 && other.scale == 1 {
            let delta = other.mean - mean
            // Equal means (constant data) must stay exact rather than drift by rounding.
            let mergedMean = delta == 0 ? mean : mean + delta * (other.count / total)
            let mergedM2 = m2 + other.m2 + delta * delta * (count * other.count / total)
            // Overflow of finite moments (means far apart beyond 1e154) is merged scaled below.
            if mergedM2.isFinite || !(m2.isFinite && other.m2.isFinite && mean.isFinite && other.mean.isFinite) {
                return Moments(count: total, mean: mergedMean, m2: mergedM2)
            }
        }
        // Scaled: powers of two, exact but for negligible underflow of the smaller set's M2.
        let s = Swift.max(scale, other.scale, Self.largeScale)
        let (ratio, otherRatio) = (scale / s, other.scale / s)
        let (low, high) = (mean / s, other.mean / s)
        let delta = high - low
        let mergedMean = delta == 0 ? mean : (low + delta * (other.count / total)) * s
        let mergedM2 =
            m2 * ratio * ratio + other.m2 * otherRatio * otherRatio + delta * delta * (count * other.count / total)
        return Moments(count: total, mean: mergedMean, m2: mergedM2, scale: s)
    }

    /// NaN mean and variance when any input was NaN or ±Inf, as torch reports them.
    public var poisonedIfNotFinite: Moments {
        mean.isFinite && m2.isFinite ? self : Moments(count: count, mean: .nan, m2: .nan)
    }
}
