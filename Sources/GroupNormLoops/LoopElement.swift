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
