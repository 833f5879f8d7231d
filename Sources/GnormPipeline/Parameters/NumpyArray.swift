/// A NumPy `.npy` array read as float64 values.
///
/// Supports format versions 1–3, C order, and the element types
/// `<f2 <f4 <f8 >f2 >f4 >f8`, signed and unsigned integers of 1–8 bytes in either
/// byte order, and `|b1`.
public struct NumpyArray: Equatable, Sendable {
    public let shape: [Int]
    public let values: [Double]

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notNumpy
        case badHeader(String)
        case unsupported(String)
        case truncated(expected: Int, actual: Int)

        public var description: String {
            switch self {
            case .notNumpy: "not a .npy file (no \\x93NUMPY magic)"
            case .badHeader(let why): "bad .npy header: \(why)"
            case .unsupported(let what): "unsupported .npy array: \(what)"
            case .truncated(let expected, let actual): ".npy data truncated: \(actual) of \(expected) bytes"
            }
        }
    }

    public init(bytes: [UInt8]) throws(ParseError) {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw .notNumpy }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .badHeader("too short") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw .badHeader("format version \(major) is unknown")
        }
        guard headerStart + headerLength <= bytes.count else { throw .badHeader("header runs past the end") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        let descriptor = try Self.field("descr", in: header)
        let fortran = try Self.field("fortran_order", in: header)
        let shapeText = try Self.field("shape", in: header)
        guard fortran == "False" else {
            if fortran == "True" { throw .unsupported("Fortran order; save it with np.ascontiguousarray") }
            throw .badHeader("fortran_order is \(fortran)")
        }
        let trimmedShape = shapeText.dropFirst().dropLast()
        var shape: [Int] = []
        for part in trimmedShape.split(separator: ",") {
            let text = part.trimmingCharacters(in: " ")
            if text.isEmpty { continue }
            guard let extent = Int(text), extent >= 0 else { throw .badHeader("shape \(shapeText)") }
            shape.append(extent)
        }
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= 1 << 40 else { throw .badHeader("shape \(shapeText) is too large") }
            count = product
        }
        let codec = try ElementCodec(descriptor: descriptor)
        let dataStart = headerStart + headerLength
        let expected = count * codec.size
        guard bytes.count - dataStart >= expected else {
            throw .truncated(expected: expected, actual: bytes.count - dataStart)
        }
        var values = [Double]()
        values.reserveCapacity(count)
        for index in 0..<count {
            values.append(codec.decode(bytes, at: dataStart + index * codec.size))
        }
        self.shape = shape
        self.values = values
    }

    /// The text of `'key': value` in the header dict; a tuple value keeps its parentheses.
    private static func field(_ key: String, in header: String) throws(ParseError) -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
            throw .badHeader("no '\(key)'")
        }
        var rest = header[keyRange.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { throw .badHeader("no value for '\(key)'") }
        rest = rest.dropFirst().drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw .badHeader("unclosed shape") }
            return String(rest[...close])
        }
        if let quote = rest.first, quote == "'" || quote == "\"" {
            let body = rest.dropFirst()
            guard let end = body.firstIndex(of: quote) else { throw .badHeader("unclosed string for '\(key)'") }
            return String(body[..<end])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: " ")
    }

    /// Decodes one element type.
    private struct ElementCodec {
        enum Kind { case float, signed, unsigned, boolean }
        let kind: Kind
        let size: Int
        let bigEndian: Bool

        init(descriptor: String) throws(ParseError) {
            guard descriptor.count >= 3, let order = descriptor.first,
                let size = Int(descriptor.dropFirst(2))
            else { throw .unsupported("dtype '\(descriptor)'") }
            let code = descriptor[descriptor.index(after: descriptor.startIndex)]
            switch (code, size) {
            case ("f", 2), ("f", 4), ("f", 8): kind = .float
            case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
            case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
            case ("b", 1): kind = .boolean
            default: throw .unsupported("dtype '\(descriptor)'")
            }
            guard "<>|=".contains(order) else { throw .unsupported("byte order in '\(descriptor)'") }
            self.size = size
            bigEndian = order == ">"
        }

        func decode(_ bytes: [UInt8], at offset: Int) -> Double {
            var bits: UInt64 = 0
            for index in 0..<size {
                let byte = UInt64(bytes[offset + (bigEndian ? index : size - 1 - index)])
                bits = bits << 8 | byte
            }
            switch kind {
            case .boolean: return bits == 0 ? 0 : 1
            case .unsigned: return Double(bits)
            case .signed:
                let shift = UInt64(64 - 8 * size)
                return Double(Int64(bitPattern: bits << shift) >> Int64(shift))
            case .float:
                switch size {
                case 2: return Double(halfToFloat(UInt16(bits)))
                case 4: return Double(Float(bitPattern: UInt32(bits)))
                default: return Double(bitPattern: bits)
                }
            }
        }
    }
}

/// IEEE binary16 to Float, without depending on the platform's Float16.
func halfToFloat(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1F)
    let fraction = Float(bits & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
