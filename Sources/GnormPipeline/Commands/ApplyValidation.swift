import HDF5

/// `apply`'s option combinations, checked before anything is opened.
extension ApplyRun {
    /// Checks option combinations; returns the OUTPUT argument.
    static func validate(
        input: String, output: String?, options: NormalizationOptions, apply: ApplyOptions
    ) throws(PipelineError) -> String {
        if apply.inPlace {
            if output != nil { throw .usage("--in-place rewrites INPUT; give no OUTPUT") }
            if input == "-" { throw .usage("--in-place needs an INPUT file, not standard input") }
        } else if output == nil {
            throw .usage("missing OUTPUT (or use --in-place)")
        }
        // `invert` takes its mode from the statistics' settings (Inversion.swift).
        if (apply.mean != nil || apply.variance != nil) && options.mode != .batch && apply.inversion == nil {
            throw .usage("--mean and --var are for --mode batch (eval mode) only")
        }
        if (apply.mean == nil) != (apply.variance == nil) {
            throw .usage("--mean and --var go together: give both, or neither to compute them")
        }
        for (name, spec) in [
            ("--weight", apply.weight), ("--bias", apply.bias), ("--mean", apply.mean), ("--var", apply.variance),
        ] {
            if let spec, ParameterSource(spec: spec) == nil {
                throw .usage("\(name) \(spec): \(ParameterSource.formHelp)")
            }
        }
        if apply.statsGroup != nil && apply.statsFile != nil {
            throw .usage(
                "--stats-group and --stats-file exclude each other: statistics go to OUTPUT or to another file")
        }
        if let group = apply.statsGroup, !group.hasPrefix("/") || StatisticsPlacement.canonical(group) == "/" {
            throw .usage("--stats-group \(group): expected an absolute group path other than /, e.g. /stats")
        }
        if apply.report == "-" && output == "-" {
            throw .usage("--report - and OUTPUT - would both write to standard output")
        }
        return output ?? input
    }
}
