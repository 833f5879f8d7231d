import GroupNormKernel

/// Which statistics a run uses (SPEC §1).
public enum NormalizationMode: String, CaseIterable, Sendable {
    case group, layer, instance, batch
}

/// How the groups were asked for on the command line.
public enum GroupChoice: Equatable, Sendable {
    case count(Int)
    case channelsPerGroup(Int)
}

/// Options shared by `apply` and `stats`.
public struct NormalizationOptions: Sendable {
    public var datasets: [String] = []
    public var groups: GroupChoice = .count(32)
    public var mode: NormalizationMode = .group
    public var epsilon: Double = 1e-5
    public var layout: TensorLayout = .nchw
    public var threadCount: Int = defaultThreadCount
    /// `--memory-limit` in bytes: what one pass over a dataset keeps in memory, gnorm's slab, staging
    /// and codec buffers and libhdf5's chunks together (`MemoryPlan`).
    public var memoryLimit: Int = 256 << 20
    /// Leave values equal to a dataset's `_FillValue` / `missing_value` out of the statistics
    /// and keep them as fill (`--no-mask` turns it off).
    public var masksFill = true
    /// `--cpu`: the kernel's instruction set (the same bits on each).
    public var cpu = CPUChoice.auto
    /// `--allow-external`: read external raw storage and VDS sources outside INPUT's folder (`ExternalFiles`).
    public var allowsExternal = false
    /// The processes that run the command together (`gnorm-mpi`'s MPI job), given by the command:
    /// the pipeline shares samples, files and OUTPUT through this group and never looks one up.
    public var processGroup: any ProcessGroup = SoloProcess()

    public init() {}

    public static var defaultThreadCount: Int { max(1, systemCoreCount()) }

    /// The statistics scope for a dataset with `channels` channels.
    func scope(channels: Int, file: String, dataset: String) throws(PipelineError) -> StatisticsScope {
        switch mode {
        case .layer: return .groups(1)
        case .instance: return .groups(channels)
        case .batch: return .channels
        case .group:
            switch groups {
            case .count(let count):
                guard channels % count == 0 else {
                    throw GroupNormError.channelsNotDivisible(channels: channels, groups: count)
                        .inFile(file, dataset: dataset)
                }
                return .groups(count)
            case .channelsPerGroup(let size):
                guard channels % size == 0 else {
                    let valid = (1...channels).filter { channels % $0 == 0 }.map(String.init).joined(separator: ", ")
                    throw PipelineError.data(
                        "\(channels) channels cannot be split into groups of \(size); valid group sizes: \(valid)",
                        file: file, dataset: dataset)
                }
                return .groups(channels / size)
            }
        }
    }
}

/// Where the channel axis is (SPEC §1): axis 1 (`nchw`) or the last (`nhwc`). The
/// pipeline's name for the kernel's `ChannelLayout`, so the command line sees the pipeline alone.
public enum TensorLayout: String, CaseIterable, Sendable {
    case nchw, nhwc

    var channelLayout: ChannelLayout { self == .nchw ? .channelsFirst : .channelsLast }
}

/// Output element type of normalized datasets.
public enum OutputType: String, CaseIterable, Sendable {
    case same, f16, f32, f64
}

/// Filters of normalized datasets in OUTPUT.
public enum CompressionChoice: Equatable, Sendable {
    case same
    case none
    case gzip(level: Int)

    /// Parses `same`, `none`, `gzip` or `gzip=1`…`gzip=9`.
    public init?(argument: String) {
        switch argument {
        case "same": self = .same
        case "none": self = .none
        case "gzip": self = .gzip(level: 4)
        default:
            guard argument.hasPrefix("gzip="), let level = Int(argument.dropFirst(5)), (1...9).contains(level)
            else { return nil }
            self = .gzip(level: level)
        }
    }
}

/// Options of `apply` only.
public struct ApplyOptions: Sendable {
    public var weight: String?
    public var bias: String?
    public var mean: String?
    public var variance: String?
    public var outputType: OutputType = .same
    public var compression: CompressionChoice = .same
    public var report: String?
    public var force = false
    public var inPlace = false
    public var history = true
    /// `--stats-group`: the group the statistics go under instead of `/gnorm` (AnnData: `/uns/gnorm`).
    public var statsGroup: String?
    /// `--stats-file`: the file the statistics go to instead of OUTPUT.
    public var statsFile: String?
    /// The command line, for the `history` attribute.
    public var commandLine: String = ""
    /// `gnorm invert`: undo the normalization instead (Inversion.swift).
    public var inversion: InversionOptions?

    public init() {}
}
