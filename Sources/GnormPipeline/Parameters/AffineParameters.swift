import GroupNormKernel
import HDF5

/// `--weight`, `--bias`, `--mean`, `--var`: loaded from their SPECs and checked against C.
extension ApplyRun {
    static func affine(
        for job: DatasetJob, apply: ApplyOptions, options: NormalizationOptions, input: borrowing File
    ) throws(PipelineError) -> DatasetStream.Affine {
        func load(_ spec: String?, _ name: String) throws(PipelineError) -> [Double]? {
            guard let spec else { return nil }
            guard let source = ParameterSource(spec: spec) else {
                throw .usage("\(name) \(spec): \(ParameterSource.formHelp)")
            }
            return try source.values(
                name: name, channelCount: job.geometry.channelCount, input: input, dataset: job.path)
        }
        return DatasetStream.Affine(
            scale: try load(apply.weight, "--weight"), shift: try load(apply.bias, "--bias"),
            mean: try load(apply.mean, "--mean"), variance: try load(apply.variance, "--var"),
            epsilon: options.epsilon)
    }
}
