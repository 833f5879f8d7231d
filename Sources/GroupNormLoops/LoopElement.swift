/// Float and Double as the loops see them: lanes widened to Double for accumulation, and
/// bit patterns for exact equality. GroupNormKernel's `KernelElement` and its lane helpers
/// serve its own, always baseline-compiled, code; this module keeps its copy so that nothing
/// generic of it is compiled into GroupNormKernel.
protocol LoopElement: BinaryFloatingPoint, SIMDScalar {
    associatedtype BitPattern: FixedWidthInteger & UnsignedInteger & SIMDScalar
    static func widen(_ lanes: SIMD8<Self>) -> SIMD8<Double>
    /// Lanes rounded to nearest, ties to even (exact for Double).
    static func narrow(_ lanes: SIMD8<Double>) -> SIMD8<Self>
    static func bits(_ lanes: SIMD8<Self>) -> SIMD8<BitPattern>
}

extension Float: LoopElement {
    @inline(__always)
    static func widen(_ lanes: SIMD8<Float>) -> SIMD8<Double> {
        SIMD8<Double>(
            Double(lanes[0]), Double(lanes[1]), Double(lanes[2]), Double(lanes[3]),
            Double(lanes[4]), Double(lanes[5]), Double(lanes[6]), Double(lanes[7]))
    }

    @inline(__always)
    static func narrow(_ lanes: SIMD8<Double>) -> SIMD8<Float> {
        SIMD8<Float>(
            Float(lanes[0]), Float(lanes[1]), Float(lanes[2]), Float(lanes[3]),
            Float(lanes[4]), Float(lanes[5]), Float(lanes[6]), Float(lanes[7]))
    }

    @inline(__always)
    static func bits(_ lanes: SIMD8<Float>) -> SIMD8<UInt32> { unsafeBitCast(lanes, to: SIMD8<UInt32>.self) }
}

extension Double: LoopElement {
    @inline(__always)
    static func widen(_ lanes: SIMD8<Double>) -> SIMD8<Double> { lanes }

    @inline(__always)
    static func narrow(_ lanes: SIMD8<Double>) -> SIMD8<Double> { lanes }

    @inline(__always)
    static func bits(_ lanes: SIMD8<Double>) -> SIMD8<UInt64> { unsafeBitCast(lanes, to: SIMD8<UInt64>.self) }
}

extension UnsafePointer where Pointee: SIMDScalar {
    @inline(__always)
    func lanes(at offset: Int) -> SIMD8<Pointee> {
        UnsafeRawPointer(self + offset).loadUnaligned(as: SIMD8<Pointee>.self)
    }
}

extension UnsafeMutablePointer where Pointee: SIMDScalar {
    @inline(__always)
    func storeLanes(_ lanes: SIMD8<Pointee>, at offset: Int) {
        UnsafeMutableRawPointer(self + offset).storeBytes(of: lanes, as: SIMD8<Pointee>.self)
    }
}

/// Eight float64 results as Float patterns whose rounding to float16 (nearest, ties to even:
/// `Float16Conversion.narrow`) is the float64 value's own correct rounding: each is rounded
/// to odd onto 21 significant bits (the top 32 bits of the Double, "any lower bit set" ORed
/// into the last), the exponent moved to Float's bias and clamped to float16's range (below
/// 2^-25: a value that rounds to ±0; from 2^16: ±Inf). Rounding to odd with two bits more than
/// the target, then to nearest, is one correct rounding (Boldo and Melquiond). The patterns
/// are for float16 narrowing only (`floatToHalf`, HalfLoops.swift): `Float16Conversion.narrow`
/// of Doubles is these two, whose tests cover them; SSE2 integer arithmetic, the same on every build.
@inline(__always)
func oddForHalf(_ value: SIMD8<Double>) -> SIMD8<Float> {
    // The Doubles' low and high 32-bit words (little-endian: even and odd words). SIMD8's
    // truncatingIfNeeded from UInt64 lanes was a generic call per vector here.
    let words = unsafeBitCast(value, to: SIMD16<Int32>.self)
    let (low, high) = (words.evenHalf, words.oddHalf)
    let sticky = ((low | (SIMD8() &- low)) &>> 31) & 1
    let sign = high & Int32.min
    let magnitude = (high ^ sign) | sticky
    var float = (magnitude &- ((1023 - 127) << 20)) &<< 3
    float &= ~lanesBelow(magnitude, (1023 - 25) << 20)
    float = blended(float, SIMD8(repeating: 0x7F80_0000), where: ~lanesBelow(magnitude, (1023 + 16) << 20))
    float = blended(
        float, ((magnitude &<< 3) & 0x007F_FFFF) | 0x7F80_0000, where: ~lanesBelow(magnitude, 0x7FF0_0001))
    return unsafeBitCast(float | sign, to: SIMD8<Float>.self)
}

/// All ones where the lane is below `bound`; for lanes and bound in 0...Int32.max.
@inline(__always)
func lanesBelow(_ lanes: SIMD8<Int32>, _ bound: Int32) -> SIMD8<Int32> { (lanes &- bound) &>> 31 }

/// `other` where `mask` is all ones, `lanes` where it is zero.
@inline(__always)
func blended(_ lanes: SIMD8<Int32>, _ other: SIMD8<Int32>, where mask: SIMD8<Int32>) -> SIMD8<Int32> {
    lanes ^ ((lanes ^ other) & mask)
}
