// float16 in the loops: bit patterns (UInt16) widened to Float, exactly, and Float lanes narrowed to
// float16 bits, to nearest with ties to even. The kernel's float16 slabs are computed here without a
// Float copy of the slab: each block of up to 4096 values is widened into a Float buffer that stays
// in L1, computed there by the Float loops, and (normalization) narrowed straight into the float16
// destination. GroupNormKernel's `Float16Conversion` passes are made of the same lane functions, so
// a float16 slab and a widen → Float kernel → narrow run give the same bits by construction.
//
// The lane code is bit manipulation on SIMD8 lanes, SSE2 only (F16C is not part of baseline
// x86-64): Fabian Giesen's float-to-half with rounding to nearest even
// (`float_to_half_fast3_rtne`), the Double path through a Float rounded to odd (`oddForHalf`), and
// half-to-float by a renormalizing subtraction. It does not depend on the flush-to-zero and
// denormals-are-zero modes: half-to-float never has a subnormal operand, and a subnormal Float
// operand rounds to ±0 either way. The AVX2 build, which the kernel picks only where the CPU has
// F16C too, converts with F16C's instructions instead, to the same bits (F16CConversionTests).

/// Values per block of the float16 loops: 16 KiB of Floats, which stay in L1.
let halfBlockElements = 4096

/// Moments of `count` contiguous float16 values (bit patterns): bitwise those of their Float
/// widening (`blockMoments` of Floats). The values are widened into a block buffer in L1 and summed
/// there: one loop that widens and sums at once was partly scalarized by the compiler and ran at
/// a third of the speed.
@inline(never)
public func blockMoments(_ halves: UnsafePointer<UInt16>, count: Int) -> (mean: Double, m2: Double) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { block in
        let floats = block.baseAddress!
        convert(halves, floats, count: count) { halfToFloat($0) }
        return contiguousMoments(UnsafePointer(floats), count: count)
    }
}

/// `normalizeRunForHalf` from and to float16 bit patterns, block by block in L1: the values widened
/// into a Float block buffer, y = (x − mean)·scale + shift evaluated in float64 and rounded to odd
/// (`normalizeRunForHalf`), the block narrowed to float16 bits into `destination`. Bitwise the
/// widening pass, `normalizeRunForHalf` and the narrowing pass over the whole run (every step is
/// lane by lane), with the slab read and written once. (One loop doing all three in registers
/// spilled its constants and ran slower than the three passes.) `destination` may be `source`.
@inline(never)
public func normalizeHalfRun(
    _ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<UInt16>, count: Int,
    mean: Double, scale: Double, shift: Double
) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: min(count, halfBlockElements)) { block in
        let floats = block.baseAddress!
        var start = 0
        while start < count {
            let length = min(halfBlockElements, count - start)
            convert(source + start, floats, count: length) { halfToFloat($0) }
            normalizeRunForHalf(UnsafePointer(floats), floats, count: length, mean: mean, scale: scale, shift: shift)
            convert(UnsafePointer(floats), destination + start, count: length) { floatToHalf($0) }
            start += length
        }
    }
}

// MARK: Conversion blocks (Float16Conversion's passes)

/// float16 bit patterns widened to Float, exactly.
@inline(never)
public func widenHalves(_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
    convert(source, destination, count: count) { halfToFloat($0) }
}

/// float16 bit patterns widened to Double, exactly (Float to Double keeps NaN payloads: cvtps2pd).
@inline(never)
public func widenHalves(_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Double>, count: Int) {
    convert(source, destination, count: count) { Float.widen(halfToFloat($0)) }
}

/// Floats rounded to float16 bit patterns, to nearest with ties to even.
@inline(never)
public func narrowToHalves(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<UInt16>, count: Int) {
    convert(source, destination, count: count) { floatToHalf($0) }
}

/// Doubles rounded to float16 bit patterns, to nearest with ties to even, in one rounding:
/// rounded to odd onto a Float with 21 significant bits first (`oddForHalf`), never to the nearest Float.
@inline(never)
public func narrowToHalves(_ source: UnsafePointer<Double>, _ destination: UnsafeMutablePointer<UInt16>, count: Int) {
    convert(source, destination, count: count) { floatToHalf(oddForHalf($0)) }
}

/// Applies `lanes` to `count` values eight at a time, the tail padded with zeros (lane by lane,
/// so the tail's bits are the body's). Called with a closure literal, so `lanes` is inlined.
@inline(__always)
private func convert<Source: SIMDScalar, Target: SIMDScalar>(
    _ input: UnsafePointer<Source>, _ output: UnsafeMutablePointer<Target>, count: Int,
    _ lanes: (SIMD8<Source>) -> SIMD8<Target>
) {
    let bodyEnd = count / 8 * 8
    var i = 0
    while i < bodyEnd {
        output.storeLanes(lanes(input.lanes(at: i)), at: i)
        i += 8
    }
    if i < count {
        var tail = SIMD8<Source>()
        for k in 0..<(count - i) { tail[k] = input[i + k] }
        let converted = lanes(tail)
        for k in 0..<(count - i) { output[i + k] = converted[k] }
    }
}

