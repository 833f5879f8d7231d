#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// An owned dataspace id: a shape, optionally with a selection.
struct Dataspace: ~Copyable {
    let id: hid_t

    init(adopting id: hid_t, _ operation: @autoclosure () -> String) throws(HDF5Error) {
        self.id = try checkedId(id, operation())
    }

    /// A simple dataspace. The HDF5 call is `H5Screate_simple`.
    init(shape: [Int], maximumShape: [Int?]? = nil) throws(HDF5Error) {
        ensureLibrary()
        if shape.isEmpty {
            id = try checkedId(H5Screate(H5S_SCALAR), "H5Screate scalar")
            return
        }
        let dims = shape.map { hsize_t($0) }
        let maxDims = (maximumShape ?? shape).map { $0.map { hsize_t($0) } ?? chdf5_unlimited() }
        id = try checkedId(H5Screate_simple(Int32(dims.count), dims, maxDims), "H5Screate_simple \(shape)")
    }

    deinit { H5Sclose(id) }

    var shape: [Int] { Self.shape(of: id) }

    var maximumShape: [Int?] { Self.maximumShape(of: id) }

    static func shape(of id: hid_t) -> [Int] {
        let rank = Int(H5Sget_simple_extent_ndims(id))
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(id, &dims, nil)
        return dims.map { Int($0) }
    }

    static func maximumShape(of id: hid_t) -> [Int?] {
        let rank = Int(H5Sget_simple_extent_ndims(id))
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        var maxDims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(id, &dims, &maxDims)
        return maxDims.map { $0 == chdf5_unlimited() ? nil : Int($0) }
    }

    /// Selects `block`. The HDF5 call is `H5Sselect_hyperslab`.
    func select(_ block: Hyperslab) throws(HDF5Error) {
        try checkedStatus(
            H5Sselect_hyperslab(
                id, H5S_SELECT_SET, block.start.map { hsize_t($0) }, nil, block.count.map { hsize_t($0) }, nil),
            "H5Sselect_hyperslab \(block)")
    }
}

/// A box of a dataset: `count[i]` indices from `start[i]` on each axis.
public struct Hyperslab: Equatable, Sendable, CustomStringConvertible {
    public var start: [Int]
    public var count: [Int]

    public init(start: [Int], count: [Int]) {
        precondition(start.count == count.count)
        self.start = start
        self.count = count
    }

    /// `rows` along axis 0 and everything along the other axes of `shape`.
    public init(rows: Range<Int>, of shape: [Int]) {
        start = [rows.lowerBound] + Array(repeating: 0, count: max(0, shape.count - 1))
        count = [rows.count] + shape.dropFirst()
    }

    /// How many values it holds (its extents were checked against the dataset's shape).
    public var elementCount: Int { count.reduce(1, *) }

    public var description: String {
        "[" + zip(start, count).map { "\($0)..<\($0 + $1)" }.joined(separator: ", ") + "]"
    }
}
