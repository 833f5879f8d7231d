import ArgumentParser
import Foundation
import GnormPipeline

/// `--dtype` of `invert`: apply's float types, or an integer type to round to.
enum InvertedType: String, CaseIterable, ExpressibleByArgument {
    case same, f16, f32, f64, int8, uint8, int16, uint16, int32, uint32, int64, uint64

    /// The integer type asked for, if one was.
    var integerType: IntegerOutputType? { IntegerOutputType(rawValue: rawValue) }
}

struct InvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invert",
        abstract: "Undo apply: OUTPUT is INPUT with each normalized dataset back in its original units.",
        discussion: """
            x = (y - bias)/weight * sqrt(var + eps) + mean, per (sample, group) or per
            channel in batch mode, computed in float64 and rounded once to the stored type.
            The statistics and the settings (mode, groups, eps, layout) are those apply
            stored under /gnorm/PATH in INPUT, or per-channel statistics given with
            --mean/--var (with the settings stored beside them, as stats --save writes
            them). A setting given that differs from the stored one is an error; give
            --weight/--bias as they were given to apply. OUTPUT loses /gnorm/PATH (unless
            --keep-stats) and the gnorm_* attributes of each inverted dataset. By default
            every dataset that apply marked and stored statistics for is inverted (gnorm ls
            shows them). Several INPUTs, --output-dir, --in-place and - work as in apply.

            Examples:
              gnorm invert out.h5 restored.h5
              gnorm invert --mean s.h5:/gnorm/x/mean --var s.h5:/gnorm/x/var pred.h5 pred-k.h5
              gnorm invert --dtype int16 --clip ct-norm.h5 ct.h5
            """
    )

    @OptionGroup var settings: InversionArguments

    @Option(help: ArgumentHelp("Per-channel scale γ that apply was given. (default: 1)", valueName: "spec"))
    var weight: String?

    @Option(help: ArgumentHelp("Per-channel shift β that apply was given. (default: 0)", valueName: "spec"))
    var bias: String?

    @Option(help: ArgumentHelp("Per-channel mean to use instead of the stored statistics.", valueName: "spec"))
    var mean: String?

    @Option(
        name: .customLong("var"),
        help: ArgumentHelp("Per-channel variance to use instead of the stored statistics.", valueName: "spec"))
    var variance: String?

    @Option(help: "Output element type: same | f16 | f32 | f64 | int8 … uint64 (rounded to nearest).")
    var dtype: InvertedType = .same

    @Flag(help: "With an integer --dtype, clamp values out of its range instead of failing.")
    var clip = false

    @Option(help: ArgumentHelp("Filters of inverted datasets: same | none | gzip[=1-9].", valueName: "filters"))
    var compression: CompressionChoice = .same

    @Flag(name: .customLong("keep-stats"), help: "Keep /gnorm/PATH in OUTPUT.")
    var keepStatistics = false

    @Flag(name: [.customShort("f"), .long], help: "Replace an existing OUTPUT.")
    var force = false

    @Flag(help: "Rewrite INPUT itself, atomically.")
    var inPlace = false

    @OptionGroup var files: FileArguments

    func validate() throws {
        if clip && dtype.integerType == nil { throw ValidationError("--clip goes with an integer --dtype") }
    }

    func run() throws {
        var apply = ApplyOptions()
        apply.weight = weight
        apply.bias = bias
        apply.mean = mean
        apply.variance = variance
        apply.outputType = dtype.integerType == nil ? OutputType(rawValue: dtype.rawValue) ?? .same : .same
        apply.compression = compression
        apply.force = force
        apply.inPlace = inPlace
        apply.commandLine = (["gnorm"] + CommandLine.arguments.dropFirst().map(shellQuoted)).joined(separator: " ")
        var inversion = settings.inversion
        inversion.keepsStatistics = keepStatistics
        inversion.integerType = dtype.integerType
        inversion.clips = clip
        apply.inversion = inversion
        let options = settings.options
        try files.run(options: options, apply: apply, verbose: settings.verbose)
    }
}

/// `apply`'s shared options for `invert`, where the settings default to the stored ones.
struct InversionArguments: ParsableArguments {
    @Option(
        name: [.customShort("d"), .long],
        help: ArgumentHelp(
            "Dataset to invert; repeatable (default: every dataset with statistics under /gnorm).",
            valueName: "path"))
    var dataset: [String] = []

    @Option(name: [.customShort("g"), .long], help: "Number of groups. (default: the stored one)")
    var groups: Int?

    @Option(name: .long, help: ArgumentHelp("Channels per group (G = C/K); excludes --groups.", valueName: "K"))
    var groupSize: Int?

    @Option(help: "group | layer | instance | batch. (default: the stored one)")
    var mode: NormalizationMode?

    @Option(help: "Added to the variance inside the square root. (default: the stored one)")
    var eps: Double?

    @Option(help: "nchw or nhwc. (default: the stored one)")
    var layout: TensorLayout?

    @Option(help: ArgumentHelp("Worker threads (default: all cores).", valueName: "T"))
    var threads: Int?

    @Option(help: ArgumentHelp("Memory for data (slabs, deflate chunks, HDF5's chunks), in MiB.", valueName: "MiB"))
    var memoryLimit: Int = 256

    @Option(help: "Kernel instruction set: auto | baseline (SSE2) | avx2; all give the same bits.")
    var cpu: CPUChoice = .auto

    @Flag(name: .customLong("no-mask"), help: "Invert values equal to _FillValue or missing_value too.")
    var noMask = false

    @Flag(name: .long, help: "On errors, also print HDF5's error stack.")
    var verbose = false

    mutating func validate() throws {
        try SharedChecks.groups(groups, groupSize: groupSize, mode: mode)
        if let eps, !(eps >= 0) || !eps.isFinite {
            throw ValidationError("--eps must be a finite number ≥ 0, got \(eps)")
        }
        try SharedChecks.resources(threads: threads, memoryLimit: memoryLimit, cpu: cpu)
    }

    var options: NormalizationOptions {
        var options = NormalizationOptions()
        options.datasets = dataset
        SharedChecks.setResources(threads: threads, memoryLimit: memoryLimit, cpu: cpu, noMask: noMask, in: &options)
        return options
    }

    var inversion: InversionOptions {
        var inversion = InversionOptions()
        inversion.mode = mode
        inversion.groups = SharedChecks.groupChoice(groups, groupSize: groupSize)
        inversion.epsilon = eps
        inversion.layout = layout
        return inversion
    }
}
