import Foundation
import HDF5

/// How a normalized dataset is stored in OUTPUT: its element type, and whether
/// it is rewritten where it is (same type and filters: the common case) or
/// replaced by a dataset of another type or layout under the same names.
struct OutputLayout {
    enum Change: Equatable {
        /// Values overwritten in INPUT's own dataset object.
        case none
        /// A new dataset stored as given takes the place of the old one.
        case replaced(DatasetCreation)
    }

    let elementType: ElementType
    let change: Change
    /// INPUT's bytes of the dataset's values that OUTPUT rewrites (contiguous) or frees (a
    /// replaced dataset, whose values are read from INPUT): not worth copying.
    let rewrittenBytes: [Range<Int>]

    init(_ selected: SelectedDataset, in file: borrowing File, apply: ApplyOptions) throws(PipelineError) {
        let dataset = try DatasetSelection.open(selected.path, in: file)
        let storage: DatasetStorage
        do { storage = try dataset.storage() } catch {
            throw .io(
                "cannot read the storage layout: \(error.reason ?? error.description)", file: file.name,
                dataset: selected.path, cause: error)
        }
        let stored = dataset.creation
        elementType =
            apply.inversion?.integerType?.elementType
            ?? Self.elementType(for: selected.elementType, requested: apply.outputType)
        var creation = Self.creation(
            for: stored, shape: selected.shape, elementBytes: elementType.byteCount,
            compression: apply.compression)
        // Compact storage holds under 64 KiB: a wider type may no longer fit.
        if creation.isCompact && selected.shape.reduce(elementType.byteCount, *) > 60_000 { creation.isCompact = false }
        switch storage {
        case .virtual, .external:
            // gnorm never writes to a VDS source or an external raw file: they belong to INPUT, or to other files.
            change = .replaced(creation)
        case .contiguous, .chunked, .compact:
            change = elementType == selected.elementType && creation == stored ? .none : .replaced(creation)
        }
        switch (storage, change) {
        case (.contiguous(let range?), _):
            rewrittenBytes = [range]
        case (.chunked, .replaced):
            let ranges: [Range<Int>]
            do { ranges = try dataset.storedChunkRanges() } catch {
                throw .io(
                    "cannot list chunks: \(error.reason ?? error.description)", file: file.name,
                    dataset: selected.path, cause: error)
            }
            // Left out of the copy only where the first chunk's stored bytes are where HDF5 says.
            rewrittenBytes = Self.chunkBytesMatch(ranges.first, of: dataset, in: file.name) ? ranges : []
        default:
            rewrittenBytes = []
        }
    }

    /// Whether INPUT's file holds, at `range`, the stored bytes of the dataset's first chunk.
    /// Anything else (a chunk HDF5 cannot read here is read, and reported, by the stream) means no.
    private static func chunkBytesMatch(_ range: Range<Int>?, of dataset: borrowing Dataset, in path: String) -> Bool {
        guard let range else { return false }
        let origin = Array(repeating: 0, count: dataset.shape.count)
        let stored: [UInt8]
        do { stored = try dataset.readRawChunk(at: origin).bytes } catch { return false }
        guard stored.count == range.count else { return false }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: range.count)
        let read = bytes.withUnsafeMutableBytes {
            pread(descriptor, $0.baseAddress, range.count, off_t(range.lowerBound))
        }
        return read == range.count && bytes == stored
    }

    /// `--dtype`: the stored float type (byte order included) for `same`, or a little-endian
    /// float of the requested width (NumPy's `f2`/`f4`/`f8`), unless that is the stored type; float32 for integers.
    static func elementType(for input: ElementType, requested: OutputType) -> ElementType {
        let width = ["f16": 16, "f32": 32, "f64": 64][requested.rawValue]
        if let width, case .float(width, _) = input { return input }
        switch requested {
        case .f16: return .float16
        case .f32: return .float32
        case .f64: return .float64
        case .same:
            if case .float = input { return input }
            return .float32
        }
    }

    /// `--compression`: the input's chunks and filters; or its filters without the compression
    /// filters (and shuffle, which only serves them), with shuffle + deflate at a level for gzip
    /// where the first of them was (before fletcher32 where none was). Other filters (fletcher32,
    /// filters gnorm does not know) are kept in their order. gzip keeps or adds shuffle (as NCO
    /// does: it roughly halves float files again) and chunks a contiguous input one sample per chunk.
    static func creation(
        for input: DatasetCreation, shape: [Int], elementBytes: Int, compression: CompressionChoice
    ) -> DatasetCreation {
        if case .same = compression { return input }
        var kept: [Filter] = []
        var replacedAt: Int? = nil
        for filter in input.filters {
            if filter.compresses || filter == .shuffle {
                replacedAt = replacedAt ?? kept.count
            } else {
                kept.append(filter)
            }
        }
        switch compression {
        case .same:
            return input
        case .none:
            return DatasetCreation(chunkShape: input.chunkShape, filters: kept, isCompact: input.isCompact)
        case .gzip(let level):
            let at = replacedAt ?? kept.firstIndex { $0.isFletcher32 } ?? kept.count
            kept.insert(contentsOf: [.shuffle, .deflate(level: level)], at: at)
            return DatasetCreation(
                chunkShape: input.chunkShape ?? sampleChunk(shape: shape, elementBytes: elementBytes), filters: kept)
        }
    }

    /// One sample per chunk, split further along the next axes while a chunk exceeds 4 MiB.
    static func sampleChunk(shape: [Int], elementBytes: Int) -> [Int] {
        var chunk = shape.map { max(1, $0) }
        chunk[0] = 1
        var axis = 1
        while chunk.reduce(elementBytes, *) > 4 << 20 && axis < chunk.count {
            if chunk[axis] > 1 { chunk[axis] = (chunk[axis] + 1) / 2 } else { axis += 1 }
        }
        return chunk
    }
}

extension Filter {
    /// HDF5's registered ids of the filters that `--compression` replaces: deflate (1), szip (4),
    /// n-bit (5), scale-offset (6), bzip2 (307), lzf (32000), blosc (32001), bitshuffle (32008),
    /// lz4 (32004), zfp (32013), zstd (32015), SZ (32017), fcidecomp (32018), jpeg (32019),
    /// bitgroom (32022), granular bitround (32023), SZ3 (32024), blosc2 (32026).
    static let compressionIds: Set<Int> = [
        1, 4, 5, 6, 307, 32000, 32001, 32004, 32008, 32013, 32015, 32017, 32018, 32019, 32022, 32023, 32024, 32026,
    ]

    /// Whether `--compression` replaces this filter (a compression or lossy-coding filter).
    var compresses: Bool {
        switch self {
        case .deflate: return true
        case .shuffle: return false
        case .other(let id, _, _, _): return Self.compressionIds.contains(id)
        }
    }

    /// HDF5's Fletcher-32 checksum (id 3), which `--compression` keeps.
    var isFletcher32: Bool {
        if case .other(3, _, _, _) = self { return true }
        return false
    }
}
