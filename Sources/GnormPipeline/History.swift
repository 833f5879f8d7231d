import Foundation
import HDF5

/// The root's `history` attribute, one line per run, as NCO keeps it.
extension ApplyRun {
    /// Appends "TIMESTAMP: command line" to the root's `history`, as NCO does.
    static func writeHistory(_ commandLine: String, in file: borrowing File, name: String) throws(PipelineError) {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let line = "\(formatter.string(from: Date())): \(commandLine)"
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
}
