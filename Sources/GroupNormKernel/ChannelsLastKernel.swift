// Kernels for channels-last data: a block of `rows` spatial positions, each a
// contiguous row of C channels; statistics are per bucket of K adjacent channels.

/// Per-worker buffers of C entries, allocated once per plan call.
struct ChannelScratch<E: KernelElement> {
    let sums: UnsafeMutablePointer<Double>
    let deviations: UnsafeMutablePointer<Double>
    let squares: UnsafeMutablePointer<Double>
    let centers: UnsafeMutablePointer<Double>
    /// Per channel, the OR of every value's bits XOR row 0's.
    let differences: UnsafeMutablePointer<E.BitPattern>

    init(channelCount: Int) {
        sums = .allocate(capacity: channelCount)
        deviations = .allocate(capacity: channelCount)
        squares = .allocate(capacity: channelCount)
        centers = .allocate(capacity: channelCount)
        differences = .allocate(capacity: channelCount)
    }

    func deallocate() {
        sums.deallocate()
        deviations.deallocate()
        squares.deallocate()
        centers.deallocate()
        differences.deallocate()
    }
}

/// Moments of each bucket of `channelsPerBucket` channels over `rows` rows, written to
/// `output[0 ..< C / channelsPerBucket]`: one pass of per-channel sums shifted by row 0
/// (GroupNormLoops' `channelSums`), each channel's moments merged into its bucket's; a
/// bucket where a shifted sum would lose digits gets a corrected two-pass instead.
@inline(__always)
func channelsLastMoments<E: KernelElement>(
    _ values: UnsafePointer<E>, rows: Int, channelCount C: Int, channelsPerBucket K: Int,
    scratch: ChannelScratch<E>, into output: UnsafeMutablePointer<Moments>, on set: InstructionSet
) {
    for c in 0..<C { scratch.centers[c] = Double(values[c]) }
    channelSums(values, rows: rows, channelCount: C, scratch: scratch, on: set)
    let n = Double(rows)
    var anyTwoPass = false
    for bucket in 0..<C / K {
        let first = values[bucket * K]
        var constant = true
        var conditioned = true
        var moments = Moments.empty
        for c in bucket * K..<(bucket + 1) * K {
            constant = constant && scratch.differences[c] == 0 && values[c] == first
            let (sum, square) = (scratch.sums[c], scratch.squares[c])
            let m2 = square - sum * sum / n
            // As in a run's block moments: Σd² ≤ 16 M2 keeps the digits (false for NaN).
            conditioned = conditioned && square <= 16 * m2
            moments = moments.merging(Moments(count: n, mean: scratch.centers[c] + sum / n, m2: m2))
        }
        // A constant bucket has exactly its value as mean, whatever the rounding of the sums.
        if constant && Double(first).isFinite {
            output[bucket] = Moments(count: n * Double(K), mean: Double(first), m2: 0)
        } else if conditioned {
            output[bucket] = moments
        } else {
            output[bucket] = Moments(count: n * Double(K), mean: moments.mean, m2: .nan)
            anyTwoPass = true
        }
    }
    if anyTwoPass {
        twoPassChannelsLastMoments(
            values, rows: rows, channelCount: C, channelsPerBucket: K, scratch: scratch, into: output)
        if E.self == Double.self {
            // float64 data whose sums overflowed (beyond about 1e154): the bucket's values in
            // row order, divided by `Moments.largeScale`.
            let doubles = UnsafeRawPointer(values).assumingMemoryBound(to: Double.self)
            for bucket in 0..<C / K where !(output[bucket].mean.isFinite && output[bucket].m2.isFinite) {
                output[bucket] = scaledMoments(count: rows * K, on: set) { doubles[$0 / K * C + bucket * K + $0 % K] }
            }
        }
    }
}

/// The corrected two-pass moments of the buckets whose M2 is NaN in `output`, around the
/// mean written there.
@inline(never)
func twoPassChannelsLastMoments<E: KernelElement>(
    _ values: UnsafePointer<E>, rows: Int, channelCount C: Int, channelsPerBucket K: Int,
    scratch: ChannelScratch<E>, into output: UnsafeMutablePointer<Moments>
) {
    let vectorEnd = C - C % 8
    let n = Double(rows * K)
    for bucket in 0..<C / K {
        for c in bucket * K..<(bucket + 1) * K { scratch.centers[c] = output[bucket].mean }
    }
    scratch.squares.update(repeating: 0, count: C)
    scratch.deviations.update(repeating: 0, count: C)
    for row in 0..<rows {
        let line = values + row * C
        var c = 0
        while c < vectorEnd {
            let deviation = E.widen(line.lanes(at: c)) - UnsafePointer(scratch.centers).lanes(at: c)
            scratch.squares.storeLanes(UnsafePointer(scratch.squares).lanes(at: c) + deviation * deviation, at: c)
            scratch.deviations.storeLanes(UnsafePointer(scratch.deviations).lanes(at: c) + deviation, at: c)
            c += 8
        }
        while c < C {
            let deviation = Double(line[c]) - scratch.centers[c]
            scratch.squares[c] += deviation * deviation
            scratch.deviations[c] += deviation
            c += 1
        }
    }
    for bucket in 0..<C / K where output[bucket].m2.isNaN {
        var squares = 0.0
        var deviations = 0.0
        for c in bucket * K..<(bucket + 1) * K {
            squares += scratch.squares[c]
            deviations += scratch.deviations[c]
        }
        let mean = output[bucket].mean
        // As in a run's two-pass: NaN kept (overflow, scaled by the caller, or NaN inputs).
        let m2 = squares - deviations * deviations / n
        output[bucket] = Moments(count: n, mean: mean + deviations / n, m2: m2 < 0 ? 0 : m2)
    }
}
