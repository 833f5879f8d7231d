import Foundation
import HDF5
import Platform

/// Opens INPUT, a path or `-` for standard input, read-only, answering the
/// SPEC §5 statuses for a missing, unreadable or non-HDF5 file.
enum InputFile {
    static let standardInputName = "<stdin>"

    static func open(_ argument: String) throws(PipelineError) -> File {
        if argument == "-" { return try open(image: readStandardInput()) }
        return try open(path: argument)
    }

    /// INPUT from the image already read from standard input, or from its path.
    static func open(_ argument: String, image: [UInt8]?) throws(PipelineError) -> File {
        guard let image else { return try open(path: argument) }
        return try open(image: image)
    }

    /// The whole of standard input: the image of an HDF5 file.
    static func readStandardInput() throws(PipelineError) -> [UInt8] {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard !data.isEmpty else {
            throw .inputUnavailable("standard input is empty; expected an HDF5 file image", file: standardInputName)
        }
        return [UInt8](data)
    }

    static func open(image: [UInt8]) throws(PipelineError) -> File {
        do { return try File(image: image, name: standardInputName) } catch {
            throw .inputUnavailable(
                "not an HDF5 file: \(error.reason ?? error.description)", file: standardInputName, cause: error)
        }
    }

    static func open(path argument: String) throws(PipelineError) -> File {
        try checkReadable(argument)
        guard File.isHDF5(argument) else {
            throw .inputUnavailable("not an HDF5 file", file: argument)
        }
        do { return try File(openingForReading: argument) } catch {
            throw .inputUnavailable(
                "cannot open HDF5 file: \(error.reason ?? error.description)", file: argument, cause: error)
        }
    }

    /// Fails with status 66 unless `path` is a readable regular file.
    static func checkReadable(_ path: String) throws(PipelineError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let error = SystemCallError("stat", path: path)
            throw .inputUnavailable(error.code == ENOENT ? "no such file" : error.reason, file: path, cause: error)
        }
        if status.st_mode & S_IFMT == S_IFDIR {
            throw .inputUnavailable("is a directory, not an HDF5 file", file: path)
        }
        guard access(path, R_OK) == 0 else {
            let error = SystemCallError("access", path: path)
            throw .inputUnavailable("permission denied", file: path, cause: error)
        }
    }
}
