import GroupNormKernel
import HDF5

/// How one pass over a dataset moves its values, decided once from the job before any data
/// moves: the memory plan (`--memory-limit` from the job), the kernel's share of the threads,
/// INPUT's mapping, the chunk codecs with their slots and the stored-type conversions
/// (`StoredSlabs`). Statistics and normalization stream with it alike; batch normalization's
/// statistics pass uses the normalization's own plan.
struct TransferPlan<E: KernelElement & NativeElement> {
    let memory: MemoryPlan
    /// The job's plan with the kernel's share of the threads.
    let kernel: GroupNormPlan
    /// INPUT's values in and (`apply`) OUTPUT's out, sharing one staging buffer.
    let input: StoredSlabs<E>
    let output: StoredSlabs<E>
    let readCodec: (any ChunkCodec)?
    let writeCodec: (any ChunkCodec)?
    /// Slabs of float16 bits as stored, computed by the kernel's float16 entry points: INPUT and
    /// OUTPUT little-endian float16, channels first, statistics per group of each sample, nothing
    /// masked, whole samples, one process. The slab buffers hold the bits in their first half, and
    /// no widening or narrowing pass runs (`StoredSlabs.readHalves`, `writeHalves`).
    let halves: Bool

    /// A dataset as far as the plan is concerned.
    private struct Side {
        let creation: DatasetCreation
        let elementType: ElementType
        let codec: (any ChunkLayout)?
    }

    /// A statistics pass over `input`.
    init(_ job: DatasetJob, reading input: borrowing Dataset, share: SampleShare) throws(PipelineError) {
        try self.init(
            job, input: Self.side(job, reading: input), mapping: Self.mapping(job, of: input, share: share),
            output: nil, share: share)
    }

    /// A normalization pass from `input` into `output`, which stores `outputType` (`OutputLayout`'s choice).
    init(
        _ job: DatasetJob, reading input: borrowing Dataset, writing output: borrowing Dataset,
        storing outputType: ElementType, share: SampleShare
    ) throws(PipelineError) {
        let creation = output.creation
        try self.init(
            job, input: Self.side(job, reading: input), mapping: Self.mapping(job, of: input, share: share),
            output: Side(
                creation: creation, elementType: outputType,
                codec: Self.layout(job, creation: creation, elementType: outputType)),
            share: share)
    }

    private init(
        _ job: DatasetJob, input: Side, mapping: MappedDataset?, output: Side?, share: SampleShare
    ) throws(PipelineError) {
        let computeSize = MemoryLayout<E>.size
        var hdf5 = MemoryPlan.HDF5Share()
        for side in [input] + (output.map { [$0] } ?? []) {
            hdf5.add(side.creation, elementBytes: side.elementType.byteCount, codec: side.codec != nil)
        }
        try Self.checkLimit(job, hdf5, computeSize: computeSize)
        let half = ElementType.float(bits: 16, bigEndian: false)
        var halves =
            E.self == Float.self && input.elementType == half && output?.elementType == half && job.plan.float16Output
            && job.plan.layout == .channelsFirst && job.plan.scope != .channels && job.missing.mask(E.self) == nil
            && !share.isShared
        var memory = Self.memory(job, hdf5, input: input, output: output, mapping: mapping, halves: halves)
        if halves, case .pieces = memory.shape {
            halves = false
            memory = Self.memory(job, hdf5, input: input, output: output, mapping: mapping, halves: false)
        }
        self.memory = memory
        self.halves = halves
        Self.keepSlabBuffers(job, for: memory)
        kernel = job.plan.with(threadCount: memory.kernelThreads)
        let staging = StoredSlabs<E>.Staging()
        self.input = StoredSlabs<E>(
            elementType: input.elementType, threadCount: memory.ioThreads, staging: staging,
            mapped: memory.mapsInput ? mapping : nil, halves: halves)
        self.output = StoredSlabs<E>(
            elementType: output?.elementType ?? input.elementType, threadCount: memory.ioThreads, staging: staging)
        let slots = memory.deflateSlots
        readCodec = slots > 0 ? input.codec?.codec(slotCount: slots) : nil
        // Direct chunk writes are not collective: under MPI, HDF5's own filter pipeline compresses.
        writeCodec = slots > 0 && !share.isShared ? output?.codec?.codec(slotCount: slots) : nil
    }

