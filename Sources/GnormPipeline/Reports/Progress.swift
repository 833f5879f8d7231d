/// Receives progress of a run; the CLI draws it on a terminal.
public protocol ProgressObserver: AnyObject {
    func started(dataset: String, samples: Int, bytesPerSample: Int, passes: Int)
    func advanced(samplesDone: Int)
    func finished(_ summary: DatasetSummary)
    /// Something the user should know that did not stop the run (a reference that could not be kept).
    func warned(_ messages: [String])
    /// `apply` of several files: the next one starts.
    func startedFile(_ input: String, output: String)
    /// `apply` of several files: this one failed (with `--keep-going`, the others go on).
    func failedFile(_ input: String, _ error: PipelineError)
}

/// What `apply` or `stats` did to one dataset, for the closing summary.
public struct DatasetSummary: Sendable {
    public let path: String
    public let shape: [Int]
    public let groups: Int
    public let mode: String
    public let elements: Int
    public let seconds: Double
    /// Bytes read per second (each pass counted).
    public let bytesPerSecond: Double
    /// Statistics that came out NaN because their inputs held NaN or ±Inf.
    public let nonFiniteGroups: Int
    /// Values equal to the dataset's `_FillValue`/`missing_value`: left out and kept as fill.
    public let maskedValues: Int
}
