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

    /// `--compression`: the input's chunks and filters, none, or gzip at a level.
    /// gzip keeps or adds the shuffle filter before deflate (as NCO does: it
    /// roughly halves float files again) and chunks a contiguous input one sample per chunk.
    static func creation(
        for input: DatasetCreation, shape: [Int], elementBytes: Int, compression: CompressionChoice
    ) -> DatasetCreation {
        switch compression {
        case .same:
            return input
        case .none:
            return DatasetCreation(chunkShape: input.chunkShape, filters: [], isCompact: input.isCompact)
        case .gzip(let level):
            let others = input.filters.filter {
                if case .other = $0 { return true }
                return false
            }
            return DatasetCreation(
                chunkShape: input.chunkShape ?? sampleChunk(shape: shape, elementBytes: elementBytes),
                filters: others + [.shuffle, .deflate(level: level)])
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
