import HDF5

/// The stored type and on-disk layout of a normalized dataset in OUTPUT.
enum OutputLayout {
    /// `--dtype`: same float width for floats, float32 for integers.
    static func elementType(for input: ElementType, requested: OutputType) -> ElementType {
        switch requested {
        case .f16: return .float16
        case .f32: return .float32
        case .f64: return .float64
        case .same:
            if case .float(let bits, _) = input { return .float(bits: bits) }
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
            return DatasetCreation(chunkShape: input.chunkShape, filters: [])
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
