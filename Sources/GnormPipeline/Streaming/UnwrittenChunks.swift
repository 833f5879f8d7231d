import Foundation
import HDF5

/// A chunked dataset that declares far more values than it stores (h5py's
/// `shape=(2, 4, 8, 2**51), chunks=(1, 2, 8, 8)` with three chunks written) is valid, and
/// libhdf5 reads its unwritten chunks as the fill value: normalizing it means reading (and
/// for `apply` writing: normalized fill is no longer the fill value) every one of them —
/// 2^57 values here, years of reading, where `stats` used to abort allocating its piece list
/// and `apply` walked the 2^50 cells of the chunk grid. Such a dataset is refused up front
/// (status 65) once its unwritten values pass `limit`; below it, the fill values are data, as
/// SPEC §1 has them (`_FillValue` masking aside).
enum UnwrittenChunks {
    /// The most fill values gnorm reads from unwritten chunks: 2^40 (4 TiB of float32, hours of reading).
    static let limit = 1 << 40

    static func check(_ dataset: borrowing Dataset, in file: String) throws(PipelineError) {
        guard let chunk = dataset.creation.chunkShape else { return }
        let shape = dataset.shape
        let declared = shape.reduce(1.0) { $0 * Double($1) }
        // Shapes whose bytes overflow are TensorGeometry's to refuse.
        guard declared > Double(limit), declared * Double(max(dataset.elementType.byteCount, 1)) < 0x1p63 else {
            return
        }
        let allocated: Int
        do { allocated = try dataset.allocatedChunkCount() } catch {
            throw .io(
                "cannot count its stored chunks: \(error.reason ?? error.description)", file: file,
                dataset: dataset.path, cause: error)
        }
        let stored = Double(allocated) * chunk.reduce(1.0) { $0 * Double($1) }
        let unwritten = declared - stored
        guard unwritten > Double(limit) else { return }
        let dimensions = shape.map(String.init).joined(separator: " × ")
        throw .data(
            "declares \(dimensions) values but stores \(allocated) chunk\(allocated == 1 ? "" : "s") of "
                + "\(chunk.map(String.init).joined(separator: " × ")); the other \(unwritten.formatted) values would "
                + "be read as the fill value, and apply would write them normalized: more than the 2^40 fill values "
                + "gnorm reads. Write the dataset with the shape of its data, or copy its stored part out",
            file: file, dataset: dataset.path)
    }
}

extension Double {
    /// `1.4e+17`-style, for sizes beyond what digits help with.
    fileprivate var formatted: String {
        self < 1e9 ? String(Int(self)) : String(format: "%.2g", self)
    }
}
