import HDF5

/// What one pass over a dataset keeps in memory, sized to `--memory-limit`.
///
/// Every data buffer gnorm allocates counts against the limit: two slab buffers
/// (read k+1 ‖ compute k), one float16 staging buffer, and the parallel-deflate
/// slots (one chunk in flight each). So does what libhdf5 holds for the datasets
/// (`HDF5Share`): its chunk cache, and a whole chunk wherever its own filters run.
/// `--threads` is shared the same way: deflate slots and float16 conversions run on
/// the I/O thread while the kernel works, so each side gets its part of T.
struct MemoryPlan: Equatable {
    /// How samples move: slabs of whole samples, or one sample at a time in pieces.
    enum Shape: Equatable {
        case slabs(SlabPlan)
        /// Pieces of at most this many values (more only where one row of C channels is larger).
        case pieces(maxElements: Int)
    }

    let shape: Shape
    /// Deflate slots per codec; 0 when the codecs are not used.
    let deflateSlots: Int
    /// Threads for the kernel, and for conversions and deflate slots on the I/O thread.
    let kernelThreads: Int
    let ioThreads: Int
    /// Whether INPUT's values stay mapped (`MappedDataset`): a mapping was offered and whole
    /// samples still fit beside its pages (a sample in pieces is read through HDF5).
    let mapsInput: Bool

    /// What reading a mapped INPUT costs per slab value, in place of the plan's own staging.
    struct Mapping: Equatable {
        /// The staging buffer's bytes with INPUT mapped (its pages take the input's staging place).
        let stagingBytes: Int
        /// INPUT's pages mapped beside the slab buffers when the kernel reads them in place.
        let mappedBytes: Int
    }

    /// The fewest values a piece holds: one statistics block (32 KiB of float64 at most).
    static let smallestPiece = 4096

    /// libhdf5's share of a dataset that any `--memory-limit` accepts (`leastLimit`).
    static let leastRefused = 4 << 20

    /// A chunk codec as far as the budget is concerned.
    struct Codec: Equatable {
        let chunkRows: Int
        let slotBytes: Int
    }

    /// Bytes libhdf5 holds for the datasets of a pass: with gnorm's codecs moving the
    /// chunks they can, or without them.
    struct HDF5Share: Equatable {
        var withCodecs = 0
        var withoutCodecs = 0
        /// Bytes libhdf5 holds per value moved by one read or write, for the chunks it touches.
        var perValue = 0
        /// The largest filtered chunk, which libhdf5 (or a codec's slot) holds whole, inflated.
        var wholeChunk = 0

        /// What libhdf5 1.10 allocates for each chunk one `H5Dread`/`H5Dwrite` touches (its chunk
        /// info and the chunk's file and memory selections): 3.4 GB for a read of 524,288
        /// one-value chunks, 6.5 KB each; counted as 8 KiB. Negligible per value for chunks of
        /// thousands of values; for tiny chunks it bounds the values moved at once.
        static let perChunk = 8 << 10

        /// Adds a dataset: a chunked one has a chunk cache (HDF5's default, 1 MiB), and a
        /// filtered one a whole chunk in memory wherever HDF5 runs the filters itself.
        mutating func add(_ creation: DatasetCreation, elementBytes: Int, codec: Bool) {
            guard let chunk = creation.chunkShape else { return }
            let chunkValues = max(1, SizeArithmetic.product(chunk) ?? Int.max)
            perValue += (Self.perChunk + chunkValues - 1) / chunkValues
            let cache = 1 << 20
            // A filtered chunk libhdf5 reads: its stored bytes and the inflated ones (measured: a
            // 64 MiB gzip chunk of random floats, 60 MiB stored, 123 MB over gnorm's fixed 35 MB).
            let chunkBytes =
                creation.filters.isEmpty ? 0 : SizeArithmetic.product(chunk + [elementBytes, 2]) ?? Int.max / 4
            wholeChunk = max(wholeChunk, chunkBytes)
            withoutCodecs = min(Int.max / 4, withoutCodecs + cache + chunkBytes)
            withCodecs = min(Int.max / 4, withCodecs + cache + (codec ? 0 : chunkBytes))
        }
    }

