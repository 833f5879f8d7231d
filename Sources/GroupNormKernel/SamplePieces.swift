// One sample too large to hold at once, taken in consecutive pieces: its
// statistics gathered in the kernel's own blocks and merge order, and its
// values normalized piece by piece. Both are bitwise what the whole-sample
// `moments(of:sampleCount:)` and `normalize` give, for any piece sizes.

/// The statistics of one sample, gathered from consecutive pieces of it.
///
/// The blocks are those of the whole-sample kernels, whose boundaries depend on
/// the shape alone: channels-first, `blockElements` values from each bucket's
/// start; channels-last, `max(1, blockElements / C)` rows from the sample's start.
/// Each bucket merges its blocks in order with Chan's formula, as there. A block
/// cut by a piece boundary is completed in a one-block buffer before it is reduced.
public struct SampleMomentsAccumulator<E: KernelElement>: ~Copyable {
    private let plan: GroupNormPlan
    /// Values of the sample taken so far.
    public private(set) var position = 0
    /// Per bucket (group, or channel in batch scope): the blocks merged so far.
    private var running: [Moments]
    /// The start of the block cut by the last piece's end.
    private let pending: UnsafeMutableBufferPointer<E>
    private var pendingCount = 0

    public init(plan: GroupNormPlan) {
        self.plan = plan
        running = Array(repeating: .empty, count: plan.groupCount)
        pending = .allocate(capacity: plan.largestBlock)
    }

    deinit { pending.deallocate() }

    /// Takes the next `values.count` values of the sample (channels-last: whole rows of C).
    public mutating func add(_ values: UnsafeBufferPointer<E>) {
        precondition(position + values.count <= plan.sampleElements, "more values than one sample holds")
        precondition(
            plan.layout == .channelsFirst || values.count % plan.channelCount == 0,
            "channels-last pieces are whole rows")
        guard var next = values.baseAddress, !values.isEmpty else { return }
        var remaining = values.count
        if pendingCount > 0 {
            let start = position - pendingCount
            let end = plan.blockEnd(after: start)
            let taken = min(end - position, remaining)
            (pending.baseAddress! + pendingCount).update(from: next, count: taken)
            pendingCount += taken
            position += taken
            next += taken
            remaining -= taken
            guard position == end else { return }
            reduce(blocks: [start], from: UnsafePointer(pending.baseAddress!), at: start)
            pendingCount = 0
        }
        // Whole blocks straight from the piece; the cut one at its end waits in `pending`.
        let first = position
        let limit = position + remaining
        var starts: [Int] = []
        var cursor = first
        while cursor < limit {
            let end = plan.blockEnd(after: cursor)
            if end > limit { break }
            starts.append(cursor)
            cursor = end
        }
        reduce(blocks: starts, from: next, at: first)
        pendingCount = limit - cursor
        pending.baseAddress!.update(from: next + (cursor - first), count: pendingCount)
        position = limit
    }

    /// The sample's moments per bucket (group, or channel in batch scope), not yet poisoned
    /// by non-finite inputs: `GroupNormPlan.sampleMoments` for one sample.
    public consuming func finish() -> [Moments] {
        precondition(position == plan.sampleElements && pendingCount == 0, "the sample was not taken whole")
        return running
    }

    /// Reduces the whole blocks starting at sample positions `starts` (ascending) of the values
    /// at `base`, which start at sample position `origin`, and merges them in order.
    private mutating func reduce(blocks starts: [Int], from base: UnsafePointer<E>, at origin: Int) {
        guard !starts.isEmpty else { return }
        let plan = self.plan
        let buckets = plan.groupCount
        let C = plan.channelCount
        switch plan.layout {
        case .channelsFirst:
            let bucketLength = plan.sampleElements / buckets
            let slots = UnsafeMutablePointer<Moments>.allocate(capacity: starts.count)
            defer { slots.deallocate() }
            let shared = SharedPointer(base: slots)
            ParallelLoop(threadCount: plan.threadCount).run(taskCount: starts.count) { tasks, _ in
                for task in tasks {
                    let start = starts[task]
                    shared.base[task] = contiguousMoments(
                        base + (start - origin), count: plan.blockEnd(after: start) - start, on: plan.instructionSet)
                }
            }
            for (task, start) in starts.enumerated() {
                running[start / bucketLength] = running[start / bucketLength].merging(slots[task])
            }
        case .channelsLast:
            let workers = min(plan.threadCount, starts.count)
            let slots = UnsafeMutablePointer<Moments>.allocate(capacity: starts.count * buckets)
            defer { slots.deallocate() }
            let scratches = (0..<workers).map { _ in ChannelScratch<E>(channelCount: C) }
            defer { for scratch in scratches { scratch.deallocate() } }
            let shared = SharedPointer(base: slots)
            ParallelLoop(threadCount: workers).run(taskCount: starts.count) { tasks, worker in
                for task in tasks {
                    let start = starts[task]
                    channelsLastMoments(
                        base + (start - origin), rows: (plan.blockEnd(after: start) - start) / C, channelCount: C,
                        channelsPerBucket: C / buckets, scratch: scratches[worker], into: shared.base + task * buckets,
                        on: plan.instructionSet)
                }
            }
            for task in starts.indices {
                for bucket in 0..<buckets { running[bucket] = running[bucket].merging(slots[task * buckets + bucket]) }
            }
        }
    }
}

