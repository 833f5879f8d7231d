/// A chunk that libdeflate or ISA-L could not inflate or deflate.
public enum ChunkCodingError: Error, CustomStringConvertible, Sendable {
    /// The stored bytes are not a complete zlib stream of one chunk (libdeflate's result code).
    case corruptStream(result: Int32)
    /// The compressor produced nothing (an output buffer too small for the chunk).
    case compressorFailed(codec: String)

    public var description: String {
        switch self {
        case .corruptStream(let result): "libdeflate: corrupt or truncated deflate stream (result \(result))"
        case .compressorFailed(let codec): "\(codec): the compressor failed"
        }
    }
}
