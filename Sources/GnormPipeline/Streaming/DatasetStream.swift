import Foundation
import GroupNormKernel
import HDF5

/// Streams one dataset slab by slab through the kernel: reads samples,
/// computes their statistics, and (for `apply`) normalizes and writes them.
struct DatasetStream {
    /// The dataset, its geometry, kernel plan, missing values and `--memory-limit`.
    let job: DatasetJob
    let outputName: String
    /// Where the statistics and the progress of each slab go (the caller's report and progress bar).
    let events: StreamEvents
    /// The samples this process streams when the processes of an MPI job share the dataset
    /// (SampleShare.swift); nil: all of them.
    var share = SampleShare.whole
    /// INPUT's file, checked after every read (`InputWatch`); nil: not watched (a file image).
    var inputWatch: InputWatch? = nil

    /// Per-channel affine parameters and, for batch eval mode, given statistics; `invert`
    /// undoes the normalization with given statistics, per channel or one per (sample, group).
    struct Affine: Sendable {
        var scale: [Double]?
        var shift: [Double]?
        var mean: [Double]?
        var variance: [Double]?
        var epsilon: Double
        var direction = TransformDirection.normalize
        /// An integer OUTPUT (`invert --dtype int16`): clamp values out of its range (`--clip`) instead of failing.
        var clipsIntegers = false
    }

    /// How many values were fill and left out (counted by `statistics` and `normalize`).
    final class FillCount {
        var values = 0
    }

    /// Statistics of every (sample, group), or of every channel in batch mode.
    func statistics<E: KernelElement & NativeElement>(
        _ type: E.Type, input: borrowing Dataset, fillCount: FillCount = FillCount()
    ) throws(PipelineError) -> [Moments] {
        try statistics(input: input, transfer: TransferPlan<E>(job, reading: input, share: share), fillCount: fillCount)
    }

    /// The statistics pass of `transfer`, a plan of its own or a batch normalization's.
    private func statistics<E: KernelElement & NativeElement>(
        input: borrowing Dataset, transfer: TransferPlan<E>, fillCount: FillCount
    ) throws(PipelineError) -> [Moments] {
        let mask = job.missing.mask(E.self)
        let plan = transfer.kernel
        let stored = transfer.input
        var channels = ChannelFold(plan: plan, share: share)
        var collected: [Moments] = []
        // The per-sample statistics of consecutive samples: folded per channel (batch), or finished and reported.
        func add(_ moments: [Moments], sampleCount: Int) throws(PipelineError) {
            if plan.scope == .channels { return channels.add(moments, sampleCount: sampleCount) }
            let finished = plan.finished(moments, sampleCount: sampleCount, masked: mask != nil)
            collected += finished
            try events.statistics(finished)
        }
        switch transfer.memory.shape {
        case .pieces(let maxElements):
            for (done, sample) in share.samples(of: job.geometry.sampleCount, multiple: 1).enumerated() {
                try add(
                    try sampleStatistics(
                        sample, of: input, plan: plan, maxElements: maxElements, stored: stored, mask: mask,
                        fillCount: fillCount), sampleCount: 1)
                events.samplesDone(done + 1)
            }
        case .slabs(let slabs):
            let codec = transfer.readCodec
            var done = 0
            let direct = stored.directValues
            try pipeline(E.self, slabs, multiple: codec?.chunkRows ?? 1).run(
                read: { (slab, values) throws(PipelineError) in
                    try read(slab, of: input, into: values, codec: codec, stored: stored)
                },
                compute: { slab, values -> ([Moments], Int) in
                    // Per (sample, bucket), merged over samples in `consume` for batch statistics.
                    let source = direct?.values(rows: slab, as: E.self) ?? UnsafeBufferPointer(values)
                    guard let mask else { return (plan.sampleMoments(of: source, sampleCount: slab.count), 0) }
                    let fill = mask.positions(in: source)
                    return (plan.sampleMoments(of: source, sampleCount: slab.count, excluding: fill), fill.count)
                },
                write: { _, _ in },
                consume: { (slab: Range<Int>, result: ([Moments], Int)) throws(PipelineError) in
                    stored.finished(rows: slab)
                    fillCount.values += result.1
                    try add(result.0, sampleCount: slab.count)
                    done += slab.count
                    events.samplesDone(done)
                })
        }
        guard plan.scope == .channels else { return collected }
        // Under MPI, every process's channel statistics merged in sample order once all are in.
        collected = channels.finished()
        try events.statistics(collected)
        return collected
    }

