/// Conversions between IEEE 754 binary16 ("float16", "half") values, carried
/// as their bit patterns in `UInt16`, and `Float` or `Double`.
///
/// Numeric contract (the same as Swift's `Float16(_:)`, `Float(_:)` and
/// `Double(_:)`, i.e. compiler-rt's `__truncsfhf2`, `__truncdfhf2`,
/// `__extendhfsf2`, `__extendhfdf2`, and x86's F16C instructions):
///
/// - Widening is exact. ±0, subnormals, ±Inf keep their value and sign; a NaN
///   stays a NaN with its sign and payload (shifted to the top of the wider
///   significand), and comes out quiet.
/// - Narrowing is correctly rounded, to nearest with ties to even, directly
///   from the source: `Double` is not rounded through `Float` first. Halves'
///   subnormals are produced (no flush to zero); magnitudes from 65520 (the
///   midpoint between 65504 and 2^16) up round to ±Inf; ±Inf stay ±Inf; a NaN
///   becomes a quiet NaN with its sign and the top 9 bits of its payload.
///
/// The buffer forms split the work over `threadCount` threads in blocks of
/// `blockLength` elements. Every element is converted by the same SIMD code,
/// whatever the thread count or its position in the buffer, so the result
/// never depends on the thread count. Source and destination must not overlap.
///
/// The code is plain bit manipulation on 8-lane SIMD vectors (F16C is not
/// part of baseline x86-64): the "round to nearest even" float-to-half of
/// Fabian Giesen's `float_to_half_fast3_rtne`, and half-to-float with a
/// renormalizing subtraction. No lane ever takes a float subnormal operand
/// in the half-to-float direction, so the result is the same under
/// flush-to-zero / denormals-are-zero modes, and there is no microcode assist.
public enum Float16Conversion {
    /// Elements per parallel task.
    public static let blockLength = 1 << 15

    // MARK: Buffers

    /// Widens float16 bit patterns to `Float`, exactly.
    public static func widen(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>, threadCount: Int
    ) {
        convert(source, into: destination, threadCount: threadCount) { widenToFloat($0) }
    }

    /// Widens float16 bit patterns to `Double`, exactly.
    public static func widen(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Double>, threadCount: Int
    ) {
        convert(source, into: destination, threadCount: threadCount) { widenToDouble($0) }
    }

    /// Rounds `Float` values to float16 bit patterns, to nearest with ties to even.
    public static func narrow(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>, threadCount: Int
    ) {
        convert(source, into: destination, threadCount: threadCount) { narrow($0) }
    }

    /// Rounds `Double` values to float16 bit patterns, to nearest with ties
    /// to even, in one rounding (never through a rounded `Float`).
    public static func narrow(
        _ source: UnsafeBufferPointer<Double>, into destination: UnsafeMutableBufferPointer<UInt16>, threadCount: Int
    ) {
        convert(source, into: destination, threadCount: threadCount) { narrow($0) }
    }

