// Kernels for channels-last data: a block of `rows` spatial positions, each a
// contiguous row of C channels; statistics are per bucket of K adjacent channels.

/// Per-worker buffers of C entries, allocated once per plan call.
struct ChannelScratch<E: KernelElement> {
    let sums: UnsafeMutablePointer<Double>
    let deviations: UnsafeMutablePointer<Double>
    let squares: UnsafeMutablePointer<Double>
    let centers: UnsafeMutablePointer<Double>
    /// The block's first row, and per channel the OR of every value's bits XOR the first's.
    let firsts: UnsafeMutablePointer<E>
    let differences: UnsafeMutablePointer<E.BitPattern>

    init(channelCount: Int) {
        sums = .allocate(capacity: channelCount)
        deviations = .allocate(capacity: channelCount)
        squares = .allocate(capacity: channelCount)
        centers = .allocate(capacity: channelCount)
        firsts = .allocate(capacity: channelCount)
        differences = .allocate(capacity: channelCount)
    }

    func deallocate() {
        sums.deallocate()
        deviations.deallocate()
        squares.deallocate()
        centers.deallocate()
        firsts.deallocate()
        differences.deallocate()
    }
}

/// Moments of each bucket of `channelsPerBucket` channels over `rows` rows,
/// written to `output[0 ..< C / channelsPerBucket]`. Two passes over the
/// (cache-resident) block: per-channel sums, then deviations from the bucket mean.
@inline(__always)
func channelsLastMoments<E: KernelElement>(
    _ values: UnsafePointer<E>, rows: Int, channelCount C: Int, channelsPerBucket K: Int,
    scratch: ChannelScratch<E>, into output: UnsafeMutablePointer<Moments>
) {
    let vectorEnd = C - C % 8
    scratch.sums.update(repeating: 0, count: C)
    scratch.firsts.update(from: values, count: C)
    scratch.differences.update(repeating: 0, count: C)
    for row in 0..<rows {
        let line = values + row * C
        var c = 0
        while c < vectorEnd {
            let lanes = line.lanes(at: c)
            let sums = UnsafePointer(scratch.sums).lanes(at: c) + E.widen(lanes)
            scratch.sums.storeLanes(sums, at: c)
            let differences =
                UnsafePointer(scratch.differences).lanes(at: c)
                | (E.bits(lanes) ^ E.bits(UnsafePointer(scratch.firsts).lanes(at: c)))
            scratch.differences.storeLanes(differences, at: c)
            c += 8
        }
        while c < C {
            let value = line[c]
            scratch.sums[c] += Double(value)
            if value != scratch.firsts[c] { scratch.differences[c] = 1 }
            c += 1
        }
    }
    let bucketCount = C / K
    let n = Double(rows * K)
    var anyVaried = false
    for bucket in 0..<bucketCount {
        var sum = 0.0
        let first = scratch.firsts[bucket * K]
        var constant = true
        for c in bucket * K..<(bucket + 1) * K {
            sum += scratch.sums[c]
            constant = constant && scratch.differences[c] == 0 && scratch.firsts[c] == first
        }
        constant = constant && sum.isFinite
        let mean = constant ? Double(first) : sum / n
        output[bucket] = Moments(count: n, mean: mean, m2: constant ? 0 : .nan)
        anyVaried = anyVaried || !constant
        for c in bucket * K..<(bucket + 1) * K { scratch.centers[c] = mean }
    }
    if !anyVaried { return }
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
    for bucket in 0..<bucketCount where output[bucket].m2.isNaN {
        var squares = 0.0
        var deviations = 0.0
        for c in bucket * K..<(bucket + 1) * K {
            squares += scratch.squares[c]
            deviations += scratch.deviations[c]
        }
        let mean = output[bucket].mean
        output[bucket] = Moments(
            count: n, mean: mean + deviations / n, m2: max(0, squares - deviations * deviations / n))
    }
}

/// Normalizes `rows` rows of C channels with per-channel parameters.
@inline(__always)
func normalizeChannelsLast<E: KernelElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, rows: Int, channelCount C: Int,
    meanHigh: UnsafePointer<E>, meanLow: UnsafePointer<E>, scale: UnsafePointer<E>, shift: UnsafePointer<E>
) {
    let vectorEnd = C - C % 8
    for row in 0..<rows {
        let input = source + row * C
        let output = destination + row * C
        var c = 0
        while c < vectorEnd {
            let centered = (input.lanes(at: c) - meanHigh.lanes(at: c)) - meanLow.lanes(at: c)
            output.storeLanes(centered * scale.lanes(at: c) + shift.lanes(at: c), at: c)
            c += 8
        }
        while c < C {
            output[c] = ((input[c] - meanHigh[c]) - meanLow[c]) * scale[c] + shift[c]
            c += 1
        }
    }
}
