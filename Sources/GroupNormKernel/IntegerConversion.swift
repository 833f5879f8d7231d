/// Integer data widened to the compute type, in gnorm rather than through libhdf5's
/// per-element conversion path (which spent seconds of user time on 512 MiB of uint8).
///
/// Every integer up to 32 bits is exact as a Double; 64-bit integers round to nearest,
/// ties to even, as the hardware conversion does (exact up to 2^53).
public enum IntegerConversion {
    /// Values per parallel task.
    public static let blockLength = 1 << 16

    /// Writes `Double(source[i])` to `destination[i]`, on up to `threadCount` threads.
    @_specialize(exported:true,where Source == UInt8)
    @_specialize(exported:true,where Source == Int8)
    @_specialize(exported:true,where Source == UInt16)
    @_specialize(exported:true,where Source == Int16)
    @_specialize(exported:true,where Source == UInt32)
    @_specialize(exported:true,where Source == Int32)
    @_specialize(exported:true,where Source == UInt64)
    @_specialize(exported:true,where Source == Int64)
    public static func widen<Source: FixedWidthInteger>(
        _ source: UnsafeBufferPointer<Source>, into destination: UnsafeMutableBufferPointer<Double>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            widenBlock(input + elements.lowerBound, output.base + elements.lowerBound, count: elements.count)
        }
    }

    /// Writes `Float(source[i])` to `destination[i]`, on up to `threadCount` threads: exact for
    /// integers of up to 24 bits (the pipeline widens those of up to 16 bits to Float).
    @_specialize(exported:true,where Source == UInt8)
    @_specialize(exported:true,where Source == Int8)
    @_specialize(exported:true,where Source == UInt16)
    @_specialize(exported:true,where Source == Int16)
    public static func widen<Source: FixedWidthInteger>(
        _ source: UnsafeBufferPointer<Source>, into destination: UnsafeMutableBufferPointer<Float>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            widenBlock(input + elements.lowerBound, output.base + elements.lowerBound, count: elements.count)
        }
    }

    /// One block, a plain loop that the compiler vectorizes for each integer width.
    @inline(__always)
    static func widenBlock<Source: FixedWidthInteger>(
        _ input: UnsafePointer<Source>, _ output: UnsafeMutablePointer<Double>, count: Int
    ) {
        for index in 0..<count { output[index] = Double(input[index]) }
    }

    @inline(__always)
    static func widenBlock<Source: FixedWidthInteger>(
        _ input: UnsafePointer<Source>, _ output: UnsafeMutablePointer<Float>, count: Int
    ) {
        for index in 0..<count { output[index] = Float(input[index]) }
    }
}
