import Foundation
import GnormPipeline

/// Draws a progress line on stderr (dataset, samples, MB/s, ETA), redrawn in
/// place at most ten times a second and erased at the end; then prints one
/// summary line per dataset.
final class TerminalProgress: ProgressObserver {
    static var standardErrorIsTerminal: Bool { isatty(2) != 0 }

    let drawsBar: Bool
    /// Whether `finished` prints the summary line (apply) or only warnings (stats).
    var printsSummary = true
    private var dataset = ""
    private var total = 0
    private var bytesPerSample = 0
    private var passes = 1
    private var pass = 0
    private var lastDone = 0
    private var start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(drawsBar: Bool) { self.drawsBar = drawsBar }

    func started(dataset: String, samples: Int, bytesPerSample: Int, passes: Int) {
        self.dataset = dataset
        total = samples
        self.bytesPerSample = bytesPerSample
        self.passes = passes
        pass = 0
        lastDone = 0
        start = Date()
        lastDraw = .distantPast
    }

    func advanced(samplesDone: Int) {
        if samplesDone < lastDone { pass += 1 }
        lastDone = samplesDone
        guard drawsBar else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || samplesDone == total else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let fraction = total * passes > 0 ? Double(pass * total + samplesDone) / Double(total * passes) : 1
        let rate = elapsed > 0 ? Double(pass * total + samplesDone) * Double(bytesPerSample) / elapsed / 1e6 : 0
        let remaining = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let passText = passes > 1 ? " pass \(pass + 1)/\(passes)" : ""
        let line = String(
            format: "%@ [%@] %d/%d samples%@ %.0f MB/s ETA %.0fs",
            dataset, bar, samplesDone, total, passText, rate, remaining)
        writeToStandardError("\r\u{1B}[2K" + line)
        drawn = true
    }

    func finished(_ summary: DatasetSummary) {
        erase()
        let shape = "(" + summary.shape.map(String.init).joined(separator: ", ") + ")"
        var line = String(
            format: "%@ %@ %@ groups=%d: %d elements in %.2fs, %.2f GB/s",
            summary.path, shape, summary.mode, summary.groups, summary.elements,
            summary.seconds, summary.bytesPerSecond / 1e9)
        let warning = "warning: \(summary.nonFiniteGroups) group(s) of \(summary.path) held NaN or Inf and came out NaN"
        if summary.maskedValues > 0 {
            line += "; \(summary.maskedValues) fill values masked"
        }
        if printsSummary {
            if summary.nonFiniteGroups > 0 { line += "; " + warning }
            writeToStandardError(line + "\n")
        } else if summary.nonFiniteGroups > 0 {
            writeToStandardError("gnorm: " + warning + "\n")
        }
    }

    func startedFile(_ input: String, output: String) {
        erase()
        if printsSummary { writeToStandardError("\(oneLine(input)) -> \(oneLine(output))\n") }
    }

    func failedFile(_ input: String, _ error: PipelineError) {
        erase()
        writeToStandardError("gnorm: error: \(oneLine("\(error)"))\n")
    }

    func warned(_ messages: [String]) {
        erase()
        for message in messages { writeToStandardError("gnorm: warning: \(oneLine(message))\n") }
    }

    func erase() {
        if drawn { writeToStandardError("\r\u{1B}[2K") }
        drawn = false
    }
}
