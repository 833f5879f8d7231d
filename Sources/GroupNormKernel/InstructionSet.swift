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

/// A build's `normalizeRun` for one element type: source, destination, count, then the map.
private typealias NormalizeRun<T> = (UnsafePointer<T>, UnsafeMutablePointer<T>, Int, T, T, T, T) -> Void

/// One run normalized with its affine map (GroupNormLoops' `normalizeRun`).
@inline(__always)
func normalizeContiguous<E: KernelElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, count: Int, _ p: RunParameters<E>,
    on set: InstructionSet
) {
    @inline(__always)
    func run<T: BinaryFloatingPoint>(_ baseline: NormalizeRun<T>, _ avx2: NormalizeRun<T>) {
        let input = UnsafeRawPointer(source).assumingMemoryBound(to: T.self)
        let output = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: T.self)
        (set == .avx2 ? avx2 : baseline)(input, output, count, T(p.meanHigh), T(p.meanLow), T(p.scale), T(p.shift))
    }
    if E.self == Float.self {
        run(GroupNormLoops.normalizeRun as NormalizeRun<Float>, GroupNormLoopsAVX2.normalizeRun)
    } else {
        run(GroupNormLoops.normalizeRun as NormalizeRun<Double>, GroupNormLoopsAVX2.normalizeRun)
    }
}
