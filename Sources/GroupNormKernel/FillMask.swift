/// Values that mark missing data (CF's `_FillValue` / `missing_value`): they are
/// left out of the statistics and written back as `outputFill` instead of being
/// normalized.
public struct FillMask<E: KernelElement>: Sendable {
    /// Values that mark fill, in the compute type (converted exactly from the stored type).
    public let markers: [E]
    /// Whether NaN marks fill (a NaN `_FillValue`, as xarray writes for floats).
    public let masksNaN: Bool
    /// What a fill position holds in the output.
    public let outputFill: E

    public init(markers: [Double], outputFill: Double) {
        self.markers = markers.filter { !$0.isNaN }.map { E($0) }
        masksNaN = markers.contains { $0.isNaN }
        self.outputFill = E(outputFill)
    }

    @inline(__always)
    func isFill(_ value: E) -> Bool {
        if value.isNaN { return masksNaN }
        for marker in markers where value == marker { return true }
        return false
    }

    /// One bit per value: set where it is fill.
    public func positions(in values: UnsafeBufferPointer<E>) -> FillPositions {
        var words = [UInt64](repeating: 0, count: (values.count + 63) / 64)
        var count = 0
        for index in values.indices where isFill(values[index]) {
            words[index >> 6] |= 1 << UInt64(index & 63)
            count += 1
        }
        return FillPositions(words: words, count: count)
    }
}

/// Where the fill values of a slab are.
public struct FillPositions: Sendable {
    let words: [UInt64]
    /// How many values are fill.
    public let count: Int

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

    /// Writes `fill`'s output value at every fill position of `values` (after normalizing them).
    public func restore<E: KernelElement>(
        _ positions: FillPositions, in values: UnsafeMutableBufferPointer<E>, fill: FillMask<E>
    ) {
        guard positions.count > 0 else { return }
        for (wordIndex, word) in positions.words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                values[wordIndex * 64 + bit] = fill.outputFill
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
