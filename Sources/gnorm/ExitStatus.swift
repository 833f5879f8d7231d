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
    var message = "gnorm: error: \(oneLine("\(error)"))\n"
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

/// Writes all of `text` to standard output; a reader gone away (`| head`) ends the run quietly.
func writeToStandardOutput(_ text: String) {
    var text = text
    do throws(SystemCallError) {
        try text.withUTF8 { bytes in
            Result { () throws(SystemCallError) in try System.writeFully(UnsafeRawBufferPointer(bytes), to: 1) }
        }.get()
    } catch {
        if error.code == EPIPE { leave(0) }
        writeToStandardError("gnorm: error: cannot write: \(error.reason) (<stdout>)\n")
        leave(74)
    }
}

func writeToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// Runs a pipeline call; on failure prints its one line and ends gnorm at once with the
/// documented status (`leave`).
func reportingFailures<R>(verbose: Bool, _ body: () throws(PipelineError) -> R) -> R {
    do { return try body() } catch {
        if Processes.current.sharesFiles, !error.isBrokenPipe {
            // Under MPI: one line from one process, every process ended (ProcessGroup.swift).
            Processes.end(status: exitStatus(for: error).rawValue, message: errorMessage(for: error, verbose: verbose))
        }
        leave(exitCode(for: error, verbose: verbose).rawValue)
    }
}

/// The one way gnorm ends, for every command and status: standard output flushed (a failed
/// flush is a write failure, 74, unless the reader went away: SPEC §5's 0), then `_exit`. `_exit`
/// skips libhdf5's atexit clean-up, which would retry closing a file whose write already failed
/// and crashes doing so in libhdf5 1.10 after EFBIG or ENOSPC (status 139 instead of 74); every
/// file gnorm writes is closed, synced and renamed (or removed) before this.
func leave(_ status: Int32) -> Never {
    var status = status
    if fflush(nil) != 0 {
        let failure = SystemCallError("fflush")
        if status == 0 && failure.code != EPIPE {
            writeToStandardError("gnorm: error: cannot write: \(failure.reason) (<stdout>)\n")
            status = 74
        }
    }
    _exit(status)
}

extension PipelineError {
    var isBrokenPipe: Bool {
        if case .brokenPipe = self { return true }
        return false
    }
}
