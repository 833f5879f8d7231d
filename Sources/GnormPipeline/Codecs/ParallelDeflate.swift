import ChunkCoding
import GroupNormKernel
import HDF5

/// Reads and writes gzip(+shuffle) datasets whose chunks hold whole samples,
/// chunk by chunk: raw chunks move through HDF5 on the calling thread
/// (`H5Dread_chunk` / `H5Dwrite_chunk`), while inflating, deflating and
/// (un)shuffling (`ZlibChunkSlot`) run one chunk per slot on every core. HDF5's own filter is
/// serial zlib, ~10× slower per core when compressing; the chunks written here
/// are ordinary zlib streams that any HDF5 reader inflates.
struct ParallelDeflate: ChunkCodec {
    let deflate: DeflateLayout
    /// One set of buffers per chunk in flight, reused for every chunk: fresh
    /// pages cost more than inflating them (first touch runs at ~1.5 GB/s).
    private let slots: [ZlibChunkSlot]

    var layout: any ChunkLayout { deflate }

    init(_ layout: DeflateLayout, slotCount: Int) {
        deflate = layout
        slots = (0..<max(1, slotCount)).map { _ in ZlibChunkSlot(chunkBytes: layout.chunkBytes) }
    }

    /// The codec of `creation`'s chunks, when `DeflateLayout` takes them.
    init?(creation: DatasetCreation, shape: [Int], elementType: ElementType, slotCount: Int) {
        guard let layout = DeflateLayout(creation: creation, shape: shape, elementType: elementType) else { return nil }
        self.init(layout, slotCount: slotCount)
    }

    private func offset(ofChunkAt row: Int) -> [Int] {
        [row] + Array(repeating: 0, count: deflate.rank - 1)
    }

    /// Chunk starts of `rows`, in batches of one chunk per slot.
    private func batches(_ rows: Range<Int>) -> [[Int]] {
        let starts = Array(stride(from: rows.lowerBound, to: rows.upperBound, by: deflate.chunkRows))
        return stride(from: 0, to: starts.count, by: slots.count).map {
            Array(starts[$0..<min(starts.count, $0 + slots.count)])
        }
    }

    /// Reads samples `rows` (starting on a chunk boundary) into `destination`.
    func read(rows: Range<Int>, of dataset: borrowing Dataset, into destination: UnsafeMutableRawBufferPointer)
        throws(TransferError)
    {
        precondition(rows.lowerBound % deflate.chunkRows == 0 && destination.count == rows.count * deflate.rowBytes)
        for starts in batches(rows) {
            do throws(HDF5Error) {
                for (slot, start) in starts.enumerated() {
                    let size = try dataset.storedChunkSize(at: offset(ofChunkAt: start))
                    let raw = slots[slot].stored(capacity: size)
                    let mask = try dataset.readRawChunk(at: offset(ofChunkAt: start), into: raw)
                    guard mask == 0 else {
                        throw HDF5Error(
                            operation: "H5Dread_chunk '\(dataset.path)' at \(start)",
                            stack: ["filters were skipped for this chunk (mask \(mask))"])
                    }
                    slots[slot].storedCount = size
                }
            } catch {
                throw .hdf5(error)
            }
            // Each slot decodes into its own chunk's rows.
            let target = Unchecked(destination)
            let codec = self
            try codec.eachSlot(starts) { (slot) throws(ChunkCodingError) in
                try codec.slots[slot].decode(
                    into: UnsafeMutableRawBufferPointer(
                        rebasing: target.value[codec.bytes(ofSlot: slot, starts, in: rows)]),
                    shuffledElementSize: codec.deflate.shuffledElementSize)
            }
        }
    }

    /// Where in a buffer of samples `rows` the chunk of slot `slot` (first sample `starts[slot]`) lies:
    /// a whole chunk, or the part of the last one that `rows` reaches.
    private func bytes(ofSlot slot: Int, _ starts: [Int], in rows: Range<Int>) -> Range<Int> {
        let first = starts[slot] - rows.lowerBound
        let used = min(deflate.chunkRows, rows.upperBound - starts[slot])
        return first * deflate.rowBytes..<(first + used) * deflate.rowBytes
    }

