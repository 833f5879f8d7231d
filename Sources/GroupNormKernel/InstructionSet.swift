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

/// Moments of `count` contiguous values (GroupNormLoops' `blockMoments`). float64 values
/// whose sums overflow (beyond about 1e154) are taken again divided by `Moments.largeScale`:
/// the same bits on every instruction set, as the loops are.
@inline(__always)
func contiguousMoments<E: KernelElement>(_ values: UnsafePointer<E>, count: Int, on set: InstructionSet) -> Moments {
    @inline(__always)
    func run<T>(_ baseline: BlockMoments<T>, _ avx2: BlockMoments<T>) -> (mean: Double, m2: Double) {
        (set == .avx2 ? avx2 : baseline)(UnsafeRawPointer(values).assumingMemoryBound(to: T.self), count)
    }
    if E.self == Float.self {
        let result = run(GroupNormLoops.blockMoments as BlockMoments<Float>, GroupNormLoopsAVX2.blockMoments)
        return Moments(count: Double(count), mean: result.mean, m2: result.m2)
    }
    let result = run(GroupNormLoops.blockMoments as BlockMoments<Double>, GroupNormLoopsAVX2.blockMoments)
    if result.mean.isFinite && result.m2.isFinite {
        return Moments(count: Double(count), mean: result.mean, m2: result.m2)
    }
    let doubles = UnsafeRawPointer(values).assumingMemoryBound(to: Double.self)
    return scaledMoments(count: count, on: set) { doubles[$0] }
}

/// The moments of `count` float64 values `value(i)` divided by `Moments.largeScale`, in
/// blocks of `GroupNormPlan.blockElements` merged in order: data whose unscaled sums overflow.
/// Non-finite inputs stay non-finite (their statistic is poisoned later).
@inline(never)
func scaledMoments(count: Int, on set: InstructionSet, value: (Int) -> Double) -> Moments {
    let s = Moments.largeScale
    let blockLength = min(count, GroupNormPlan.blockElements)
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: blockLength) { buffer in
        var moments = Moments.empty
        var start = 0
        while start < count {
            let length = min(blockLength, count - start)
            for index in 0..<length { buffer[index] = value(start + index) / s }
            let block =
                (set == .avx2 ? GroupNormLoopsAVX2.blockMoments : GroupNormLoops.blockMoments as BlockMoments<Double>)(
                    UnsafePointer(buffer.baseAddress!), length)
            let scaled = Moments(count: Double(length), mean: block.mean * s, m2: block.m2, scale: s)
            moments = moments.merging(
                block.mean.isFinite ? scaled : Moments(count: Double(length), mean: .nan, m2: .nan))
            start += length
        }
        return moments
    }
}

/// A build's `normalizeRun` for one element type: source, destination, count, then the map.
private typealias NormalizeRun<T> = (UnsafePointer<T>, UnsafeMutablePointer<T>, Int, Double, Double, Double) -> Void

/// One run normalized with its affine map (GroupNormLoops' `normalizeRun`); with `forHalf`,
/// Float results for float16 narrowing (`normalizeRunForHalf`).
@inline(__always)
func normalizeContiguous<E: KernelElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, count: Int, _ p: RunParameters,
    on set: InstructionSet, forHalf: Bool = false
) {
    if forHalf && E.self == Float.self {
        let input = UnsafeRawPointer(source).assumingMemoryBound(to: Float.self)
        let output = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Float.self)
        let baseline = GroupNormLoops.normalizeRunForHalf as NormalizeRun<Float>
        let avx2 = GroupNormLoopsAVX2.normalizeRunForHalf as NormalizeRun<Float>
        return (set == .avx2 ? avx2 : baseline)(input, output, count, p.mean, p.scale, p.shift)
    }
    @inline(__always)
    func run<T: BinaryFloatingPoint>(_ baseline: NormalizeRun<T>, _ avx2: NormalizeRun<T>) {
        let input = UnsafeRawPointer(source).assumingMemoryBound(to: T.self)
        let output = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: T.self)
        (set == .avx2 ? avx2 : baseline)(input, output, count, p.mean, p.scale, p.shift)
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
    (mean: UnsafePointer<Double>, scale: UnsafePointer<Double>, shift: UnsafePointer<Double>)
) -> Void

/// Rows of C channels normalized with per-channel maps (GroupNormLoops' `normalizeRows`); with
/// `forHalf`, Float results for float16 narrowing (`normalizeRowsForHalf`).
@inline(__always)
func normalizeChannelsLast<E: KernelElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, rows: Int, channelCount: Int,
    mean: UnsafePointer<Double>, scale: UnsafePointer<Double>, shift: UnsafePointer<Double>, on set: InstructionSet,
    forHalf: Bool = false
) {
    if forHalf && E.self == Float.self {
        let baseline = GroupNormLoops.normalizeRowsForHalf as NormalizeRows<Float>
        let avx2 = GroupNormLoopsAVX2.normalizeRowsForHalf as NormalizeRows<Float>
        return (set == .avx2 ? avx2 : baseline)(
            UnsafeRawPointer(source).assumingMemoryBound(to: Float.self),
            UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Float.self), rows, channelCount,
            (mean, scale, shift))
    }
    @inline(__always)
    func run<T>(_ baseline: NormalizeRows<T>, _ avx2: NormalizeRows<T>) {
        (set == .avx2 ? avx2 : baseline)(
            UnsafeRawPointer(source).assumingMemoryBound(to: T.self),
            UnsafeMutableRawPointer(destination).assumingMemoryBound(to: T.self), rows, channelCount,
            (mean, scale, shift))
    }
    if E.self == Float.self {
        run(GroupNormLoops.normalizeRows as NormalizeRows<Float>, GroupNormLoopsAVX2.normalizeRows)
    } else {
        run(GroupNormLoops.normalizeRows as NormalizeRows<Double>, GroupNormLoopsAVX2.normalizeRows)
    }
}
