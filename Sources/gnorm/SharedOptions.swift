import ArgumentParser
import GnormPipeline

extension NormalizationMode: ExpressibleByArgument {}
extension TensorLayout: ExpressibleByArgument {}
extension CPUChoice: ExpressibleByArgument {}
extension OutputType: ExpressibleByArgument {}
extension CompressionChoice: ExpressibleByArgument {
    public var defaultValueDescription: String {
        switch self {
        case .same: "same"
        case .none: "none"
        case .gzip(let level): "gzip=\(level)"
        }
    }
}
extension ReportFormat: ExpressibleByArgument {}
extension Listing.Format: ExpressibleByArgument {}

/// The options `apply` and `stats` share (SPEC §2).
struct NormalizationArguments: ParsableArguments {
    @Option(
        name: [.customShort("d"), .long],
        help: ArgumentHelp(
            "Dataset to process; repeatable (default: every numeric dataset of rank ≥ 3).", valueName: "path"))
    var dataset: [String] = []

    // Negative numbers reach validate(), which names the option (ArgumentCheck.takesAnyValue).
    @Option(
        name: [.customShort("g"), .long], parsing: .unconditional,
        help: "Number of groups; must divide C. (default: 32)")
    var groups: Int?

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("Channels per group (G = C/K); excludes --groups.", valueName: "K"))
    var groupSize: Int?

    @Option(help: "group | layer (G = 1) | instance (G = C) | batch (per channel over N).")
    var mode: NormalizationMode = .group

    @Option(parsing: .unconditional, help: "Added to the variance inside the square root.")
    var eps: Double = 1e-5

    @Option(help: "Where the channel axis is: nchw (axis 1) or nhwc (last).")
    var layout: TensorLayout = .nchw

    @Option(parsing: .unconditional, help: ArgumentHelp("Worker threads (default: all cores).", valueName: "T"))
    var threads: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Memory for data (slabs, deflate chunks, HDF5's chunks), in MiB.", valueName: "MiB"))
    var memoryLimit: Int = 256

    @Option(help: "Kernel instruction set: auto | baseline (SSE2) | avx2; all give the same bits.")
    var cpu: CPUChoice = .auto

    @Flag(name: .customLong("no-mask"), help: "Treat _FillValue, missing_value and values outside valid_range as data.")
    var noMask = false

    @Flag(
        name: .customLong("allow-external"),
        help: "Read external raw storage and virtual-dataset sources outside INPUT's folder.")
    var allowExternal = false

    @Flag(name: .long, help: "On errors, also print HDF5's error stack.")
    var verbose = false

    mutating func validate() throws {
        try SharedChecks.groups(groups, groupSize: groupSize, mode: mode)
        if !(eps >= 0) || !eps.isFinite { throw ValidationError("--eps must be a finite number ≥ 0, got \(eps)") }
        try SharedChecks.resources(threads: threads, memoryLimit: memoryLimit, cpu: cpu)
    }

    var options: NormalizationOptions {
        var options = NormalizationOptions()
        options.datasets = dataset
        options.groups = SharedChecks.groupChoice(groups, groupSize: groupSize) ?? options.groups
        options.mode = mode
        options.epsilon = eps
        options.layout = layout
        SharedChecks.setResources(threads: threads, memoryLimit: memoryLimit, cpu: cpu, noMask: noMask, in: &options)
        options.allowsExternal = allowExternal
        return options
    }
}

/// What `apply`/`stats` (`NormalizationArguments`) and `invert` (`InversionArguments`) check and set alike.
enum SharedChecks {
    /// `--groups`/`--group-size`: one of them, at least 1, with `--mode group` (nil: the mode is not given).
    static func groups(_ groups: Int?, groupSize: Int?, mode: NormalizationMode?) throws {
        if groups != nil && groupSize != nil {
            throw ValidationError("--groups and --group-size exclude each other; give one")
        }
        if let groups, groups < 1 { throw ValidationError("--groups must be at least 1, got \(groups)") }
        if let groupSize, groupSize < 1 { throw ValidationError("--group-size must be at least 1, got \(groupSize)") }
        if let mode, groups != nil || groupSize != nil, mode != .group {
            throw ValidationError(
                "--groups and --group-size apply to --mode group only (\(mode.rawValue) fixes the groups)")
        }
    }

    /// The groups asked for: `--group-size`, or `--groups`; nil when neither is given.
    static func groupChoice(_ groups: Int?, groupSize: Int?) -> GroupChoice? {
        groupSize.map { .channelsPerGroup($0) } ?? groups.map { .count($0) }
    }

    /// `--threads`, `--memory-limit` and `--cpu`.
    static func resources(threads: Int?, memoryLimit: Int, cpu: CPUChoice) throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if memoryLimit < 1 { throw ValidationError("--memory-limit must be at least 1 MiB, got \(memoryLimit)") }
        if !cpu.isAvailable {
            throw ValidationError("--cpu \(cpu.rawValue): this CPU does not have it")
        }
    }

    /// The resources, `--no-mask` and the process group in `options`.
    static func setResources(
        threads: Int?, memoryLimit: Int, cpu: CPUChoice, noMask: Bool, in options: inout NormalizationOptions
    ) {
        options.threadCount = threads ?? NormalizationOptions.defaultThreadCount
        options.memoryLimit = memoryLimit << 20
        options.masksFill = !noMask
        options.cpu = cpu
        // gnorm-mpi's MPI job (joined in `Gnorm.main`), or this process alone: the pipeline is given it.
        options.processGroup = Processes.current
    }
}

/// `-q`, `--progress`, `--no-progress`.
struct MessageArguments: ParsableArguments {
    @Flag(name: [.customShort("q"), .long], help: "No progress and no summary on stderr.")
    var quiet = false

    @Flag(inversion: .prefixedNo, help: "Progress bar on stderr (default: only when stderr is a terminal).")
    var progress: Bool?

    func observer() -> TerminalProgress? {
        if quiet { return nil }
        let draw = progress ?? TerminalProgress.standardErrorIsTerminal
        return TerminalProgress(drawsBar: draw)
    }
}
