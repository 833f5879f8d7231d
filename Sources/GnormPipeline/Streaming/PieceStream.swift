import GroupNormKernel
import HDF5

/// Samples larger than the memory budget, streamed one at a time in pieces
/// (`PiecePlan`), with the bits of the whole-sample path:
///
/// - channels-first, when a group (batch: a channel) fits the budget: pieces of
///   whole groups, each run through the kernel as a sample of fewer channels —
///   one pass, statistics and normalization per group as in the whole sample;
/// - otherwise (channels-last, batch statistics, a group larger than the budget):
///   two passes, statistics gathered by `SampleMomentsAccumulator` in the kernel's
///   blocks, then `normalize(part:)` piece by piece.
///
/// Missing values (CF `_FillValue`, `missing_value`, valid range) are masked on the first path and when normalizing
/// with batch statistics; gathering masked statistics across pieces of a group is refused.
extension DatasetStream {
    /// Values per bucket (group, or channel in batch scope) of one sample.
    private func bucketElements(_ plan: GroupNormPlan) -> Int { job.geometry.sampleElements / plan.groupCount }

    /// Whether pieces of whole buckets fit: channels-first buckets are contiguous.
    private func wholeBuckets(_ plan: GroupNormPlan, maxElements: Int) -> Bool {
        plan.layout == .channelsFirst && bucketElements(plan) <= maxElements
    }

    private func pieces(_ plan: GroupNormPlan, maxElements: Int, wholeBuckets: Bool, chunk: [Int]?) -> PiecePlan {
        PiecePlan(
            sampleShape: Array(job.geometry.shape.dropFirst()), layout: plan.layout, maxElements: maxElements,
            multiple: wholeBuckets ? plan.channelCount / plan.groupCount : 1, chunk: chunk)
    }

    private func readFailure(_ block: Hyperslab, _ error: HDF5Error) -> PipelineError {
        inputWatch?.change()
            ?? .io(
                "cannot read \(block): \(error.reason ?? error.description)", file: job.fileName, dataset: job.path,
                cause: error)
    }

    private func writeFailure(_ error: HDF5Error) -> PipelineError {
        .io("cannot write: \(error.reason ?? error.description)", file: outputName, dataset: job.path, cause: error)
    }

    /// One sample's moments per bucket, not yet poisoned (`GroupNormPlan.sampleMoments` for one sample).
    func sampleStatistics<E: KernelElement & NativeElement>(
        _ sample: Int, of input: borrowing Dataset, plan: GroupNormPlan, maxElements: Int, stored: StoredSlabs<E>,
        mask: FillMask<E>?, fillCount: FillCount
    ) throws(PipelineError) -> [Moments] {
        let whole = wholeBuckets(plan, maxElements: maxElements)
        let pieces = self.pieces(plan, maxElements: maxElements, wholeBuckets: whole, chunk: input.creation.chunkShape)
        let blocks = (0..<pieces.count).map { pieces.piece($0, ofSample: sample) }
        func read(_ index: Range<Int>, _ values: UnsafeMutableBufferPointer<E>) throws(PipelineError) {
            let block = blocks[index.lowerBound].block
            do throws(HDF5Error) { try stored.read(block, of: input, into: values) } catch {
                throw readFailure(block, error)
            }
            try inputWatch?.check()
        }
        let pipeline = SlabPipeline<E>(pieceElements: blocks.map(\.values.count))
        var collected: [Moments] = []
        if whole {
            try pipeline.run(
                read: read,
                compute: { index, values -> ([Moments], Int) in
                    let piecePlan = plan.wholeBuckets(channels: blocks[index.lowerBound].block.count[1])
                    let source = UnsafeBufferPointer(values)
                    guard let mask else { return (piecePlan.sampleMoments(of: source, sampleCount: 1), 0) }
                    let fill = mask.positions(in: source)
                    return (piecePlan.sampleMoments(of: source, sampleCount: 1, excluding: fill), fill.count)
                },
                write: { _, _ in },
                consume: { (_: Range<Int>, result: ([Moments], Int)) in
                    collected += result.0
                    fillCount.values += result.1
                })
            return collected
        }
        if mask != nil {
            let sampleBytes = SizeArithmetic.bytes(job.geometry.sampleElements, of: 2 * MemoryLayout<E>.size + 2)
            let needed = (sampleBytes * 2 + (1 << 20) - 1) >> 20
            throw .data(
                "missing values (_FillValue, missing_value, valid_range) cannot be left out of statistics gathered "
                    + "across pieces of a "
                    + (plan.layout == .channelsLast ? "channels-last sample" : "group")
                    + " larger than the memory budget; "
                    + "use --memory-limit \(needed) or more, or --no-mask", file: job.fileName, dataset: job.path)
        }
        let accumulator = AccumulatorBox<E>(plan: plan)
        try pipeline.run(
            read: read, compute: { _, values in accumulator.add(UnsafeBufferPointer(values)) },
            write: { _, _ in }, consume: { _, _ in })
        return accumulator.finish()
    }

