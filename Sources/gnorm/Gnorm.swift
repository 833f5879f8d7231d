import ArgumentParser
import GnormPipeline
import Platform

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
        subcommands: [ApplyCommand.self, InvertCommand.self, StatsCommand.self, ListCommand.self]
    )

    static func main() {
        GnormProcess.prepare()
        // gnorm-mpi joins its MPI job here (under mpirun/srun, or with --mpi); gnorm never does.
        let arguments = Processes.start(arguments: Array(CommandLine.arguments.dropFirst()))
        Processes.loneFailure = { error in
            Processes.end(
                status: exitStatus(for: error).rawValue,
                message: errorMessage(for: error, verbose: arguments.contains("--verbose")))
        }
        do {
            if let option = ArgumentCheck.unknownShortOption(in: arguments) { throw UnknownShortOption(option) }
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            let code = (error as? UnknownShortOption).map { _ in ExitCode(64) } ?? exitCode(for: error)
            let message = (error as? UnknownShortOption)?.description ?? fullMessage(for: error)
            if Processes.current.sharesFiles {
                // Every process parsed the same arguments: process 0 answers for all.
                if Processes.current.rank == 0, !message.isEmpty { writeToStandardError(message + "\n") }
                Processes.current.finish()
                leave(code.rawValue)
            }
            // Help and --version on standard output; errors (a usage error's message and usage) on stderr.
            if !message.isEmpty {
                if code == .success { print(message) } else { writeToStandardError(message + "\n") }
            }
            leave(code.rawValue)
        }
        Processes.current.finish()
        leave(0)
    }
}
