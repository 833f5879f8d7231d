/// Calls `body` with fixed blocks of `blockLength` of `source`'s indices, spread over up to
/// `threadCount` threads: the conversions' loop (float16, integers, float64 → float32). The
/// blocks do not depend on the thread count, so neither do the results.
@inline(__always)
func inParallelBlocks<Source, Target>(
    _ source: UnsafeBufferPointer<Source>, _ destination: UnsafeMutableBufferPointer<Target>, blockLength: Int,
    threadCount: Int,
    _ body: (_ elements: Range<Int>, _ input: UnsafePointer<Source>, _ output: SharedPointer<Target>) -> Void
) {
    precondition(source.count == destination.count, "\(source.count) values into \(destination.count)")
    let count = source.count
    guard count > 0, let input = source.baseAddress, let output = destination.baseAddress else { return }
    let inputBytes = UnsafeRawPointer(input)..<UnsafeRawPointer(input + count)
    let outputBytes = UnsafeRawPointer(output)..<UnsafeRawPointer(output + count)
    precondition(!inputBytes.overlaps(outputBytes), "source and destination overlap")
    let target = SharedPointer(base: output)
    let blockCount = (count + blockLength - 1) / blockLength
    ParallelLoop(threadCount: threadCount).run(taskCount: blockCount) { blocks, _ in
        body(blocks.lowerBound * blockLength..<min(count, blocks.upperBound * blockLength), input, target)
    }
}
