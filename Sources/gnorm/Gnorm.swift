import ArgumentParser
import GnormPipeline

@main
struct Gnorm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Normalize tensors stored in HDF5 files (group, layer, instance and batch norm).",
        discussion: """
            Exactly torch.nn.functional.group_norm (biased variance, eps inside the sqrt,
            per-channel affine), accumulated in float64, streamed over datasets of any size.

            Examples:
              gnorm ls in.h5
              gnorm apply --groups 32 in.h5 out.h5
              gnorm stats in.h5 --format csv | head
            """,
        version: GnormVersion.current,
        subcommands: [ApplyCommand.self, StatsCommand.self, ListCommand.self]
    )

    static func main() {
        GnormProcess.prepare()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
