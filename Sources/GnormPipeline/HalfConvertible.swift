import GroupNormKernel

/// Compute types that float16 data widens into and narrows back from, exactly:
/// widening is exact, narrowing rounds to nearest, ties to even, directly from
/// the value (a Double is not rounded through Float first).
protocol HalfConvertible {
    static func widen(halves: UnsafeBufferPointer<UInt16>, into values: UnsafeMutableBufferPointer<Self>, threadCount: Int)
    static func narrow(_ values: UnsafeBufferPointer<Self>, toHalves halves: UnsafeMutableBufferPointer<UInt16>, threadCount: Int)
}

extension Float: HalfConvertible {
    static func widen(halves: UnsafeBufferPointer<UInt16>, into values: UnsafeMutableBufferPointer<Float>, threadCount: Int) {
        for index in halves.indices { values[index] = Float(Float16(bitPattern: halves[index])) }
    }

    static func narrow(_ values: UnsafeBufferPointer<Float>, toHalves halves: UnsafeMutableBufferPointer<UInt16>, threadCount: Int) {
        for index in values.indices { halves[index] = Float16(values[index]).bitPattern }
    }
}

extension Double: HalfConvertible {
    static func widen(halves: UnsafeBufferPointer<UInt16>, into values: UnsafeMutableBufferPointer<Double>, threadCount: Int) {
        for index in halves.indices { values[index] = Double(Float16(bitPattern: halves[index])) }
    }

    static func narrow(_ values: UnsafeBufferPointer<Double>, toHalves halves: UnsafeMutableBufferPointer<UInt16>, threadCount: Int) {
        for index in values.indices { halves[index] = Float16(values[index]).bitPattern }
    }
}
