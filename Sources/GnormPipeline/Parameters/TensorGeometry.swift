import GroupNormKernel

/// A dataset's shape read as (N, C, spatial…) or (N, spatial…, C).
public struct TensorGeometry: Equatable, Sendable {
    public let shape: [Int]
    public let layout: ChannelLayout
    public let sampleCount: Int
    public let channelCount: Int
    /// ∏ spatial extents (1 when there are none).
    public let spatialCount: Int

    /// Fails for rank < 2, and for shapes whose values (at 8 bytes each) overflow `Int`:
    /// every size derived from a validated geometry then fits (`SizeArithmetic`).
    init(shape: [Int], layout: ChannelLayout, file: String, dataset: String) throws(PipelineError) {
        guard shape.count >= 2 else {
            throw .data(
                "rank \(shape.count) dataset of shape \(shape) cannot be normalized; "
                    + "expected (N, C, …) with rank ≥ 2", file: file, dataset: dataset)
        }
        guard SizeArithmetic.product(shape + [SizeArithmetic.widestElement]) != nil else {
            throw .data(
                "shape \(shape) has more elements than can be addressed: its values would take over 2^63 bytes",
                file: file, dataset: dataset)
        }
        self.shape = shape
        self.layout = layout
        sampleCount = shape[0]
        switch layout {
        case .channelsFirst:
            channelCount = shape[1]
            spatialCount = shape.dropFirst(2).reduce(1, *)
        case .channelsLast:
            channelCount = shape[shape.count - 1]
            spatialCount = shape.dropFirst().dropLast().reduce(1, *)
        }
        guard channelCount > 0 else {
            throw .data(
                "dataset of shape \(shape) has no channels (C = 0 on the \(layout.rawValue) channel axis)",
                file: file, dataset: dataset)
        }
    }

    public var sampleElements: Int { channelCount * spatialCount }

    /// Bytes of one sample at `elementSize` bytes a value.
    func sampleBytes(elementSize: Int) -> Int { SizeArithmetic.bytes(sampleElements, of: elementSize) }
}
