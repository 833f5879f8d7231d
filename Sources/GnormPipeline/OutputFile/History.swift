import Foundation
import HDF5

/// The root's `history` attribute, one line per run, as NCO keeps it.
extension ApplyRun {
    /// Appends "TIMESTAMP: command line" to the root's `history`, as NCO does.
    static func writeHistory(_ commandLine: String, in file: borrowing File, name: String) throws(PipelineError) {
        let line = "\(Date().formatted(Self.timestamp)): \(commandLine)"
        do {
            var history = line
            if case .string(let previous)? = try file.attribute("history"), !previous.isEmpty {
                history = previous + "\n" + line
            }
            try file.replaceText(of: "history", with: history, fixedIfNew: file.hasAttribute("_nc3_strict"))
        } catch {
            throw .io("cannot write history: \(error.reason ?? error.description)", file: name, cause: error)
        }
    }

    /// 2026-12-01T16:58:27Z. Made once: building a formatter per file was 5 % of a run over many small files.
    private static let timestamp = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!)
}
