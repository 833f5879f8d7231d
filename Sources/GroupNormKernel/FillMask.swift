/// Values that mark missing data (CF's `_FillValue` / `missing_value`, and values outside
/// `valid_min`/`valid_max`): they are left out of the statistics; a cell equal to a marker
/// keeps the value it held, one outside the valid range is written back as `outOfRangeFill`.
public struct FillMask<E: KernelElement>: Sendable {
    /// Values that mark fill, in the compute type (converted exactly from the stored type).
    public let markers: [E]
    /// Whether NaN marks fill (a NaN `_FillValue`, as xarray writes for floats).
    public let masksNaN: Bool
    /// The valid range's ends (CF `valid_min`, `valid_max`, `valid_range`); nil: unbounded.
    public let validMin: E?
    public let validMax: E?
    /// What a cell outside the valid range holds in the output.
    public let outOfRangeFill: E

    public init(markers: [Double], validMin: Double? = nil, validMax: Double? = nil, outOfRangeFill: Double = .nan) {
        self.markers = markers.filter { !$0.isNaN }.map { E($0) }
        masksNaN = markers.contains { $0.isNaN }
        self.validMin = validMin.map { E($0) }
        self.validMax = validMax.map { E($0) }
        self.outOfRangeFill = E(outOfRangeFill)
    }

    @inline(__always)
    func isMarker(_ value: E) -> Bool {
        if value.isNaN { return masksNaN }
        for marker in markers where value == marker { return true }
        return false
    }

    @inline(__always)
    func isOutOfRange(_ value: E) -> Bool {
        if let validMin, value < validMin { return true }
        if let validMax, value > validMax { return true }
        return false
    }

    /// One bit per value: set where it is fill, with what each such cell gets back after normalizing.
    public func positions(in values: UnsafeBufferPointer<E>) -> FillPositions {
        var words = [UInt64](repeating: 0, count: (values.count + 63) / 64)
        var restored: [Double] = []
        let bounded = validMin != nil || validMax != nil
        for index in values.indices {
            let value = values[index]
            if isMarker(value) {
                restored.append(Double(value))
            } else if bounded && isOutOfRange(value) {
                restored.append(Double(outOfRangeFill))
            } else {
                continue
            }
            words[index >> 6] |= 1 << UInt64(index & 63)
        }
        return FillPositions(words: words, restored: restored)
    }
}

/// Where the fill values of a slab are.
public struct FillPositions: Sendable {
    let words: [UInt64]
    /// What each fill position holds in the output, in index order (exact in the compute type).
    let restored: [Double]
    /// How many values are fill.
    public var count: Int { restored.count }

    @inline(__always)
    func contains(_ index: Int) -> Bool { words[index >> 6] & (1 << UInt64(index & 63)) != 0 }
}

extension GroupNormPlan {
    /// `moments(of:sampleCount:)` over the values that are not fill. Each statistic is
    /// gathered by one task, block by block in a fixed order: the same bits for any thread count.
    public func moments<E: KernelElement>(
        of values: UnsafeBufferPointer<E>, sampleCount N: Int, excluding fill: FillPositions
    ) -> [Moments] {
        finished(sampleMoments(of: values, sampleCount: N, excluding: fill), sampleCount: N, masked: true)
    }

    /// `sampleMoments(of:sampleCount:)` over the values that are not fill.
    public func sampleMoments<E: KernelElement>(
        of values: UnsafeBufferPointer<E>, sampleCount N: Int, excluding fill: FillPositions
    ) -> [Moments] {
        precondition(values.count == N * sampleElements, "buffer holds \(values.count) values, not \(N) samples")
        let buckets = groupCount
        let C = channelCount
        let spatial = spatialCount
        let channelsPerBucket = C / buckets
        var perSample = [Moments](repeating: .empty, count: N * buckets)
        if N > 0 && spatial > 0, let base = values.baseAddress {
            let layout = self.layout
            perSample.withUnsafeMutableBufferPointer { results in
                let shared = SharedPointer(base: results.baseAddress!)
                ParallelLoop(threadCount: threadCount).run(taskCount: N * buckets) { tasks, _ in
                    for task in tasks {
                        let sample = task / buckets
                        let bucket = task % buckets
                        var block = MaskedBlock()
                        var moments = Moments.empty
                        func add(_ index: Int) {
                            guard !fill.contains(index) else { return }
                            block.append(Double(base[index]))
                            if block.isFull { moments = moments.merging(block.takeMoments(on: instructionSet)) }
                        }
                        switch layout {
                        case .channelsFirst:
                            let start = (sample * C + bucket * channelsPerBucket) * spatial
                            for index in start..<start + channelsPerBucket * spatial { add(index) }
                        case .channelsLast:
                            for row in 0..<spatial {
                                let start = (sample * spatial + row) * C + bucket * channelsPerBucket
                                for index in start..<start + channelsPerBucket { add(index) }
                            }
                        }
                        shared.base[task] = moments.merging(block.takeMoments(on: instructionSet))
                    }
                }
            }
        }
        return perSample
    }

    /// Puts back at every fill position of `values` (after normalizing them) what it holds
    /// in the output: the marker it held, or the out-of-range fill.
    public func restore<E: KernelElement>(_ positions: FillPositions, in values: UnsafeMutableBufferPointer<E>) {
        guard positions.count > 0 else { return }
        var next = 0
        for (wordIndex, word) in positions.words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                values[wordIndex * 64 + bit] = E(positions.restored[next])
                next += 1
                bits &= bits - 1
            }
        }
    }
}

extension Moments {
    /// NaN statistics for a statistic whose values are all fill: it has none (its outputs
    /// are all fill anyway); non-finite data was made NaN by `finished` already.
    public var maskedResult: Moments {
        count == 0 ? .undefined : self
    }
}

/// Up to `blockElements` values that are not fill, widened to float64 and reduced by the
/// unmasked kernels' own block moments.
private struct MaskedBlock {
    private var values: [Double] = []

    init() { values.reserveCapacity(GroupNormPlan.blockElements) }

    var isFull: Bool { values.count == GroupNormPlan.blockElements }

    mutating func append(_ value: Double) { values.append(value) }

    mutating func takeMoments(on set: InstructionSet) -> Moments {
        defer { values.removeAll(keepingCapacity: true) }
        return values.withUnsafeBufferPointer { block in
            guard let start = block.baseAddress, !block.isEmpty else { return .empty }
            return contiguousMoments(start, count: block.count, on: set)
        }
    }
}
