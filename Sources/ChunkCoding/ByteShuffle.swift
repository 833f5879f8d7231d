/// HDF5's shuffle filter: byte b of element i goes to b·count + i, so that the bytes of
/// equal significance sit together and deflate better.
public enum ByteShuffle {
    /// Shuffles the elements of `source`, zero-padded to `chunkBytes / elementSize` elements, into `target`.
    public static func shuffle(
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
    public static func unshuffle(
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
}
