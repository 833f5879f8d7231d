import ChunkCoding
import Testing

/// The chunk codec face against independent references: zlib streams made by Python's
/// zlib module, and HDF5's shuffle written out element by element.
@Suite struct ChunkCodingTests {
    /// 1024 bytes of [0, 0, 0, 1] and `zlib.compress(data, 9)` of them (Python 3.11).
    static let plain = [UInt8]((0..<256).flatMap { _ in [0, 0, 0, 1] as [UInt8] })

    func decoded(_ stream: [UInt8], chunkBytes: Int, shuffledElementSize: Int? = nil) throws -> [UInt8] {
        let slot = ZlibChunkSlot(chunkBytes: chunkBytes)
        let stored = slot.stored(capacity: stream.count)
        stored.copyBytes(from: stream)
        slot.storedCount = stream.count
        var output = [UInt8](repeating: 0xAA, count: chunkBytes)
        try output.withUnsafeMutableBytes { try slot.decode(into: $0, shuffledElementSize: shuffledElementSize) }
        return output
    }

    @Test func zlibStreamsFromPythonInflate() throws {
        let stream = Self.pythonStream
        #expect(try decoded(stream, chunkBytes: 1024) == Self.plain)
        // Read back as shuffled 4-byte elements: 256 elements whose bytes are lanes of 256.
        let unshuffled = try decoded(stream, chunkBytes: 1024, shuffledElementSize: 4)
        #expect(unshuffled == Self.reference(unshuffle: Self.plain, elementSize: 4))
    }

    @Test func aTruncatedStreamIsACodingError() throws {
        let stream = Self.pythonStream
        #expect(throws: ChunkCodingError.self) { try decoded(Array(stream.dropLast(4)), chunkBytes: 1024) }
    }

    @Test(arguments: [1, 3, 4, 9])
    func encodedChunksInflateToTheShuffledInput(level: Int) throws {
        let values = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) }
        let slot = ZlibChunkSlot(chunkBytes: 1024)
        // A partial last chunk: 1000 bytes of a 1024-byte chunk, the rest zero.
        try values.withUnsafeBytes { try slot.encode($0, shuffledElementSize: 8, level: level) }
        let stream = [UInt8](slot.encoded)
        let padded = values + [UInt8](repeating: 0, count: 24)
        #expect(try decoded(stream, chunkBytes: 1024) == Self.reference(shuffle: padded, elementSize: 8))
        #expect(Array(try decoded(stream, chunkBytes: 1024, shuffledElementSize: 8)) == padded)
    }

    static func reference(shuffle bytes: [UInt8], elementSize: Int) -> [UInt8] {
        let count = bytes.count / elementSize
        return (0..<elementSize).flatMap { byte in (0..<count).map { bytes[$0 * elementSize + byte] } }
    }

    static func reference(unshuffle bytes: [UInt8], elementSize: Int) -> [UInt8] {
        let count = bytes.count / elementSize
        return (0..<count).flatMap { element in (0..<elementSize).map { bytes[$0 * count + element] } }
    }
}

extension ChunkCodingTests {
    static let pythonStream: [UInt8] = [
        120, 218, 99, 96, 96, 96, 100, 24, 197, 163, 120, 20, 143, 72, 12, 0, 3, 30, 1, 1,
    ]
}
