import GroupNormKernel

/// What a `DatasetStream` tells its caller slab by slab: the statistics as they are
/// computed (a report's rows) and how many samples are done (a progress bar). The stream
/// owns neither the report nor the progress observer.
struct StreamEvents {
    var statistics: ([Moments]) throws(PipelineError) -> Void = { _ throws(PipelineError) in }
    var samplesDone: (Int) -> Void = { _ in }
}

extension StreamEvents {
    /// Rows to `report` (nil: nowhere) and samples done to `progress`.
    init(report: ReportWriter?, progress: ProgressObserver?) {
        statistics = { rows throws(PipelineError) in try report?.add(rows) }
        samplesDone = { progress?.advanced(samplesDone: $0) }
    }
}
