import GroupNormLoops
import GroupNormLoopsAVX2

// float16 slabs: the kernel on float16 bit patterns (UInt16) as stored, in and out. Channels
// first, the loops widen each block of up to 4096 values into a Float buffer in L1, compute there
// and narrow the results into the destination (GroupNormLoops' HalfLoops.swift; F16C in the AVX2
// build): no Float copy of the slab, no conversion passes over it. The blocks,
// merge order and maps are those of the Float kernel with `float16Output`, and the lanes those
// of `Float16Conversion`, so the bits are those of widen → Float kernel → narrow. Channels last
// takes that staged path inside the entry points (a Float copy of the slab, widened and narrowed
// by `Float16Conversion`): its loops walk rows of C channels, which have no float16 form yet.

extension GroupNormPlan {
    /// Per-(sample, bucket) statistics of float16 values: `moments(of:)` of their Float widening.
    public func moments(ofHalves values: UnsafeBufferPointer<UInt16>, sampleCount N: Int) -> [Moments] {
        finished(sampleMoments(ofHalves: values, sampleCount: N), sampleCount: N)
    }

    /// `sampleMoments(of:)` of the values' Float widening (not merged over samples, not poisoned).
    public func sampleMoments(ofHalves values: UnsafeBufferPointer<UInt16>, sampleCount N: Int) -> [Moments] {
        guard layout == .channelsFirst else {
            return widened(values) { floats in sampleMoments(of: UnsafeBufferPointer(floats), sampleCount: N) }
        }
        precondition(values.count == N * sampleElements, "buffer holds \(values.count) values, not \(N) samples")
        var perSample = [Moments](repeating: .empty, count: N * groupCount)
        if N > 0 && spatialCount > 0, let base = values.baseAddress {
            let set = instructionSet
            channelsFirstMoments(base, sampleCount: N, buckets: groupCount, into: &perSample) {
                halfMoments($0, count: $1, on: set)
            }
        }
        return perSample
    }

    /// Normalizes float16 `source` into `destination` (which may be `source`) with `parameters`:
    /// each result the float64 formula rounded once to float16, the bits of `normalize` on the
    /// Floats with `float16Output` narrowed by `Float16Conversion`.
    public func normalize(
        halves source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<UInt16>,
        sampleCount N: Int, parameters: NormalizationParameters
    ) throws(GroupNormError) {
        guard layout == .channelsFirst else {
            let plan = with(float16Output: true)
            return try widened(source, narrowingInto: destination) { floats throws(GroupNormError) in
                try plan.normalize(UnsafeBufferPointer(floats), into: floats, sampleCount: N, parameters: parameters)
            }
        }
        try validate(parameters, sampleCount: N)
        precondition(source.count == N * sampleElements && destination.count == source.count)
        guard N > 0, spatialCount > 0, let input = source.baseAddress, let output = destination.baseAddress else {
            return
        }
        let runs = runMaps(parameters, sampleCount: N)
        defer { runs.deallocate() }
        let set = instructionSet
        normalizeChannelsFirst(input, SharedPointer(base: output), runs: runs, sampleCount: N) {
            normalizeHalfContiguous($0, $1, count: $2, $3, on: set)
        }
    }

    /// `normalizeWithOwnStatistics` of float16 values into float16 results (`destination` may be
    /// `source`): groups of up to `fusedGroupBytes` of float16 in one pass, others in two.
    public func normalizeWithOwnStatistics(
        halves source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<UInt16>,
        sampleCount N: Int, scale: [Double]?, shift: [Double]?, epsilon: Double
    ) throws(GroupNormError) -> [Moments] {
        guard layout == .channelsFirst else {
            let plan = with(float16Output: true)
            return try widened(source, narrowingInto: destination) { floats throws(GroupNormError) in
                try plan.normalizeWithOwnStatistics(
                    UnsafeBufferPointer(floats), into: floats, sampleCount: N, scale: scale, shift: shift,
                    epsilon: epsilon)
            }
        }
        let set = instructionSet
        if let statistics = try fusedChannelsFirst(
            source, into: destination, sampleCount: N, scale: scale, shift: shift, epsilon: epsilon,
            moments: { halfMoments($0, count: $1, on: set) },
            normalize: { normalizeHalfContiguous($0, $1, count: $2, $3, on: set) })
        {
            return statistics
        }
        let statistics = moments(ofHalves: source, sampleCount: N)
        try normalize(
            halves: source, into: destination, sampleCount: N,
            parameters: NormalizationParameters(statistics: statistics, scale: scale, shift: shift, epsilon: epsilon))
        return statistics
    }

