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

            Examples:
              gnorm stats in.h5
              gnorm stats -d /x --groups 8 --format csv in.h5 | head
              gnorm stats --format ndjson in.h5 | jq -c 'select(.var < 1e-3)'
            """
    )

    @OptionGroup var normalization: NormalizationArguments

    @Option(help: "table | csv | json | ndjson (default: table on a terminal, csv otherwise).")
    var format: ReportFormat?

    @Option(help: ArgumentHelp("Table format: at most this many rows per dataset; 0 for all.", valueName: "rows"))
    var limit: Int = 50

    @OptionGroup var messages: MessageArguments

    @Argument(help: ArgumentHelp("HDF5 file to read, or - for standard input.", valueName: "input"))
    var input: String

    func run() throws {
        let chosen = format ?? (isatty(1) != 0 ? .table : .csv)
        let progress = messages.observer()
        progress?.printsSummary = false
        reportingFailures(verbose: normalization.verbose) { () throws(PipelineError) in
            try StatisticsRun.run(input: input, options: normalization.options, format: chosen,
                                  rowLimit: limit > 0 ? limit : nil, progress: progress)
        }
    }
}
