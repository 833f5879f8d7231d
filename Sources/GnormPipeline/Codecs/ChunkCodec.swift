import HDF5

/// A chunk format gnorm codes itself, on every core, instead of libhdf5's serial filter
/// pipeline: what `MemoryPlan` budgets before any buffer exists. A second codec (another
/// filter) is a second conformance, and one more line in `ChunkCodecs.layout`.
protocol ChunkLayout {
    /// Samples per chunk (the chunk's extent along axis 0).
    var chunkRows: Int { get }
    /// Bytes of one stored value the codec moves.
    var elementSize: Int { get }
    /// Its chunk rows and the bytes of one slot (a chunk in flight), for `MemoryPlan`.
    func budgeted(writing: Bool) -> MemoryPlan.Codec
    /// The codec itself, moving up to `slotCount` chunks at once.
    func codec(slotCount: Int) -> any ChunkCodec
}

/// Moves samples between a dataset's raw chunks and memory, coding the chunks itself
/// (`H5Dread_chunk` / `H5Dwrite_chunk` underneath). Rows start on a chunk boundary.
protocol ChunkCodec {
    var layout: any ChunkLayout { get }
    func read(rows: Range<Int>, of dataset: borrowing Dataset, into destination: UnsafeMutableRawBufferPointer)
        throws(TransferError)
    func write(rows: Range<Int>, of dataset: borrowing Dataset, from source: UnsafeRawBufferPointer)
        throws(TransferError)
}

extension ChunkCodec {
    var chunkRows: Int { layout.chunkRows }
    var elementSize: Int { layout.elementSize }
}

/// The chunk codecs gnorm has.
enum ChunkCodecs {
    /// The layout of the codec that moves a dataset stored as `creation`, nil when none does
    /// (libhdf5's own pipeline then moves it).
    static func layout(creation: DatasetCreation, shape: [Int], elementType: ElementType) -> (any ChunkLayout)? {
        DeflateLayout(creation: creation, shape: shape, elementType: elementType)
    }
}
