#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// A filter of a chunked dataset's pipeline.
public enum Filter: Equatable, Sendable {
    case deflate(level: Int)
    case shuffle
    /// Any other filter (lzf, blosc, szip, ...), kept with its parameters.
    case other(id: Int, name: String, flags: UInt32, values: [UInt32])

    public var name: String {
        switch self {
        case .deflate(let level): "gzip=\(level)"
        case .shuffle: "shuffle"
        case .other(_, let name, _, _): name.isEmpty ? "filter" : name
        }
    }
}

extension Filter {
    /// Whether this libhdf5 can apply the filter, built in or from a plugin it finds
    /// (it looks in `HDF5_PLUGIN_PATH`). The HDF5 call is `H5Zfilter_avail`.
    public var isAvailable: Bool {
        switch self {
        case .deflate, .shuffle: return true
        case .other(let id, _, _, _):
            ensureLibrary()
            return H5Zfilter_avail(H5Z_filter_t(id)) > 0
        }
    }

    /// What provides the filter's plugin, for the message when it is missing.
    public var provider: String {
        let pipPlugins =
            "or pip install hdf5plugin and export HDF5_PLUGIN_PATH=\"$(python3 -c 'import hdf5plugin; "
            + "print(hdf5plugin.PLUGIN_PATH)')\""
        guard case .other(let id, _, _, _) = self else { return "" }
        switch id {
        case 32000: return "apt-get install hdf5-plugin-lzf liblzf1, " + pipPlugins
        case 32001: return "apt-get install hdf5-filter-plugin-blosc-serial, " + pipPlugins
        case 307, 32004: return "apt-get install hdf5-filter-plugin, " + pipPlugins
        default: return "set HDF5_PLUGIN_PATH to a folder holding its plugin, e.g. " + pipPlugins.dropFirst(3)
        }
    }
}

/// How a dataset is laid out on disk: chunk shape and filter pipeline.
public struct DatasetCreation: Equatable, Sendable {
    /// nil for contiguous or compact storage.
    public var chunkShape: [Int]?
    public var filters: [Filter]
    /// Values kept inside the object header (small datasets, under 64 KiB).
    public var isCompact: Bool

    public init(chunkShape: [Int]? = nil, filters: [Filter] = [], isCompact: Bool = false) {
        self.chunkShape = chunkShape
        self.filters = filters
        self.isCompact = isCompact
    }

    /// Reads a dataset creation property list. The HDF5 calls are
    /// `H5Pget_layout`, `H5Pget_chunk` and `H5Pget_filter2`.
    init(propertyList plist: hid_t) {
        let layout = H5Pget_layout(plist)
        isCompact = layout == H5D_COMPACT
        if layout == H5D_CHUNKED {
            let rank = Int(H5Pget_chunk(plist, 0, nil))
            var dims = [hsize_t](repeating: 0, count: max(rank, 1))
            H5Pget_chunk(plist, Int32(rank), &dims)
            chunkShape = dims.prefix(rank).map { Int($0) }
        } else {
            chunkShape = nil
        }
        var filters: [Filter] = []
        let count = H5Pget_nfilters(plist)
        for index in 0..<max(count, 0) {
            var flags: UInt32 = 0
            var valueCount = 16
            var values = [UInt32](repeating: 0, count: valueCount)
            var name = [CChar](repeating: 0, count: 256)
            var config: UInt32 = 0
            let id = H5Pget_filter2(plist, UInt32(index), &flags, &valueCount, &values, name.count, &name, &config)
            if id == chdf5_filter_deflate() {
                filters.append(.deflate(level: Int(values.first ?? 6)))
            } else if id == chdf5_filter_shuffle() {
                filters.append(.shuffle)
            } else if id >= 0 {
                filters.append(
                    .other(
                        id: Int(id),
                        name: String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                        flags: flags,
                        values: Array(values.prefix(min(valueCount, values.count)))))
            }
        }
        self.filters = filters
    }

    /// A new property list for this layout; the caller closes it.
    /// The HDF5 calls are `H5Pset_chunk`, `H5Pset_shuffle`, `H5Pset_deflate`, `H5Pset_filter`.
    func makePropertyList() throws(HDF5Error) -> hid_t {
        let plist = try checkedId(H5Pcreate(chdf5_dataset_create_class()), "H5Pcreate dcpl")
        do {
            if isCompact {
                try checkedStatus(H5Pset_layout(plist, H5D_COMPACT), "H5Pset_layout compact")
            }
            if let chunkShape {
                let dims = chunkShape.map { hsize_t($0) }
                try checkedStatus(H5Pset_chunk(plist, Int32(dims.count), dims), "H5Pset_chunk \(chunkShape)")
            }
            for filter in filters {
                switch filter {
                case .deflate(let level):
                    try checkedStatus(H5Pset_deflate(plist, UInt32(level)), "H5Pset_deflate \(level)")
                case .shuffle:
                    try checkedStatus(H5Pset_shuffle(plist), "H5Pset_shuffle")
                case .other(let id, let name, let flags, let values):
                    try checkedStatus(
                        H5Pset_filter(plist, H5Z_filter_t(id), flags, values.count, values),
                        "H5Pset_filter \(name)")
                }
            }
        } catch {
            H5Pclose(plist)
            throw error
        }
        return plist
    }
}
