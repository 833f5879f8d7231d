import ArgumentParser
import Foundation
import GnormPipeline

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Normalize datasets and write OUTPUT, a copy of INPUT with statistics under /gnorm.",
        discussion: """
            OUTPUT keeps every object and attribute of INPUT; each selected dataset is
            replaced by its normalized values and /gnorm/PATH/mean and /var hold the
            statistics used (AnnData files: /uns/gnorm/PATH; --stats-group GROUP and
            --stats-file FILE.h5 put them elsewhere). OUTPUT is written under a
            temporary name and renamed when complete. INPUT or OUTPUT may be -
            (standard input / output). Several INPUTs go to --output-dir DIR
            (DIR/NAME each) or are rewritten --in-place, one after the other in one
            process; the first failure stops the run unless --keep-going.

            SPEC for --weight/--bias/--mean/--var: /path (a dataset in INPUT),
            FILE.h5:/path, or FILE.npy; C values.

            --compression replaces a dataset's compression filters (deflate, szip,
            n-bit, scale-offset, lzf, blosc, bzip2, lz4, zstd, ...) and keeps the
            others (fletcher32, filters gnorm does not know) in their order:
              value   compression filters     shuffle               others
              same    kept                    kept                  kept
              none    removed                 removed               kept
              gzip=N  deflate at level N      kept, or added        kept

            Examples:
              gnorm apply --groups 32 in.h5 out.h5
              gnorm apply --group-size 16 --weight /gamma --bias /beta in.h5 out.h5
              gnorm apply --mode batch --mean train.h5:/gnorm/x/mean --var train.h5:/gnorm/x/var val.h5 val-norm.h5
              gnorm apply --in-place --dtype f16 --compression gzip=4 data.h5
              gnorm apply -q --groups 32 --output-dir norm/ raw/*.h5
            """
    )

    @OptionGroup var normalization: NormalizationArguments

    @Option(help: ArgumentHelp("Per-channel scale γ (PyTorch's weight). (default: 1)", valueName: "spec"))
    var weight: String?

    @Option(help: ArgumentHelp("Per-channel shift β (PyTorch's bias). (default: 0)", valueName: "spec"))
    var bias: String?

    @Option(help: ArgumentHelp("Batch mode: per-channel mean to use (eval mode).", valueName: "spec"))
    var mean: String?

    @Option(
        name: .customLong("var"),
        help: ArgumentHelp("Batch mode: per-channel variance to use (eval mode).", valueName: "spec"))
    var variance: String?

    @Option(help: "Output element type: same (float32 for integers) | f16 | f32 | f64.")
    var dtype: OutputType = .same

    @Option(
        help: ArgumentHelp(
            "Compression of normalized datasets: same | none | gzip[=1-9] (below).", valueName: "filters"))
    var compression: CompressionChoice = .same

    @Option(
        help: ArgumentHelp(
            "Also write the statistics report (.csv, .json, .ndjson; - for CSV on stdout).", valueName: "path"))
    var report: String?

    @Flag(name: [.customShort("f"), .long], help: "Replace an existing OUTPUT.")
    var force = false

    @Flag(help: "Rewrite INPUT itself, atomically.")
    var inPlace = false

    @Option(
        name: .customLong("stats-group"),
        help: ArgumentHelp(
            "Put the statistics under this group instead of /gnorm (AnnData files: /uns/gnorm).", valueName: "path"))
    var statsGroup: String?

    @Option(
        name: .customLong("stats-file"),
        help: ArgumentHelp(
            "Write the statistics to this HDF5 file (/gnorm/PATH/mean and var) instead of OUTPUT.",
            valueName: "file.h5"))
    var statsFile: String?

    @OptionGroup var files: FileArguments

    func run() throws {
        var apply = ApplyOptions()
        apply.weight = weight
        apply.bias = bias
        apply.mean = mean
        apply.variance = variance
        apply.outputType = dtype
        apply.compression = compression
        apply.report = report
        apply.force = force
        apply.inPlace = inPlace
        apply.statsGroup = statsGroup
        apply.statsFile = statsFile
        apply.commandLine = (["gnorm"] + CommandLine.arguments.dropFirst().map(shellQuoted)).joined(separator: " ")
        try files.run(options: normalization.options, apply: apply, verbose: normalization.verbose)
    }
}
