import HDF5

/// `invert --dtype int16` and the like: inverted values rounded to the nearest integer (ties
/// to even, as NumPy's `rint`) before HDF5 stores them, which it then does exactly. A value
/// outside the type's range (or NaN) is refused, or with `--clip` clamped to the range (NaN
/// still refused: it has no integer).
struct IntegerRounding {
    let type: ElementType
    /// The smallest and largest stored value, as float64 values that convert to the type exactly.
    let lowest: Double
    let highest: Double
    let clips: Bool

    init?(_ type: ElementType, clips: Bool) {
        guard case .integer(let bits, let signed, _) = type else { return nil }
        self.type = type
        // 2^(bits−1) (signed) or 2^bits: the first value past the top, exact in float64.
        let top = Double(sign: .plus, exponent: signed ? bits - 1 : bits, significand: 1)
        lowest = signed ? -top : 0
        // The largest float64 below `top` that the type holds: top − 1 up to 53 bits, else top's predecessor.
        highest = (top - 1 < top) ? top - 1 : top.nextDown
        self.clips = clips
    }

    /// Rounds `values` (samples `slab` of the dataset) in place; fails on the first value out of range
    /// unless clipping.
    func round<E: BinaryFloatingPoint>(
        _ values: UnsafeMutableBufferPointer<E>, samples slab: Range<Int>, file: String, dataset: String
    ) throws(PipelineError) {
        guard !values.isEmpty else { return }
        let perSample = values.count / max(1, slab.count)
        for index in values.indices {
            var value = Double(values[index]).rounded(.toNearestOrEven)
            if !(value >= lowest && value <= highest) {
                guard clips, !value.isNaN else {
                    let sample = slab.lowerBound + index / max(1, perSample)
                    throw .data(
                        "inverted value \(Double(values[index])) in sample \(sample) "
                            + "\(value.isNaN ? "has no" : "does not fit") \(type.name) (range \(Int64(lowest))"
                            + "...\(UInt64(highest))); use --clip to clamp it, or a float --dtype",
                        file: file, dataset: dataset)
                }
                value = min(max(value, lowest), highest)
            }
            values[index] = E(value)
        }
    }
}
