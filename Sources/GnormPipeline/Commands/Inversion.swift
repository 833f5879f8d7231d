import GroupNormKernel
import HDF5

/// The integer types `invert --dtype` rounds to.
public enum IntegerOutputType: String, CaseIterable, Sendable {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64

    var elementType: ElementType {
        switch self {
        case .int8: .integer(bits: 8, signed: true)
        case .uint8: .integer(bits: 8, signed: false)
        case .int16: .integer(bits: 16, signed: true)
        case .uint16: .integer(bits: 16, signed: false)
        case .int32: .integer(bits: 32, signed: true)
        case .uint32: .integer(bits: 32, signed: false)
        case .int64: .integer(bits: 64, signed: true)
        case .uint64: .integer(bits: 64, signed: false)
        }
    }
}

/// `gnorm invert`'s options besides those it shares with `apply`: the settings given on the
/// command line (nil: the stored one), and what becomes of the statistics and of integers.
public struct InversionOptions: Sendable {
    public var mode: NormalizationMode?
    public var groups: GroupChoice?
    public var epsilon: Double?
    public var layout: TensorLayout?
    /// `--keep-stats`: leave /gnorm/PATH in OUTPUT.
    public var keepsStatistics = false
    /// `--dtype int16` and the like: round to nearest (ties to even) and store as this integer type.
    public var integerType: IntegerOutputType?
    /// `--clip`: integers out of the type's range become its limits instead of failing (65).
    public var clips = false

    public init() {}
}

// `gnorm invert` is `ApplyRun` with `ApplyOptions.inversion` set: each dataset's map reversed
// (SPEC §2), x = (y − β)/γ · sqrt(var + eps) + mean, with the statistics and settings `apply`
// stored under /gnorm/PATH, or given per-channel statistics (`--mean/--var`, e.g. from
// `stats --mode batch --save`). Everything else (OUTPUT, masking, types, MPI) is `apply`'s.

/// The attributes `apply` marks a normalized dataset with; inversion removes them.
let normalizedMarks = ["gnorm_mode", "gnorm_groups", "gnorm_eps"]

/// The stored settings of one set of statistics: the attributes of /gnorm/PATH.
private struct StoredSettings {
    var mode: NormalizationMode?
    var groups: Int?
    var epsilon: Double?
    var layout: TensorLayout?
    /// Where they were read, for messages: FILE:/gnorm/PATH.
    var origin: String?

    init() {}

    init(of group: String, in file: borrowing File) throws(PipelineError) {
        origin = "\(file.name):\(group)"
        func value(_ name: String) throws(PipelineError) -> AttributeValue? {
            guard file.hasAttribute(name, on: group) else { return nil }
            do { return try file.attribute(name, on: group) } catch {
                throw .io(
                    "cannot read attribute \(name): \(error.reason ?? error.description)", file: file.name,
                    dataset: group, cause: error)
            }
        }
        func text(_ name: String) throws(PipelineError) -> String? {
            switch try value(name) {
            case .string(let text)?, .fixedString(let text)?: return text
            default: return nil
            }
        }
        func bad(_ name: String, _ value: String) -> PipelineError {
            .data("stored attribute \(name) = \(value) is not one gnorm writes", file: file.name, dataset: group)
        }
        if let text = try text("mode") {
            guard let mode = NormalizationMode(rawValue: text) else { throw bad("mode", text) }
            self.mode = mode
        }
        if let text = try text("layout") {
            guard let layout = TensorLayout(rawValue: text) else { throw bad("layout", text) }
            self.layout = layout
        }
        switch try value("groups") {
        case .integer(let count)?: groups = count
        case .integer32(let count)?: groups = Int(count)
        default: break
        }
        switch try value("eps") {
        case .double(let number)?: epsilon = number
        default: break
        }
    }
}

extension ApplyRun {
    /// The datasets to invert with their jobs (settings resolved per dataset) and maps.
    static func inversionJobs(
        in source: borrowing File, options: NormalizationOptions, apply: ApplyOptions, inversion: InversionOptions
    ) throws(PipelineError) -> [(job: DatasetJob, affine: DatasetStream.Affine)] {
        var requested = options.datasets
        if requested.isEmpty && apply.mean == nil {
            requested = try invertiblePaths(in: source)
            guard !requested.isEmpty else {
                throw .data(
                    "no dataset holds statistics stored by gnorm apply (/gnorm/PATH/mean and var, and gnorm_mode "
                        + "on the dataset); name one with -d, or give the statistics with --mean/--var",
                    file: source.name)
            }
        }
        var result: [(job: DatasetJob, affine: DatasetStream.Affine)] = []
        for selected in try DatasetSelection.select(requested, in: source) {
            result.append(try inversionJob(selected, in: source, options: options, apply: apply, inversion: inversion))
        }
        return result
    }

