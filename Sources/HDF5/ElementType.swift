#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// The element type of a dataset or attribute as stored in a file.
public enum ElementType: Equatable, Hashable, Sendable {
    /// IEEE floating point of 16 (h5py's float16), 32 or 64 bits.
    case float(bits: Int, bigEndian: Bool = false)
    case integer(bits: Int, signed: Bool, bigEndian: Bool = false)
    /// Strings, compounds, enums, references, ...: named for messages.
    case unsupported(String)

    public static let float16 = ElementType.float(bits: 16)
    public static let float32 = ElementType.float(bits: 32)
    public static let float64 = ElementType.float(bits: 64)

    public var isNumeric: Bool {
        if case .unsupported = self { return false }
        return true
    }

    /// Bytes of one element (0 for unsupported types).
    public var byteCount: Int {
        switch self {
        case .float(let bits, _), .integer(let bits, _, _): bits / 8
        case .unsupported: 0
        }
    }

    /// NumPy's name for the type: float32, int16, uint8, >f4 for big-endian.
    public var name: String {
        switch self {
        case .float(let bits, let bigEndian):
            return bigEndian ? ">f\(bits / 8)" : "float\(bits)"
        case .integer(let bits, let signed, let bigEndian):
            if bigEndian { return ">\(signed ? "i" : "u")\(bits / 8)" }
            return "\(signed ? "int" : "uint")\(bits)"
        case .unsupported(let what):
            return what
        }
    }

    /// Reads a type id. The HDF5 calls are `H5Tget_class`, `H5Tget_size`, `H5Tget_order`, `H5Tget_sign`.
    init(typeId: hid_t) {
        let bits = Int(H5Tget_size(typeId)) * 8
        let bigEndian = H5Tget_order(typeId) == H5T_ORDER_BE
        switch H5Tget_class(typeId) {
        case H5T_FLOAT where [16, 32, 64].contains(bits):
            self = .float(bits: bits, bigEndian: bigEndian)
        case H5T_INTEGER where [8, 16, 32, 64].contains(bits):
            self = .integer(bits: bits, signed: H5Tget_sign(typeId) == H5T_SGN_2, bigEndian: bigEndian)
        case H5T_FLOAT: self = .unsupported("float\(bits)")
        case H5T_STRING: self = .unsupported("string")
        case H5T_COMPOUND: self = .unsupported("compound")
        case H5T_ENUM: self = .unsupported("enum")
        case H5T_REFERENCE: self = .unsupported("reference")
        case H5T_OPAQUE: self = .unsupported("opaque")
        case H5T_BITFIELD: self = .unsupported("bitfield")
        case H5T_ARRAY: self = .unsupported("array")
        case H5T_VLEN: self = .unsupported("vlen")
        case H5T_TIME: self = .unsupported("time")
        default: self = .unsupported("unknown type")
        }
    }

    /// `value` as stored in this type (rounded to nearest, ties to even; integers clamped to
    /// their range, NaN as 0), in its byte order.
    public func encoded(_ value: Double) -> [UInt8] {
        var bytes: [UInt8]
        let bigEndian: Bool
        switch self {
        case .integer(let bits, let signed, let order):
            let rounded = value.isNaN ? 0 : value.rounded(.toNearestOrEven)
            bytes =
                signed
                ? withUnsafeBytes(of: Int64(clamping: rounded, bits: bits).littleEndian, Array.init)
                : withUnsafeBytes(of: UInt64(clamping: rounded, bits: bits).littleEndian, Array.init)
            bytes.removeLast(8 - bits / 8)
            bigEndian = order
        case .float(16, let order):
            bytes = withUnsafeBytes(of: Float16(value).bitPattern.littleEndian, Array.init)
            bigEndian = order
        case .float(32, let order):
            bytes = withUnsafeBytes(of: Float(value).bitPattern.littleEndian, Array.init)
            bigEndian = order
        case .float(_, let order):
            bytes = withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
            bigEndian = order
        case .unsupported:
            preconditionFailure("no storage type for \(name)")
        }
        if bigEndian { bytes.reverse() }
        return bytes
    }

