internal import CDeflate
internal import CISAL
import Dispatch
import HDF5

/// Reads and writes gzip(+shuffle) datasets whose chunks hold whole samples,
/// chunk by chunk: raw chunks move through HDF5 on the calling thread
/// (`H5Dread_chunk` / `H5Dwrite_chunk`), while inflating, deflating and
/// (un)shuffling run on every core with libdeflate. HDF5's own filter is
/// serial zlib, ~10× slower per core when compressing; the chunks written here
/// are ordinary zlib streams that any HDF5 reader inflates.
struct ParallelDeflate {
    /// Samples per chunk (the chunk's extent along axis 0).
    let chunkRows: Int
    /// Bytes of one sample in the file type.
    let rowBytes: Int
    let elementSize: Int
    let shuffled: Bool
    /// Deflate level of written chunks.
    let level: Int
    let rank: Int
    /// One set of buffers per chunk in flight, reused for every chunk: fresh
    /// pages cost more than inflating them (first touch runs at ~1.5 GB/s).
    private let slots: [ChunkScratch]

    /// A codec for `creation` when every chunk spans whole samples and the only
    /// filters are [shuffle,] deflate, with native little-endian floats (16, 32 or 64 bits),
    /// moving up to `slotCount` chunks at once, each inflated or deflated on its own thread.
    init?(creation: DatasetCreation, shape: [Int], elementType: ElementType, slotCount: Int) {
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
            Self.slotBytes(chunkBytes: chunkBytes, level: 9) != nil
        else { return nil }
        chunkRows = chunk[0]
        self.rowBytes = rowBytes
        self.elementSize = elementSize
        self.shuffled = shuffled
        self.level = level
        rank = shape.count
        // No slots: a codec that only tells its chunk layout (what `MemoryPlan` needs).
        slots = (0..<max(0, slotCount)).map { _ in ChunkScratch(chunkBytes: chunkBytes) }
    }

    var chunkBytes: Int { chunkRows * rowBytes }

    /// How many chunks move at once: one thread each.
    var slotCount: Int { slots.count }

    /// Its chunk rows and the bytes of one slot, for `MemoryPlan`.
    func budgeted(writing: Bool) -> MemoryPlan.Codec {
        MemoryPlan.Codec(
            chunkRows: chunkRows, slotBytes: Self.slotBytes(chunkBytes: chunkBytes, level: writing ? level : nil)!)
    }

    /// Bytes one slot holds for chunks of `chunkBytes`: the plain chunk, and a stored
    /// (reading) or encoded (writing) one, up to 1/8 larger plus 1 KiB; and the codec's
    /// state: ISA-L's level buffer, libdeflate's matchfinder (under 1 MiB) or decompressor.
    static func slotBytes(chunkBytes: Int, level: Int?) -> Int? {
        let state: Int
        switch level {
        case nil: state = 64 << 10
        case let level? where level <= 3: state = Int(cisal_level_buffer_size(UInt32(max(1, level))))
        default: state = 1 << 20
        }
        guard let packed = SizeArithmetic.sum(chunkBytes, chunkBytes / 8 + 1024),
            let both = SizeArithmetic.sum(packed, chunkBytes)
        else { return nil }
        return SizeArithmetic.sum(both, state)
    }

    private func offset(ofChunkAt row: Int) -> [Int] {
        [row] + Array(repeating: 0, count: rank - 1)
    }

    /// Chunk starts of `rows`, in batches of one chunk per slot.
    private func batches(_ rows: Range<Int>) -> [[Int]] {
        let starts = Array(stride(from: rows.lowerBound, to: rows.upperBound, by: chunkRows))
        return stride(from: 0, to: starts.count, by: slots.count).map {
            Array(starts[$0..<min(starts.count, $0 + slots.count)])
        }
    }

