/// Count, mean and sum of squared deviations (M2) of a set of values, in float64.
///
/// Sets are combined with Chan et al.'s pairwise formula, so statistics of a
/// group can be gathered block by block in any fixed order without ever
/// forming E[x²] − E[x]².
public struct Moments: Equatable, Sendable {
    public var count: Double
    public var mean: Double
    /// Σ (x − mean)².
    public var m2: Double

    public static let empty = Moments(count: 0, mean: 0, m2: 0)

    /// The statistics of no values at all: NaN mean and variance.
    public static let undefined = Moments(count: 0, mean: .nan, m2: .nan)

    public init(count: Double, mean: Double, m2: Double) {
        self.count = count
        self.mean = mean
        self.m2 = m2
    }

    /// The biased variance M2 / count, as torch.nn.GroupNorm uses; NaN when empty.
    public var variance: Double { count > 0 ? m2 / count : .nan }

    /// The moments of the union of both sets (Chan, Golub & LeVeque 1979).
    @inlinable
    public func merging(_ other: Moments) -> Moments {
        if other.count == 0 { return self }
        if count == 0 { return other }
        let total = count + other.count
        let delta = other.mean - mean
        // Equal means (constant data) must stay exact rather than drift by rounding.
        let mergedMean = delta == 0 ? mean : mean + delta * (other.count / total)
        let mergedM2 = m2 + other.m2 + delta * delta * (count * other.count / total)
        return Moments(count: total, mean: mergedMean, m2: mergedM2)
    }

    /// NaN mean and variance when any input was NaN or ±Inf, as torch reports them.
    public var poisonedIfNotFinite: Moments {
        mean.isFinite && m2.isFinite ? self : Moments(count: count, mean: .nan, m2: .nan)
    }
}
