import HDF5
import GroupNormKernel

/// Why a gnorm run failed, with the file and dataset concerned.
/// The CLI maps each case to one sysexits status (SPEC §5).
public enum PipelineError: Error, CustomStringConvertible {
    /// Conflicting or invalid options (EX_USAGE).
    case usage(String)
    /// The data cannot be normalized as asked (EX_DATAERR).
    case data(String, file: String, dataset: String? = nil)
    /// INPUT (or a parameter file) is missing, unreadable or not HDF5 (EX_NOINPUT).
    case inputUnavailable(String, file: String)
    /// OUTPUT exists, is INPUT, or cannot be created (EX_CANTCREAT).
    case outputUnavailable(String, file: String)
    /// Reading or writing failed midway (EX_IOERR).
    case io(String, file: String, dataset: String? = nil, cause: HDF5Error? = nil)
    /// SIGINT or SIGTERM arrived.
    case interrupted
    /// The reader of standard output went away (`| head`): stop quietly.
    case brokenPipe

    /// "WHAT (WHERE)", the line printed after "gnorm: error: ".
    public var description: String {
        switch self {
        case .usage(let what): return what
        case .data(let what, let file, let dataset),
             .io(let what, let file, let dataset, _):
            return "\(what) (\(Self.place(file, dataset)))"
        case .inputUnavailable(let what, let file), .outputUnavailable(let what, let file):
            return "\(what) (\(file))"
        case .interrupted: return "interrupted"
        case .brokenPipe: return "broken pipe"
        }
    }

    /// HDF5's error stack, for `--verbose`.
    public var detail: String? {
        if case .io(_, _, _, let cause?) = self { return cause.detailedDescription }
        return nil
    }

    static func place(_ file: String, _ dataset: String?) -> String {
        dataset.map { "\(file):\($0)" } ?? file
    }
}

extension GroupNormError {
    func inFile(_ file: String, dataset: String?) -> PipelineError {
        .data(description, file: file, dataset: dataset)
    }
}
