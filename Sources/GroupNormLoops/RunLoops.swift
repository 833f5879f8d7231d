// The innermost loops of the channels-first kernel, for one contiguous run of values that
// share their statistics and affine map. This module is compiled twice: as GroupNormLoops
// for baseline x86-64 (SSE2) and, from the same files, as GroupNormLoopsAVX2 with AVX2
// enabled; GroupNormKernel picks one per plan (`InstructionSet`). The loops are written
// in SIMD8 lanes with no fused multiply-add, so both builds compute the same bits. Results
// are evaluated in float64 and rounded once to the stored type (round to nearest even).
// Only concrete functions of standard-library types are public: each build keeps its own
// generic code, which must not be inlined into the baseline-compiled GroupNormKernel.

/// Moments of `count` contiguous values as (mean, M2): one pass of sums shifted by the first
/// value, or where that would lose digits a corrected two-pass over the same (cache-resident)
/// block. A constant block has exactly its value as mean, whatever the rounding of the sums.
@inline(never)
public func blockMoments(_ values: UnsafePointer<Float>, count: Int) -> (mean: Double, m2: Double) {
    contiguousMoments(values, count: count)
}

@inline(never)
public func blockMoments(_ values: UnsafePointer<Double>, count: Int) -> (mean: Double, m2: Double) {
    contiguousMoments(values, count: count)
}

/// y = (x − mean)·scale + shift over `count` values, evaluated in float64 and rounded once to
/// the stored type; `destination` may be `source`.
@inline(never)
public func normalizeRun(
    _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int,
    mean: Double, scale: Double, shift: Double
) {
    normalizeContiguous(source, destination, count: count, mean, scale, shift)
}

@inline(never)
public func normalizeRun(
    _ source: UnsafePointer<Double>, _ destination: UnsafeMutablePointer<Double>, count: Int,
    mean: Double, scale: Double, shift: Double
) {
    normalizeContiguous(source, destination, count: count, mean, scale, shift)
}

/// `normalizeRun` for float16 results held as Float: each value the Float pattern whose rounding to
/// float16 is the float64 result's correct rounding (`oddForHalf`), never a float32 rounded first.
@inline(never)
public func normalizeRunForHalf(
    _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int,
    mean: Double, scale: Double, shift: Double
) {
    let meanLanes = SIMD8<Double>(repeating: mean)
    let scaleLanes = SIMD8<Double>(repeating: scale)
    let shiftLanes = SIMD8<Double>(repeating: shift)
    var index = 0
    while index + 8 <= count {
        let centered = Float.widen(source.lanes(at: index)) - meanLanes
        destination.storeLanes(oddForHalf(centered * scaleLanes + shiftLanes), at: index)
        index += 8
    }
    while index < count {
        let y = (Double(source[index]) - mean) * scale + shift
        destination[index] = oddForHalf(SIMD8(repeating: y))[0]
        index += 1
    }
}

@inline(__always)
func contiguousMoments<E: LoopElement>(_ values: UnsafePointer<E>, count: Int) -> (mean: Double, m2: Double) {
    precondition(count > 0)
    // One pass of sums shifted by the block's first value: Σd and Σd², d = x − x₀. Two
    // independent sets of lanes each, or the float64 adds wait on their latency.
    let first = values[0]
    let shift = Double(first)
    let shiftLanes = SIMD8<Double>(repeating: shift)
    let firstBits = E.bits(SIMD8<E>(repeating: first))
    var sums = (SIMD8<Double>(), SIMD8<Double>())
    var squares = (SIMD8<Double>(), SIMD8<Double>())
    var differences = SIMD8<E.BitPattern>()
    var index = 0
    while index + 16 <= count {
        let (low, high) = (values.lanes(at: index), values.lanes(at: index + 8))
        let (d0, d1) = (E.widen(low) - shiftLanes, E.widen(high) - shiftLanes)
        sums.0 += d0
        sums.1 += d1
        squares.0 += d0 * d0
        squares.1 += d1 * d1
        differences |= (E.bits(low) ^ firstBits) | (E.bits(high) ^ firstBits)
        index += 16
    }
    if index + 8 <= count {
        let lanes = values.lanes(at: index)
        let d = E.widen(lanes) - shiftLanes
        sums.0 += d
        squares.0 += d * d
        differences |= E.bits(lanes) ^ firstBits
        index += 8
    }
    var sum = (sums.0 + sums.1).sum()
    var square = (squares.0 + squares.1).sum()
    var constant = differences == SIMD8<E.BitPattern>()
    while index < count {
        let value = values[index]
        let d = Double(value) - shift
        sum += d
        square += d * d
        constant = constant && value == first
        index += 1
    }
    let n = Double(count)
    // A constant block has exactly its value as mean, whatever the rounding of the sums.
    if constant && sum.isFinite { return (shift, 0) }
    let m2 = square - sum * sum / n
    // Σd² − (Σd)²/n keeps its digits while x₀ lies within a few deviations of the mean
    // (Σd² ≤ 16 M2: x₀ within √15 σ); otherwise, or for non-finite sums, the corrected two-pass.
    if square <= 16 * m2 { return (shift + sum / n, m2) }
    return twoPassMoments(values, count: count, mean: shift + sum / n)
}

/// The corrected two-pass moments around `mean`: Σd and Σd² with d = x − mean, the mean
/// then corrected by Σd / n and M2 by (Σd)² / n (the rounding error of the mean).
@inline(never)
func twoPassMoments<E: LoopElement>(_ values: UnsafePointer<E>, count: Int, mean: Double) -> (mean: Double, m2: Double)
{
    let n = Double(count)
    let center = SIMD8<Double>(repeating: mean)
    var squareLanes = SIMD8<Double>()
    var deviationLanes = SIMD8<Double>()
    var index = 0
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
    // Negative rounding clamped to 0; NaN (overflowed sums, or NaN inputs) kept, so that the
    // caller sees that these moments need scaling or poisoning (Swift's max(0, NaN) is 0).
    let m2 = squares - deviations * deviations / n
    return (mean + deviations / n, m2 < 0 ? 0 : m2)
}

@inline(__always)
func normalizeContiguous<E: LoopElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, count: Int,
    _ mean: Double, _ scale: Double, _ shift: Double
) {
    let meanLanes = SIMD8<Double>(repeating: mean)
    let scaleLanes = SIMD8<Double>(repeating: scale)
    let shiftLanes = SIMD8<Double>(repeating: shift)
    var index = 0
    while index + 8 <= count {
        let centered = E.widen(source.lanes(at: index)) - meanLanes
        destination.storeLanes(E.narrow(centered * scaleLanes + shiftLanes), at: index)
        index += 8
    }
    while index < count {
        destination[index] = E((Double(source[index]) - mean) * scale + shift)
        index += 1
    }
}
