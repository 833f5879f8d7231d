/// Conversions between IEEE 754 binary16 ("float16", "half") values, carried
/// as their bit patterns in `UInt16`, and `Float` or `Double`.
///
/// Numeric contract, bit for bit that of Swift's `Float16(_:)`, `Float(_:)` and
/// `Double(_:)` on x86-64 (compiler-rt's `__truncsfhf2`, `__truncdfhf2`,
/// `__extendhfsf2`, `__extendhfdf2`):
///
/// - Widening is exact. ±0, subnormals, ±Inf keep their value and sign; a NaN
///   stays a NaN with its sign and payload (moved to the top of the wider
///   significand), and comes out quiet.
/// - Narrowing is correctly rounded, to nearest with ties to even, directly
///   from the source: a `Double` is not rounded to a `Float` first. Halves'
///   subnormals are produced (no flush to zero); magnitudes from 65520 (the
///   midpoint between 65504 and 2^16) up round to ±Inf; ±Inf stay ±Inf; a NaN
///   becomes a quiet NaN with its sign and the top 9 bits of its payload.
///
/// The buffer forms split the work over `threadCount` threads in blocks of
/// `blockLength` elements. Every element, the tail's too, goes through the same
/// SIMD code, so the result never depends on the thread count. Source and
/// destination must have the same length and must not overlap.
///
/// The code is bit manipulation on 8-lane SIMD vectors, SSE2 only (F16C is not
/// part of baseline x86-64): Fabian Giesen's float-to-half with rounding to
/// nearest even (`float_to_half_fast3_rtne`), the Double path through a Float
/// rounded to odd, and half-to-float by a renormalizing subtraction. It does not
/// depend on the flush-to-zero and denormals-are-zero modes: half-to-float never
/// has a subnormal operand, and a subnormal Float operand rounds to ±0 either way.
/// About 9x (Float) and 6x (Double) faster than the scalar compiler-rt calls.
public enum Float16Conversion {
    /// Elements per parallel task.
    public static let blockLength = 1 << 15

    // MARK: Buffers