    /// Widens float16 bit patterns to the kernel's element type, exactly.
    @inlinable
    public static func widen<Element: KernelElement>(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Element>, threadCount: Int
    ) {
        if Element.self == Float.self {
            widen(source, into: unsafeBitCast(destination, to: UnsafeMutableBufferPointer<Float>.self),
                  threadCount: threadCount)
        } else if Element.self == Double.self {
            widen(source, into: unsafeBitCast(destination, to: UnsafeMutableBufferPointer<Double>.self),
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
            narrow(unsafeBitCast(source, to: UnsafeBufferPointer<Float>.self), into: destination,
                   threadCount: threadCount)
        } else if Element.self == Double.self {
            narrow(unsafeBitCast(source, to: UnsafeBufferPointer<Double>.self), into: destination,
                   threadCount: threadCount)
        } else {
            preconditionFailure("no float16 conversion for \(Element.self)")
        }
    }

    /// Applies `lanes` to `source` eight elements at a time (the tail padded
    /// with zeros), in fixed blocks spread over threads.
    @inline(__always)
    private static func convert<Source: SIMDScalar, Target: SIMDScalar>(
        _ source: UnsafeBufferPointer<Source>, into destination: UnsafeMutableBufferPointer<Target>,
        threadCount: Int, _ lanes: (SIMD8<Source>) -> SIMD8<Target>
    ) {
        precondition(source.count == destination.count, "source and destination differ in length")
        let count = source.count
        guard count > 0, let input = source.baseAddress, let output = destination.baseAddress else { return }
        let inputBytes = UnsafeRawPointer(input)..<UnsafeRawPointer(input + count)
        let outputBytes = UnsafeRawPointer(output)..<UnsafeRawPointer(output + count)
        precondition(!inputBytes.overlaps(outputBytes), "source and destination overlap")
        let target = SharedPointer(base: output)
        let blockCount = (count + blockLength - 1) / blockLength
        ParallelLoop(threadCount: threadCount).run(taskCount: blockCount) { blocks, _ in
            let start = blocks.lowerBound * blockLength
            let end = min(count, blocks.upperBound * blockLength)
            let bodyEnd = start + (end - start) / 8 * 8
            var i = start
            while i < bodyEnd {
                target.base.storeLanes(lanes(input.lanes(at: i)), at: i)
                i += 8
            }
            if i < end {
                var tail = SIMD8<Source>()
                for k in 0..<(end - i) { tail[k] = input[i + k] }
                let converted = lanes(tail)
                for k in 0..<(end - i) { target.base[i + k] = converted[k] }
            }
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
        let infOrNaN = exponent .== (0x7C00 << 13)
        let quiet = SIMD8<Int32>(repeating: 0x0040_0000).replacing(with: 0, where: shifted .== (0x7C00 << 13))
        bits.replace(with: (bits &+ (112 << 23)) | quiet, where: infOrNaN)
        // Zero and subnormals: read the significand as 2^-14 · (1 + m/1024) and
        // subtract 2^-14 exactly (both operands normal Floats).
        let renormalized = Float32Lanes(bits: bits &+ (1 << 23)) - 0x1p-14
        bits.replace(with: renormalized.bits, where: exponent .== 0)
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
        let sign = bits & Int32(bitPattern: 0x8000_0000)
        let magnitude = bits ^ sign  // |x| as bits, so ordered like |x| under signed compares
        // Normal halves (2^-14 ≤ |x| < 65520): rebias the exponent by 15 - 127 and round the
        // 13 dropped bits to nearest even by adding 0xFFF plus the kept last bit. A carry out
        // of the significand moves into the exponent, up to Inf at 65520.
        let odd = (magnitude &>> 13) & 1
        var half = (magnitude &+ (0xFFF - (112 << 23)) &+ odd) &>> 13
        // Subnormal halves (|x| < 2^-14): adding 0.5 (ulp 2^-24, the subnormal half's step)
        // makes the hardware round to nearest even; the significand's low bits are the half.
        let aligned = Float32Lanes(bits: magnitude) + 0.5
        half.replace(with: aligned.bits &- (126 << 23), where: magnitude .< (113 << 23))
        // |x| ≥ 2^16: Inf, or a quiet NaN keeping the top of the payload.
        let nan = ((magnitude &>> 13) & 0x3FF) | 0x7E00
        let infOrNaN = SIMD8<Int32>(repeating: 0x7C00).replacing(with: nan, where: magnitude .> 0x7F80_0000)
        half.replace(with: infOrNaN, where: magnitude .>= (143 << 23))
        return SIMD8<UInt16>(truncatingIfNeeded: half | (sign &>> 16))
    }

    /// Eight `Double` values rounded to float16 bit patterns, to nearest with ties to even.
    ///
    /// Each value is first rounded to odd onto a Float-like pattern with 21 significant
    /// bits: the top 32 bits of the Double, with "any lower bit set" ORed into the last.
    /// Rounding to odd with at least two more bits than the target, then to nearest, gives
    /// the nearest half of the original Double (Boldo and Melquiond), so this is one
    /// correct rounding; rounding to nearest Float instead would round twice.
    @inline(__always)
    static func narrow(_ value: SIMD8<Double>) -> SIMD8<UInt16> {
        let bits = unsafeBitCast(value, to: SIMD8<UInt64>.self)
        let high = SIMD8<Int32>(truncatingIfNeeded: bits &>> 32)
        let low = SIMD8<Int32>(truncatingIfNeeded: bits)
        let sticky = SIMD8<Int32>(repeating: 0).replacing(with: 1, where: low .!= 0)
        let sign = high & Int32(bitPattern: 0x8000_0000)
        let magnitude = (high ^ sign) | sticky  // 1 exponent bit + 11 + 20 significand bits
        // Double's exponent range onto Float's: from 2^-25 (below: rounds to zero) to 2^16
        // (above: Inf); NaN keeps its payload's top bits, which are all a half can hold.
        var float = (magnitude &- ((1023 - 127) << 20)) &<< 3
        float.replace(with: 0, where: magnitude .< ((1023 - 25) << 20))
        float.replace(with: 0x7F80_0000, where: magnitude .>= ((1023 + 16) << 20))
        float.replace(with: ((magnitude &<< 3) & 0x007F_FFFF) | 0x7F80_0000, where: magnitude .> 0x7FF0_0000)
        return narrow(Float32Lanes(bits: float | sign))
    }
}

// MARK: Bit casts

private typealias Float32Lanes = SIMD8<Float>

extension SIMD8 where Scalar == Float {
    /// Lanes with the given bit patterns.
    @inline(__always)
    fileprivate init(bits: SIMD8<Int32>) { self = unsafeBitCast(bits, to: SIMD8<Float>.self) }

    /// The lanes' bit patterns.
    @inline(__always)
    fileprivate var bits: SIMD8<Int32> { unsafeBitCast(self, to: SIMD8<Int32>.self) }
}
