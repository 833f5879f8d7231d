import HDF5
import Platform

/// Read-ahead of a chunked INPUT's next slab (issue 19): after samples `rows` are read, the
/// chunks of as many samples after them are asked for (`POSIX_FADV_WILLNEED` on their byte
/// ranges), so the disk reads them while this slab is computed and the previous one written.
/// The pages go to the page cache, not to the process. Only a hint: nothing for a contiguous
/// dataset (`MappedDataset` reads those ahead), a file image or MPI-IO (no descriptor of
/// their own), or a slab of more than `chunkLimit` chunks (asking for each would cost more).
final class ChunkReadAhead {
    /// The chunks one hint may cover.
    static let chunkLimit = 4096

    private enum State {
        case unknown
        case off
        case on(descriptor: Int32)
    }

    // Used on the I/O thread only, where every read of the dataset is made.
    private var state = State.unknown

    init() {}

    /// After samples `rows` of `dataset` are read: hints the next as many samples' chunks.
    func after(_ rows: Range<Int>, of dataset: borrowing Dataset) {
        if case .unknown = state {
            state = .off
            if dataset.creation.chunkShape != nil, let descriptor = dataset.fileDescriptor() {
                state = .on(descriptor: descriptor)
            }
        }
        guard case .on(let descriptor) = state, !rows.isEmpty,
            let ranges = dataset.chunkByteRanges(
                rows: rows.upperBound..<rows.upperBound + rows.count, limit: Self.chunkLimit)
        else { return }
        for range in Self.merged(ranges) { System.readAhead(descriptor, range: range) }
    }

    /// `ranges` sorted, with touching or overlapping ones joined: one hint per run of chunks.
    static func merged(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !range.isEmpty {
            if let last = runs.last, range.lowerBound <= last.upperBound {
                runs[runs.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                runs.append(range)
            }
        }
        return runs
    }
}
