import Foundation
import GroupNormKernel

/// The steps around one dataset's stream that `apply` and `stats` share: the report's section,
/// the progress bar (under MPI process 0's counts every process's samples), the stream itself
/// (work that differs between processes: `Processes.divergent`), every process's rows gathered
/// (`SampleShare.collect`), and the dataset's summary.
struct DatasetPass {
    /// The samples this process streams (under MPI, its share).
    let share: SampleShare
    /// The rows' destination (process 0's only under MPI); nil: none.
    let report: ReportWriter?
    let progress: ProgressObserver?
    /// INPUT's file, checked after every read.
    let watch: InputWatch?
    /// `--eps`, as the report states it.
    let epsilon: Double

    /// Runs `body` (statistics or normalization, in `bytesPerElement`-byte values, over `passes`
    /// passes) on `job`'s stream; returns the summary and the statistics of the whole dataset.
    func run(
        _ job: DatasetJob, outputName: String, bytesPerElement: Int, passes: Int,
        _ body: (DatasetStream, DatasetStream.FillCount) throws(PipelineError) -> [Moments]
    ) throws(PipelineError) -> (summary: DatasetSummary, moments: [Moments]) {
        report?.begin(job.reported(epsilon: epsilon))
        let shared = share.isShared ? SharedProgress(group: share.group, observer: progress) : nil
        let progress: ProgressObserver? = shared ?? self.progress
        var stream = job.stream(
            outputName: outputName, events: StreamEvents(report: share.isShared ? nil : report, progress: progress))
        stream.share = share
        stream.inputWatch = watch
        progress?.started(
            dataset: job.path, samples: job.geometry.sampleCount,
            bytesPerSample: job.geometry.sampleBytes(elementSize: bytesPerElement), passes: passes)
        let started = Date()
        let fill = DatasetStream.FillCount()
        var moments = try Processes.divergent { () throws(PipelineError) in try body(stream, fill) }
        shared?.finish()
        if share.isShared {
            (moments, fill.values) = try share.collect(
                moments, fillCount: fill.values, scope: job.plan.scope, into: report)
        }
        report?.end()
        let summary = Summaries.make(
            job, moments: moments, since: started, passes: passes, bytesPerElement: bytesPerElement,
            maskedValues: fill.values)
        progress?.finished(summary)
        return (summary, moments)
    }
}
