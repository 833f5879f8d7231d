internal import CDeflate
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
    let threadCount: Int
    let sampleCount: Int
    let rank: Int

    /// A codec for `creation` when every chunk spans whole samples and the only
    /// filters are [shuffle,] deflate, with native little-endian floats of `elementSize` bytes.
    init?(creation: DatasetCreation, shape: [Int], elementType: ElementType, elementSize: Int, threadCount: Int) {
        guard let chunk = creation.chunkShape, chunk.count == shape.count, shape.count >= 2,
              Array(chunk.dropFirst()) == Array(shape.dropFirst()), chunk[0] >= 1,
              case .float(let bits, false) = elementType, bits / 8 == elementSize
        else { return nil }
        var shuffled = false
        var level: Int? = nil
        for (index, filter) in creation.filters.enumerated() {
            switch filter {
            case .shuffle where index == 0: shuffled = true
            case .deflate(let value) where index == creation.filters.count - 1: level = value
            default: return nil
            }
        }
        guard let level else { return nil }
        chunkRows = chunk[0]
        rowBytes = shape.dropFirst().reduce(elementSize, *)
        self.elementSize = elementSize
        self.shuffled = shuffled
        self.level = level
        self.threadCount = threadCount
        sampleCount = shape[0]
        rank = shape.count
        guard rowBytes > 0 else { return nil }
    }

    var chunkBytes: Int { chunkRows * rowBytes }

    private func offset(ofChunkAt row: Int) -> [Int] {
        [row] + Array(repeating: 0, count: rank - 1)
    }

    /// Reads samples `rows` (starting on a chunk boundary) into `destination`.
    func read(rows: Range<Int>, of dataset: borrowing Dataset, into destination: UnsafeMutableRawBufferPointer) throws(HDF5Error) {
        precondition(rows.lowerBound % chunkRows == 0 && destination.count == rows.count * rowBytes)
        // Chunks go through in batches of one per thread, bounding the compressed and scratch copies.
        let all = Array(stride(from: rows.lowerBound, to: rows.upperBound, by: chunkRows))
        for batch in stride(from: 0, to: all.count, by: max(1, threadCount)) {
            try readBatch(Array(all[batch ..< min(all.count, batch + max(1, threadCount))]), rows: rows, of: dataset, into: destination)
        }
    }

    private func readBatch(
        _ starts: [Int], rows: Range<Int>, of dataset: borrowing Dataset, into destination: UnsafeMutableRawBufferPointer
    ) throws(HDF5Error) {
        var chunks: [[UInt8]] = []
        for start in starts {
            let (bytes, mask) = try dataset.readRawChunk(at: offset(ofChunkAt: start))
            guard mask == 0 else {
                throw HDF5Error(operation: "H5Dread_chunk '\(dataset.path)' at \(start)", stack: ["filters were skipped for this chunk (mask \(mask))"])
            }
            chunks.append(bytes)
        }
        let rawChunks = chunks
        let failures = UnsafeMutableBufferPointer<Int32>.allocate(capacity: starts.count)
        defer { failures.deallocate() }
        failures.initialize(repeating: 0)
        nonisolated(unsafe) let target = destination
        nonisolated(unsafe) let failed = failures
        let codec = self
        concurrently(starts.count) { index in
            let rowsInChunk = min(codec.chunkRows, rows.upperBound - starts[index])
            let into = UnsafeMutableRawBufferPointer(
                rebasing: target[(starts[index] - rows.lowerBound) * codec.rowBytes ..< (starts[index] - rows.lowerBound + rowsInChunk) * codec.rowBytes])
            failed[index] = codec.decode(rawChunks[index], into: into)
        }
        if let bad = failures.firstIndex(where: { $0 != 0 }) {
            throw HDF5Error(operation: "inflating chunk at sample \(starts[bad]) of '\(dataset.path)'",
                            stack: ["libdeflate: corrupt or truncated deflate stream (result \(failures[bad]))"])
        }
    }

    /// Writes samples `rows` (starting on a chunk boundary) from `source`.
    func write(rows: Range<Int>, of dataset: borrowing Dataset, from source: UnsafeRawBufferPointer) throws(HDF5Error) {
        precondition(rows.lowerBound % chunkRows == 0 && source.count == rows.count * rowBytes)
        let all = Array(stride(from: rows.lowerBound, to: rows.upperBound, by: chunkRows))
        for batch in stride(from: 0, to: all.count, by: max(1, threadCount)) {
            try writeBatch(Array(all[batch ..< min(all.count, batch + max(1, threadCount))]), rows: rows, of: dataset, from: source)
        }
    }

    private func writeBatch(
        _ starts: [Int], rows: Range<Int>, of dataset: borrowing Dataset, from source: UnsafeRawBufferPointer
    ) throws(HDF5Error) {
        let encoded = UnsafeMutableBufferPointer<[UInt8]>.allocate(capacity: starts.count)
        encoded.initialize(repeating: [])
        defer { encoded.deinitialize().deallocate() }
        nonisolated(unsafe) let from = source
        nonisolated(unsafe) let results = encoded
        let codec = self
        concurrently(starts.count) { index in
            let rowsInChunk = min(codec.chunkRows, rows.upperBound - starts[index])
            let begin = (starts[index] - rows.lowerBound) * codec.rowBytes
            results[index] = codec.encode(UnsafeRawBufferPointer(rebasing: from[begin ..< begin + rowsInChunk * codec.rowBytes]))
        }
        for (index, start) in starts.enumerated() {
            guard !encoded[index].isEmpty else {
                throw HDF5Error(operation: "deflating chunk at sample \(start) of '\(dataset.path)'", stack: ["libdeflate failed"])
            }
            let chunk = encoded[index]
            let status = chunk.withUnsafeBytes { bytes -> HDF5Error? in
                do throws(HDF5Error) { try dataset.writeRawChunk(at: offset(ofChunkAt: start), bytes: bytes) } catch { return error }
                return nil
            }
            if let status { throw status }
        }
    }

    /// Inflates one chunk and unshuffles its first `into.count` bytes; 0 on success.
    private func decode(_ chunk: [UInt8], into destination: UnsafeMutableRawBufferPointer) -> Int32 {
        guard let decompressor = libdeflate_alloc_decompressor() else { return -1 }
        defer { libdeflate_free_decompressor(decompressor) }
        let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { plain.deallocate() }
        var produced = 0
        let result = chunk.withUnsafeBytes { input in
            libdeflate_zlib_decompress(decompressor, input.baseAddress, input.count, plain.baseAddress, chunkBytes, &produced)
        }
        guard result == LIBDEFLATE_SUCCESS, produced == chunkBytes else { return Int32(result.rawValue) + 100 }
        if shuffled {
            Self.unshuffle(UnsafeRawBufferPointer(plain), elementSize: elementSize, into: destination)
        } else {
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: plain[0 ..< destination.count]))
        }
        return 0
    }

    /// Shuffles (when asked) and deflates `rows` bytes, zero-padded to a whole chunk.
    private func encode(_ source: UnsafeRawBufferPointer) -> [UInt8] {
        let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { plain.deallocate() }
        let padded = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { padded.deallocate() }
        padded.copyMemory(from: source)
        if source.count < chunkBytes { padded[source.count...].initializeMemory(as: UInt8.self, repeating: 0) }
        if shuffled {
            Self.shuffle(UnsafeRawBufferPointer(padded), elementSize: elementSize, into: plain)
        } else {
            plain.copyMemory(from: UnsafeRawBufferPointer(padded))
        }
        guard let compressor = libdeflate_alloc_compressor(Int32(level)) else { return [] }
        defer { libdeflate_free_compressor(compressor) }
        let bound = libdeflate_zlib_compress_bound(compressor, chunkBytes)
        var output = [UInt8](repeating: 0, count: bound)
        let size = output.withUnsafeMutableBytes {
            libdeflate_zlib_compress(compressor, plain.baseAddress, chunkBytes, $0.baseAddress, bound)
        }
        guard size > 0 else { return [] }
        output.removeLast(bound - size)
        return output
    }

    /// HDF5's shuffle: byte b of element i goes to b·count + i.
    static func shuffle(_ source: UnsafeRawBufferPointer, elementSize: Int, into target: UnsafeMutableRawBufferPointer) {
        let count = source.count / elementSize
        guard count > 0, let from = source.baseAddress?.assumingMemoryBound(to: UInt8.self),
              let to = target.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        for byte in 0..<elementSize {
            let lane = to + byte * count
            var element = 0
            while element < count {
                lane[element] = from[element &* elementSize &+ byte]
                element &+= 1
            }
        }
    }

    /// The inverse of `shuffle`, writing only the first `target.count` bytes.
    static func unshuffle(_ source: UnsafeRawBufferPointer, elementSize: Int, into target: UnsafeMutableRawBufferPointer) {
        let count = source.count / elementSize
        let used = target.count / elementSize
        guard used > 0, let from = source.baseAddress?.assumingMemoryBound(to: UInt8.self),
              let to = target.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
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
        if threadCount <= 1 || count <= 1 {
            for index in 0..<count { body(index) }
        } else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }
}
