/// Where the channel axis is: (N, C, *) or (N, *, C).
public enum ChannelLayout: String, Sendable, CaseIterable {
    case channelsFirst = "nchw"
    case channelsLast = "nhwc"
}

/// Which values share statistics.
public enum StatisticsScope: Equatable, Sendable {
    /// Per (sample, group) over G groups of C/G channels: group, layer (G = 1), instance (G = C).
    case groups(Int)
    /// Per channel over the whole batch: batch normalization.
    case channels
}

/// Mean and variance per statistic, plus per-channel affine parameters
/// (scale γ, PyTorch's `weight`; shift β, PyTorch's `bias`).
public struct NormalizationParameters: Sendable {
    public var mean: [Double]
    public var variance: [Double]
    public var scale: [Double]?
    public var shift: [Double]?
    public var epsilon: Double
    /// Per statistic, a power of two s such that the variance is `variance[i]`·s² (`Moments.scale`):
    /// statistics of data near float64's maximum, whose variance overflows. Nil: all 1.
    public var varianceScale: [Double]?
    /// Normalize with them, or undo that normalization (Inversion.swift).
    public var direction: TransformDirection

    public init(
        mean: [Double], variance: [Double], scale: [Double]? = nil, shift: [Double]? = nil, epsilon: Double,
        varianceScale: [Double]? = nil, direction: TransformDirection = .normalize
    ) {
        self.mean = mean
        self.variance = variance
        self.scale = scale
        self.shift = shift
        self.epsilon = epsilon
        self.varianceScale = varianceScale
        self.direction = direction
    }

    /// The parameters that normalize with `statistics` (scaled ones kept scaled), or undo that.
    public init(
        statistics: [Moments], scale: [Double]?, shift: [Double]?, epsilon: Double,
        direction: TransformDirection = .normalize
    ) {
        let scaled = statistics.contains { $0.scale != 1 }
        self.init(
            mean: statistics.map(\.mean), variance: statistics.map { scaled ? $0.scaledVariance : $0.variance },
            scale: scale, shift: shift, epsilon: epsilon, varianceScale: scaled ? statistics.map(\.scale) : nil,
            direction: direction)
    }

    /// The map of `channel` under statistic `statistic`, in the parameters' direction.
    func run(_ statistic: Int, channel: Int) -> RunParameters {
        switch direction {
        case .normalize:
            RunParameters(
                mean: mean[statistic], variance: variance[statistic], varianceScale: varianceScale?[statistic] ?? 1,
                epsilon: epsilon, channel: channel, scale: scale, shift: shift)
        case .invert:
            RunParameters(inverting: self, statistic: statistic, channel: channel)
        }
    }
}

extension RunParameters {
    /// The map of `channel` under `moments`.
    init(_ moments: Moments, epsilon: Double, channel: Int, scale: [Double]?, shift: [Double]?) {
        self.init(
            mean: moments.mean, variance: moments.scaledVariance, varianceScale: moments.scale, epsilon: epsilon,
            channel: channel, scale: scale, shift: shift)
    }
}

/// A validated normalization of samples of C channels × S spatial positions.
///
/// Inside the kernels: N samples, C channels, G groups of K = C/G channels,
/// S = H×W×… spatial positions. Work is split into blocks whose boundaries
/// depend on the shape alone and merged in a fixed order, so every thread
/// count gives bitwise identical results.
public struct GroupNormPlan: Sendable {
    public let channelCount: Int
    public let spatialCount: Int
    public let layout: ChannelLayout
    public let scope: StatisticsScope
    public private(set) var threadCount: Int
    /// Where the innermost channels-first loops run; every set gives the same bits.
    public private(set) var instructionSet = InstructionSet.baseline
    /// Float results that will be stored as float16: each normalized value is written as the Float
    /// pattern whose float16 rounding (`Float16Conversion.narrow`) is the float64 result's correct
    /// rounding, rather than as the nearest float32 (which would round twice).
    public private(set) var float16Output = false

    /// Values per block of statistics work: a few pages, small enough to stay in L1/L2.
    static let blockElements = 4096