    /// Reads samples `rows` (starting on a chunk boundary) into `destination`.
    func read(rows: Range<Int>, of dataset: borrowing Dataset, into destination: UnsafeMutableRawBufferPointer)
        throws(HDF5Error)
    {
        precondition(rows.lowerBound % chunkRows == 0 && destination.count == rows.count * rowBytes)
        for starts in batches(rows) {
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
            nonisolated(unsafe) let target = destination
            let codec = self
            concurrently(starts.count) { slot in
                let first = starts[slot] - rows.lowerBound
                let used = min(codec.chunkRows, rows.upperBound - starts[slot])
                codec.slots[slot].failure = codec.decode(
                    slot,
                    into: UnsafeMutableRawBufferPointer(
                        rebasing: target[first * codec.rowBytes..<(first + used) * codec.rowBytes]))
            }
            if let bad = starts.indices.first(where: { slots[$0].failure != 0 }) {
                throw HDF5Error(
                    operation: "inflating chunk at sample \(starts[bad]) of '\(dataset.path)'",
                    stack: ["libdeflate: corrupt or truncated deflate stream (result \(slots[bad].failure))"])
            }
        }
    }

    /// Writes samples `rows` (starting on a chunk boundary) from `source`.
    func write(rows: Range<Int>, of dataset: borrowing Dataset, from source: UnsafeRawBufferPointer) throws(HDF5Error) {
        precondition(rows.lowerBound % chunkRows == 0 && source.count == rows.count * rowBytes)
        for starts in batches(rows) {
            nonisolated(unsafe) let from = source
            let codec = self
            concurrently(starts.count) { slot in
                let first = starts[slot] - rows.lowerBound
                let used = min(codec.chunkRows, rows.upperBound - starts[slot])
                codec.encode(
                    slot,
                    UnsafeRawBufferPointer(rebasing: from[first * codec.rowBytes..<(first + used) * codec.rowBytes]))
            }
            for (slot, start) in starts.enumerated() {
                guard slots[slot].encodedCount > 0 else {
                    throw HDF5Error(
                        operation: "deflating chunk at sample \(start) of '\(dataset.path)'",
                        stack: ["compressor failed"])
                }
                try dataset.writeRawChunk(at: offset(ofChunkAt: start), bytes: slots[slot].encoded)
            }
        }
    }

    /// Inflates the chunk stored in `slot` and unshuffles its first `destination.count` bytes; 0 on success.
    private func decode(_ slot: Int, into destination: UnsafeMutableRawBufferPointer) -> Int32 {
        let scratch = slots[slot]
        var produced = 0
        let result = libdeflate_zlib_decompress(
            scratch.decompressor, scratch.storedBytes.baseAddress, scratch.storedCount,
            scratch.plain.baseAddress, chunkBytes, &produced)
        guard result == LIBDEFLATE_SUCCESS, produced == chunkBytes else { return Int32(result.rawValue) + 100 }
        if shuffled {
            Self.unshuffle(UnsafeRawBufferPointer(scratch.plain), elementSize: elementSize, into: destination)
        } else {
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch.plain[0..<destination.count]))
        }
        return 0
    }

    /// Shuffles (when asked) and deflates `source`, zero-padded to a whole chunk, into `slot`.
    private func encode(_ slot: Int, _ source: UnsafeRawBufferPointer) {
        let scratch = slots[slot]
        if shuffled {
            Self.shuffle(source, elementSize: elementSize, chunkBytes: chunkBytes, into: scratch.plain)
        } else {
            scratch.plain.copyMemory(from: source)
            if source.count < chunkBytes {
                scratch.plain[source.count...].initializeMemory(as: UInt8.self, repeating: 0)
            }
        }
        scratch.encodedCount = level <= 3 ? scratch.deflateFast(level: level) : scratch.deflateSmall(level: level)
    }

    /// HDF5's shuffle: byte b of element i goes to b·count + i, for `chunkBytes / elementSize`
    /// elements of which `source` holds the first ones and the rest are zero.
    static func shuffle(
        _ source: UnsafeRawBufferPointer, elementSize: Int, chunkBytes: Int, into target: UnsafeMutableRawBufferPointer
    ) {
        let count = chunkBytes / elementSize
        let used = source.count / elementSize
        guard count > 0, let to = target.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let from = source.baseAddress?.assumingMemoryBound(to: UInt8.self)
        for byte in 0..<elementSize {
            let lane = to + byte * count
            var element = 0
            if let from {
                while element < used {
                    lane[element] = from[element &* elementSize &+ byte]
                    element &+= 1
                }
            }
            (lane + used).initialize(repeating: 0, count: count - used)
        }
    }

    /// The inverse of `shuffle`, writing only the first `target.count` bytes.
    static func unshuffle(
        _ source: UnsafeRawBufferPointer, elementSize: Int, into target: UnsafeMutableRawBufferPointer
    ) {
        let count = source.count / elementSize
        let used = target.count / elementSize
        guard used > 0, let from = source.baseAddress?.assumingMemoryBound(to: UInt8.self),
            let to = target.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return }
        for byte in 0..<elementSize {
            let lane = from + byte * count
            var element = 0
            while element < used {
                to[element &* elementSize &+ byte] = lane[element]
                element &+= 1
            }
        }
    }

    private func concurrently(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if slots.count <= 1 || count <= 1 {
            for index in 0..<count { body(index) }
        } else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }
}