    /// A new type id for storing this type, in its byte order; the caller closes it.
    /// float16 is built as h5py builds it: IEEE half precision from a copy of f32.
    func makeStorageTypeId() throws(HDF5Error) -> hid_t {
        let id = try makeLittleEndianTypeId()
        if case .float(_, true) = self, H5Tset_order(id, H5T_ORDER_BE) < 0 {
            H5Tclose(id)
            throw HDF5Error.capture("H5Tset_order big-endian")
        }
        return id
    }

    private func makeLittleEndianTypeId() throws(HDF5Error) -> hid_t {
        switch self {
        case .float(16, _):
            let id = try checkedId(H5Tcopy(chdf5_ieee_f32le()), "H5Tcopy f16")
            do {
                try checkedStatus(H5Tset_fields(id, 15, 10, 5, 0, 10), "H5Tset_fields f16")
                try checkedStatus(H5Tset_size(id, 2), "H5Tset_size f16")
                try checkedStatus(H5Tset_ebias(id, 15), "H5Tset_ebias f16")
            } catch {
                _ = H5Tclose(id)
                throw error
            }
            return id
        case .float(64, _):
            return try checkedId(H5Tcopy(chdf5_ieee_f64le()), "H5Tcopy f64")
        case .float:
            return try checkedId(H5Tcopy(chdf5_ieee_f32le()), "H5Tcopy f32")
        case .integer(let bits, let signed, _):
            let id = try checkedId(H5Tcopy(chdf5_std_i64le()), "H5Tcopy i64")
            do {
                try checkedStatus(H5Tset_size(id, bits / 8), "H5Tset_size integer")
                try checkedStatus(H5Tset_sign(id, signed ? H5T_SGN_2 : H5T_SGN_NONE), "H5Tset_sign")
            } catch {
                _ = H5Tclose(id)
                throw error
            }
            return id
        case .unsupported(let what):
            throw HDF5Error(operation: "creating a dataset of type \(what)")
        }
    }
}

/// Element types that HDF5 can convert to and from in memory.
public protocol NativeElement: BitwiseCopyable {
    static var memoryType: MemoryType { get }
}

/// The in-memory element types gnorm reads and writes.
public enum MemoryType: Sendable {
    case float32, float64, int64, uint8

    var size: Int {
        switch self {
        case .float32: 4
        case .float64, .int64: 8
        case .uint8: 1
        }
    }

    var typeId: hid_t {
        switch self {
        case .float32: chdf5_native_float()
        case .float64: chdf5_native_double()
        case .int64: chdf5_native_int64()
        case .uint8: chdf5_native_uint8()
        }
    }
}

extension Float: NativeElement { public static var memoryType: MemoryType { .float32 } }
extension Double: NativeElement { public static var memoryType: MemoryType { .float64 } }
extension Int64: NativeElement { public static var memoryType: MemoryType { .int64 } }
extension UInt8: NativeElement { public static var memoryType: MemoryType { .uint8 } }

extension Int64 {
    /// A whole `value` clamped to the range of a signed integer of `bits` bits.
    fileprivate init(clamping value: Double, bits: Int) {
        let limit = Double(sign: .plus, exponent: bits - 1, significand: 1)
        self = value >= limit ? .max >> (64 - bits) : value < -limit ? .min >> (64 - bits) : Int64(value)
    }
}

extension UInt64 {
    /// A whole `value` clamped to the range of an unsigned integer of `bits` bits.
    fileprivate init(clamping value: Double, bits: Int) {
        let limit = Double(sign: .plus, exponent: bits, significand: 1)
        self = value >= limit ? UInt64.max >> (64 - bits) : value < 0 ? 0 : UInt64(value)
    }
}
