import Foundation
import HDF5

/// Where a per-channel array (`--weight`, `--bias`, `--mean`, `--var`) comes from.
public enum ParameterSource: Equatable, Sendable {
    /// `/path`: a dataset in INPUT.
    case inputDataset(String)
    /// `FILE.h5:/path`: a dataset in another HDF5 file.
    case fileDataset(file: String, path: String)
    /// `FILE.npy`: a NumPy array file.
    case numpy(String)

    /// Parses a SPEC; nil when it has none of the three forms.
    public init?(spec: String) {
        // FILE.h5:/path wins when FILE exists or is relative; a dataset path rarely holds ":/".
        if let separator = spec.range(of: ":/", options: .backwards), separator.lowerBound > spec.startIndex {
            let file = String(spec[..<separator.lowerBound])
            if !spec.hasPrefix("/") || FileManager.default.fileExists(atPath: file) {
                self = .fileDataset(file: file, path: String(spec[spec.index(after: separator.lowerBound)...]))
                return
            }
        }
        if spec.hasSuffix(".npy") {
            self = .numpy(spec)
        } else if spec.hasPrefix("/") {
            self = .inputDataset(spec)
        } else {
            return nil
        }
    }

    static let formHelp = "expected /path (a dataset in INPUT), FILE.h5:/path or FILE.npy"

    /// Reads the array as `channelCount` float64 values; `name` is the option, for messages.
    func values(name: String, channelCount: Int, input: borrowing File, dataset: String) throws(PipelineError)
        -> [Double]
    {
        let shape: [Int]
        let values: [Double]
        let origin: String
        switch self {
        case .inputDataset(let path):
            origin = "\(input.name):\(path)"
            (shape, values) = try Self.read(path, in: input, name: name)
        case .fileDataset(let fileName, let path):
            origin = "\(fileName):\(path)"
            guard FileManager.default.fileExists(atPath: fileName) else {
                throw .inputUnavailable("\(name) file does not exist", file: fileName)
            }
            let file: File
            do { file = try File(openingForReading: fileName) } catch {
                throw .inputUnavailable(
                    "\(name) file is not a readable HDF5 file: \(error.reason ?? error.description)", file: fileName,
                    cause: error)
            }
            (shape, values) = try Self.read(path, in: file, name: name)
        case .numpy(let fileName):
            origin = fileName
            guard let data = FileManager.default.contents(atPath: fileName) else {
                throw .inputUnavailable("\(name) file cannot be read", file: fileName)
            }
            do {
                let array = try NumpyArray(bytes: [UInt8](data))
                (shape, values) = (array.shape, array.values)
            } catch {
                throw .data("\(name): \(error)", file: fileName)
            }
        }
        let nonUnitAxes = shape.filter { $0 != 1 }.count
        guard values.count == channelCount, nonUnitAxes <= 1 else {
            throw .data(
                "\(name) from \(origin) has shape \(shape) (\(values.count) values); "
                    + "dataset \(dataset) needs \(channelCount), one per channel", file: origin)
        }
        return values
    }

    private static func read(_ path: String, in file: borrowing File, name: String) throws(PipelineError) -> (
        [Int], [Double]
    ) {
        guard file.exists(path) else {
            throw .data("\(name) dataset not found", file: file.name, dataset: path)
        }
        do {
            let dataset = try file.openDataset(path)
            guard dataset.elementType.isNumeric else {
                throw PipelineError.data(
                    "\(name) has element type \(dataset.elementType.name); expected numbers",
                    file: file.name, dataset: path)
            }
            return (dataset.shape, try dataset.readAll(as: Double.self))
        } catch let error as HDF5Error {
            throw .io(
                "cannot read \(name): \(error.reason ?? error.description)", file: file.name, dataset: path,
                cause: error)
        } catch let error as PipelineError {
            throw error
        } catch {
            throw .io("cannot read \(name): \(error)", file: file.name, dataset: path, cause: error)
        }
    }
}