    /// Rows per block of channels-last work: about `blockElements` values, and at least 128
    /// rows, so that merging the C channels' moments of a block stays small beside summing
    /// them (with 16 rows of 256 channels the merges took most of the time: moments ran at
    /// 11 GB/s, at 128 rows 27 GB/s).
    var rowsPerBlock: Int { max(128, Self.blockElements / channelCount) }

    public init(
        channelCount: Int, spatialCount: Int, layout: ChannelLayout, scope: StatisticsScope, threadCount: Int
    ) throws(GroupNormError) {
        guard channelCount > 0 else { throw .invalidCount(what: "channel count", value: channelCount) }
        guard spatialCount >= 0 else { throw .invalidCount(what: "spatial size", value: spatialCount) }
        guard threadCount > 0 else { throw .invalidCount(what: "thread count", value: threadCount) }
        if case .groups(let groups) = scope {
            guard groups > 0 else { throw .invalidCount(what: "group count", value: groups) }
            guard channelCount % groups == 0 else {
                throw .channelsNotDivisible(channels: channelCount, groups: groups)
            }
        }
        self.channelCount = channelCount
        self.spatialCount = spatialCount
        self.layout = layout
        self.scope = scope
        self.threadCount = threadCount
    }

    /// The same plan run on `threadCount` threads (at least one): the same bits.
    public func with(threadCount: Int) -> GroupNormPlan {
        var plan = self
        plan.threadCount = max(1, threadCount)
        return plan
    }

    /// The same plan with its innermost loops on `instructionSet`, which the CPU must have: the same bits.
    public func with(instructionSet: InstructionSet) -> GroupNormPlan {
        var plan = self
        plan.instructionSet = instructionSet
        return plan
    }

    /// The same plan with Float results meant for float16 (`float16Output`), or not.
    public func with(float16Output: Bool) -> GroupNormPlan {
        var plan = self
        plan.float16Output = float16Output
        return plan
    }

    /// G for group scopes, C for batch statistics (one per channel).
    public var groupCount: Int {
        if case .groups(let groups) = scope { return groups }
        return channelCount
    }

    public var sampleElements: Int { channelCount * spatialCount }

    /// How many statistics `moments` returns for `sampleCount` samples.
    public func statisticCount(sampleCount: Int) -> Int {
        scope == .channels ? channelCount : sampleCount * groupCount
    }

    /// Values per statistic for `sampleCount` samples (the reports' `count`).
    public func valuesPerStatistic(sampleCount: Int) -> Int {
        scope == .channels ? sampleCount * spatialCount : channelCount / groupCount * spatialCount
    }

    // MARK: Moments

    /// Per-(sample, bucket) moments, where a bucket is a group, or a channel for batch scope,
    /// merged over samples for batch scope. Non-finite inputs poison their statistic.
    @_specialize(exported:true,where E == Float)
    @_specialize(exported:true,where E == Double)
    public func moments<E: KernelElement>(of values: UnsafeBufferPointer<E>, sampleCount N: Int) -> [Moments] {
        finished(sampleMoments(of: values, sampleCount: N), sampleCount: N)
    }

    /// Per-(sample, bucket) moments, not merged over samples and not yet poisoned: what
    /// `moments` finishes with `finished`. Batch statistics merged sample by sample in
    /// order are the same bits whichever slabs the samples came in.
    @_specialize(exported:true,where E == Float)
    @_specialize(exported:true,where E == Double)
    public func sampleMoments<E: KernelElement>(of values: UnsafeBufferPointer<E>, sampleCount N: Int) -> [Moments] {
        precondition(values.count == N * sampleElements, "buffer holds \(values.count) values, not \(N) samples")
        let buckets = groupCount
        var perSample = [Moments](repeating: .empty, count: N * buckets)
        if N > 0 && spatialCount > 0, let base = values.baseAddress {
            switch layout {
            case .channelsFirst: momentsChannelsFirst(base, sampleCount: N, buckets: buckets, into: &perSample)
            case .channelsLast: momentsChannelsLast(base, sampleCount: N, buckets: buckets, into: &perSample)
            }
        }
        return perSample
    }

