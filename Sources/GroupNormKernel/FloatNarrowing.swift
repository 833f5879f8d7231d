/// float64 results stored as float32, narrowed by gnorm on every core rather than by
/// libhdf5's conversion path (one thread, through a 1 MiB conversion buffer).
///
/// `Float(_:)` rounds to nearest, ties to even, as libhdf5's hardware conversion does.
public enum FloatNarrowing {
    /// Values per parallel task.
    public static let blockLength = 1 << 16

    /// Writes `Float(source[i])` to `destination[i]`, on up to `threadCount` threads.
    public static func narrow(
        _ source: UnsafeBufferPointer<Double>, into destination: UnsafeMutableBufferPointer<Float>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            for index in elements { output.base[index] = Float(input[index]) }
        }
    }
}
