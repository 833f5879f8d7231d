import GroupNormLoops

/// Conversions between IEEE 754 binary16 ("float16", "half") values, carried
/// as their bit patterns in `UInt16`, and `Float` or `Double`.
///
/// Numeric contract, bit for bit that of Swift's `Float16(_:)`, `Float(_:)` and
/// `Double(_:)` on x86-64 (compiler-rt's `__truncsfhf2`, `__truncdfhf2`,
/// `__extendhfsf2`, `__extendhfdf2`):
///
/// - Widening is exact. ±0, subnormals, ±Inf keep their value and sign; a NaN
///   stays a NaN with its sign and payload (moved to the top of the wider
///   significand), and comes out quiet.
/// - Narrowing is correctly rounded, to nearest with ties to even, directly
///   from the source: a `Double` is not rounded to a `Float` first. Halves'
///   subnormals are produced (no flush to zero); magnitudes from 65520 (the
///   midpoint between 65504 and 2^16) up round to ±Inf; ±Inf stay ±Inf; a NaN
///   becomes a quiet NaN with its sign and the top 9 bits of its payload.
///
/// The buffer forms split the work over `threadCount` threads in blocks of
/// `blockLength` elements. Every element, the tail's too, goes through the same
/// SIMD code, so the result never depends on the thread count. Source and
/// destination must have the same length and must not overlap.
///
/// The lanes are GroupNormLoops' (HalfLoops.swift: SIMD bit manipulation, SSE2 only), the
/// ones the kernel's float16 slabs are computed with, so a fused float16 run and these passes
/// around a Float run give the same bits. About 9x (Float) and 6x (Double) faster than the
/// scalar compiler-rt calls.
public enum Float16Conversion {
    /// Elements per parallel task.
    public static let blockLength = 1 << 15

    // MARK: Buffers

    /// Widens float16 bit patterns to `Float`, exactly.
    public static func widen(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            widenHalves(input + elements.lowerBound, output.base + elements.lowerBound, count: elements.count)
        }
    }

    /// Widens float16 bit patterns to `Double`, exactly.
    public static func widen(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Double>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            widenHalves(input + elements.lowerBound, output.base + elements.lowerBound, count: elements.count)
        }
    }

    /// Rounds `Float` values to float16 bit patterns, to nearest with ties to even.
    public static func narrow(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            narrowToHalves(input + elements.lowerBound, output.base + elements.lowerBound, count: elements.count)
        }
    }

    /// Rounds `Double` values to float16 bit patterns, to nearest with ties
    /// to even, in one rounding (never through a rounded `Float`).
    public static func narrow(
        _ source: UnsafeBufferPointer<Double>, into destination: UnsafeMutableBufferPointer<UInt16>, threadCount: Int
    ) {
        inParallelBlocks(source, destination, blockLength: blockLength, threadCount: threadCount) {
            elements, input, output in
            narrowToHalves(input + elements.lowerBound, output.base + elements.lowerBound, count: elements.count)
        }
    }

    /// Widens float16 bit patterns to the kernel's element type, exactly.
    @inlinable
    public static func widen<Element: KernelElement>(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Element>, threadCount: Int
    ) {
        if Element.self == Float.self {
            widen(
                source, into: unsafeBitCast(destination, to: UnsafeMutableBufferPointer<Float>.self),
                threadCount: threadCount)
        } else if Element.self == Double.self {
            widen(
                source, into: unsafeBitCast(destination, to: UnsafeMutableBufferPointer<Double>.self),
                threadCount: threadCount)
        } else {
            preconditionFailure("no float16 conversion for \(Element.self)")
        }
    }

    /// Rounds the kernel's element type to float16 bit patterns, to nearest
    /// with ties to even.
    @inlinable
    public static func narrow<Element: KernelElement>(
        _ source: UnsafeBufferPointer<Element>, into destination: UnsafeMutableBufferPointer<UInt16>, threadCount: Int
    ) {
        if Element.self == Float.self {
            narrow(
                unsafeBitCast(source, to: UnsafeBufferPointer<Float>.self), into: destination,
                threadCount: threadCount)
        } else if Element.self == Double.self {
            narrow(
                unsafeBitCast(source, to: UnsafeBufferPointer<Double>.self), into: destination,
                threadCount: threadCount)
        } else {
            preconditionFailure("no float16 conversion for \(Element.self)")
        }
    }
}
