import ArgumentParser
import Foundation
import GnormPipeline

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print per-group (or per-channel) mean and variance of datasets.",
        discussion: """
            One row per (dataset, sample, group); in batch mode one per (dataset, channel).
            Numbers are printed in their shortest form that reads back as the same float64.
            Several INPUTs: each file's rows in order, after a file column; in batch
            mode one set of per-channel statistics over every sample of every file.

            Examples:
              gnorm stats in.h5
              gnorm stats -d /x --groups 8 --format csv in.h5 | head
              gnorm stats --format ndjson in.h5 | jq -c 'select(.var < 1e-3)'
              gnorm stats --mode batch --save train-stats.h5 train-*.h5
            """
    )

    @OptionGroup var normalization: NormalizationArguments

    @Option(help: "table | csv | json | ndjson (default: table on a terminal, csv otherwise).")
    var format: ReportFormat?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Table format: at most this many rows per dataset; 0 for all.", valueName: "rows"))
    var limit: Int = 50

    @Option(
        help: ArgumentHelp(
            "Batch mode: also store the statistics as HDF5 (/gnorm/PATH/mean and var, for apply --mean/--var).",
            valueName: "file.h5"))
    var save: String?

    @OptionGroup var messages: MessageArguments

    @Argument(help: ArgumentHelp("HDF5 files to read, or - for standard input.", valueName: "input"))
    var inputs: [String] = []

    func validate() throws {
        if inputs.isEmpty {
            throw ValidationError("missing INPUT: give one or more HDF5 files, or - for standard input")
        }
    }

    func run() throws {
        let chosen = format ?? (isatty(1) != 0 ? .table : .csv)
        // Under MPI only process 0 shows progress and warnings.
        let progress = Processes.current.rank == 0 ? messages.observer() : nil
        progress?.printsSummary = false
        reportingFailures(verbose: normalization.verbose) { () throws(PipelineError) in
            try StatisticsRun.run(
                inputs: inputs, options: normalization.options, format: chosen,
                rowLimit: limit > 0 ? limit : nil, save: save, progress: progress)
        }
    }
}
