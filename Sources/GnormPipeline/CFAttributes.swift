import HDF5

/// The CF conventions' attributes that normalization changes (netCDF-4 files
/// from xarray, netCDF4-python, NCO, CDO keep them on variables).
enum CFAttributes {
    /// Packing (`scale_factor`, `add_offset`) and ranges of the raw values: they no
    /// longer describe normalized values, and readers would decode or mask with them.
    static let invalidated: Set<String> = [
        "scale_factor", "add_offset", "valid_min", "valid_max", "valid_range", "actual_range",
    ]
    /// Fill markers, which readers compare with values of the variable's own type.
    static let fillMarkers: Set<String> = ["_FillValue", "missing_value"]

    /// What becomes of a normalized variable's attributes when it is stored in a new
    /// dataset: the invalidated ones dropped; fill markers converted when the type changes.
    static func edits(retyping: Bool) -> AttributeEdits {
        AttributeEdits(dropped: invalidated, retyped: retyping ? fillMarkers : [])
    }

    /// Removes the invalidated attributes from a dataset rewritten where it is.
    static func dropInvalidated(on dataset: borrowing Dataset) throws(HDF5Error) {
        for name in invalidated.sorted() { try dataset.deleteAttribute(name) }
    }
}