// MARK: Lanes

/// Eight float16 bit patterns widened to `Float`, exactly.
@inline(__always)
func halfToFloat(_ half: SIMD8<UInt16>) -> SIMD8<Float> {
    #if GNORM_F16C && arch(x86_64) && os(Linux)
        // The AVX2 build (with F16C): `vcvtph2ps`, exact, a NaN made quiet with its sign and
        // payload moved to the top of the significand: the bits of the lane code below.
        return SIMD8<Float>(unsafeBitCast(half, to: SIMD8<Float16>.self))
    #else
        return halfToFloatByBits(half)
    #endif
}

/// `halfToFloat` in integer lane arithmetic (SSE2).
@inline(__always)
func halfToFloatByBits(_ half: SIMD8<UInt16>) -> SIMD8<Float> {
    let h = SIMD8<Int32>(truncatingIfNeeded: half)
    let sign = (h & 0x8000) &<< 16
    // Exponent and significand moved to Float's positions, exponent rebiased by 127 - 15: right
    // for normal halves.
    let shifted = (h & 0x7FFF) &<< 13
    let exponent = shifted & (0x7C00 << 13)
    var bits = shifted &+ (112 << 23)
    // Inf and NaN: exponent all ones (rebias by 128 - 16 more); NaNs made quiet.
    let infOrNaN = ~lanesBelow(exponent, 0x7C00 << 13)
    let nan = ~lanesBelow(shifted, (0x7C00 << 13) + 1)
    bits = (bits &+ (infOrNaN & (112 << 23))) | (nan & 0x0040_0000)
    // Zero and subnormals: read the significand as 2^-14 · (1 + m/1024) and subtract 2^-14
    // exactly (both operands normal Floats).
    let renormalized = (floatLanes(bits &+ (1 << 23)) - 0x1p-14).bitLanes
    bits = blended(bits, renormalized, where: lanesBelow(exponent, 1))
    return floatLanes(bits | sign)
}

/// Eight `Float` values rounded to float16 bit patterns, to nearest with ties to even.
@inline(__always)
func floatToHalf(_ value: SIMD8<Float>) -> SIMD8<UInt16> {
    #if GNORM_F16C && arch(x86_64) && os(Linux)
        // The AVX2 build (with F16C): `vcvtps2ph` in MXCSR's rounding mode (nearest, ties to even:
        // nothing in gnorm changes it, and the lane code below relies on it too), subnormal halves
        // produced, ±Inf from 65520, a NaN quiet with its sign and the top of its payload: the bits
        // of the lane code below.
        return unsafeBitCast(SIMD8<Float16>(value), to: SIMD8<UInt16>.self)
    #else
        return floatToHalfByBits(value)
    #endif
}

/// `floatToHalf` in integer lane arithmetic (SSE2).
@inline(__always)
func floatToHalfByBits(_ value: SIMD8<Float>) -> SIMD8<UInt16> {
    let bits = value.bitLanes
    let sign = bits & Int32.min
    let magnitude = bits ^ sign  // |x| as bits, ordered like |x|
    // Normal halves (2^-14 ≤ |x| < 65520): rebias the exponent by 15 - 127 and round the 13
    // dropped bits to nearest even by adding 0xFFF plus the kept last bit. A carry out of the
    // significand moves into the exponent, up to Inf at 65520.
    let odd = (magnitude &>> 13) & 1
    var half = (magnitude &+ (0xFFF - (112 << 23)) &+ odd) &>> 13
    // Subnormal halves (|x| < 2^-14): adding 0.5 (ulp 2^-24, the subnormal half's step) makes the
    // hardware round to nearest even; the significand's low bits are the half.
    let aligned = (floatLanes(magnitude) + 0.5).bitLanes &- (126 << 23)
    half = blended(half, aligned, where: lanesBelow(magnitude, 113 << 23))
    // |x| ≥ 2^16: Inf, or a quiet NaN keeping the top of the payload.
    let nan = ~lanesBelow(magnitude, 0x7F80_0001)
    let infOrNaN = 0x7C00 | (nan & (0x0200 | ((magnitude &>> 13) & 0x3FF)))
    half = blended(half, infOrNaN, where: ~lanesBelow(magnitude, 143 << 23))
    return SIMD8<UInt16>(truncatingIfNeeded: half | (sign &>> 16))
}

/// Lanes with the given bit patterns.
@inline(__always)
private func floatLanes(_ bits: SIMD8<Int32>) -> SIMD8<Float> { unsafeBitCast(bits, to: SIMD8<Float>.self) }

extension SIMD8 where Scalar == Float {
    /// The lanes' bit patterns.
    @inline(__always)
    fileprivate var bitLanes: SIMD8<Int32> { unsafeBitCast(self, to: SIMD8<Int32>.self) }
}
