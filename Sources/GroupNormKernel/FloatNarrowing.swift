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
        precondition(source.count == destination.count, "\(source.count) doubles into \(destination.count) floats")
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        let count = source.count
        let blocks = (count + blockLength - 1) / blockLength
        let target = SharedPointer(base: output)
        ParallelLoop(threadCount: threadCount).run(taskCount: blocks) { tasks, _ in
            for block in tasks {
                let start = block * blockLength
                for index in start..<min(count, start + blockLength) { target.base[index] = Float(input[index]) }
            }
        }
    }
}
