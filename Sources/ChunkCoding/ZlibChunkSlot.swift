internal import CDeflate
internal import CISAL

/// One chunk of HDF5's deflate filter (optionally after shuffle) in flight: its buffers,
/// reused for every chunk, and the codecs behind one face — libdeflate for inflating and
/// for gzip levels 4–9, ISA-L's igzip for levels 1–3. The streams are ordinary zlib
/// streams, as HDF5's own filter writes and reads them.
///
/// A slot is used by one thread at a time: the I/O thread between batches, a worker during one
/// (UncheckedSendability.swift).
public final class ZlibChunkSlot {
    /// Bytes of one plain chunk.
    public let chunkBytes: Int
    private let plain: UnsafeMutableRawBufferPointer
    private var storedBytes: UnsafeMutableRawBufferPointer
    /// Bytes of the stored chunk in `stored(capacity:)`'s buffer.
    public var storedCount = 0
    private let encodedCapacity: Int
    /// Allocated by the first chunk deflated: a reading slot never holds one.
    private var encodedBuffer: UnsafeMutableRawBufferPointer?
    private var encodedCount = 0
    private let decompressor: OpaquePointer
    private var levelBuffer: UnsafeMutableRawBufferPointer?
    private var compressor: OpaquePointer?

    public init(chunkBytes: Int) {
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

    /// Bytes a slot holds for chunks of `chunkBytes`: the plain chunk, and a stored (reading)
    /// or encoded (writing, `level` given) one, up to 1/8 larger plus 1 KiB; and the codec's
    /// state: ISA-L's level buffer, libdeflate's matchfinder (under 1 MiB) or decompressor.
    /// nil when that overflows.
    public static func slotBytes(chunkBytes: Int, level: Int?) -> Int? {
        let state: Int
        switch level {
        case nil: state = 64 << 10
        case let level? where level <= 3: state = Int(cisal_level_buffer_size(UInt32(max(1, level))))
        default: state = 1 << 20
        }
        var total = chunkBytes
        for part in [chunkBytes / 8 + 1024, chunkBytes, state] {
            let (sum, overflow) = total.addingReportingOverflow(part)
            if overflow { return nil }
            total = sum
        }
        return total
    }

    /// A buffer for a stored chunk of `capacity` bytes (grown when a chunk is larger).
    public func stored(capacity: Int) -> UnsafeMutableRawBufferPointer {
        if capacity > storedBytes.count {
            storedBytes.deallocate()
            storedBytes = .allocate(byteCount: capacity, alignment: 64)
        }
        return UnsafeMutableRawBufferPointer(rebasing: storedBytes[0..<capacity])
    }

    /// The last chunk `encode` made.
    public var encoded: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: encodedBytes[0..<encodedCount])
    }

    /// Inflates the stored chunk and writes its first `destination.count` bytes there,
    /// unshuffled when `shuffledElementSize` is given.
    public func decode(into destination: UnsafeMutableRawBufferPointer, shuffledElementSize: Int?)
        throws(ChunkCodingError)
    {
        var produced = 0
        let result = libdeflate_zlib_decompress(
            decompressor, storedBytes.baseAddress, storedCount, plain.baseAddress, chunkBytes, &produced)
        guard result == LIBDEFLATE_SUCCESS, produced == chunkBytes else {
            throw .corruptStream(result: Int32(result.rawValue))
        }
        if let elementSize = shuffledElementSize {
            ByteShuffle.unshuffle(UnsafeRawBufferPointer(plain), elementSize: elementSize, into: destination)
        } else {
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: plain[0..<destination.count]))
        }
    }

    /// Shuffles (when `shuffledElementSize` is given) and deflates `source`, zero-padded to
    /// a whole chunk, at gzip `level`; the stream is then `encoded`.
    public func encode(_ source: UnsafeRawBufferPointer, shuffledElementSize: Int?, level: Int) throws(ChunkCodingError)
    {
        if let elementSize = shuffledElementSize {
            ByteShuffle.shuffle(source, elementSize: elementSize, chunkBytes: chunkBytes, into: plain)
        } else {
            plain.copyMemory(from: source)
            if source.count < chunkBytes {
                plain[source.count...].initializeMemory(as: UInt8.self, repeating: 0)
            }
        }
        encodedCount = level <= 3 ? deflateFast(level: level) : deflateSmall(level: level)
        guard encodedCount > 0 else { throw .compressorFailed(codec: level <= 3 ? "ISA-L igzip" : "libdeflate") }
    }

    private var encodedBytes: UnsafeMutableRawBufferPointer {
        if let encodedBuffer { return encodedBuffer }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: encodedCapacity, alignment: 64)
        encodedBuffer = buffer
        return buffer
    }

    /// ISA-L's igzip at its level 1–3 for gzip levels 1–3: a zlib stream; 0 on failure.
    private func deflateFast(level: Int) -> Int {
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
    private func deflateSmall(level: Int) -> Int {
        if compressor == nil { compressor = libdeflate_alloc_compressor(Int32(level)) }
        guard let compressor else { return 0 }
        return libdeflate_zlib_compress(
            compressor, plain.baseAddress, chunkBytes, encodedBytes.baseAddress, encodedCapacity)
    }
}
