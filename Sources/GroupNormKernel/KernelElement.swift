/// The storage types the kernel computes in: Float and Double.
/// Statistics are always accumulated in Double.
public protocol KernelElement: BinaryFloatingPoint, SIMDScalar, Codable, Sendable, SendableMetatype {
    /// The unsigned integer of the same width, for exact equality tests by bits.
    associatedtype BitPattern: FixedWidthInteger & UnsignedInteger & SIMDScalar

    /// Lanes converted to Double for accumulation.
    static func widen(_ lanes: SIMD8<Self>) -> SIMD8<Double>

    /// The lanes' bit patterns. OR-ing `bits(x) ^ bits(first)` over a block
    /// detects a constant block at the speed of plain integer ops, where
    /// `pointwiseMin`/`Max` (NaN-aware, scalarized) run ~15× slower.
    static func bits(_ lanes: SIMD8<Self>) -> SIMD8<BitPattern>
}

extension Float: KernelElement {
    @inline(__always)
    public static func widen(_ lanes: SIMD8<Float>) -> SIMD8<Double> {
        SIMD8<Double>(
            Double(lanes[0]), Double(lanes[1]), Double(lanes[2]), Double(lanes[3]),
            Double(lanes[4]), Double(lanes[5]), Double(lanes[6]), Double(lanes[7]))
    }

    @inline(__always)
    public static func bits(_ lanes: SIMD8<Float>) -> SIMD8<UInt32> { unsafeBitCast(lanes, to: SIMD8<UInt32>.self) }
}

extension Double: KernelElement {
    @inline(__always)
    public static func widen(_ lanes: SIMD8<Double>) -> SIMD8<Double> { lanes }

    @inline(__always)
    public static func bits(_ lanes: SIMD8<Double>) -> SIMD8<UInt64> { unsafeBitCast(lanes, to: SIMD8<UInt64>.self) }
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
