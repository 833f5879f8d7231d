// The innermost channels-last loops: rows of C channels, per-channel sums and the per-channel
// affine map. Compiled twice like RunLoops.swift; public functions take standard-library
// types only.

/// Per channel c, over `rows` rows: Σd into `sums[c]` and Σd² into `squares[c]`, d = x − shifts[c],
/// and the OR over the rows of each value's bits XOR row 0's into `differences[c]` (zero: constant).
@inline(never)
public func channelSums(
    _ values: UnsafePointer<Float>, rows: Int, channelCount: Int, shifts: UnsafePointer<Double>,
    sums: UnsafeMutablePointer<Double>, squares: UnsafeMutablePointer<Double>, differences: UnsafeMutablePointer<UInt32>
) {
    channelSums(values, rows, channelCount, shifts, sums, squares, differences)
}

@inline(never)
public func channelSums(
    _ values: UnsafePointer<Double>, rows: Int, channelCount: Int, shifts: UnsafePointer<Double>,
    sums: UnsafeMutablePointer<Double>, squares: UnsafeMutablePointer<Double>, differences: UnsafeMutablePointer<UInt64>
) {
    channelSums(values, rows, channelCount, shifts, sums, squares, differences)
}

/// Rows of C channels through per-channel maps y = (x − mean)·scale + shift, in float64,
/// rounded once to the stored type.
@inline(never)
public func normalizeRows(
    _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, rows: Int, channelCount: Int,
    maps: (mean: UnsafePointer<Double>, scale: UnsafePointer<Double>, shift: UnsafePointer<Double>)
) {
    normalizeRows(source, destination, rows, channelCount, maps.mean, maps.scale, maps.shift)
}

@inline(never)
public func normalizeRows(
    _ source: UnsafePointer<Double>, _ destination: UnsafeMutablePointer<Double>, rows: Int, channelCount: Int,
    maps: (mean: UnsafePointer<Double>, scale: UnsafePointer<Double>, shift: UnsafePointer<Double>)
) {
    normalizeRows(source, destination, rows, channelCount, maps.mean, maps.scale, maps.shift)
}

/// `normalizeRows` for float16 results held as Float (`normalizeRunForHalf`).
@inline(never)
public func normalizeRowsForHalf(
    _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, rows: Int, channelCount C: Int,
    maps: (mean: UnsafePointer<Double>, scale: UnsafePointer<Double>, shift: UnsafePointer<Double>)
) {
    let vectorEnd = C - C % 8
    for row in 0..<rows {
        let input = source + row * C
        let output = destination + row * C
        var c = 0
        while c < vectorEnd {
            let centered = Float.widen(input.lanes(at: c)) - maps.mean.lanes(at: c)
            output.storeLanes(oddForHalf(centered * maps.scale.lanes(at: c) + maps.shift.lanes(at: c)), at: c)
            c += 8
        }
        while c < C {
            let y = (Double(input[c]) - maps.mean[c]) * maps.scale[c] + maps.shift[c]
            output[c] = oddForHalf(SIMD8(repeating: y))[0]
            c += 1
        }
    }
}

@inline(__always)
func channelSums<E: LoopElement>(
    _ values: UnsafePointer<E>, _ rows: Int, _ C: Int, _ shifts: UnsafePointer<Double>,
    _ sums: UnsafeMutablePointer<Double>, _ squares: UnsafeMutablePointer<Double>,
    _ differences: UnsafeMutablePointer<E.BitPattern>
) {
    if C >= rowWiseChannels && rows * MemoryLayout<E>.size >= rowWiseColumnBytes {
        rowWiseChannelSums(values, rows, C, shifts, sums, squares, differences)
        return
    }
    // Sixteen channels at a time down the rows (a whole 64-byte line of float32 per row, the
    // block in L1), then eight, the sums in registers: per-channel sums kept in memory cost a
    // load and a store each per value. Each channel's sums are added in row order whatever the
    // width, so the bits do not depend on it.
    let wideEnd = C - C % 16
    var c = 0
    while c < wideEnd {
        let (shiftLow, shiftHigh) = (shifts.lanes(at: c), shifts.lanes(at: c + 8))
        let (firstLow, firstHigh) = (E.bits(values.lanes(at: c)), E.bits(values.lanes(at: c + 8)))
        var (sumLow, squareLow, changedLow) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<E.BitPattern>())
        var (sumHigh, squareHigh, changedHigh) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<E.BitPattern>())
        var line = values + c
        for _ in 0..<rows {
            let (low, high) = (line.lanes(at: 0), line.lanes(at: 8))
            let dLow = E.widen(low) - shiftLow
            let dHigh = E.widen(high) - shiftHigh
            sumLow += dLow
            sumHigh += dHigh
            squareLow += dLow * dLow
            squareHigh += dHigh * dHigh
            changedLow |= E.bits(low) ^ firstLow
            changedHigh |= E.bits(high) ^ firstHigh
            line += C
        }
        sums.storeLanes(sumLow, at: c)
        sums.storeLanes(sumHigh, at: c + 8)
        squares.storeLanes(squareLow, at: c)
        squares.storeLanes(squareHigh, at: c + 8)
        differences.storeLanes(changedLow, at: c)
        differences.storeLanes(changedHigh, at: c + 8)
        c += 16
    }
    let vectorEnd = C - C % 8
    while c < vectorEnd {
        let shift = shifts.lanes(at: c)
        let firstBits = E.bits(values.lanes(at: c))
        var (sum, square, changed) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<E.BitPattern>())
        var line = values + c
        for _ in 0..<rows {
            let lanes = line.lanes(at: 0)
            let d = E.widen(lanes) - shift
            sum += d
            square += d * d
            changed |= E.bits(lanes) ^ firstBits
            line += C
        }
        sums.storeLanes(sum, at: c)
        squares.storeLanes(square, at: c)
        differences.storeLanes(changed, at: c)
        c += 8
    }
    while c < C {
        var (sum, square, changed) = (0.0, 0.0, E.BitPattern.zero)
        for row in 0..<rows {
            let value = values[row * C + c]
            let d = Double(value) - shifts[c]
            sum += d
            square += d * d
            if value != values[c] { changed = 1 }
        }
        (sums[c], squares[c], differences[c]) = (sum, square, changed)
        c += 1
    }
}