    /// Writes samples `rows` (starting on a chunk boundary) from `source`.
    func write(rows: Range<Int>, of dataset: borrowing Dataset, from source: UnsafeRawBufferPointer)
        throws(TransferError)
    {
        precondition(rows.lowerBound % deflate.chunkRows == 0 && source.count == rows.count * deflate.rowBytes)
        for starts in batches(rows) {
            let from = Unchecked(source)
            let codec = self
            try codec.eachSlot(starts) { (slot) throws(ChunkCodingError) in
                try codec.slots[slot].encode(
                    UnsafeRawBufferPointer(rebasing: from.value[codec.bytes(ofSlot: slot, starts, in: rows)]),
                    shuffledElementSize: codec.deflate.shuffledElementSize, level: codec.deflate.level)
            }
            do throws(HDF5Error) {
                for (slot, start) in starts.enumerated() {
                    try dataset.writeRawChunk(at: offset(ofChunkAt: start), bytes: slots[slot].encoded)
                }
            } catch {
                throw .hdf5(error)
            }
        }
    }

    /// Codes the chunks of one batch, one per slot, each on its own thread; the first
    /// failure (in chunk order) is thrown with the sample its chunk starts at.
    private func eachSlot(_ starts: [Int], _ body: (Int) throws(ChunkCodingError) -> Void) throws(TransferError) {
        let failures = UnsafeMutableBufferPointer<ChunkCodingError?>.allocate(capacity: starts.count)
        failures.initialize(repeating: nil)
        defer { failures.deallocate() }
        // Each worker writes only its own slot's entry.
        let shared = Unchecked(failures)
        concurrently(starts.count) { slot in
            do throws(ChunkCodingError) { try body(slot) } catch { shared.value[slot] = error }
        }
        if let bad = failures.indices.first(where: { failures[$0] != nil }), let error = failures[bad] {
            throw .codec(error, sample: starts[bad])
        }
    }

    /// One chunk per slot on its own thread, through the kernel's parallel loop.
    private func concurrently(_ count: Int, _ body: (Int) -> Void) {
        ParallelLoop(threadCount: slots.count).run(taskCount: count) { slots, _ in
            for slot in slots { body(slot) }
        }
    }
}

/// Chunks of whole samples filtered with [shuffle,] deflate, of native little-endian floats
/// (16, 32 or 64 bits): the layout `ParallelDeflate` moves.
struct DeflateLayout: ChunkLayout {
    let chunkRows: Int
    /// Bytes of one sample in the file type.
    let rowBytes: Int
    let elementSize: Int
    let shuffled: Bool
    /// Deflate level of written chunks.
    let level: Int
    let rank: Int

    /// nil unless every chunk spans whole samples and the only filters are [shuffle,] deflate.
    init?(creation: DatasetCreation, shape: [Int], elementType: ElementType) {
        guard let chunk = creation.chunkShape, chunk.count == shape.count, shape.count >= 2,
            Array(chunk.dropFirst()) == Array(shape.dropFirst()), chunk[0] >= 1,
            case .float(let bits, false) = elementType, [16, 32, 64].contains(bits)
        else { return nil }
        let elementSize = bits / 8
        var shuffled = false
        var level: Int? = nil
        for (index, filter) in creation.filters.enumerated() {
            switch filter {
            case .shuffle where index == 0: shuffled = true
            case .deflate(let value) where index == creation.filters.count - 1: level = value
            default: return nil
            }
        }
        // A validated geometry bounds the dataset's bytes; the chunk's rows may exceed its samples.
        guard let level, let rowBytes = SizeArithmetic.product(shape.dropFirst() + [elementSize]), rowBytes > 0,
            let chunkBytes = SizeArithmetic.product(chunk[0], rowBytes),
            ZlibChunkSlot.slotBytes(chunkBytes: chunkBytes, level: 9) != nil
        else { return nil }
        chunkRows = chunk[0]
        self.rowBytes = rowBytes
        self.elementSize = elementSize
        self.shuffled = shuffled
        self.level = level
        rank = shape.count
    }

    var chunkBytes: Int { chunkRows * rowBytes }

    var shuffledElementSize: Int? { shuffled ? elementSize : nil }

    func budgeted(writing: Bool) -> MemoryPlan.Codec {
        MemoryPlan.Codec(
            chunkRows: chunkRows,
            slotBytes: ZlibChunkSlot.slotBytes(chunkBytes: chunkBytes, level: writing ? level : nil)!)
    }

    func codec(slotCount: Int) -> any ChunkCodec { ParallelDeflate(self, slotCount: slotCount) }
}
