import ArgumentParser
import GnormPipeline
import Platform

/// Prints a pipeline failure as one `gnorm: error:` line and returns the
/// sysexits status of SPEC §5.
func exitCode(for error: PipelineError, verbose: Bool) -> ExitCode {
    if case .brokenPipe = error { return ExitCode(0) }
    writeToStandardError(errorMessage(for: error, verbose: verbose))
    return exitStatus(for: error)
}

/// The `gnorm: error:` line (and with `--verbose` the underlying error).
func errorMessage(for error: PipelineError, verbose: Bool) -> String {
    var message = "gnorm: error: \(error)\n"
    if verbose, let detail = error.detail { message += detail + "\n" }
    return message
}

/// The sysexits status of SPEC §5.
func exitStatus(for error: PipelineError) -> ExitCode {
    switch error {
    case .usage: return ExitCode(64)
    case .data: return ExitCode(65)
    case .inputUnavailable: return ExitCode(66)
    case .outputUnavailable: return ExitCode(73)
    case .io: return ExitCode(74)
    case .brokenPipe: return ExitCode(0)
    }
}

func writeToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// Runs a pipeline call; on failure prints its one line and exits with the
/// documented status at once. `_exit` skips HDF5's atexit clean-up, which
/// would retry closing a file whose write already failed (and crashes doing so
/// in libhdf5 1.10 after EFBIG or ENOSPC).
func reportingFailures<R>(verbose: Bool, _ body: () throws(PipelineError) -> R) -> R {
    do { return try body() } catch {
        if Processes.current.sharesFiles, !error.isBrokenPipe {
            // Under MPI: one line from one process, every process ended (ProcessGroup.swift).
            Processes.end(status: exitStatus(for: error).rawValue, message: errorMessage(for: error, verbose: verbose))
        }
        let code = exitCode(for: error, verbose: verbose)
        fflush(nil)
        _exit(code.rawValue)
    }
}

extension PipelineError {
    var isBrokenPipe: Bool {
        if case .brokenPipe = self { return true }
        return false
    }
}
