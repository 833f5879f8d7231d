import GroupNormKernel
import HDF5

/// Why a gnorm run failed, with the file and dataset concerned and, where there is
/// one, the error underneath (HDF5's stack, a codec's status, a kernel check).
/// The CLI maps each case to one sysexits status (SPEC §5).
public enum PipelineError: Error, CustomStringConvertible {
    /// Conflicting or invalid options (EX_USAGE).
    case usage(String)
    /// The data cannot be normalized as asked (EX_DATAERR).
    case data(String, file: String, dataset: String? = nil, cause: (any Error)? = nil)
    /// INPUT (or a parameter file) is missing, unreadable or not HDF5 (EX_NOINPUT).
    case inputUnavailable(String, file: String, cause: (any Error)? = nil)
    /// OUTPUT exists, is INPUT, or cannot be created (EX_CANTCREAT).
    case outputUnavailable(String, file: String, cause: (any Error)? = nil)
    /// Reading or writing failed midway (EX_IOERR).
    case io(String, file: String, dataset: String? = nil, cause: (any Error)? = nil)
    /// The reader of standard output went away (`| head`): stop quietly.
    case brokenPipe

    /// "WHAT (WHERE)", the line printed after "gnorm: error: ".
    public var description: String {
        switch self {
        case .usage(let what): return what
        case .data(let what, let file, let dataset, _),
            .io(let what, let file, let dataset, _):
            return "\(what) (\(Self.place(file, dataset)))"
        case .inputUnavailable(let what, let file, _), .outputUnavailable(let what, let file, _):
            return "\(what) (\(file))"
        case .brokenPipe: return "broken pipe"
        }
    }

    /// The error underneath, in full (HDF5's whole stack), for `--verbose`.
    public var detail: String? {
        switch cause {
        case let error as HDF5Error: return error.detailedDescription
        case let error?: return String(describing: error)
        case nil: return nil
        }
    }

    var cause: (any Error)? {
        switch self {
        case .data(_, _, _, let cause), .inputUnavailable(_, _, let cause), .outputUnavailable(_, _, let cause),
            .io(_, _, _, let cause):
            return cause
        case .usage, .brokenPipe:
            return nil
        }
    }

    /// A dataset of INPUT that could not be opened: INPUT unreadable (66) where the file needs a
    /// newer HDF5 than gnorm's, else a read failure (74).
    static func datasetOpenFailure(_ error: HDF5Error, file: String, dataset: String) -> PipelineError {
        let what = "cannot open dataset: \(error.reason ?? error.description)"
        if error.needsNewerLibrary { return .inputUnavailable(what, file: place(file, dataset), cause: error) }
        return .io(what, file: file, dataset: dataset, cause: error)
    }

    static func place(_ file: String, _ dataset: String?) -> String {
        dataset.map { "\(file):\($0)" } ?? file
    }
}

extension GroupNormError {
    func inFile(_ file: String, dataset: String?) -> PipelineError {
        .data(description, file: file, dataset: dataset, cause: self)
    }
}
