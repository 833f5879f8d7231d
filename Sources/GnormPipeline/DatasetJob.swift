import GroupNormKernel
import HDF5

/// Everything decided about one selected dataset before any data moves.
struct DatasetJob {
    let dataset: SelectedDataset
    let geometry: TensorGeometry
    let plan: GroupNormPlan
    let mode: NormalizationMode
    /// INPUT's name, for messages.
    let fileName: String
    /// What is left out of the statistics and kept (CF `_FillValue`, `missing_value`, valid range);
    /// `.none` when not masking.
    let missing: MissingValues

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
    }

    var path: String { dataset.path }

    func reported(epsilon: Double) -> ReportedDataset {
        ReportedDataset(
            path: dataset.path, shape: dataset.shape, elementType: dataset.elementType.name, mode: mode,
            groups: plan.groupCount, epsilon: epsilon, layout: plan.layout,
            count: plan.valuesPerStatistic(sampleCount: geometry.sampleCount), sampleCount: geometry.sampleCount)
    }

    func stream(
        fileName: String, outputName: String, memoryLimit: Int,
        events: StreamEvents
    ) -> DatasetStream {
        DatasetStream(
            fileName: fileName, outputName: outputName, path: dataset.path, geometry: geometry, plan: plan,
            memoryLimit: memoryLimit,
            missing: missing, events: events)
    }
}

extension DatasetJob {
    /// The job's compute type, for the type it stores (nil: statistics only): Float for
    /// float32 (and float16 read for statistics), Double otherwise (float64, integers,
    /// and float16 output, which is then the float64 result correctly rounded once:
    /// through Float it would be rounded twice).
    func computesInDouble(storing output: ElementType?) -> Bool {
        switch output {
        case .float(64, _)?, .float(16, _)?: return true
        default: break
        }
        switch dataset.elementType {
        case .float(let bits, _): return bits == 64
        default: return true
        }
    }
}
