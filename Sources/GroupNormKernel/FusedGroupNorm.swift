extension GroupNormPlan {
    /// Groups up to this size are normalized right after their statistics, while still in
    /// L2 or L3: one pass over memory instead of two. 4 MiB measured faster than 512 KiB on
    /// groups of 1 MiB (16 → 19 GB/s, 2 threads); a group that falls out of cache costs what
    /// the unfused two passes cost.
    static let fusedGroupBytes = 4 << 20

    /// Computes each group's statistics and normalizes with them; returns the
    /// statistics. Bitwise the same as `moments` followed by `normalize`: the
    /// blocks, their merge order and the affine folding are shared.
    @_specialize(exported:true,where E == Float)
    @_specialize(exported:true,where E == Double)
    public func normalizeWithOwnStatistics<E: KernelElement>(
        _ source: UnsafeBufferPointer<E>, into destination: UnsafeMutableBufferPointer<E>, sampleCount N: Int,
        scale: [Double]?, shift: [Double]?, epsilon: Double
    ) throws(GroupNormError) -> [Moments] {
        let channelsPerGroup = channelCount / groupCount
        guard case .groups = scope, layout == .channelsFirst, N > 0, spatialCount > 0,
            channelsPerGroup * spatialCount * MemoryLayout<E>.size <= Self.fusedGroupBytes,
            let input = source.baseAddress, let output = destination.baseAddress
        else {
            let statistics = moments(of: source, sampleCount: N)
            try normalize(
                source, into: destination, sampleCount: N,
                parameters: NormalizationParameters(
                    mean: statistics.map(\.mean), variance: statistics.map(\.variance),
                    scale: scale, shift: shift, epsilon: epsilon))
            return statistics
        }
        let statisticCount = N * groupCount
        try validate(
            NormalizationParameters(
                mean: Array(repeating: 0, count: statisticCount),
                variance: Array(repeating: 0, count: statisticCount),
                scale: scale, shift: shift, epsilon: epsilon), sampleCount: N)
        precondition(source.count == N * sampleElements && destination.count == source.count)
        let groups = groupCount
        let spatial = spatialCount
        let groupLength = channelsPerGroup * spatial
        let blocksPerGroup = (groupLength + Self.blockElements - 1) / Self.blockElements
        var statistics = [Moments](repeating: .empty, count: statisticCount)
        statistics.withUnsafeMutableBufferPointer { results in
            let slots = SharedPointer(base: results.baseAddress!)
            let target = SharedPointer(base: output)
            ParallelLoop(threadCount: threadCount).run(taskCount: statisticCount) { tasks, _ in
                for group in tasks {
                    let start = input + group * groupLength
                    var moments = Moments.empty
                    for block in 0..<blocksPerGroup {
                        let offset = block * Self.blockElements
                        moments = moments.merging(
                            contiguousMoments(
                                start + offset, count: min(Self.blockElements, groupLength - offset),
                                on: instructionSet))
                    }
                    moments = moments.poisonedIfNotFinite
                    slots.base[group] = moments
                    for member in 0..<channelsPerGroup {
                        let channel = (group % groups) * channelsPerGroup + member
                        let parameters = RunParameters<E>(
                            mean: moments.mean, variance: moments.variance, epsilon: epsilon,
                            channel: channel, scale: scale, shift: shift)
                        let offset = group * groupLength + member * spatial
                        normalizeContiguous(
                            input + offset, target.base + offset, count: spatial, parameters, on: instructionSet)
                    }
                }
            }
        }
        return statistics
    }
}
