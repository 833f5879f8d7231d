import Foundation
import HDF5

/// Opens INPUT, a path or `-` for standard input, read-only, answering the
/// SPEC §5 statuses for a missing, unreadable or non-HDF5 file.
enum InputFile {
    static let standardInputName = "<stdin>"

    static func open(_ argument: String) throws(PipelineError) -> File {
        if argument == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard !data.isEmpty else {
                throw .inputUnavailable("standard input is empty; expected an HDF5 file image", file: standardInputName)
            }
            do { return try File(image: [UInt8](data), name: standardInputName) } catch {
                throw .inputUnavailable("not an HDF5 file: \(error.reason ?? error.description)", file: standardInputName)
            }
        }
        try checkReadable(argument)
        guard File.isHDF5(argument) else {
            throw .inputUnavailable("not an HDF5 file", file: argument)
        }
        do { return try File(openingForReading: argument) } catch {
            throw .inputUnavailable("cannot open HDF5 file: \(error.reason ?? error.description)", file: argument)
        }
    }

    /// Fails with status 66 unless `path` is a readable regular file.
    static func checkReadable(_ path: String) throws(PipelineError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw .inputUnavailable(errno == ENOENT ? "no such file" : String(cString: strerror(errno)), file: path)
        }
        if status.st_mode & S_IFMT == S_IFDIR { throw .inputUnavailable("is a directory, not an HDF5 file", file: path) }
        guard access(path, R_OK) == 0 else { throw .inputUnavailable("permission denied", file: path) }
    }
}
