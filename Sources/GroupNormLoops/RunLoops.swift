// The innermost loops of the channels-first kernel, for one contiguous run of values that
// share their statistics and affine map. This module is compiled twice: as GroupNormLoops
// for baseline x86-64 (SSE2) and, from the same files, as GroupNormLoopsAVX2 with AVX2
// enabled; GroupNormKernel picks one per plan (`InstructionSet`). The loops are written
// in SIMD8 lanes with no fused multiply-add, so both builds compute the same bits.
// Only concrete functions of standard-library types are public: each build keeps its own
// generic code, which must not be inlined into the baseline-compiled GroupNormKernel.

/// Moments of `count` contiguous values as (mean, M2): a sum pass, then a corrected
/// two-pass sum of squared deviations over the same (cache-resident) block. A constant
/// block has exactly its value as mean, whatever the rounding of the sum.
@inline(never)
public func blockMoments(_ values: UnsafePointer<Float>, count: Int) -> (mean: Double, m2: Double) {
    contiguousMoments(values, count: count)
}

@inline(never)
public func blockMoments(_ values: UnsafePointer<Double>, count: Int) -> (mean: Double, m2: Double) {
    contiguousMoments(values, count: count)
}

/// y = ((x − meanHigh) − meanLow)·scale + shift over `count` values; `destination` may be `source`.
@inline(never)
public func normalizeRun(
    _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int,
    meanHigh: Float, meanLow: Float, scale: Float, shift: Float
) {
    normalizeContiguous(source, destination, count: count, meanHigh, meanLow, scale, shift)
}

@inline(never)
public func normalizeRun(
    _ source: UnsafePointer<Double>, _ destination: UnsafeMutablePointer<Double>, count: Int,
    meanHigh: Double, meanLow: Double, scale: Double, shift: Double
) {
    normalizeContiguous(source, destination, count: count, meanHigh, meanLow, scale, shift)
}

@inline(__always)
func contiguousMoments<E: LoopElement>(_ values: UnsafePointer<E>, count: Int) -> (mean: Double, m2: Double) {
    precondition(count > 0)
    // Two independent sets of lanes: one chain of float64 adds per set would leave the loop
    // waiting on the adder's latency (it ran at half the speed).
    var sumLanes = (SIMD8<Double>(), SIMD8<Double>())
    let first = values[0]
    let firstBits = E.bits(SIMD8<E>(repeating: first))
    var differences = SIMD8<E.BitPattern>()
    var index = 0
    while index + 16 <= count {
        let (low, high) = (values.lanes(at: index), values.lanes(at: index + 8))
        sumLanes.0 += E.widen(low)
        sumLanes.1 += E.widen(high)
        differences |= (E.bits(low) ^ firstBits) | (E.bits(high) ^ firstBits)
        index += 16
    }
    if index + 8 <= count {
        let lanes = values.lanes(at: index)
        sumLanes.0 += E.widen(lanes)
        differences |= E.bits(lanes) ^ firstBits
        index += 8
    }
    var sum = (sumLanes.0 + sumLanes.1).sum()
    var constant = differences == SIMD8<E.BitPattern>()
    while index < count {
        let value = values[index]
        sum += Double(value)
        constant = constant && value == first
        index += 1
    }
    let n = Double(count)
    if constant && sum.isFinite { return (Double(first), 0) }
    let mean = sum / n
    let center = SIMD8<Double>(repeating: mean)
    var squareLanes = (SIMD8<Double>(), SIMD8<Double>())
    var deviationLanes = (SIMD8<Double>(), SIMD8<Double>())
    index = 0
    while index + 16 <= count {
        let low = E.widen(values.lanes(at: index)) - center
        let high = E.widen(values.lanes(at: index + 8)) - center
        squareLanes.0 += low * low
        squareLanes.1 += high * high
        deviationLanes.0 += low
        deviationLanes.1 += high
        index += 16
    }
    if index + 8 <= count {
        let deviation = E.widen(values.lanes(at: index)) - center
        squareLanes.0 += deviation * deviation
        deviationLanes.0 += deviation
        index += 8
    }
    var squares = (squareLanes.0 + squareLanes.1).sum()
    var deviations = (deviationLanes.0 + deviationLanes.1).sum()
    while index < count {
        let deviation = Double(values[index]) - mean
        squares += deviation * deviation
        deviations += deviation
        index += 1
    }
    // Σd is zero in exact arithmetic; subtracting its square removes the
    // rounding error of the mean (the "corrected two-pass" algorithm).
    return (mean + deviations / n, max(0, squares - deviations * deviations / n))
}

@inline(__always)
func normalizeContiguous<E: LoopElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, count: Int,
    _ meanHigh: E, _ meanLow: E, _ scale: E, _ shift: E
) {
    let high = SIMD8<E>(repeating: meanHigh)
    let low = SIMD8<E>(repeating: meanLow)
    let scaleLanes = SIMD8<E>(repeating: scale)
    let shiftLanes = SIMD8<E>(repeating: shift)
    var index = 0
    while index + 8 <= count {
        let centered = (source.lanes(at: index) - high) - low
        destination.storeLanes(centered * scaleLanes + shiftLanes, at: index)
        index += 8
    }
    while index < count {
        destination[index] = ((source[index] - meanHigh) - meanLow) * scale + shift
        index += 1
    }
}
