import Foundation

/// The progress of a dataset whose samples the processes of an MPI job share: each process
/// counts its own samples (summed over passes) and sends the count to process 0 without
/// waiting, at most ten times a second; process 0 draws the sum of every process's count.
/// At the end of the dataset (`finish`, which every process reaches) process 0 takes each
/// process's final count, so that no message is left unreceived.
final class SharedProgress: ProgressObserver {
    private let group: any ProcessGroup
    /// Process 0's progress bar (nil elsewhere, and with `-q`).
    private let observer: ProgressObserver?
    private var total = 0
    private var passes = 1
    /// This process's samples of the passes before the current one, and of the current one.
    private var earlierPasses = 0
    private var lastDone = 0
    /// Process 0: every process's last count (its own at index 0).
    private var counts: [Int]
    private var lastSend = Date.distantPast

    init(group: any ProcessGroup, observer: ProgressObserver?) {
        self.group = group
        self.observer = observer
        counts = [Int](repeating: 0, count: group.size)
    }

    func started(dataset: String, samples: Int, bytesPerSample: Int, passes: Int) {
        total = samples
        self.passes = passes
        earlierPasses = 0
        lastDone = 0
        counts = [Int](repeating: 0, count: group.size)
        lastSend = .distantPast
        observer?.started(dataset: dataset, samples: samples, bytesPerSample: bytesPerSample, passes: passes)
    }

    func advanced(samplesDone: Int) {
        // A count that falls is the next pass (batch statistics, then normalization).
        if samplesDone < lastDone { earlierPasses += lastDone }
        lastDone = samplesDone
        let mine = earlierPasses + samplesDone
        if group.rank != 0 {
            let now = Date()
            guard now.timeIntervalSince(lastSend) >= 0.1 else { return }
            lastSend = now
            group.sendProgress(mine, final: false)
            return
        }
        counts[0] = mine
        group.receiveProgress(into: &counts, final: false)
        draw()
    }

    /// Every process's final count to process 0 (each process calls it once per dataset).
    func finish() {
        let mine = earlierPasses + lastDone
        if group.rank != 0 { return group.sendProgress(mine, final: true) }
        counts[0] = mine
        group.receiveProgress(into: &counts, final: true)
        draw()
    }

    /// The sum as (pass, samples done in it) to the bar: a pass's last sample stays in that pass.
    private func draw() {
        let sum = counts.reduce(0, +)
        guard total > 0, sum > 0 else { return observer?.advanced(samplesDone: 0) ?? () }
        let pass = min((sum - 1) / total, passes - 1)
        observer?.advanced(samplesDone: sum - pass * total)
    }

    func finished(_ summary: DatasetSummary) { observer?.finished(summary) }
    func warned(_ messages: [String]) { observer?.warned(messages) }
    func startedFile(_ input: String, output: String) { observer?.startedFile(input, output: output) }
    func failedFile(_ input: String, _ error: PipelineError) { observer?.failedFile(input, error) }
}