    /// Normalizes every slab into `output`; returns the statistics used.
    func normalize<E: KernelElement & NativeElement>(
        _ type: E.Type, input: borrowing Dataset, output: borrowing Dataset, storing outputType: ElementType,
        affine: Affine, fillCount: FillCount = FillCount()
    ) throws(PipelineError) -> [Moments] {
        let transfer = try TransferPlan<E>(job, reading: input, writing: output, storing: outputType, share: share)
        var given: [Moments]? = nil
        if job.plan.scope == .channels {
            if let mean = affine.mean, let variance = affine.variance {
                // Count 1 keeps `variance` (M2 / count) exactly the value given.
                given = zip(mean, variance).map { Moments(count: 1, mean: $0, m2: $1) }
                try events.statistics(given!)
            } else {
                given = try statistics(input: input, transfer: transfer, fillCount: FillCount())
            }
        } else if affine.direction == .invert, let mean = affine.mean, let variance = affine.variance {
            given = zip(mean, variance).map { Moments(count: 1, mean: $0, m2: $1) }
        }
        let fixed = given
        let mask = job.missing.mask(E.self)
        let rounding = IntegerRounding(outputType, clips: affine.clipsIntegers)
        let plan = transfer.kernel
        let storedInput = transfer.input
        let storedOutput = transfer.output
        let slabs: SlabPlan
        switch transfer.memory.shape {
        case .pieces(let maxElements):
            return try normalizeInPieces(
                E.self, input: input, output: output, affine: affine, given: fixed, plan: plan,
                maxElements: maxElements,
                stored: (storedInput, storedOutput), mask: mask, rounding: rounding, fillCount: fillCount)
        case .slabs(let plan): slabs = plan
        }
        let readCodec = transfer.readCodec
        let writeCodec = transfer.writeCodec
        var collected: [Moments] = given ?? []
        var done = 0
        let direct = storedInput.directValues
        // float16 in and out: the slabs hold the stored bits (`TransferPlan.halves`).
        let halves = transfer.halves
        precondition(!halves || (fixed == nil && mask == nil && rounding == nil), "float16 slabs with Float-only work")
        let directHalves = storedInput.directHalves
        let outputDescriptor = output.fileDescriptor()
        let lastSample = slabs.slabs.last?.upperBound ?? 0
        // Under MPI no two processes write into one chunk: slices are whole output chunks.
        let unit = lcm(readCodec?.chunkRows ?? 1, share.writeUnit(of: output))
        try pipeline(E.self, slabs, multiple: unit).run(
            read: { (slab, values) throws(PipelineError) in
                try read(slab, of: input, into: values, codec: readCodec, stored: storedInput, halves: halves)
            },
            compute: { slab, values -> ([Moments], Int) in
                // Lengths were checked when the parameters were loaded.
                if halves {
                    let bits = Self.halfBits(values)
                    let source = directHalves?.values(rows: slab, as: UInt16.self) ?? UnsafeBufferPointer(bits)
                    do {
                        return (
                            try plan.normalizeWithOwnStatistics(
                                halves: source, into: bits, sampleCount: slab.count, scale: affine.scale,
                                shift: affine.shift, epsilon: affine.epsilon), 0
                        )
                    } catch {
                        preconditionFailure("\(error)")
                    }
                }
                let source = direct?.values(rows: slab, as: E.self) ?? UnsafeBufferPointer(values)
                // Fill positions are found before the values are overwritten, and get the fill value back after.
                let fill = mask?.positions(in: source)
                do {
                    let moments: [Moments]
                    if let given = fixed.map({ plan.statistics($0, of: slab) })
                        ?? fill.map({ plan.moments(of: source, sampleCount: slab.count, excluding: $0) })
                    {
                        moments = given
                        try plan.normalize(
                            source, into: values, sampleCount: slab.count,
                            parameters: NormalizationParameters(
                                statistics: moments, scale: affine.scale, shift: affine.shift, epsilon: affine.epsilon,
                                direction: affine.direction))
                    } else {
                        moments = try plan.normalizeWithOwnStatistics(
                            source, into: values, sampleCount: slab.count,
                            scale: affine.scale, shift: affine.shift, epsilon: affine.epsilon)
                    }
                    if let fill { plan.restore(fill, in: values) }
                    return (moments, fill?.count ?? 0)
                } catch {
                    preconditionFailure("\(error)")
                }
            },
            write: { (slab, values) throws(PipelineError) in
                try rounding?.round(values, samples: slab, file: job.fileName, dataset: job.path)
                try write(
                    slab, of: output, from: UnsafeBufferPointer(values), codec: writeCodec, stored: storedOutput,
                    halves: halves)
                // The last slab's pages go with the final fsync.
                if let outputDescriptor, slab.upperBound < lastSample { startWriteback(outputDescriptor) }
                // Progress counts samples written, the last step of each slab.
                done += slab.count
                events.samplesDone(done)
            },
            consume: { (slab: Range<Int>, result: ([Moments], Int)) throws(PipelineError) in
                storedInput.finished(rows: slab)
                let moments = result.0
                fillCount.values += result.1
                if fixed == nil {
                    collected += moments
                    try events.statistics(moments)
                }
            })
        // Under MPI every process joins as many collective writes as the one with the most slabs.
        for _ in 0..<share.missingWrites(slabs, multiple: unit) {
            try write(
                0..<0, of: output, from: UnsafeBufferPointer(start: nil, count: 0), codec: nil, stored: storedOutput)
        }
        return collected
    }