    /// The statistics from per-(sample, bucket) moments: merged over the samples in
    /// order for batch scope, then NaN wherever an input was NaN or ±Inf.
    public func finished(_ perSample: [Moments], sampleCount N: Int) -> [Moments] {
        if scope == .channels {
            var merged = [Moments](repeating: .empty, count: channelCount)
            merge(perSample, sampleCount: N, into: &merged)
            return merged.map { $0.poisonedIfNotFinite }
        }
        return perSample.map { $0.poisonedIfNotFinite }
    }

    /// `finished`, where with `masked` a statistic whose values were all fill is undefined (NaN).
    public func finished(_ perSample: [Moments], sampleCount N: Int, masked: Bool) -> [Moments] {
        let statistics = finished(perSample, sampleCount: N)
        return masked ? statistics.map(\.maskedResult) : statistics
    }

    /// Batch statistics from channel moments merged over every sample (`merge`): NaN for a
    /// channel with non-finite inputs, and for one with no values (no samples, or all fill).
    public func finishedChannels(_ merged: [Moments]) -> [Moments] {
        merged.map { $0.count > 0 ? $0.poisonedIfNotFinite : .undefined }
    }

    /// Merges per-(sample, channel) moments into `running`, sample after sample (batch scope).
    public func merge(_ perSample: [Moments], sampleCount N: Int, into running: inout [Moments]) {
        precondition(perSample.count == N * channelCount && running.count == channelCount)
        for sample in 0..<N {
            for channel in 0..<channelCount {
                running[channel] = running[channel].merging(perSample[sample * channelCount + channel])
            }
        }
    }

