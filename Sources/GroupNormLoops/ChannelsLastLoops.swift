// The innermost channels-last loops: rows of C channels, per-channel sums and the per-channel
// affine map. Compiled twice like RunLoops.swift; public functions take standard-library
// types only.

import Synchronization

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
    // The last eight and single channels repeat `channelSumsStep`'s loops on purpose: calling the
    // step here (from zero sums, all rows at once) gives the same bits but changed the register
    // allocation of this whole function, and the row-wise walk inlined in it took 7–14 % more
    // time (user time of `gnorm-bench --threads 1 --layout nhwc --shape 8x136x64x64:8`, 6–8
    // alternating runs, whether the call was inlined or not).
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

/// From this many channels, `channelSums` walks the block a few rows at a time across all C
/// channels (`rowWiseChannelSums`) rather than down each column of sixteen channels: 1.0–1.3×
/// faster on 32×64×56×56 and 1×32×512×512 (gnorm-bench, 9 alternating rounds per `--cpu`), level
/// at C = 16 and 24. At C = 256 or 512 float32 the column walk's rows (a stride of 1 or 2 KiB)
/// share a few L1 sets, and each walk down a block of 128 rows missed L1 on every row
/// (measured: 26–45 % of memcpy).
let rowWiseChannels = 32

/// ...and from this many bytes per channel in the block (128 float32 or 64 float64 rows): below,
/// the scratch loads and stores of the row-wise walk cost more than the column walk's L1 misses.
/// Measured on 64×256×8×8 (blocks of 64 rows), one row at a time: float32 1.05–1.19× faster down
/// the columns, float64 1.5–1.9× faster row by row.
let rowWiseColumnBytes = 512

/// `channelSums` `rowsPerStep` rows at a time: eight channels' sums, squares and bit differences
/// loaded from memory once per step, carried down its rows in registers and stored back (one
/// load and store of each per `rowsPerStep` values instead of per value). Each channel's values
/// are still added in row order, so the same bits. Each step's rows are first read in address
/// order (`touchLines`): walked as four interleaved streams straight from memory they
/// left the hardware prefetcher behind (6 GB/s on one core, 19 with the lines touched first).
@inline(__always)
func rowWiseChannelSums<E: LoopElement>(
    _ values: UnsafePointer<E>, _ rows: Int, _ C: Int, _ shifts: UnsafePointer<Double>,
    _ sums: UnsafeMutablePointer<Double>, _ squares: UnsafeMutablePointer<Double>,
    _ differences: UnsafeMutablePointer<E.BitPattern>
) {
    sums.update(repeating: 0, count: C)
    squares.update(repeating: 0, count: C)
    differences.update(repeating: 0, count: C)
    var row = 0
    while row + rowsPerStep <= rows {
        touchLines(UnsafeRawPointer(values + row * C), rowsPerStep * C * MemoryLayout<E>.size)
        channelSumsStep(values, row, rowsPerStep, C, shifts, sums, squares, differences)
        row += rowsPerStep
    }
    while row < rows {
        channelSumsStep(values, row, 1, C, shifts, sums, squares, differences)
        row += 1
    }
}

/// Rows the row-wise walk takes at a time: their lines stay in L1 while the walk crosses the
/// channels (4 rows of 512 float64 channels: 16 KiB), and a column of them fits in the L1's 8
/// ways whatever C's stride.
let rowsPerStep = 4

/// Rows `firstRow ..< firstRow + height` of `rowWiseChannelSums`, eight channels at a time.
@inline(__always)
func channelSumsStep<E: LoopElement>(
    _ values: UnsafePointer<E>, _ firstRow: Int, _ height: Int, _ C: Int, _ shifts: UnsafePointer<Double>,
    _ sums: UnsafeMutablePointer<Double>, _ squares: UnsafeMutablePointer<Double>,
    _ differences: UnsafeMutablePointer<E.BitPattern>
) {
    let vectorEnd = C - C % 8
    let start = values + firstRow * C
    var c = 0
    while c < vectorEnd {
        let (shift, first) = (shifts.lanes(at: c), E.bits(values.lanes(at: c)))
        var sum = UnsafePointer(sums).lanes(at: c)
        var square = UnsafePointer(squares).lanes(at: c)
        var changed = UnsafePointer(differences).lanes(at: c)
        var line = start + c
        for _ in 0..<height {
            let lanes = line.lanes(at: 0)
            let d = E.widen(lanes) - shift
            sum += d
            square += d * d
            changed |= E.bits(lanes) ^ first
            line += C
        }
        sums.storeLanes(sum, at: c)
        squares.storeLanes(square, at: c)
        differences.storeLanes(changed, at: c)
        c += 8
    }
    while c < C {
        for row in firstRow..<firstRow + height {
            let d = Double(values[row * C + c]) - shifts[c]
            sums[c] += d
            squares[c] += d * d
            if values[row * C + c] != values[c] { differences[c] = 1 }
        }
        c += 1
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

/// Reads one byte of every 64-byte line of `bytes` bytes from `start`, in address order: a
/// sequential stream the hardware prefetcher follows, whose loads are independent, so the lines
/// arrive in L1 together before a strided walk over them. The loads are relaxed atomic ones,
/// which the optimizer keeps although their values are unused (it drops plain loads that are);
/// on x86-64 each is an ordinary byte load. A cache hint only: it changes no value.
@inline(__always)
func touchLines(_ start: UnsafeRawPointer, _ bytes: Int) {
    var offset = 0
    while offset < bytes {
        _ = (start + offset).assumingMemoryBound(to: Atomic<UInt8>.self).pointee.load(ordering: .relaxed)
        offset &+= 64
    }
}