    /// The staged path: `body` on a Float copy of `halves` (widened exactly), then the Floats
    /// narrowed into `destination` when given.
    private func widened<Result, Failure: Error>(
        _ halves: UnsafeBufferPointer<UInt16>, narrowingInto destination: UnsafeMutableBufferPointer<UInt16>? = nil,
        _ body: (UnsafeMutableBufferPointer<Float>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let floats = UnsafeMutableBufferPointer<Float>.allocate(capacity: halves.count)
        defer { floats.deallocate() }
        Float16Conversion.widen(halves, into: floats, threadCount: threadCount)
        let result = try body(floats)
        if let destination {
            Float16Conversion.narrow(UnsafeBufferPointer(floats), into: destination, threadCount: threadCount)
        }
        return result
    }

    // MARK: Channels first, any stored form

    /// Per-(sample, bucket) moments of channels-first values `P`, `block` taking the moments of
    /// each block of `blockElements` (fixed by the shape) and the blocks merged in order.
    func channelsFirstMoments<P>(
        _ base: UnsafePointer<P>, sampleCount N: Int, buckets: Int, into result: inout [Moments],
        block: (UnsafePointer<P>, Int) -> Moments
    ) {
        let bucketLength = channelCount / buckets * spatialCount
        let blocksPerBucket = (bucketLength + Self.blockElements - 1) / Self.blockElements
        let bucketCount = N * buckets
        let slots = UnsafeMutablePointer<Moments>.allocate(capacity: bucketCount * blocksPerBucket)
        defer { slots.deallocate() }
        let shared = SharedPointer(base: slots)
        ParallelLoop(threadCount: threadCount).run(taskCount: bucketCount * blocksPerBucket) { tasks, _ in
            for task in tasks {
                let bucket = task / blocksPerBucket
                let start = (task % blocksPerBucket) * Self.blockElements
                shared.base[task] = block(
                    base + bucket * bucketLength + start, min(Self.blockElements, bucketLength - start))
            }
        }
        for bucket in 0..<bucketCount {
            var moments = Moments.empty
            for block in 0..<blocksPerBucket { moments = moments.merging(slots[bucket * blocksPerBucket + block]) }
            result[bucket] = moments
        }
    }

    /// Channels-first values `P` normalized run by run in blocks of `blockElements`, with one
    /// map per (sample, channel) (`runs`); `run` normalizes one block.
    func normalizeChannelsFirst<P>(
        _ input: UnsafePointer<P>, _ target: SharedPointer<P>, runs: UnsafePointer<RunParameters>, sampleCount N: Int,
        run normalizeBlock: (UnsafePointer<P>, UnsafeMutablePointer<P>, Int, RunParameters) -> Void
    ) {
        let blocksPerRun = (spatialCount + Self.blockElements - 1) / Self.blockElements
        let spatial = spatialCount
        ParallelLoop(threadCount: threadCount).run(taskCount: N * channelCount * blocksPerRun) { tasks, _ in
            for task in tasks {
                let run = task / blocksPerRun
                let start = (task % blocksPerRun) * Self.blockElements
                let offset = run * spatial + start
                normalizeBlock(
                    input + offset, target.base + offset, min(Self.blockElements, spatial - start), runs[run])
            }
        }
    }

    /// One affine map per (sample, channel): the statistics folded with γ and β. The caller deallocates.
    func runMaps(_ parameters: NormalizationParameters, sampleCount N: Int) -> UnsafeMutablePointer<RunParameters> {
        let C = channelCount
        let channelsPerGroup = C / groupCount
        let maps = UnsafeMutablePointer<RunParameters>.allocate(capacity: N * C)
        for sample in 0..<N {
            for channel in 0..<C {
                let statistic = scope == .channels ? channel : sample * groupCount + channel / channelsPerGroup
                maps[sample * C + channel] = parameters.run(statistic, channel: channel)
            }
        }
        return maps
    }
}

/// Moments of `count` contiguous float16 values (GroupNormLoops' `blockMoments` of bit patterns):
/// those of their Float widening, on every instruction set.
@inline(__always)
func halfMoments(_ halves: UnsafePointer<UInt16>, count: Int, on set: InstructionSet) -> Moments {
    let result =
        set == .avx2
        ? GroupNormLoopsAVX2.blockMoments(halves, count: count) : GroupNormLoops.blockMoments(halves, count: count)
    return Moments(count: Double(count), mean: result.mean, m2: result.m2)
}

/// One run of float16 values normalized into float16 results (GroupNormLoops' `normalizeHalfRun`).
@inline(__always)
func normalizeHalfContiguous(
    _ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<UInt16>, count: Int, _ p: RunParameters,
    on set: InstructionSet
) {
    (set == .avx2 ? GroupNormLoopsAVX2.normalizeHalfRun : GroupNormLoops.normalizeHalfRun)(
        source, destination, count, p.mean, p.scale, p.shift)
}