    /// Widens float16 bit patterns to `Float`, exactly.
    public static func widen(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            convert(elements, from: input, to: output) { widenToFloat($0) }
        }
    }

    /// Widens float16 bit patterns to `Double`, exactly.
    public static func widen(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Double>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            convert(elements, from: input, to: output) { widenToDouble($0) }
        }
    }

    /// Rounds `Float` values to float16 bit patterns, to nearest with ties to even.
    public static func narrow(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            convert(elements, from: input, to: output) { narrow($0) }
        }
    }

    /// Rounds `Double` values to float16 bit patterns, to nearest with ties
    /// to even, in one rounding (never through a rounded `Float`).
    public static func narrow(
        _ source: UnsafeBufferPointer<Double>, into destination: UnsafeMutableBufferPointer<UInt16>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            convert(elements, from: input, to: output) { narrow($0) }
        }
    }

    /// Widens float16 bit patterns to the kernel's element type, exactly.
    @inlinable
    public static func widen<Element: KernelElement>(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Element>, threadCount: Int
    ) {
        if Element.self == Float.self {
            widen(
                source, into: unsafeBitCast(destination, to: UnsafeMutableBufferPointer<Float>.self),
                threadCount: threadCount)
        } else if Element.self == Double.self {
            widen(
                source, into: unsafeBitCast(destination, to: UnsafeMutableBufferPointer<Double>.self),
                threadCount: threadCount)
        } else {
            preconditionFailure("no float16 conversion for \(Element.self)")
        }
    }

    /// Rounds the kernel's element type to float16 bit patterns, to nearest
    /// with ties to even.
    @inlinable
    public static func narrow<Element: KernelElement>(
        _ source: UnsafeBufferPointer<Element>, into destination: UnsafeMutableBufferPointer<UInt16>, threadCount: Int
    ) {
        if Element.self == Float.self {
            narrow(
                unsafeBitCast(source, to: UnsafeBufferPointer<Float>.self), into: destination,
                threadCount: threadCount)
        } else if Element.self == Double.self {
            narrow(
                unsafeBitCast(source, to: UnsafeBufferPointer<Double>.self), into: destination,
                threadCount: threadCount)
        } else {
            preconditionFailure("no float16 conversion for \(Element.self)")
        }
    }

    /// Applies `lanes` to `input[elements]` eight at a time, the tail padded with zeros.
    /// (Called with a closure literal, so that `lanes` is inlined into the loop.)
    @inline(__always)
    private static func convert<Source: SIMDScalar, Target: SIMDScalar>(
        _ elements: Range<Int>, from input: UnsafePointer<Source>, to output: SharedPointer<Target>,
        _ lanes: (SIMD8<Source>) -> SIMD8<Target>
    ) {
        let bodyEnd = elements.lowerBound + elements.count / 8 * 8
        var i = elements.lowerBound
        while i < bodyEnd {
            output.base.storeLanes(lanes(input.lanes(at: i)), at: i)
            i += 8
        }
        if i < elements.upperBound {
            var tail = SIMD8<Source>()
            for k in 0..<(elements.upperBound - i) { tail[k] = input[i + k] }
            let converted = lanes(tail)
            for k in 0..<(elements.upperBound - i) { output.base[i + k] = converted[k] }
        }
    }

    // MARK: Lanes

    /// Eight float16 bit patterns widened to `Float`, exactly.
    @inline(__always)
    static func widenToFloat(_ half: SIMD8<UInt16>) -> SIMD8<Float> {
        let h = SIMD8<Int32>(truncatingIfNeeded: half)
        let sign = (h & 0x8000) &<< 16
        // Exponent and significand moved to Float's positions, exponent rebiased
        // by 127 - 15: right for normal halves.
        let shifted = (h & 0x7FFF) &<< 13
        let exponent = shifted & (0x7C00 << 13)
        var bits = shifted &+ (112 << 23)
        // Inf and NaN: exponent all ones (rebias by 128 - 16 more); NaNs made quiet.
        let infOrNaN = ~exponent.lanesBelow(0x7C00 << 13)
        let nan = ~shifted.lanesBelow((0x7C00 << 13) + 1)
        bits = (bits &+ (infOrNaN & (112 << 23))) | (nan & 0x0040_0000)
        // Zero and subnormals: read the significand as 2^-14 · (1 + m/1024) and
        // subtract 2^-14 exactly (both operands normal Floats).
        let renormalized = (Float32Lanes(bits: bits &+ (1 << 23)) - 0x1p-14).bits
        bits = bits.blended(with: renormalized, where: exponent.lanesBelow(1))
        return Float32Lanes(bits: bits | sign)
    }

    /// Eight float16 bit patterns widened to `Double`, exactly.
    @inline(__always)
    static func widenToDouble(_ half: SIMD8<UInt16>) -> SIMD8<Double> {
        let float = widenToFloat(half)
        // Float to Double is exact, keeps NaN payloads (cvtps2pd).
        return SIMD8<Double>(
            Double(float[0]), Double(float[1]), Double(float[2]), Double(float[3]),
            Double(float[4]), Double(float[5]), Double(float[6]), Double(float[7]))
    }

    /// Eight `Float` values rounded to float16 bit patterns, to nearest with ties to even.
    @inline(__always)
    static func narrow(_ value: SIMD8<Float>) -> SIMD8<UInt16> {
        let bits = value.bits
        let sign = bits & Int32.min
        let magnitude = bits ^ sign  // |x| as bits, ordered like |x|
        // Normal halves (2^-14 ≤ |x| < 65520): rebias the exponent by 15 - 127 and round the
        // 13 dropped bits to nearest even by adding 0xFFF plus the kept last bit. A carry out
        // of the significand moves into the exponent, up to Inf at 65520.
        let odd = (magnitude &>> 13) & 1
        var half = (magnitude &+ (0xFFF - (112 << 23)) &+ odd) &>> 13
        // Subnormal halves (|x| < 2^-14): adding 0.5 (ulp 2^-24, the subnormal half's step)
        // makes the hardware round to nearest even; the significand's low bits are the half.
        let aligned = (Float32Lanes(bits: magnitude) + 0.5).bits &- (126 << 23)
        half = half.blended(with: aligned, where: magnitude.lanesBelow(113 << 23))
        // |x| ≥ 2^16: Inf, or a quiet NaN keeping the top of the payload.
        let nan = ~magnitude.lanesBelow(0x7F80_0001)
        let infOrNaN = 0x7C00 | (nan & (0x0200 | ((magnitude &>> 13) & 0x3FF)))
        half = half.blended(with: infOrNaN, where: ~magnitude.lanesBelow(143 << 23))
        return SIMD8<UInt16>(truncatingIfNeeded: half | (sign &>> 16))
    }

    /// Eight `Double` values rounded to float16 bit patterns, to nearest with ties to even.
    ///
    /// Each value is first rounded to odd onto a Float pattern with 21 significant bits:
    /// the top 32 bits of the Double, with "any lower bit set" ORed into the last, and the
    /// exponent moved to Float's bias. Rounding to odd with at least two bits more than the
    /// target, then to nearest, gives the nearest half of the original Double (Boldo and
    /// Melquiond), so this is one correct rounding, where rounding to the nearest Float
    /// first would round twice.
    @inline(__always)
    static func narrow(_ value: SIMD8<Double>) -> SIMD8<UInt16> {
        let bits = unsafeBitCast(value, to: SIMD8<UInt64>.self)
        let high = SIMD8<Int32>(truncatingIfNeeded: bits &>> 32)
        let low = SIMD8<Int32>(truncatingIfNeeded: bits)
        let sticky = ((low | (SIMD8() &- low)) &>> 31) & 1
        let sign = high & Int32.min
        let magnitude = (high ^ sign) | sticky  // 11 exponent bits, 20 significand bits, sticky
        // Double's exponent range onto Float's, from 2^-25 (below: rounds to zero) to 2^16
        // (above: Inf); a NaN keeps its payload's top bits, which are all a half can hold.
        var float = (magnitude &- ((1023 - 127) << 20)) &<< 3
        float &= ~magnitude.lanesBelow((1023 - 25) << 20)
        float = float.blended(with: SIMD8(repeating: 0x7F80_0000), where: ~magnitude.lanesBelow((1023 + 16) << 20))
        float = float.blended(
            with: ((magnitude &<< 3) & 0x007F_FFFF) | 0x7F80_0000,
            where: ~magnitude.lanesBelow(0x7FF0_0001))
        return narrow(Float32Lanes(bits: float | sign))
    }
}