    /// The memory plan of a pass; with `halves`, no staging buffer (the slabs hold the stored
    /// bits) and a mapped INPUT's float16 pages read by the kernel in place.
    private static func memory(
        _ job: DatasetJob, _ hdf5: MemoryPlan.HDF5Share, input: Side, output: Side?, mapping: MappedDataset?,
        halves: Bool
    ) -> MemoryPlan {
        let inputStaging = halves ? 0 : StoredSlabs<E>.stagingBytes(input.elementType, writing: false)
        let outputStaging = halves ? 0 : output.map { StoredSlabs<E>.stagingBytes($0.elementType, writing: true) } ?? 0
        // Two slabs of INPUT's pages stay mapped beside the slab buffers where the kernel reads them in place.
        let inPlace = halves || StoredSlabs<E>.readsInPlace(input.elementType)
        let mappedBytes = inPlace ? 2 * input.elementType.byteCount : 0
        return MemoryPlan(
            sampleCount: job.geometry.sampleCount, sampleElements: job.geometry.sampleElements,
            memoryLimit: job.memoryLimit, hdf5: hdf5, computeSize: MemoryLayout<E>.size,
            // Reads and writes share one staging buffer; a mapped INPUT's pages are not it.
            stagingBytes: max(inputStaging, outputStaging),
            mapping: mapping.map { _ in
                MemoryPlan.Mapping(stagingBytes: inputStaging + outputStaging, mappedBytes: mappedBytes)
            },
            codecs: [input.codec?.budgeted(writing: false), output?.codec?.budgeted(writing: true)].compactMap { $0 },
            threadCount: job.plan.threadCount)
    }

    /// INPUT as the plan sees it: its codec's layout only when every chunk is stored; otherwise
    /// (unwritten chunks read as fill values) HDF5's own pipeline reads the dataset.
    private static func side(_ job: DatasetJob, reading input: borrowing Dataset) -> Side {
        let creation = input.creation
        var codec = layout(job, creation: creation, elementType: input.elementType)
        if let layout = codec {
            let chunkCount = (job.geometry.sampleCount + layout.chunkRows - 1) / layout.chunkRows
            do {
                if try input.allocatedChunkCount() != chunkCount { codec = nil }
            } catch {
                codec = nil
            }
        }
        return Side(creation: creation, elementType: input.elementType, codec: codec)
    }

    /// The layout of the chunk codec that moves a dataset (`ChunkCodecs`), when its chunks and
    /// type allow one (values `E`, or float16 converted to them).
    private static func layout(_ job: DatasetJob, creation: DatasetCreation, elementType: ElementType)
        -> (any ChunkLayout)?
    {
        guard let layout = ChunkCodecs.layout(creation: creation, shape: job.geometry.shape, elementType: elementType),
            layout.elementSize == StoredSlabs<E>.codecElementSize(elementType)
        else { return nil }
        return layout
    }

    /// INPUT's values mapped, where they are one plain byte range of its file (`MappedDataset`).
    /// Not under MPI: every process would map INPUT for its share, and a process interrupted
    /// while populating pages left its temporary OUTPUT behind in 3 of 22 runs of the TERM check.
    private static func mapping(_ job: DatasetJob, of input: borrowing Dataset, share: SampleShare)
        -> MappedDataset?
    {
        guard !share.isShared else { return nil }
        return MappedDataset(input, sampleCount: job.geometry.sampleCount, sampleElements: job.geometry.sampleElements)
    }

    /// Frees the slab buffers kept from the last dataset unless `memory`'s slabs are their size.
    private static func keepSlabBuffers(_ job: DatasetJob, for memory: MemoryPlan) {
        guard case .slabs(let slabs) = memory.shape else { return SlabBuffers.keepOnly(byteCount: nil) }
        SlabBuffers.keepOnly(byteCount: slabs.samplesPerSlab * job.geometry.sampleElements * MemoryLayout<E>.stride)
    }

    /// Refuses up front (65) a `--memory-limit` below what libhdf5 alone holds for the chunks, naming one that does.
    private static func checkLimit(_ job: DatasetJob, _ hdf5: MemoryPlan.HDF5Share, computeSize: Int)
        throws(PipelineError)
    {
        let memoryLimit = job.memoryLimit
        guard let needed = MemoryPlan.leastLimit(memoryLimit: memoryLimit, hdf5: hdf5, computeSize: computeSize)
        else { return }
        let chunkMiB = (hdf5.wholeChunk + (1 << 20) - 1) >> 20
        let why =
            hdf5.wholeChunk > memoryLimit
            ? "libhdf5 holds a whole filtered chunk, stored and inflated (\(chunkMiB) MiB), in memory"
            : "libhdf5 keeps about 8 KiB per chunk a read touches, and its chunks hold few values"
        throw .data(
            "--memory-limit \(memoryLimit >> 20) is too small for this dataset: \(why); "
                + "use --memory-limit \((needed + (1 << 20) - 1) >> 20) or more", file: job.fileName, dataset: job.path)
    }
}