    private func momentsChannelsFirst<E: KernelElement>(
        _ base: UnsafePointer<E>, sampleCount N: Int, buckets: Int, into result: inout [Moments]
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
                let count = min(Self.blockElements, bucketLength - start)
                shared.base[task] = contiguousMoments(
                    base + bucket * bucketLength + start, count: count, on: instructionSet)
            }
        }
        for bucket in 0..<bucketCount {
            var moments = Moments.empty
            for block in 0..<blocksPerBucket { moments = moments.merging(slots[bucket * blocksPerBucket + block]) }
            result[bucket] = moments
        }
    }

    private func momentsChannelsLast<E: KernelElement>(
        _ base: UnsafePointer<E>, sampleCount N: Int, buckets: Int, into result: inout [Moments]
    ) {
        let C = channelCount
        let rowsPerBlock = self.rowsPerBlock
        let blocksPerSample = (spatialCount + rowsPerBlock - 1) / rowsPerBlock
        let taskCount = N * blocksPerSample
        let workers = min(threadCount, taskCount)
        let slots = UnsafeMutablePointer<Moments>.allocate(capacity: taskCount * buckets)
        defer { slots.deallocate() }
        let scratches = (0..<workers).map { _ in ChannelScratch<E>(channelCount: C) }
        defer { for scratch in scratches { scratch.deallocate() } }
        let shared = SharedPointer(base: slots)
        let spatial = spatialCount
        ParallelLoop(threadCount: workers).run(taskCount: taskCount) { tasks, worker in
            for task in tasks {
                let sample = task / blocksPerSample
                let firstRow = (task % blocksPerSample) * rowsPerBlock
                let rows = min(rowsPerBlock, spatial - firstRow)
                channelsLastMoments(
                    base + (sample * spatial + firstRow) * C, rows: rows, channelCount: C,
                    channelsPerBucket: C / buckets, scratch: scratches[worker], into: shared.base + task * buckets,
                    on: instructionSet)
            }
        }
        for sample in 0..<N {
            for bucket in 0..<buckets {
                var moments = Moments.empty
                for block in 0..<blocksPerSample {
                    moments = moments.merging(slots[(sample * blocksPerSample + block) * buckets + bucket])
                }
                result[sample * buckets + bucket] = moments
            }
        }
    }

    // MARK: Normalization

    /// Checks the lengths of statistics and affine parameters for `sampleCount` samples.
    public func validate(_ parameters: NormalizationParameters, sampleCount: Int) throws(GroupNormError) {
        let statistics = statisticCount(sampleCount: sampleCount)
        if parameters.mean.count != statistics {
            throw .parameterLength(name: "mean", expected: statistics, actual: parameters.mean.count)
        }
        if parameters.variance.count != statistics {
            throw .parameterLength(name: "var", expected: statistics, actual: parameters.variance.count)
        }
        if let scale = parameters.scale, scale.count != channelCount {
            throw .parameterLength(name: "weight", expected: channelCount, actual: scale.count)
        }
        if let shift = parameters.shift, shift.count != channelCount {
            throw .parameterLength(name: "bias", expected: channelCount, actual: shift.count)
        }
        if let scales = parameters.varianceScale, scales.count != statistics {
            throw .parameterLength(name: "var", expected: statistics, actual: scales.count)
        }
    }

    /// Writes the normalized `source` to `destination`, which may be the same buffer; with
    /// `parameters.direction == .invert`, the values a normalization with them would have come from.
    @_specialize(exported:true,where E == Float)
    @_specialize(exported:true,where E == Double)
    public func normalize<E: KernelElement>(
        _ source: UnsafeBufferPointer<E>, into destination: UnsafeMutableBufferPointer<E>,
        sampleCount N: Int, parameters: NormalizationParameters
    ) throws(GroupNormError) {
        try validate(parameters, sampleCount: N)
        precondition(source.count == N * sampleElements && destination.count == source.count)
        guard N > 0, spatialCount > 0, let input = source.baseAddress, let output = destination.baseAddress else {
            return
        }
        let C = channelCount
        let channelsPerGroup = C / groupCount
        // One affine map per (sample, channel): statistics folded with γ and β.
        let runParameters = UnsafeMutablePointer<RunParameters>.allocate(capacity: N * C)
        defer { runParameters.deallocate() }
        for sample in 0..<N {
            for channel in 0..<C {
                let statistic = scope == .channels ? channel : sample * groupCount + channel / channelsPerGroup
                runParameters[sample * C + channel] = parameters.run(statistic, channel: channel)
            }
        }
        let target = SharedPointer(base: output)
        let runs = UnsafePointer(runParameters)
        switch layout {
        case .channelsFirst:
            let blocksPerRun = (spatialCount + Self.blockElements - 1) / Self.blockElements
            let spatial = spatialCount
            ParallelLoop(threadCount: threadCount).run(taskCount: N * C * blocksPerRun) { tasks, _ in
                for task in tasks {
                    let run = task / blocksPerRun
                    let start = (task % blocksPerRun) * Self.blockElements
                    let offset = run * spatial + start
                    normalizeContiguous(
                        input + offset, target.base + offset,
                        count: min(Self.blockElements, spatial - start), runs[run], on: instructionSet,
                        forHalf: float16Output)
                }
            }
        case .channelsLast:
            let columns = UnsafeMutablePointer<Double>.allocate(capacity: 3 * N * C)
            defer { columns.deallocate() }
            for index in 0..<(N * C) {
                columns[index] = runs[index].mean
                columns[N * C + index] = runs[index].scale
                columns[2 * N * C + index] = runs[index].shift
            }
            let rowsPerBlock = self.rowsPerBlock
            let blocksPerSample = (spatialCount + rowsPerBlock - 1) / rowsPerBlock
            let spatial = spatialCount
            let table = UnsafePointer(columns)
            let stride = N * C
            ParallelLoop(threadCount: threadCount).run(taskCount: N * blocksPerSample) { tasks, _ in
                for task in tasks {
                    let sample = task / blocksPerSample
                    let firstRow = (task % blocksPerSample) * rowsPerBlock
                    let offset = (sample * spatial + firstRow) * C
                    let parameters = table + sample * C
                    normalizeChannelsLast(
                        input + offset, target.base + offset, rows: min(rowsPerBlock, spatial - firstRow),
                        channelCount: C, mean: parameters, scale: parameters + stride, shift: parameters + 2 * stride,
                        on: instructionSet, forHalf: float16Output)
                }
            }
        }
    }
}
