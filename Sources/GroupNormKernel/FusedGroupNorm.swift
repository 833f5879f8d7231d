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
        if case .groups = scope, layout == .channelsLast, N >= threadCount, spatialCount > 0,
            sampleElements * MemoryLayout<E>.size <= Self.fusedGroupBytes,
            let input = source.baseAddress, let output = destination.baseAddress
        {
            return try normalizeChannelsLastSamples(
                input, into: output, sampleCount: N, scale: scale, shift: shift, epsilon: epsilon)
        }
        guard case .groups = scope, layout == .channelsFirst, N > 0, spatialCount > 0,
            channelsPerGroup * spatialCount * MemoryLayout<E>.size <= Self.fusedGroupBytes,
            let input = source.baseAddress, let output = destination.baseAddress
        else {
            let statistics = moments(of: source, sampleCount: N)
            try normalize(
                source, into: destination, sampleCount: N,
                parameters: NormalizationParameters(
                    statistics: statistics, scale: scale, shift: shift, epsilon: epsilon))
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
                        let parameters = RunParameters(
                            moments, epsilon: epsilon, channel: channel, scale: scale, shift: shift)
                        let offset = group * groupLength + member * spatial
                        normalizeContiguous(
                            input + offset, target.base + offset, count: spatial, parameters, on: instructionSet,
                            forHalf: float16Output)
                    }
                }
            }
        }
        return statistics
    }

    /// Channels last, a sample that fits in cache at a time on each thread: its statistics, then
    /// its rows normalized while still in cache. The same blocks, merge order and maps as
    /// `moments` then `normalize`, so the same bits.
    private func normalizeChannelsLastSamples<E: KernelElement>(
        _ input: UnsafePointer<E>, into output: UnsafeMutablePointer<E>, sampleCount N: Int,
        scale: [Double]?, shift: [Double]?, epsilon: Double
    ) throws(GroupNormError) -> [Moments] {
        let (C, groups) = (channelCount, groupCount)
        try validate(
            NormalizationParameters(
                mean: Array(repeating: 0, count: N * groups), variance: Array(repeating: 0, count: N * groups),
                scale: scale, shift: shift, epsilon: epsilon), sampleCount: N)
        let spatial = spatialCount
        let rowsPerBlock = self.rowsPerBlock
        let workers = min(threadCount, N)
        let scratches = (0..<workers).map { _ in ChannelScratch<E>(channelCount: C) }
        defer { for scratch in scratches { scratch.deallocate() } }
        // Per worker: one block's bucket moments, and the sample's maps (mean, scale, shift).
        let blockSlots = UnsafeMutablePointer<Moments>.allocate(capacity: workers * groups)
        defer { blockSlots.deallocate() }
        let maps = UnsafeMutablePointer<Double>.allocate(capacity: workers * 3 * C)
        defer { maps.deallocate() }
        var statistics = [Moments](repeating: .empty, count: N * groups)
        statistics.withUnsafeMutableBufferPointer { results in
            let (slots, table, target) = (
                SharedPointer(base: results.baseAddress!), SharedPointer(base: blockSlots), SharedPointer(base: maps)
            )
            let out = SharedPointer(base: output)
            ParallelLoop(threadCount: workers).run(taskCount: N) { samples, worker in
                let block = table.base + worker * groups
                let map = target.base + worker * 3 * C
                for sample in samples {
                    let base = input + sample * spatial * C
                    let sampleStatistics = slots.base + sample * groups
                    for firstRow in stride(from: 0, to: spatial, by: rowsPerBlock) {
                        channelsLastMoments(
                            base + firstRow * C, rows: min(rowsPerBlock, spatial - firstRow), channelCount: C,
                            channelsPerBucket: C / groups, scratch: scratches[worker], into: block,
                            on: instructionSet)
                        for group in 0..<groups {
                            sampleStatistics[group] = sampleStatistics[group].merging(block[group])
                        }
                    }
                    for group in 0..<groups { sampleStatistics[group] = sampleStatistics[group].poisonedIfNotFinite }
                    for channel in 0..<C {
                        let moments = sampleStatistics[channel / (C / groups)]
                        let run = RunParameters(moments, epsilon: epsilon, channel: channel, scale: scale, shift: shift)
                        (map[channel], map[C + channel], map[2 * C + channel]) = (run.mean, run.scale, run.shift)
                    }
                    for firstRow in stride(from: 0, to: spatial, by: rowsPerBlock) {
                        let offset = sample * spatial * C + firstRow * C
                        normalizeChannelsLast(
                            input + offset, out.base + offset, rows: min(rowsPerBlock, spatial - firstRow),
                            channelCount: C, mean: map, scale: map + C, shift: map + 2 * C, on: instructionSet,
                            forHalf: float16Output)
                    }
                }
            }
        }
        return statistics
    }
}