    /// The `--memory-limit` in bytes a dataset needs at least, when `memoryLimit` is less than what
    /// libhdf5 alone holds for its chunks: a whole filtered chunk (one 1 GiB gzip chunk reached
    /// 1.1 GB at --memory-limit 64), or the chunk records of the smallest piece (4,096 one-value
    /// chunks). nil when the limit can hold them; below it gnorm would promise a bound libhdf5 breaks.
    /// Shares up to `leastRefused` pass whatever the limit: libhdf5's fixed caches take as much, and
    /// limits that small (the library's callers pass a few KiB for slabs of one sample) mean "as little as can be".
    static func leastLimit(memoryLimit: Int, hdf5: HDF5Share, computeSize: Int) -> Int? {
        let libhdf5 = SizeArithmetic.product(smallestPiece, hdf5.perValue).map { max($0, hdf5.wholeChunk) } ?? Int.max
        guard libhdf5 > max(memoryLimit, leastRefused) else { return nil }
        let gnorm = SizeArithmetic.product(smallestPiece, 2 * computeSize + hdf5.perValue) ?? Int.max / 4
        return min(Int.max / 4, hdf5.withoutCodecs) + gnorm
    }

    /// - Parameters:
    ///   - computeSize: bytes of one value in the compute type.
    ///   - stagingBytes: bytes per slab value of the buffer the stored values pass through when gnorm
    ///     converts them (2 for float16, the integer's width for integers; 0 when HDF5 reads into the slab).
    ///     A mapped INPUT's pages of one slab take the staging buffer's place (`MappedDataset`).
    ///   - mapping: what a mapped INPUT costs instead (two slabs of its pages where the kernel reads
    ///     them in place: one computed, the next prepared); taken when whole samples still fit.
    ///   - codecs: the parallel-deflate codecs the datasets allow (input, output).
    init(
        sampleCount: Int, sampleElements: Int, memoryLimit: Int, hdf5: HDF5Share, computeSize: Int, stagingBytes: Int,
        mapping: Mapping? = nil, codecs: [Codec], threadCount: Int
    ) {
        // gnorm keeps at least a quarter of a limit that libhdf5's share would otherwise take.
        let budget = max(memoryLimit / 4, memoryLimit - hdf5.withoutCodecs)
        func wholeSamplesFit(_ bytes: Int?) -> Bool {
            guard let bytes else { return false }
            return bytes <= budget || sampleCount == 0 || bytes == 0
        }
        let fixedBytes = 2 * computeSize + hdf5.perValue
        let mappedValueBytes = mapping.map { fixedBytes + $0.stagingBytes + $0.mappedBytes }
        mapsInput = mappedValueBytes.map { wholeSamplesFit(SizeArithmetic.product(sampleElements, $0)) } ?? false
        let staged = (mapsInput ? mapping?.stagingBytes ?? 0 : stagingBytes) > 0
        let valueBytes = mapsInput ? mappedValueBytes ?? 0 : fixedBytes + stagingBytes
        let sampleBytes = SizeArithmetic.product(sampleElements, valueBytes)
        let parallelIO = !codecs.isEmpty || staged
        ioThreads = parallelIO ? max(1, threadCount / 2) : 1
        kernelThreads = parallelIO ? max(1, threadCount - ioThreads) : threadCount
        guard let sampleBytes, wholeSamplesFit(sampleBytes) else {
            shape = .pieces(maxElements: max(Self.smallestPiece, budget / valueBytes))
            deflateSlots = 0
            return
        }
        let codecBudget = max(memoryLimit / 4, memoryLimit - hdf5.withCodecs)
        if !codecs.isEmpty, sampleBytes > 0 {
            let rows = codecs.map(\.chunkRows).reduce(1) { lcm($0, $1) }
            let slotBytes = codecs.reduce(0) { $0 + $1.slotBytes }
            if let smallest = SizeArithmetic.product(rows, sampleBytes), smallest <= codecBudget - slotBytes {
                // Up to half the budget (at least one slot) for slots, the rest for slabs.
                let slots = max(1, min(ioThreads, (codecBudget / 2) / slotBytes, (codecBudget - smallest) / slotBytes))
                let slab = SlabPlan(
                    sampleCount: sampleCount, bytesPerSample: sampleBytes,
                    memoryLimit: codecBudget - slots * slotBytes
                ).aligned(to: rows)
                let smallestChunk = codecs.map(\.chunkRows).min()!
                shape = .slabs(slab)
                deflateSlots = max(1, min(slots, (slab.samplesPerSlab + smallestChunk - 1) / smallestChunk))
                return
            }
        }
        shape = .slabs(SlabPlan(sampleCount: sampleCount, bytesPerSample: sampleBytes, memoryLimit: budget))
        deflateSlots = 0
    }
}
