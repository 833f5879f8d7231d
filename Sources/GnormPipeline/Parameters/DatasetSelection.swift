import HDF5

/// A dataset of INPUT chosen for normalization, with what was read about it.
struct SelectedDataset {
    let path: String
    let shape: [Int]
    let elementType: ElementType
    /// What its CF attributes mark as missing (`_FillValue`, `missing_value`, valid range).
    var missing: MissingValues = .none
}

/// Which datasets `apply` and `stats` process.
enum DatasetSelection {
    /// Whether the default selection takes a dataset: numeric, rank ≥ 3, not gnorm's own statistics.
    static func isDefaultCandidate(path: String, shape: [Int], type: ElementType) -> Bool {
        type.isNumeric && shape.count >= 3 && !path.hasPrefix("/gnorm/")
    }

    /// The datasets named by `-d` (in order, absolute paths), or by default every candidate.
    /// A dataset whose values are in files outside INPUT's folder is refused unless `allowingExternal`
    /// (`ExternalFiles`).
    static func select(_ requested: [String], in file: borrowing File, allowingExternal: Bool = false)
        throws(PipelineError) -> [SelectedDataset]
    {
        let entries: [ObjectEntry]
        do { entries = try file.objects() } catch {
            throw .io("cannot list objects: \(error.reason ?? error.description)", file: file.name, cause: error)
        }
        let datasetPaths = entries.filter { $0.kind == .dataset }.map(\.path)
        var selected: [SelectedDataset] = []
        if requested.isEmpty {
            for path in datasetPaths {
                let dataset = try open(path, in: file)
                let shape = dataset.shape
                let type = dataset.elementType
                if isDefaultCandidate(path: path, shape: shape, type: type) {
                    try checkFilters(of: dataset, in: file.name)
                    try ExternalFiles.check(dataset, in: file.name, allowing: allowingExternal)
                    try UnwrittenChunks.check(dataset, in: file.name)
                    selected.append(
                        SelectedDataset(
                            path: path, shape: shape, elementType: type,
                            missing: try MissingValues.read(of: dataset, in: file.name)))
                }
            }
            guard !selected.isEmpty else {
                let found =
                    datasetPaths.isEmpty ? "it has no datasets" : "datasets: " + datasetPaths.joined(separator: ", ")
                throw .data("no numeric dataset of rank ≥ 3 to normalize; name one with -d (\(found))", file: file.name)
            }
            return selected
        }
        var chosen: Set<ObjectAddress> = []
        for name in requested {
            let absolute = name.hasPrefix("/") ? name : "/" + name
            if let (link, target) = file.externalLink(on: absolute) {
                throw .data(
                    "\(link) is an external link to \(target.file):\(target.object); gnorm writes OUTPUT only, "
                        + "never another file: normalize \(target.file) itself", file: file.name, dataset: absolute)
            }
            // A soft link names its target: that dataset is normalized and the link kept.
            let path = file.resolvingSoftLinks(absolute)
            guard file.exists(path), file.kindOfObject(at: path) == .dataset else {
                let known =
                    datasetPaths.isEmpty ? "it has no datasets" : "datasets: " + datasetPaths.joined(separator: ", ")
                throw .data("dataset not found; \(known)", file: file.name, dataset: path)
            }
            let dataset = try open(path, in: file)
            // Every name of one object (hard links, paths through a hard-linked group) normalizes it once.
            let address: ObjectAddress
            do { address = try dataset.address() } catch {
                throw .io(
                    "cannot read object info: \(error.reason ?? error.description)", file: file.name, dataset: path,
                    cause: error)
            }
            guard chosen.insert(address).inserted else { continue }
            let type = dataset.elementType
            guard type.isNumeric else {
                throw .data(
                    "element type \(type.name) is not supported; expected float16/32/64 or integers",
                    file: file.name, dataset: path)
            }
            try checkFilters(of: dataset, in: file.name)
            try ExternalFiles.check(dataset, in: file.name, allowing: allowingExternal)
            try UnwrittenChunks.check(dataset, in: file.name)
            selected.append(
                SelectedDataset(
                    path: path, shape: dataset.shape, elementType: type,
                    missing: try MissingValues.read(of: dataset, in: file.name)))
        }
        return selected
    }

    /// Fails with a read failure (74) naming the filter and what provides it when this
    /// libhdf5 cannot decode (or encode) the dataset's filters.
    static func checkFilters(of dataset: borrowing Dataset, in file: String) throws(PipelineError) {
        for filter in dataset.creation.filters where !filter.isAvailable {
            guard case .other(let id, let name, _, _) = filter else { continue }
            let shortName = name.split(separator: ";").first.map(String.init) ?? name
            throw .io(
                "filter '\(shortName)' (id \(id)) is not available to gnorm's libhdf5: \(filter.provider)",
                file: file, dataset: dataset.path)
        }
    }

    /// Opens a dataset of INPUT; a failure is a read failure (74) naming it, or INPUT unreadable (66)
    /// where the file needs a newer HDF5.
    static func open(_ path: String, in file: borrowing File) throws(PipelineError) -> Dataset {
        do { return try file.openDataset(path) } catch {
            throw .datasetOpenFailure(error, file: file.name, dataset: path)
        }
    }
}