    /// Datasets whose statistics `apply` stored and whose values it marked as normalized, in file order.
    static func invertiblePaths(in file: borrowing File) throws(PipelineError) -> [String] {
        let entries: [ObjectEntry]
        do { entries = try file.objects() } catch {
            throw .io("cannot list objects: \(error.reason ?? error.description)", file: file.name, cause: error)
        }
        let base = statisticsBase(in: file)
        return entries.filter { $0.kind == .dataset && !$0.path.hasPrefix(base + "/") }.map(\.path).filter {
            isInvertible($0, in: file)
        }
    }

    /// Where `apply` put the statistics of a file like `file` by default: /gnorm, or /uns/gnorm in
    /// an AnnData file (`StatisticsPlacement`). Others are given with --mean/--var FILE:PATH.
    static func statisticsBase(in file: borrowing File) -> String {
        StatisticsPlacement.isAnnData(file) ? StatisticsPlacement.annDataBase : StatisticsPlacement.defaultBase
    }

    /// Whether `apply` stored statistics of the dataset at `path` and marked it as normalized.
    static func isInvertible(_ path: String, in file: borrowing File) -> Bool {
        let group = statisticsBase(in: file) + path
        return file.kindOfObject(at: group + "/mean") == .dataset && file.kindOfObject(at: group + "/var") == .dataset
            && file.hasAttribute("gnorm_mode", on: path)
    }

    private static func inversionJob(
        _ selected: SelectedDataset, in source: borrowing File, options: NormalizationOptions, apply: ApplyOptions,
        inversion: InversionOptions
    ) throws(PipelineError) -> (job: DatasetJob, affine: DatasetStream.Affine) {
        let path = selected.path
        let group = statisticsBase(in: source) + path
        let stored: StoredSettings
        if let spec = apply.mean {
            stored = try settings(nextTo: spec, input: source)
        } else {
            guard source.kindOfObject(at: group + "/mean") == .dataset,
                source.kindOfObject(at: group + "/var") == .dataset
            else {
                throw .data(
                    "no statistics stored under \(group) (apply writes them there); give --mean/--var",
                    file: source.name, dataset: path)
            }
            stored = try StoredSettings(of: group, in: source)
        }
        var resolved = options
        resolved.mode =
            try agreed(
                "--mode", given: inversion.mode, stored: stored.mode, storedName: "mode", origin: stored.origin,
                show: \.rawValue) ?? (apply.mean != nil ? .batch : .group)
        resolved.epsilon =
            try agreed(
                "--eps", given: inversion.epsilon, stored: stored.epsilon, storedName: "eps", origin: stored.origin,
                show: { "\($0)" }) ?? 1e-5
        resolved.layout =
            try agreed(
                "--layout", given: inversion.layout, stored: stored.layout, storedName: "layout",
                origin: stored.origin, show: \.rawValue) ?? .nchw
        if apply.mean != nil && resolved.mode != .batch {
            throw .usage(
                "--mean and --var are per-channel statistics (batch mode); the settings say mode \(resolved.mode)")
        }
        if resolved.mode == .group {
            // The given group count, in whichever form it came, against the stored one.
            let channelAxis = resolved.layout == .nchw ? 1 : selected.shape.count - 1
            let channels = selected.shape.count >= 2 ? selected.shape[channelAxis] : 0
            var given: Int? = nil
            switch inversion.groups {
            case .count(let count)?: given = count
            case .channelsPerGroup(let size)? where size > 0 && channels % size == 0: given = channels / size
            case .channelsPerGroup(let size)?:
                throw .data(
                    "\(channels) channels cannot be split into groups of \(size)", file: source.name, dataset: path)
            case nil: break
            }
            let groups =
                try agreed(
                    "--groups", given: given, stored: stored.groups, storedName: "groups", origin: stored.origin,
                    show: { "\($0)" }) ?? 32
            resolved.groups = .count(groups)
        } else if inversion.groups != nil && stored.mode != nil {
            throw .usage(
                "--groups/--group-size apply to mode group; \(stored.origin ?? "the statistics") say mode "
                    + "\(resolved.mode) (leave them out)")
        }
        let job = try DatasetJob(selected, options: resolved, file: source.name)
        var affine = try affine(for: job, apply: apply, options: resolved, input: source)
        affine.direction = .invert
        affine.clipsIntegers = inversion.clips
        if apply.mean == nil {
            let expected =
                job.mode == .batch ? [job.plan.channelCount] : [job.geometry.sampleCount, job.plan.groupCount]
            affine.mean = try statistics(group + "/mean", expected: expected, in: source, dataset: path)
            affine.variance = try statistics(group + "/var", expected: expected, in: source, dataset: path)
        }
        if let scale = affine.scale, let channel = scale.firstIndex(of: 0) {
            throw .data(
                "--weight is 0 in channel \(channel): normalizing mapped every value of that channel to its bias, "
                    + "which cannot be undone", file: source.name, dataset: path)
        }
        return (job, affine)
    }