    /// The slabs of `slabs` this process streams: all of them, or under MPI its share,
    /// a slice of whole `multiple`-sample units.
    private func pipeline<E>(_ type: E.Type, _ slabs: SlabPlan, multiple: Int) -> SlabPipeline<E> {
        SlabPipeline(
            slabs: share.slabs(slabs, multiple: multiple),
            elementsPerSample: job.geometry.sampleElements)
    }

    private func read<E>(
        _ slab: Range<Int>, of input: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>,
        codec: (any ChunkCodec)?,
        stored: StoredSlabs<E>, halves: Bool = false
    ) throws(PipelineError) {
        do throws(TransferError) {
            if halves {
                try stored.readHalves(rows: slab, of: input, into: Self.halfBits(values), codec: codec)
            } else {
                try stored.read(rows: slab, of: input, into: values, codec: codec)
            }
        } catch {
            if let change = inputWatch?.change() { throw change }
            throw .io(
                "cannot read samples \(slab.lowerBound)..<\(slab.upperBound): \(error.reason ?? error.description)",
                file: job.fileName, dataset: job.path, cause: error.underlying)
        }
        try inputWatch?.check()
    }

    private func write<E>(
        _ slab: Range<Int>, of output: borrowing Dataset, from values: UnsafeBufferPointer<E>, codec: (any ChunkCodec)?,
        stored: StoredSlabs<E>, halves: Bool = false
    ) throws(PipelineError) {
        do throws(TransferError) {
            if halves {
                let bits = Self.halfBits(UnsafeMutableBufferPointer(mutating: values))
                try stored.writeHalves(rows: slab, of: output, from: UnsafeBufferPointer(bits), codec: codec)
            } else {
                try stored.write(rows: slab, of: output, from: values, codec: codec)
            }
        } catch {
            throw .io(
                "cannot write: \(error.reason ?? error.description)", file: outputName, dataset: job.path,
                cause: error.underlying)
        }
    }

    /// A slab buffer of Floats holding as many float16 bit patterns in its first half (`TransferPlan.halves`).
    private static func halfBits<E>(_ values: UnsafeMutableBufferPointer<E>) -> UnsafeMutableBufferPointer<UInt16> {
        precondition(MemoryLayout<E>.stride >= MemoryLayout<UInt16>.stride)
        let bits = UnsafeMutableRawBufferPointer(values).bindMemory(to: UInt16.self)
        return UnsafeMutableBufferPointer(rebasing: bits[0..<values.count])
    }
}
