import GroupNormKernel
import HDF5

/// Everything decided about one selected dataset before any data moves.
struct DatasetJob {
    let dataset: SelectedDataset
    let geometry: TensorGeometry
    var plan: GroupNormPlan
    let mode: NormalizationMode
    /// INPUT's name, for messages.
    let fileName: String
    /// What is left out of the statistics and kept (CF `_FillValue`, `missing_value`, valid range);
    /// `.none` when not masking.
    let missing: MissingValues
    /// `--memory-limit` in bytes: what gnorm's buffers and libhdf5's chunks share (`MemoryPlan`).
    let memoryLimit: Int

    init(_ dataset: SelectedDataset, options: NormalizationOptions, file: String) throws(PipelineError) {
        self.dataset = dataset
        fileName = file
        geometry = try TensorGeometry(
            shape: dataset.shape, layout: options.layout.channelLayout, file: file, dataset: dataset.path)
        let scope = try options.scope(channels: geometry.channelCount, file: file, dataset: dataset.path)
        do {
            plan = try GroupNormPlan(
                channelCount: geometry.channelCount, spatialCount: geometry.spatialCount,
                layout: options.layout.channelLayout, scope: scope, threadCount: options.threadCount
            ).with(instructionSet: options.cpu.instructionSet)
        } catch {
            throw error.inFile(file, dataset: dataset.path)
        }
        mode = options.mode
        missing = options.masksFill ? dataset.missing : .none
        memoryLimit = options.memoryLimit
    }

    var path: String { dataset.path }

    func reported(epsilon: Double) -> ReportedDataset {
        ReportedDataset(
            path: dataset.path, shape: dataset.shape, elementType: dataset.elementType.name, mode: mode,
            groups: plan.groupCount, epsilon: epsilon, layout: plan.layout,
            count: plan.valuesPerStatistic(sampleCount: geometry.sampleCount), sampleCount: geometry.sampleCount)
    }

    /// The stream of this dataset, writing to `outputName` (for messages).
    func stream(outputName: String, events: StreamEvents) -> DatasetStream {
        DatasetStream(job: self, outputName: outputName, events: events)
    }
}

extension DatasetJob {
    /// The job's compute type, for the type it stores (nil: statistics only): Float for float16,
    /// float32 and integers of up to 16 bits (all exact as Float; results are evaluated in float64
    /// and rounded once either way), Double for float64, wider integers and float64 output.
    func computesInDouble(storing output: ElementType?) -> Bool {
        switch output {
        case .float(64, _)?: return true
        // float16 results from float16, float32 or narrow integers are computed on Float slabs (every
        // input exact) and written as Floats that round to float16 once (`GroupNormPlan.float16Output`).
        default: break
        }
        switch dataset.elementType {
        case .float(let bits, _): return bits == 64
        // Exact as float32, and results evaluated in float64 all the same: half the bytes per value.
        case .integer(let bits, _, _) where bits <= 16: return false
        default: return true
        }
    }
}