    /// The setting both stored and given must agree on (a usage error naming both otherwise).
    private static func agreed<T: Equatable>(
        _ option: String, given: T?, stored: T?, storedName: String, origin: String?, show: (T) -> String
    ) throws(PipelineError) -> T? {
        if let given, let stored, given != stored {
            throw .usage(
                "\(option) \(show(given)) differs from the \(storedName) \(show(stored)) stored in \(origin ?? "") "
                    + "with the statistics; leave \(option) out to use the stored one")
        }
        return stored ?? given
    }

    /// The settings stored next to a `--mean` SPEC that names an HDF5 dataset: its group's attributes.
    private static func settings(nextTo spec: String, input: borrowing File) throws(PipelineError) -> StoredSettings {
        func parent(_ path: String) -> String {
            let cut = path.split(separator: "/").dropLast().joined(separator: "/")
            return "/" + cut
        }
        switch ParameterSource(spec: spec) {
        case .inputDataset(let path)?:
            return try StoredSettings(of: parent(path), in: input)
        case .fileDataset(let fileName, let path)?:
            guard File.isHDF5(fileName) else { return StoredSettings() }
            let file: File
            do { file = try File(openingForReading: fileName) } catch {
                throw .inputUnavailable(
                    "--mean file is not a readable HDF5 file: \(error.reason ?? error.description)", file: fileName,
                    cause: error)
            }
            guard file.exists(parent(path)) else { return StoredSettings() }
            return try StoredSettings(of: parent(path), in: file)
        case .numpy?, nil:
            return StoredSettings()
        }
    }

    /// A stored float64 statistics dataset, whose shape must be `expected`.
    private static func statistics(
        _ path: String, expected: [Int], in file: borrowing File, dataset: String
    ) throws(PipelineError) -> [Double] {
        do {
            let statistics = try file.openDataset(path)
            guard statistics.shape == expected, statistics.elementType.isNumeric else {
                throw PipelineError.data(
                    "\(file.name):\(path) has shape \(statistics.shape) (\(statistics.elementType.name)); "
                        + "the dataset's statistics under these settings have shape \(expected)",
                    file: file.name, dataset: dataset)
            }
            return try statistics.readAll(as: Double.self)
        } catch let error as HDF5Error {
            throw .io(
                "cannot read \(path): \(error.reason ?? error.description)", file: file.name, dataset: dataset,
                cause: error)
        } catch let error as PipelineError {
            throw error
        } catch {
            throw .io("cannot read \(path): \(error)", file: file.name, dataset: dataset, cause: error)
        }
    }

    /// After inversion: the dataset's gnorm_* marks gone and, unless kept, /gnorm/PATH and the groups
    /// above it that it leaves empty.
    static func clearStatistics(
        of path: String, dataset: borrowing Dataset, in file: borrowing File, keep: Bool
    ) throws(HDF5Error) {
        for name in normalizedMarks { try dataset.deleteAttribute(name) }
        guard !keep else { return }
        let base = statisticsBase(in: file)
        var group = base + path
        guard file.exists(group) else { return }
        try file.removeLink(group)
        while group != base {
            group = "/" + group.split(separator: "/").dropLast().joined(separator: "/")
            guard try file.isEmptyGroup(group) else { return }
            try file.removeLink(group)
        }
    }
}

extension GroupNormPlan {
    /// The statistics of `samples` among `all`: every channel's for batch scope, otherwise
    /// the groups of those samples (statistics of every sample of the dataset, in order).
    func statistics(_ all: [Moments], of samples: Range<Int>) -> [Moments] {
        guard scope != .channels else { return all }
        return Array(all[samples.lowerBound * groupCount..<samples.upperBound * groupCount])
    }
}
