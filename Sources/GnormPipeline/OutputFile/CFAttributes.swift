import GroupNormKernel
import HDF5

/// The CF conventions' attributes that normalization changes (netCDF-4 files
/// from xarray, netCDF4-python, NCO, CDO keep them on variables).
enum CFAttributes {
    /// Packing (`scale_factor`, `add_offset`) and ranges of the raw values: they no
    /// longer describe normalized values, and readers would decode or mask with them;
    /// netCDF-C's quantization attributes: normalized values are no longer quantized.
    static let invalidated: Set<String> = [
        "scale_factor", "add_offset", "valid_min", "valid_max", "valid_range", "actual_range",
        "_QuantizeBitGroomNumberOfSignificantDigits", "_QuantizeGranularBitRoundNumberOfSignificantDigits",
        "_QuantizeBitRoundNumberOfSignificantBits",
    ]
    /// Fill markers, which readers compare with values of the variable's own type.
    static let fillMarkers: Set<String> = ["_FillValue", "missing_value"]

    /// What becomes of a normalized variable's attributes when it is stored in a new
    /// dataset: the invalidated ones dropped; fill markers converted when the type changes.
    static func edits(retyping: Bool) -> AttributeEdits {
        AttributeEdits(dropped: invalidated, retyped: retyping ? fillMarkers : [])
    }

    /// MATLAB v7.3's class of a dataset stored as `type` (hdf5storage and mat73 convert by it);
    /// nil where MATLAB has none (float16).
    static func matlabClass(of type: ElementType) -> String? {
        switch type {
        case .float(32, _): return "single"
        case .float(64, _): return "double"
        default: return nil
        }
    }

    /// A retyped dataset's `MATLAB_class` (MATLAB v7.3 files) names its new type; a float16
    /// dataset, which MATLAB cannot hold, loses it.
    static func updateMatlabClass(on dataset: borrowing Dataset, type: ElementType) throws(HDF5Error) {
        guard try dataset.attribute("MATLAB_class") != nil else { return }
        if let name = matlabClass(of: type) {
            try dataset.replaceText(of: "MATLAB_class", with: name)
        } else {
            try dataset.deleteAttribute("MATLAB_class")
        }
    }

    /// Removes the invalidated attributes from a dataset rewritten where it is.
    static func dropInvalidated(on dataset: borrowing Dataset) throws(HDF5Error) {
        for name in invalidated.sorted() { try dataset.deleteAttribute(name) }
    }
}

/// What a dataset's CF attributes mark as missing, as CF readers (netCDF4-python) mask it:
/// values equal to `_FillValue` or to any element of `missing_value` (NaN where one is NaN),
/// and values outside `valid_range` (or `valid_min`/`valid_max`). Missing cells are left out
/// of the statistics; in OUTPUT a marker keeps the value it held and a cell outside the valid
/// range (whose attributes OUTPUT drops) becomes the first marker, NaN where there is none.
struct MissingValues: Equatable, Sendable {
    /// `_FillValue`, then every element of `missing_value`.
    var markers: [Double] = []
    var validMin: Double? = nil
    var validMax: Double? = nil

    static let none = MissingValues()

    var isEmpty: Bool { markers.isEmpty && validMin == nil && validMax == nil }
    var isBounded: Bool { validMin != nil || validMax != nil }

    /// What a cell outside the valid range holds in OUTPUT.
    var outOfRangeFill: Double { markers.first ?? .nan }

    /// The kernel's mask in compute type `E`; nil when nothing is missing.
    func mask<E: KernelElement>(_ type: E.Type) -> FillMask<E>? {
        isEmpty
            ? nil
            : FillMask<E>(markers: markers, validMin: validMin, validMax: validMax, outOfRangeFill: outOfRangeFill)
    }

    /// Reads a dataset's `_FillValue`, `missing_value`, `valid_range`, `valid_min`, `valid_max`
    /// (every element of each; `valid_range` wins over the other two, as in netCDF4-python).
    static func read(of dataset: borrowing Dataset, in file: String) throws(PipelineError) -> MissingValues {
        func numbers(_ name: String) throws(PipelineError) -> [Double]? {
            do { return try dataset.numbers(name) } catch {
                throw .io(
                    "cannot read attribute \(name): \(error.reason ?? error.description)", file: file,
                    dataset: dataset.path, cause: error)
            }
        }
        var missing = MissingValues()
        missing.markers = (try numbers("_FillValue") ?? []) + (try numbers("missing_value") ?? [])
        if let range = try numbers("valid_range"), range.count == 2 {
            (missing.validMin, missing.validMax) = (range[0], range[1])
        } else {
            missing.validMin = try numbers("valid_min")?.first
            missing.validMax = try numbers("valid_max")?.first
        }
        return missing
    }

    /// Refuses (65) a marker that the output type cannot hold: one it converts to ±infinity
    /// (float16's range ends at 65504), which no longer marks the cells that held it. A marker
    /// the type rounds (int32 2147483647 as float32) is converted, as its attribute is.
    func checkStored(as type: ElementType, file: String, dataset: String) throws(PipelineError) {
        for value in markers where value.isFinite {
            let converted: Double
            switch type {
            case .float(16, _): converted = Double(Float16(value))
            case .float(32, _): converted = Double(Float(value))
            default: converted = value
            }
            guard converted.isFinite else {
                throw .data(
                    "missing value \(value) is outside the range of \(type.name) (masked cells keep their value); "
                        + "use a wider --dtype, or --no-mask to normalize them as data",
                    file: file, dataset: dataset)
            }
        }
    }
}