/// The buffers of one chunk in flight. Each is touched by one thread at a time:
/// the I/O thread between batches, slot `i`'s worker during one.
private final class ChunkScratch: @unchecked Sendable {
    let chunkBytes: Int
    let plain: UnsafeMutableRawBufferPointer
    private(set) var storedBytes: UnsafeMutableRawBufferPointer
    var storedCount = 0
    let encodedCapacity: Int
    /// Allocated by the first chunk deflated: a reading slot never holds one.
    private var encodedBuffer: UnsafeMutableRawBufferPointer?
    var encodedBytes: UnsafeMutableRawBufferPointer {
        if let encodedBuffer { return encodedBuffer }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: encodedCapacity, alignment: 64)
        encodedBuffer = buffer
        return buffer
    }
    var encodedCount = 0
    var failure: Int32 = 0
    let decompressor: OpaquePointer
    private var levelBuffer: UnsafeMutableRawBufferPointer?
    private var compressor: OpaquePointer?

    init(chunkBytes: Int) {
        self.chunkBytes = chunkBytes
        plain = .allocate(byteCount: chunkBytes, alignment: 64)
        // Grown to the first stored chunk's size when reading: a writing slot never holds one.
        storedBytes = .allocate(byteCount: 0, alignment: 64)
        encodedCapacity = chunkBytes + chunkBytes / 8 + 1024
        decompressor = libdeflate_alloc_decompressor()!
    }

    deinit {
        plain.deallocate()
        storedBytes.deallocate()
        encodedBuffer?.deallocate()
        levelBuffer?.deallocate()
        libdeflate_free_decompressor(decompressor)
        if let compressor { libdeflate_free_compressor(compressor) }
    }

    /// A buffer for a stored chunk of `capacity` bytes (grown when a chunk is larger).
    func stored(capacity: Int) -> UnsafeMutableRawBufferPointer {
        if capacity > storedBytes.count {
            storedBytes.deallocate()
            storedBytes = .allocate(byteCount: capacity, alignment: 64)
        }
        return UnsafeMutableRawBufferPointer(rebasing: storedBytes[0..<capacity])
    }

    var encoded: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: encodedBytes[0..<encodedCount]) }

    /// ISA-L's igzip at its level 1–3 for gzip levels 1–3: a zlib stream; 0 on failure.
    func deflateFast(level: Int) -> Int {
        let isalLevel = UInt32(min(3, max(1, level)))
        let size = Int(cisal_level_buffer_size(isalLevel))
        if levelBuffer == nil || levelBuffer!.count < size {
            levelBuffer?.deallocate()
            levelBuffer = .allocate(byteCount: size, alignment: 64)
        }
        var stream = isal_zstream()
        isal_deflate_stateless_init(&stream)
        stream.next_in = plain.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_in = UInt32(chunkBytes)
        stream.next_out = encodedBytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(clamping: encodedCapacity)
        stream.level = isalLevel
        stream.level_buf = levelBuffer!.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.level_buf_size = UInt32(size)
        stream.gzip_flag = cisal_zlib_wrapper()
        stream.end_of_stream = 1
        guard isal_deflate_stateless(&stream) == cisal_comp_ok() else { return 0 }
        return Int(stream.total_out)
    }

    /// libdeflate at gzip levels 4–9 (same or better ratio than zlib at the same level); 0 on failure.
    func deflateSmall(level: Int) -> Int {
        if compressor == nil { compressor = libdeflate_alloc_compressor(Int32(level)) }
        guard let compressor else { return 0 }
        return libdeflate_zlib_compress(
            compressor, plain.baseAddress, chunkBytes, encodedBytes.baseAddress, encodedCapacity)
    }
}