extension GroupNormPlan {
    /// The end of the statistics block holding sample position `position`.
    func blockEnd(after position: Int) -> Int {
        switch layout {
        case .channelsFirst:
            let bucketLength = sampleElements / groupCount
            let bucketStart = position / bucketLength * bucketLength
            let offset = position - bucketStart
            return bucketStart + min(bucketLength, (offset / Self.blockElements + 1) * Self.blockElements)
        case .channelsLast:
            let blockLength = rowsPerBlock * channelCount
            return min(sampleElements, (position / blockLength + 1) * blockLength)
        }
    }

    /// The most values a statistics block holds.
    var largestBlock: Int {
        switch layout {
        case .channelsFirst: return min(Self.blockElements, max(1, sampleElements / groupCount))
        case .channelsLast: return rowsPerBlock * channelCount
        }
    }

    /// Normalizes values `position ..< position + source.count` of one sample (channels-last:
    /// whole rows) into `destination`, which may be the same memory, with that sample's
    /// statistics (`parameters.mean` and `.variance`: `statisticCount(sampleCount: 1)` values).
    /// Bitwise what `normalize` writes at those positions for the whole sample.
    @_specialize(exported:true,where E == Float)
    @_specialize(exported:true,where E == Double)
    public func normalize<E: KernelElement>(
        part source: UnsafeBufferPointer<E>, into destination: UnsafeMutableBufferPointer<E>, at position: Int,
        parameters: NormalizationParameters
    ) throws(GroupNormError) {
        try validate(parameters, sampleCount: 1)
        precondition(destination.count == source.count && position >= 0 && position + source.count <= sampleElements)
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        let C = channelCount
        let channelsPerGroup = C / groupCount
        let runParameters = UnsafeMutablePointer<RunParameters<E>>.allocate(capacity: C)
        defer { runParameters.deallocate() }
        for channel in 0..<C {
            let statistic = scope == .channels ? channel : channel / channelsPerGroup
            runParameters[channel] = RunParameters(parameters, statistic: statistic, channel: channel)
        }
        let runs = UnsafePointer(runParameters)
        let target = SharedPointer(base: output)
        let count = source.count
        switch layout {
        case .channelsFirst:
            // Elementwise: how the piece is cut into tasks does not change a bit.
            let spatial = spatialCount
            let tasks = (count + Self.blockElements - 1) / Self.blockElements
            ParallelLoop(threadCount: threadCount).run(taskCount: tasks) { range, _ in
                for task in range {
                    var offset = task * Self.blockElements
                    let end = min(count, offset + Self.blockElements)
                    while offset < end {
                        let channel = (position + offset) / spatial
                        let runEnd = min(end, (channel + 1) * spatial - position)
                        normalizeContiguous(
                            input + offset, target.base + offset, count: runEnd - offset, runs[channel],
                            on: instructionSet)
                        offset = runEnd
                    }
                }
            }
        case .channelsLast:
            precondition(position % C == 0 && count % C == 0, "channels-last pieces are whole rows")
            let columns = UnsafeMutablePointer<E>.allocate(capacity: 4 * C)
            defer { columns.deallocate() }
            for channel in 0..<C {
                columns[channel] = runs[channel].meanHigh
                columns[C + channel] = runs[channel].meanLow
                columns[2 * C + channel] = runs[channel].scale
                columns[3 * C + channel] = runs[channel].shift
            }
            let table = UnsafePointer(columns)
            let rows = count / C
            let rowsPerBlock = self.rowsPerBlock
            let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
            ParallelLoop(threadCount: threadCount).run(taskCount: blocks) { range, _ in
                for block in range {
                    let firstRow = block * rowsPerBlock
                    normalizeChannelsLast(
                        input + firstRow * C, target.base + firstRow * C, rows: min(rowsPerBlock, rows - firstRow),
                        channelCount: C, meanHigh: table, meanLow: table + C, scale: table + 2 * C,
                        shift: table + 3 * C, on: instructionSet
                    )
                }
            }
        }
    }
}
