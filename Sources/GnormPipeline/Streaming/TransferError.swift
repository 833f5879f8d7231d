import ChunkCoding
import HDF5
import Platform

/// A failed move of values between a dataset and memory: HDF5's, or a chunk codec's.
enum TransferError: Error, CustomStringConvertible {
    case hdf5(HDF5Error)
    /// The chunk starting at `sample` could not be inflated or deflated.
    case codec(ChunkCodingError, sample: Int)
    /// INPUT's mapped pages could not be read (`MappedDataset`): EFAULT is a file shorter than its dataset.
    case mapping(SystemCallError)

    /// The one-line reason, as `HDF5Error.reason` gives it.
    var reason: String? {
        switch self {
        case .hdf5(let error): error.reason
        case .codec(let error, let sample): "chunk at sample \(sample): \(error)"
        case .mapping(let error) where error.code == EFAULT:
            "the file ends before the dataset's values (was it truncated?)"
        case .mapping(let error): error.reason
        }
    }

    var description: String {
        switch self {
        case .hdf5(let error): error.description
        case .codec, .mapping: reason ?? ""
        }
    }

    /// The error underneath, for `PipelineError`'s cause.
    var underlying: any Error {
        switch self {
        case .hdf5(let error): error
        case .codec(let error, _): error
        case .mapping(let error): error
        }
    }
}
