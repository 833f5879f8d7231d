import ArgumentParser
import GnormPipeline

#if canImport(Glibc)
import Glibc
#endif

/// Prints a pipeline failure as one `gnorm: error:` line and returns the
/// sysexits status of SPEC §5.
func exitCode(for error: PipelineError, verbose: Bool) -> ExitCode {
    if case .brokenPipe = error { return ExitCode(0) }
    var message = "gnorm: error: \(error)\n"
    if verbose, let detail = error.detail { message += detail + "\n" }
    writeToStandardError(message)
    switch error {
    case .usage: return ExitCode(64)
    case .data: return ExitCode(65)
    case .inputUnavailable: return ExitCode(66)
    case .outputUnavailable: return ExitCode(73)
    case .io: return ExitCode(74)
    case .interrupted: return ExitCode(130)
    case .brokenPipe: return ExitCode(0)
    }
}

func writeToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// Runs a pipeline call, turning its failure into the documented exit status.
func reportingFailures<R>(verbose: Bool, _ body: () throws(PipelineError) -> R) throws(ExitCode) -> R {
    do { return try body() } catch { throw exitCode(for: error, verbose: verbose) }
}