// MARK: Masks and bit casts

extension SIMD8 where Scalar == Int32 {
    // Masks are lanes of all ones or all zeros, made and used by integer arithmetic:
    // Swift 6.3's SIMD comparisons (`.<`, `.==`) build their `SIMDMask` one lane at a
    // time through memory on x86-64 (the conversion ran 10x slower with them); these
    // compile to two or three SSE2 instructions.

    /// All ones where the lane is below `bound`; for lanes and bound in 0...Int32.max.
    @inline(__always)
    fileprivate func lanesBelow(_ bound: Int32) -> Self { (self &- bound) &>> 31 }

    /// `other` where `mask` is all ones, `self` where it is zero.
    @inline(__always)
    fileprivate func blended(with other: Self, where mask: Self) -> Self { self ^ ((self ^ other) & mask) }
}

private typealias Float32Lanes = SIMD8<Float>

extension SIMD8 where Scalar == Float {
    /// Lanes with the given bit patterns.
    @inline(__always)
    fileprivate init(bits: SIMD8<Int32>) { self = unsafeBitCast(bits, to: SIMD8<Float>.self) }

    /// The lanes' bit patterns.
    @inline(__always)
    fileprivate var bits: SIMD8<Int32> { unsafeBitCast(self, to: SIMD8<Int32>.self) }
}