    /// `normalize` for samples larger than the budget; returns the statistics used.
    func normalizeInPieces<E: KernelElement & NativeElement>(
        _ type: E.Type, input: borrowing Dataset, output: borrowing Dataset, affine: Affine, given: [Moments]?,
        plan: GroupNormPlan, maxElements: Int, stored: (input: StoredSlabs<E>, output: StoredSlabs<E>),
        mask: FillMask<E>?, rounding: IntegerRounding? = nil, fillCount: FillCount
    ) throws(PipelineError) -> [Moments] {
        var collected = given ?? []
        // Batch scope always comes with its statistics, computed in a first pass over every sample.
        let onePass = given == nil && wholeBuckets(plan, maxElements: maxElements)
        let chunk = input.creation.chunkShape
        let pieces = self.pieces(plan, maxElements: maxElements, wholeBuckets: onePass, chunk: chunk)
        let channelsPerBucket = plan.channelCount / plan.groupCount
        // Under MPI, this process's samples (whole OUTPUT chunks); every piece's write is collective.
        let samples = share.samples(of: job.geometry.sampleCount, multiple: share.writeUnit(of: output))
        // Asked before the first write: a process still writing cannot answer.
        let missingWrites = share.missingWrites(after: samples.count * pieces.count)
        for (done, sample) in samples.enumerated() {
            let blocks = (0..<pieces.count).map { pieces.piece($0, ofSample: sample) }
            var statistics: [Moments] = []
            if !onePass {
                if let given {
                    statistics = plan.statistics(given, of: sample..<sample + 1)
                } else {
                    statistics = plan.finished(
                        try sampleStatistics(
                            sample, of: input, plan: plan, maxElements: maxElements, stored: stored.input, mask: mask,
                            fillCount: FillCount()), sampleCount: 1)
                    collected += statistics
                    try events.statistics(statistics)
                }
            }
            let parameters = NormalizationParameters(
                statistics: statistics, scale: affine.scale, shift: affine.shift, epsilon: affine.epsilon,
                direction: affine.direction)
            try SlabPipeline<E>(pieceElements: blocks.map(\.values.count)).run(
                read: { (index, values) throws(PipelineError) in
                    let block = blocks[index.lowerBound].block
                    do throws(HDF5Error) { try stored.input.read(block, of: input, into: values) } catch {
                        throw readFailure(block, error)
                    }
                    try inputWatch?.check()
                },
                compute: { index, values -> ([Moments], Int) in
                    let piece = blocks[index.lowerBound]
                    let source = UnsafeBufferPointer(values)
                    let fill = mask?.positions(in: source)
                    var moments: [Moments] = []
                    do {
                        if onePass {
                            // Whole groups: the kernel on a sample of fewer channels, with their γ and β.
                            let channels =
                                piece.values.lowerBound / plan.spatialCount..<piece.values.upperBound
                                / plan.spatialCount
                            let piecePlan = plan.wholeBuckets(channels: channels.count)
                            let scale = affine.scale.map { Array($0[channels]) }
                            let shift = affine.shift.map { Array($0[channels]) }
                            if let fill {
                                moments = piecePlan.moments(of: source, sampleCount: 1, excluding: fill)
                                try piecePlan.normalize(
                                    source, into: values, sampleCount: 1,
                                    parameters: NormalizationParameters(
                                        statistics: moments, scale: scale, shift: shift, epsilon: affine.epsilon))
                            } else {
                                moments = try piecePlan.normalizeWithOwnStatistics(
                                    source, into: values, sampleCount: 1, scale: scale, shift: shift,
                                    epsilon: affine.epsilon)
                            }
                            precondition(moments.count * channelsPerBucket == channels.count)
                        } else {
                            try plan.normalize(
                                part: source, into: values, at: piece.values.lowerBound, parameters: parameters)
                        }
                    } catch {
                        preconditionFailure("\(error)")
                    }
                    if let fill { plan.restore(fill, in: values) }
                    return (moments, fill?.count ?? 0)
                },
                write: { (index, values) throws(PipelineError) in
                    try rounding?.round(values, samples: sample..<sample + 1, file: job.fileName, dataset: job.path)
                    do throws(HDF5Error) {
                        try stored.output.write(
                            blocks[index.lowerBound].block, of: output, from: UnsafeBufferPointer(values))
                    } catch {
                        throw writeFailure(error)
                    }
                },
                consume: { (_: Range<Int>, result: ([Moments], Int)) throws(PipelineError) in
                    fillCount.values += result.1
                    if onePass {
                        collected += result.0
                        try events.statistics(result.0)
                    }
                })
            events.samplesDone(done + 1)
        }
        // Every process joins as many collective writes as the one with the most pieces.
        for _ in 0..<missingWrites {
            do throws(HDF5Error) {
                try stored.output.write(
                    Hyperslab(rows: 0..<0, of: job.geometry.shape), of: output,
                    from: UnsafeBufferPointer(start: nil, count: 0))
            } catch {
                throw writeFailure(error)
            }
        }
        return collected
    }
}

extension GroupNormPlan {
    /// The plan for a channels-first piece of whole buckets holding `channels` channels.
    fileprivate func wholeBuckets(channels: Int) -> GroupNormPlan {
        let scope: StatisticsScope = scope == .channels ? .channels : .groups(channels / (channelCount / groupCount))
        do {
            return try GroupNormPlan(
                channelCount: channels, spatialCount: spatialCount, layout: .channelsFirst,
                scope: scope, threadCount: threadCount
            ).with(instructionSet: instructionSet).with(float16Output: float16Output)
        } catch {
            preconditionFailure("a piece of whole groups is a valid plan: \(error)")
        }
    }
}

/// A `SampleMomentsAccumulator` handed to the pipeline's compute thread, one piece at a time.
final class AccumulatorBox<E: KernelElement> {
    private var accumulator: SampleMomentsAccumulator<E>?

    init(plan: GroupNormPlan) { accumulator = SampleMomentsAccumulator(plan: plan) }

    func add(_ values: UnsafeBufferPointer<E>) { accumulator!.add(values) }

    func finish() -> [Moments] { accumulator.take()!.finish() }
}
