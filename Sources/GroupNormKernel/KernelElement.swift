/// The storage types the kernel computes in: Float and Double.
/// Statistics are always accumulated in Double.
public protocol KernelElement: BinaryFloatingPoint, SIMDScalar, Codable, Sendable, SendableMetatype {
    /// The unsigned integer of the same width: the loops' constant-block test compares bits
    /// (GroupNormLoops' `LoopElement.bits`), and channels-last scratch holds them.
    associatedtype BitPattern: FixedWidthInteger & UnsignedInteger & SIMDScalar

    /// Lanes converted to Double for accumulation.
    static func widen(_ lanes: SIMD8<Self>) -> SIMD8<Double>
}

extension Float: KernelElement {
    public typealias BitPattern = UInt32

    @inline(__always)
    public static func widen(_ lanes: SIMD8<Float>) -> SIMD8<Double> {
        SIMD8<Double>(
            Double(lanes[0]), Double(lanes[1]), Double(lanes[2]), Double(lanes[3]),
            Double(lanes[4]), Double(lanes[5]), Double(lanes[6]), Double(lanes[7]))
    }
}

extension Double: KernelElement {
    public typealias BitPattern = UInt64

    @inline(__always)
    public static func widen(_ lanes: SIMD8<Double>) -> SIMD8<Double> { lanes }
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
