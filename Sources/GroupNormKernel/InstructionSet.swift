import GroupNormLoops
import GroupNormLoopsAVX2

/// The instruction set the kernel's innermost loops run on (GroupNormLoops, compiled once
/// per set). Every set computes the same bits: the loops are the same SIMD8 code, with no
/// fused multiply-add. The kernel cannot see the CPU; its caller says which it may use.
public enum InstructionSet: String, Sendable, CaseIterable {
    /// x86-64 as every such CPU runs it (SSE2).
    case baseline
    /// 256-bit vectors: twice the float64 lanes per instruction.
    case avx2
}

/// Moments of `count` contiguous values (GroupNormLoops' `blockMoments`).
@inline(__always)
func contiguousMoments<E: KernelElement>(_ values: UnsafePointer<E>, count: Int, on set: InstructionSet) -> Moments {
    let result: (mean: Double, m2: Double)
    let raw = UnsafeRawPointer(values)
    if E.self == Float.self {
        let floats = raw.assumingMemoryBound(to: Float.self)
        result =
            set == .avx2
            ? GroupNormLoopsAVX2.blockMoments(floats, count: count) : GroupNormLoops.blockMoments(floats, count: count)
    } else {
        let doubles = raw.assumingMemoryBound(to: Double.self)
        result =
            set == .avx2
            ? GroupNormLoopsAVX2.blockMoments(doubles, count: count)
            : GroupNormLoops.blockMoments(doubles, count: count)
    }
    return Moments(count: Double(count), mean: result.mean, m2: result.m2)
}

/// One run normalized with its affine map (GroupNormLoops' `normalizeRun`).
@inline(__always)
func normalizeContiguous<E: KernelElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, count: Int, _ p: RunParameters<E>,
    on set: InstructionSet
) {
    if E.self == Float.self {
        let input = UnsafeRawPointer(source).assumingMemoryBound(to: Float.self)
        let output = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Float.self)
        let (high, low, scale, shift) = (Float(p.meanHigh), Float(p.meanLow), Float(p.scale), Float(p.shift))
        if set == .avx2 {
            GroupNormLoopsAVX2.normalizeRun(
                input, output, count: count, meanHigh: high, meanLow: low, scale: scale, shift: shift)
        } else {
            GroupNormLoops.normalizeRun(
                input, output, count: count, meanHigh: high, meanLow: low, scale: scale, shift: shift)
        }
    } else {
        let input = UnsafeRawPointer(source).assumingMemoryBound(to: Double.self)
        let output = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Double.self)
        let (high, low, scale, shift) = (Double(p.meanHigh), Double(p.meanLow), Double(p.scale), Double(p.shift))
        if set == .avx2 {
            GroupNormLoopsAVX2.normalizeRun(
                input, output, count: count, meanHigh: high, meanLow: low, scale: scale, shift: shift)
        } else {
            GroupNormLoops.normalizeRun(
                input, output, count: count, meanHigh: high, meanLow: low, scale: scale, shift: shift)
        }
    }
}
