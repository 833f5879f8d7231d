import ArgumentParser
import Foundation
import GnormPipeline

/// The files of `apply` and `invert` and how a run over them goes: INPUT and OUTPUT, or
/// several INPUTs (`--output-dir`, `--in-place`), `--keep-going`, `--no-history`, messages.
struct FileArguments: ParsableArguments {
    @Flag(name: .customLong("no-history"), help: "Do not append this command to the root's history attribute.")
    var noHistory = false

    @Option(
        name: .customLong("output-dir"),
        help: ArgumentHelp("Write each INPUT to DIR/NAME (several INPUTs in one run).", valueName: "dir"))
    var outputDirectory: String?

    @Flag(name: .customLong("keep-going"), help: "With several INPUTs, go on after a file fails.")
    var keepGoing = false

    @OptionGroup var messages: MessageArguments

    @Argument(help: ArgumentHelp("HDF5 file to read, or - for standard input.", valueName: "input"))
    var input: String

    @Argument(
        help: ArgumentHelp(
            "HDF5 file to write, or - for standard output; with --output-dir or --in-place, more INPUTs.",
            valueName: "output"))
    var rest: [String] = []

    /// Runs `apply` (or `invert`: `apply.inversion`) over one INPUT, or over several one after
    /// the other with a closing count; throws the first failure's status.
    func run(options: NormalizationOptions, apply: ApplyOptions, verbose: Bool) throws {
        var apply = apply
        apply.history = !noHistory
        // Under MPI only process 0 shows progress and warnings.
        let progress = options.processGroup.rank == 0 ? messages.observer() : nil
        // One INPUT (and OUTPUT) runs alone; anything else is a list of INPUTs, whose checks say
        // what is missing (several INPUTs without --output-dir or --in-place, for one).
        guard outputDirectory != nil || rest.count > 1 || (apply.inPlace && !rest.isEmpty) else {
            _ = reportingFailures(verbose: verbose) { () throws(PipelineError) in
                try ApplyRun.run(input: input, output: rest.first, options: options, apply: apply, progress: progress)
            }
            return
        }
        let started = Date()
        let outcomes = reportingFailures(verbose: verbose) { () throws(PipelineError) in
            try ApplyRun.run(
                inputs: [input] + rest, outputDirectory: outputDirectory, options: options, apply: apply,
                keepGoing: keepGoing, progress: progress)
        }
        let failures = outcomes.compactMap(\.failure)
        if progress != nil {
            let skipped = rest.count + 1 - outcomes.count
            writeToStandardError(
                String(
                    format: "%d files: %d written, %d failed%@ in %.2fs\n", rest.count + 1,
                    outcomes.count - failures.count, failures.count, skipped > 0 ? ", \(skipped) not started" : "",
                    Date().timeIntervalSince(started)))
        }
        // The failures were printed as they happened (with -q, here: errors are never silenced);
        // the status is the first one's.
        if progress == nil {
            for failure in failures { writeToStandardError("gnorm: error: \(oneLine("\(failure)"))\n") }
        }
        if let first = failures.first { throw exitStatus(for: first) }
    }
}
