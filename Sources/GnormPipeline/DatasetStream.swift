import Foundation
import GroupNormKernel
import HDF5

/// Streams one dataset slab by slab through the kernel: reads samples,
/// computes their statistics, and (for `apply`) normalizes and writes them.
struct DatasetStream {
    let fileName: String
    let outputName: String
    let path: String
    let geometry: TensorGeometry
    let plan: GroupNormPlan
    /// `--memory-limit` in bytes: what gnorm's buffers and libhdf5's chunks share (`MemoryPlan`).
    let memoryLimit: Int
    /// CF missing values to leave out of the statistics and keep in OUTPUT (`MissingValues`).
    let missing: MissingValues
    /// Where the statistics and the progress of each slab go (the caller's report and progress bar).
    let events: StreamEvents
    /// The samples this process streams when the processes of an MPI job share the dataset
    /// (SampleShare.swift); nil: all of them.
    var share: SampleShare? = nil
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
    final class FillCount: @unchecked Sendable {
        // Only the calling thread adds to it, in `consume`.
        var values = 0
    }

    /// Statistics of every (sample, group), or of every channel in batch mode.
    func statistics<E: KernelElement & NativeElement>(
        _ type: E.Type, input: borrowing Dataset, fillCount: FillCount = FillCount()
    ) throws(PipelineError) -> [Moments] {
        let mask = missing.mask(E.self)
        let layout = inputLayout(E.self, for: input)
        var hdf5 = MemoryPlan.HDF5Share()
        hdf5.add(input.creation, elementBytes: input.elementType.byteCount, codec: layout != nil)
        try checkLimit(hdf5, computeSize: MemoryLayout<E>.size)
        let (memory, mapped) = memoryPlan(mapping: mapping(of: input)) { mapped in
            MemoryPlan(
                sampleCount: geometry.sampleCount, sampleElements: geometry.sampleElements, memoryLimit: memoryLimit,
                hdf5: hdf5, computeSize: MemoryLayout<E>.size,
                stagingBytes: StoredSlabs<E>.stagingBytes(input.elementType, writing: false),
                mappedBytes: mappedInPlaceBytes(E.self, mapped),
                codecs: layout.map { [$0.budgeted(writing: false)] } ?? [], threadCount: self.plan.threadCount)
        }
        keepSlabBuffers(E.self, for: memory)
        let plan = self.plan.with(threadCount: memory.kernelThreads)
        let stored = StoredSlabs<E>(elementType: input.elementType, threadCount: memory.ioThreads, mapped: mapped)
        let slabs: SlabPlan
        switch memory.shape {
        case .pieces(let maxElements):
            var running = plan.scope == .channels ? [Moments](repeating: .empty, count: plan.channelCount) : []
            var collected: [Moments] = []
            // Under MPI, this process's samples; their channel statistics merged in sample order once all are in.
            let samples = share?.samples(of: geometry.sampleCount, multiple: 1) ?? 0..<geometry.sampleCount
            var sampleParts: [[Moments]] = []
            for (done, sample) in samples.enumerated() {
                let moments = try sampleStatistics(
                    sample, of: input, plan: plan, maxElements: maxElements, stored: stored, mask: mask,
                    fillCount: fillCount)
                if plan.scope == .channels, share != nil {
                    sampleParts.append(moments)
                } else if plan.scope == .channels {
                    plan.merge(moments, sampleCount: 1, into: &running)
                } else {
                    let finished = plan.finished(moments, sampleCount: 1, masked: mask != nil)
                    collected += finished
                    try events.statistics(finished)
                }
                events.samplesDone(done + 1)
            }
            guard plan.scope == .channels else { return collected }
            if let share, case let merged = share.merged(sampleParts, channelCount: plan.channelCount), !merged.isEmpty
            {
                running = merged
            }
            let merged = plan.finishedChannels(running)
            try events.statistics(merged)
            return merged
        case .slabs(let plan): slabs = plan
        }
        let codec = memory.deflateSlots > 0 ? layout?.codec(slotCount: memory.deflateSlots) : nil
        var running = [Moments](repeating: .empty, count: plan.scope == .channels ? plan.channelCount : 0)
        var collected: [Moments] = []
        // Under MPI, each process's per-sample channel statistics, merged in sample order once all are in.
        var sampleParts: [[Moments]] = []
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
                if plan.scope == .channels, share != nil {
                    sampleParts.append(result.0)
                } else if plan.scope == .channels {
                    plan.merge(result.0, sampleCount: slab.count, into: &running)
                } else {
                    let moments = plan.finished(result.0, sampleCount: slab.count, masked: mask != nil)
                    collected += moments
                    try events.statistics(moments)
                }
                done += slab.count
                events.samplesDone(done)
            })
        if plan.scope == .channels {
            if let share, case let merged = share.merged(sampleParts, channelCount: plan.channelCount), !merged.isEmpty
            {
                running = merged
            }
            collected = plan.finishedChannels(running)
            try events.statistics(collected)
        }
        return collected
    }

    /// Normalizes every slab into `output`; returns the statistics used.
    func normalize<E: KernelElement & NativeElement>(
        _ type: E.Type, input: borrowing Dataset, output: borrowing Dataset, affine: Affine,
        fillCount: FillCount = FillCount()
    ) throws(PipelineError) -> [Moments] {
        var given: [Moments]? = nil
        if plan.scope == .channels {
            if let mean = affine.mean, let variance = affine.variance {
                // Count 1 keeps `variance` (M2 / count) exactly the value given.
                given = zip(mean, variance).map { Moments(count: 1, mean: $0, m2: $1) }
                try events.statistics(given!)
            } else {
                given = try statistics(type, input: input, fillCount: FillCount())
            }
        } else if affine.direction == .invert, let mean = affine.mean, let variance = affine.variance {
            given = zip(mean, variance).map { Moments(count: 1, mean: $0, m2: $1) }
        }
        let fixed = given
        let mask = missing.mask(E.self)
        let rounding = IntegerRounding(output.elementType, clips: affine.clipsIntegers)
        let readLayout = inputLayout(E.self, for: input)
        let writeLayout = layout(E.self, for: output)
        let inputStaging = StoredSlabs<E>.stagingBytes(input.elementType, writing: false)
        let outputStaging = StoredSlabs<E>.stagingBytes(output.elementType, writing: true)
        var hdf5 = MemoryPlan.HDF5Share()
        hdf5.add(input.creation, elementBytes: input.elementType.byteCount, codec: readLayout != nil)
        hdf5.add(output.creation, elementBytes: output.elementType.byteCount, codec: writeLayout != nil)
        try checkLimit(hdf5, computeSize: MemoryLayout<E>.size)
        let (memory, mapped) = memoryPlan(mapping: mapping(of: input)) { mapped in
            MemoryPlan(
                sampleCount: geometry.sampleCount, sampleElements: geometry.sampleElements, memoryLimit: memoryLimit,
                hdf5: hdf5, computeSize: MemoryLayout<E>.size,
                // Reads and writes share one staging buffer; a mapped INPUT's pages are not it.
                stagingBytes: mapped != nil ? inputStaging + outputStaging : max(inputStaging, outputStaging),
                mappedBytes: mappedInPlaceBytes(E.self, mapped),
                codecs: [readLayout?.budgeted(writing: false), writeLayout?.budgeted(writing: true)].compactMap { $0 },
                threadCount: self.plan.threadCount)
        }
        keepSlabBuffers(E.self, for: memory)
        let plan = self.plan.with(threadCount: memory.kernelThreads)
        let staging = StoredSlabs<E>.Staging()
        let storedInput = StoredSlabs<E>(
            elementType: input.elementType, threadCount: memory.ioThreads, staging: staging, mapped: mapped)
        let storedOutput = StoredSlabs<E>(
            elementType: output.elementType, threadCount: memory.ioThreads, staging: staging)
        let slabs: SlabPlan
        switch memory.shape {
        case .pieces(let maxElements):
            return try normalizeInPieces(
                E.self, input: input, output: output, affine: affine, given: fixed, plan: plan,
                maxElements: maxElements,
                stored: (storedInput, storedOutput), mask: mask, rounding: rounding, fillCount: fillCount)
        case .slabs(let plan): slabs = plan
        }
        let readCodec = memory.deflateSlots > 0 ? readLayout?.codec(slotCount: memory.deflateSlots) : nil
        // Direct chunk writes are not collective: under MPI, HDF5's own filter pipeline compresses.
        let writeCodec =
            memory.deflateSlots > 0 && share == nil ? writeLayout?.codec(slotCount: memory.deflateSlots) : nil
        var collected: [Moments] = given ?? []
        var done = 0
        let direct = storedInput.directValues
        let outputDescriptor = output.fileDescriptor()
        let lastSample = slabs.slabs.last?.upperBound ?? 0
        // Under MPI no two processes write into one chunk: slices are whole output chunks.
        let unit = lcm(readCodec?.chunkRows ?? 1, share == nil ? 1 : SampleShare.writeUnit(of: output))
        try pipeline(E.self, slabs, multiple: unit).run(
            read: { (slab, values) throws(PipelineError) in
                try read(slab, of: input, into: values, codec: readCodec, stored: storedInput)
            },
            compute: { slab, values -> ([Moments], Int) in
                let source = direct?.values(rows: slab, as: E.self) ?? UnsafeBufferPointer(values)
                // Fill positions are found before the values are overwritten, and get the fill value back after.
                let fill = mask?.positions(in: source)
                // Lengths were checked when the parameters were loaded.
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
                try rounding?.round(values, samples: slab, file: fileName, dataset: path)
                try write(slab, of: output, from: UnsafeBufferPointer(values), codec: writeCodec, stored: storedOutput)
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
        if let share {
            // Every process joins as many collective writes as the one with the most slabs.
            for _ in 0..<share.missingWrites(slabs, multiple: unit) {
                try write(
                    0..<0, of: output, from: UnsafeBufferPointer(start: nil, count: 0), codec: nil, stored: storedOutput
                )
            }
        }
        return collected
    }

    /// The slabs of `slabs` this process streams: all of them, or under MPI its share,
    /// a slice of whole `multiple`-sample units.
    private func pipeline<E>(_ type: E.Type, _ slabs: SlabPlan, multiple: Int) -> SlabPipeline<E> {
        SlabPipeline(
            slabs: share?.slabs(slabs, multiple: multiple) ?? slabs.slabs,
            elementsPerSample: geometry.sampleElements)
    }

    /// INPUT's values mapped, where they are one plain byte range of its file (`MappedDataset`).
    /// Not under MPI: every process would map INPUT for its share, and a process interrupted
    /// while populating pages left its temporary OUTPUT behind in 3 of 22 runs of the TERM check.
    private func mapping(of input: borrowing Dataset) -> MappedDataset? {
        guard share == nil else { return nil }
        return MappedDataset(input, sampleCount: geometry.sampleCount, sampleElements: geometry.sampleElements)
    }

    /// Frees the slab buffers kept from the last dataset unless `memory`'s slabs are their size.
    private func keepSlabBuffers<E>(_ type: E.Type, for memory: MemoryPlan) {
        guard case .slabs(let slabs) = memory.shape else { return SlabBuffers.keepOnly(byteCount: nil) }
        SlabBuffers.keepOnly(byteCount: slabs.samplesPerSlab * geometry.sampleElements * MemoryLayout<E>.stride)
    }

    /// The memory plan with INPUT's values mapped, when whole samples still fit beside the mapped
    /// pages; otherwise the plan without (a sample in pieces is read through HDF5).
    private func memoryPlan(
        mapping: MappedDataset?, _ make: (MappedDataset?) -> MemoryPlan
    ) -> (MemoryPlan, MappedDataset?) {
        if let mapping, case let memory = make(mapping), case .slabs = memory.shape { return (memory, mapping) }
        return (make(nil), nil)
    }

    /// Bytes per slab value of INPUT's pages that stay mapped beside the slab buffers: two slabs
    /// where the kernel reads them in place (converted values pass through in their staging's place).
    private func mappedInPlaceBytes<E: KernelElement & NativeElement>(_ type: E.Type, _ mapped: MappedDataset?) -> Int {
        guard let mapped, StoredSlabs<E>.readsInPlace(mapped.elementType) else { return 0 }
        return 2 * mapped.elementType.byteCount
    }

    /// Refuses up front (65) a `--memory-limit` below what libhdf5 alone holds for the chunks, naming one that does.
    private func checkLimit(_ hdf5: MemoryPlan.HDF5Share, computeSize: Int) throws(PipelineError) {
        guard let needed = MemoryPlan.leastLimit(memoryLimit: memoryLimit, hdf5: hdf5, computeSize: computeSize)
        else { return }
        let chunkMiB = (hdf5.wholeChunk + (1 << 20) - 1) >> 20
        let why =
            hdf5.wholeChunk > memoryLimit
            ? "libhdf5 holds a whole filtered chunk, stored and inflated (\(chunkMiB) MiB), in memory"
            : "libhdf5 keeps about 8 KiB per chunk a read touches, and its chunks hold few values"
        throw .data(
            "--memory-limit \(memoryLimit >> 20) is too small for this dataset: \(why); "
                + "use --memory-limit \((needed + (1 << 20) - 1) >> 20) or more", file: fileName, dataset: path)
    }

    /// The layout of the chunk codec that moves `dataset` (`ChunkCodecs`), when its chunks and
    /// type allow one (values `E`, or float16 converted to them).
    private func layout<E: KernelElement & NativeElement>(
        _ type: E.Type, for dataset: borrowing Dataset
    ) -> (any ChunkLayout)? {
        guard
            let layout = ChunkCodecs.layout(
                creation: dataset.creation, shape: geometry.shape, elementType: dataset.elementType),
            layout.elementSize == StoredSlabs<E>.codecElementSize(dataset.elementType)
        else { return nil }
        return layout
    }

    /// The chunk codec's layout for reading, when every chunk is stored; otherwise (unwritten chunks
    /// read as fill values) HDF5's own pipeline reads the dataset.
    private func inputLayout<E: KernelElement & NativeElement>(
        _ type: E.Type, for input: borrowing Dataset
    ) -> (any ChunkLayout)? {
        guard let layout = layout(E.self, for: input) else { return nil }
        do {
            let stored = try input.allocatedChunkCount()
            return stored == (geometry.sampleCount + layout.chunkRows - 1) / layout.chunkRows ? layout : nil
        } catch {
            return nil
        }
    }

    private func read<E>(
        _ slab: Range<Int>, of input: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>,
        codec: (any ChunkCodec)?,
        stored: StoredSlabs<E>
    ) throws(PipelineError) {
        do throws(TransferError) {
            try stored.read(rows: slab, of: input, into: values, codec: codec)
        } catch {
            if let change = inputWatch?.change() { throw change }
            throw .io(
                "cannot read samples \(slab.lowerBound)..<\(slab.upperBound): \(error.reason ?? error.description)",
                file: fileName, dataset: path, cause: error.underlying)
        }
        try inputWatch?.check()
    }

    private func write<E>(
        _ slab: Range<Int>, of output: borrowing Dataset, from values: UnsafeBufferPointer<E>, codec: (any ChunkCodec)?,
        stored: StoredSlabs<E>
    ) throws(PipelineError) {
        do throws(TransferError) {
            try stored.write(rows: slab, of: output, from: values, codec: codec)
        } catch {
            throw .io(
                "cannot write: \(error.reason ?? error.description)", file: outputName, dataset: path,
                cause: error.underlying)
        }
    }
}
