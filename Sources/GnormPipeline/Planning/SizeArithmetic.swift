/// Element and byte counts of datasets, samples, slabs, chunks and buffers.
///
/// Every such product is formed here, overflow-checked: a shape whose values
/// cannot be addressed in memory (more than `Int.max` bytes at the widest
/// compute type) is refused once, in `TensorGeometry`, so that every size
/// derived from it afterwards (per sample, per slab, per chunk, per buffer) fits.
enum SizeArithmetic {
    /// The widest element gnorm holds in memory (float64, int64 read as float64).
    static let widestElement = 8

    /// ∏ factors, or nil when it does not fit in `Int`. Factors must be ≥ 0.
    static func product(_ factors: some Sequence<Int>) -> Int? {
        var total = 1
        for factor in factors {
            precondition(factor >= 0, "negative extent \(factor)")
            let (value, overflow) = total.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            total = value
        }
        return total
    }

    /// a · b, or nil when it does not fit in `Int`.
    static func product(_ a: Int, _ b: Int) -> Int? { product([a, b]) }

    /// The bytes of `elements` values of `elementSize` bytes; traps on overflow, which a
    /// validated `TensorGeometry` rules out for every buffer derived from its shape.
    static func bytes(_ elements: Int, of elementSize: Int) -> Int {
        guard let bytes = product(elements, elementSize) else {
            preconditionFailure("\(elements) elements of \(elementSize) bytes overflow Int")
        }
        return bytes
    }
}

/// Least common multiple (chunk rows of two datasets, slab alignment).
func lcm(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return a / x * b
}
