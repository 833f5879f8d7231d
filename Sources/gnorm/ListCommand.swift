import ArgumentParser
import GnormPipeline

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract:
            "List groups and datasets: shape, dtype, chunks, filters, what apply would select and invert can undo.",
        discussion: """
            Examples:
              gnorm ls in.h5
              gnorm ls --format json in.h5 | jq -r '.objects[] | select(.selected) | .path'
            """
    )

    @Option(help: "table | json.")
    var format: Listing.Format = .table

    @Flag(name: .long, help: "On errors, also print HDF5's error stack.")
    var verbose = false

    @Argument(help: ArgumentHelp("HDF5 file to read, or - for standard input.", valueName: "input"))
    var input: String

    func run() throws {
        let text = reportingFailures(verbose: verbose) { () throws(PipelineError) in
            try Listing.run(input: input, format: format)
        }
        writeToStandardOutput(text)
    }
}
