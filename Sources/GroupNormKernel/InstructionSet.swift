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

/// A build's `blockMoments` for one element type.
private typealias BlockMoments<T> = (UnsafePointer<T>, Int) -> (mean: Double, m2: Double)

/// Moments of `count` contiguous values (GroupNormLoops' `blockMoments`).
@inline(__always)
func contiguousMoments<E: KernelElement>(_ values: UnsafePointer<E>, count: Int, on set: InstructionSet) -> Moments {
    @inline(__always)
    func run<T>(_ baseline: BlockMoments<T>, _ avx2: BlockMoments<T>) -> (mean: Double, m2: Double) {
        (set == .avx2 ? avx2 : baseline)(UnsafeRawPointer(values).assumingMemoryBound(to: T.self), count)
    }
    let result =
        E.self == Float.self
        ? run(GroupNormLoops.blockMoments as BlockMoments<Float>, GroupNormLoopsAVX2.blockMoments)
        : run(GroupNormLoops.blockMoments as BlockMoments<Double>, GroupNormLoopsAVX2.blockMoments)
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

/// A build's `channelSums` for one element type and its bit pattern.
private typealias ChannelSums<T, Bits> = (
    UnsafePointer<T>, Int, Int, UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
    UnsafeMutablePointer<Bits>
) -> Void

/// Per-channel sums of `rows` rows shifted by `scratch.centers` into `scratch.sums`,
/// `scratch.squares` and `scratch.differences` (GroupNormLoops' `channelSums`).
@inline(__always)
func channelSums<E: KernelElement>(
    _ values: UnsafePointer<E>, rows: Int, channelCount: Int, scratch: ChannelScratch<E>, on set: InstructionSet
) {
    @inline(__always)
    func run<T, Bits>(_ baseline: ChannelSums<T, Bits>, _ avx2: ChannelSums<T, Bits>) {
        (set == .avx2 ? avx2 : baseline)(
            UnsafeRawPointer(values).assumingMemoryBound(to: T.self), rows, channelCount, scratch.centers,
            scratch.sums, scratch.squares,
            UnsafeMutableRawPointer(scratch.differences).assumingMemoryBound(to: Bits.self))
    }
    if E.self == Float.self {
        run(GroupNormLoops.channelSums as ChannelSums<Float, UInt32>, GroupNormLoopsAVX2.channelSums)
    } else {
        run(GroupNormLoops.channelSums as ChannelSums<Double, UInt64>, GroupNormLoopsAVX2.channelSums)
    }
}

/// A build's `normalizeRows` for one element type.
private typealias NormalizeRows<T> = (
    UnsafePointer<T>, UnsafeMutablePointer<T>, Int, Int,
    (meanHigh: UnsafePointer<T>, meanLow: UnsafePointer<T>, scale: UnsafePointer<T>, shift: UnsafePointer<T>)
) -> Void

/// Rows of C channels normalized with per-channel maps (GroupNormLoops' `normalizeRows`).
@inline(__always)
func normalizeChannelsLast<E: KernelElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, rows: Int, channelCount: Int,
    meanHigh: UnsafePointer<E>, meanLow: UnsafePointer<E>, scale: UnsafePointer<E>, shift: UnsafePointer<E>,
    on set: InstructionSet
) {
    @inline(__always)
    func run<T>(_ baseline: NormalizeRows<T>, _ avx2: NormalizeRows<T>) {
        func cast(_ pointer: UnsafePointer<E>) -> UnsafePointer<T> {
            UnsafeRawPointer(pointer).assumingMemoryBound(to: T.self)
        }
        (set == .avx2 ? avx2 : baseline)(
            cast(source), UnsafeMutableRawPointer(destination).assumingMemoryBound(to: T.self), rows, channelCount,
            (cast(meanHigh), cast(meanLow), cast(scale), cast(shift)))
    }
    if E.self == Float.self {
        run(GroupNormLoops.normalizeRows as NormalizeRows<Float>, GroupNormLoopsAVX2.normalizeRows)
    } else {
        run(GroupNormLoops.normalizeRows as NormalizeRows<Double>, GroupNormLoopsAVX2.normalizeRows)
    }
}
