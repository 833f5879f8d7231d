import Foundation

/// What became of one INPUT of `gnorm apply INPUT... --output-dir DIR` (or `--in-place INPUT...`).
public struct FileOutcome: Sendable {
    public let input: String
    public let output: String
    /// The datasets normalized; nil when the file failed.
    public let summaries: [DatasetSummary]?
    /// Why it failed; nil when it was written.
    public let failure: PipelineError?
}

extension ApplyRun {
    /// Normalizes several files in one process: each INPUT as `run(input:output:…)` does it,
    /// OUTPUT `outputDirectory/NAME` (or INPUT itself with `--in-place`), each written under
    /// a temporary name and renamed once it is durable — batches of files made durable
    /// together (`DurableBatch`) — so every OUTPUT that appears is complete. The first failure
    /// stops the run unless `keepGoing`; the outcomes say what was done. Names are checked
    /// before any file is read: two INPUTs may not share a name.
    public static func run(
        inputs: [String], outputDirectory: String?, options: NormalizationOptions, apply: ApplyOptions,
        keepGoing: Bool, progress: ProgressObserver? = nil
    ) throws(PipelineError) -> [FileOutcome] {
        if let statsFile = apply.statsFile {
            throw .usage("--stats-file \(statsFile) takes one INPUT: several would write one statistics file")
        }
        let outputs = try plannedOutputs(inputs, outputDirectory: outputDirectory, apply: apply)
        // Without --keep-going nothing is written unless every INPUT can be read: a mistyped
        // name fails the run before the files named before it are rewritten.
        if !keepGoing {
            for input in inputs { try InputFile.checkReadable(input) }
        }
        var outcomes: [FileOutcome] = []
        let batch = DurableBatch()
        for (input, output) in zip(inputs, outputs) {
            progress?.startedFile(input, output: output)
            do {
                let summaries = try run(
                    input: input, output: apply.inPlace ? nil : output, options: options, apply: apply,
                    progress: progress, batch: batch)
                if batch.isFull { try batch.commitInBackground() }
                outcomes.append(FileOutcome(input: input, output: output, summaries: summaries, failure: nil))
            } catch {
                if case .usage = error { throw error }
                outcomes.append(FileOutcome(input: input, output: output, summaries: nil, failure: error))
                progress?.failedFile(input, error)
                if !keepGoing { break }
            }
        }
        // The files finished before a failure appear too.
        try batch.commit()
        return outcomes
    }

    /// OUTPUT of each INPUT, after the checks that need no file opened.
    private static func plannedOutputs(
        _ inputs: [String], outputDirectory: String?, apply: ApplyOptions
    ) throws(PipelineError) -> [String] {
        guard !inputs.isEmpty else { throw .usage("missing INPUT") }
        if inputs.contains("-") { throw .usage("standard input (-) is one file: give it alone, with one OUTPUT") }
        if apply.report != nil { throw .usage("--report takes one INPUT; for several, use gnorm stats INPUT...") }
        if apply.inPlace {
            if outputDirectory != nil { throw .usage("--in-place and --output-dir exclude each other") }
            return inputs
        }
        guard let outputDirectory else { throw .usage("several INPUTs need --output-dir DIR (or --in-place)") }
        let names = inputs.map { URL(fileURLWithPath: $0).lastPathComponent }
        var seen: [String: String] = [:]
        for (name, input) in zip(names, inputs) {
            if let first = seen.updateValue(input, forKey: name) {
                throw .usage("\(first) and \(input) would both write \(outputDirectory)/\(name)")
            }
        }
        var status = stat()
        guard stat(outputDirectory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw .outputUnavailable("--output-dir is not a folder", file: outputDirectory)
        }
        return names.map { outputDirectory + "/" + $0 }
    }
}
