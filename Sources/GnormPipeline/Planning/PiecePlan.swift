import GroupNormKernel
import HDF5

/// The pieces one sample is taken in when it does not fit the memory budget:
/// consecutive runs of values, each a hyperslab — `run` indices along one axis
/// of the sample, with every axis after it whole and every axis before it fixed.
/// The axis is the outermost whose one index fits `maxElements`; channels-last
/// samples are never cut inside a row of C channels, which sets the smallest piece.
struct PiecePlan: Equatable {
    /// The sample's extents (the dataset's shape without axis 0).
    let sampleShape: [Int]
    /// The axis of `sampleShape` the pieces run along.
    let axis: Int
    /// Indices along `axis` per piece (the last of each row may have fewer).
    let run: Int
    /// Values per index along `axis`.
    let unitElements: Int

    /// - Parameters:
    ///   - multiple: pieces along the first axis hold a multiple of this many indices
    ///     (channels-first: whole groups); used when that many fit `maxElements`.
    ///   - chunk: the dataset's chunk shape: where a chunk's slab fits, pieces hold whole chunks.
    init(sampleShape: [Int], layout: ChannelLayout, maxElements: Int, multiple: Int = 1, chunk: [Int]? = nil) {
        self.sampleShape = sampleShape
        let deepest = max(0, sampleShape.count - (layout == .channelsLast ? 2 : 1))
        // Values per index of each axis: all the axes after it. A validated geometry bounds the products.
        let units = sampleShape.indices.map { sampleShape[($0 + 1)...].reduce(1, *) }
        var axis = 0
        while axis < deepest && units[axis] > maxElements { axis += 1 }
        if layout == .channelsLast && sampleShape.count < 2 { axis = 0 }
        self.axis = axis
        let unit = units[axis]
        unitElements = unit
        let extent = sampleShape[axis]
        var run = max(1, min(extent, maxElements / max(unit, 1)))
        if layout == .channelsLast && sampleShape.count < 2 { run = extent }
        if axis == 0 && multiple > 1 && run >= multiple {
            run = run / multiple * multiple
        } else if let chunk, chunk.count == sampleShape.count + 1, multiple == 1 {
            // Whole chunks when a chunk spans every later axis and one index of every earlier one.
            let along = chunk[axis + 1]
            let inner = Array(chunk[(axis + 2)...]) == Array(sampleShape[(axis + 1)...])
            let outer = chunk[1..<axis + 1].allSatisfy { $0 == 1 }
            if inner && outer && run >= along { run = run / along * along }
        }
        self.run = run
    }

    /// Pieces per index of the axes before `axis`.
    private var piecesPerRow: Int { (sampleShape[axis] + run - 1) / run }

    /// How many pieces a sample is taken in.
    var count: Int { sampleShape[..<axis].reduce(1, *) * piecesPerRow }

    /// Piece `index` of sample `sample`: its hyperslab, and which of the sample's values it holds.
    func piece(_ index: Int, ofSample sample: Int) -> (block: Hyperslab, values: Range<Int>) {
        let row = index / piecesPerRow
        let first = index % piecesPerRow * run
        let length = min(run, sampleShape[axis] - first)
        var outer: [Int] = []
        var rest = row
        for extent in sampleShape[..<axis].reversed() {
            outer.insert(rest % extent, at: 0)
            rest /= extent
        }
        let start = [sample] + outer + [first] + Array(repeating: 0, count: sampleShape.count - axis - 1)
        let count = [1] + Array(repeating: 1, count: axis) + [length] + Array(sampleShape[(axis + 1)...])
        let origin = (row * sampleShape[axis] + first) * unitElements
        return (Hyperslab(start: start, count: count), origin..<origin + length * unitElements)
    }
}