/// From this many channels, `channelSums` walks the block row by row with the sums in memory
/// (L1: 3 × C values) rather than down each column of channels: a column's rows lie C values
/// apart, and at C = 256 or 512 float32 (a stride of 1 or 2 KiB) they share a few L1 sets, so
/// each walk down a block of 128 rows missed L1 on every row (measured: 26–45 % of memcpy).
let rowWiseChannels = 128

/// ...and from this many bytes per channel in the block (128 float32 or 64 float64 rows): below,
/// the scratch loads and stores of the row-by-row walk cost more than the column walk's L1
/// misses. Measured on 64×256×8×8 (blocks of 64 rows): float32 1.05–1.19× faster down the
/// columns, float64 1.5–1.9× faster row by row.
let rowWiseColumnBytes = 512

/// `channelSums` row by row: each channel's values still added in row order, so the same bits.
@inline(__always)
func rowWiseChannelSums<E: LoopElement>(
    _ values: UnsafePointer<E>, _ rows: Int, _ C: Int, _ shifts: UnsafePointer<Double>,
    _ sums: UnsafeMutablePointer<Double>, _ squares: UnsafeMutablePointer<Double>,
    _ differences: UnsafeMutablePointer<E.BitPattern>
) {
    sums.update(repeating: 0, count: C)
    squares.update(repeating: 0, count: C)
    differences.update(repeating: 0, count: C)
    let vectorEnd = C - C % 8
    for row in 0..<rows {
        let line = values + row * C
        var c = 0
        while c < vectorEnd {
            let lanes = line.lanes(at: c)
            let d = E.widen(lanes) - shifts.lanes(at: c)
            sums.storeLanes(UnsafePointer(sums).lanes(at: c) + d, at: c)
            squares.storeLanes(UnsafePointer(squares).lanes(at: c) + d * d, at: c)
            differences.storeLanes(
                UnsafePointer(differences).lanes(at: c) | (E.bits(lanes) ^ E.bits(values.lanes(at: c))), at: c)
            c += 8
        }
        while c < C {
            let d = Double(line[c]) - shifts[c]
            sums[c] += d
            squares[c] += d * d
            if line[c] != values[c] { differences[c] = 1 }
            c += 1
        }
    }
}

@inline(__always)
func normalizeRows<E: LoopElement>(
    _ source: UnsafePointer<E>, _ destination: UnsafeMutablePointer<E>, _ rows: Int, _ C: Int,
    _ mean: UnsafePointer<Double>, _ scale: UnsafePointer<Double>, _ shift: UnsafePointer<Double>
) {
    let vectorEnd = C - C % 8
    for row in 0..<rows {
        let input = source + row * C
        let output = destination + row * C
        var c = 0
        while c < vectorEnd {
            let centered = E.widen(input.lanes(at: c)) - mean.lanes(at: c)
            output.storeLanes(E.narrow(centered * scale.lanes(at: c) + shift.lanes(at: c)), at: c)
            c += 8
        }
        while c < C {
            output[c] = E((Double(input[c]) - mean[c]) * scale[c] + shift[c])
            c += 1
        }
    }
}
