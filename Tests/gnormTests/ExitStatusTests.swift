import Foundation
import HDF5
import Testing

/// SPEC §5: one `gnorm: error:` line (or argument-parser's usage error), the
/// sysexits status, no OUTPUT and no temporary file, INPUT unchanged.
@Suite struct ExitStatusTests {
    let cases = Gnorm.fixture("cases.h5")

    private func expectFailure(
        _ arguments: [String], status: Int32, mentions: [String] = [], in folder: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: cases))
        let filesBefore = try Gnorm.listing(folder)
        try expectGnorm(arguments, exits: status, mentions: mentions, in: folder, sourceLocation: sourceLocation)
        #expect(try Gnorm.listing(folder) == filesBefore, sourceLocation: sourceLocation)
        #expect(try Data(contentsOf: URL(fileURLWithPath: cases)) == before, sourceLocation: sourceLocation)
    }

    /// Issue 9: shapes whose sizes overflow are a data error, not a trap or a failed allocation.
    @Test func unaddressableShapesExit65() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Chunked and never written: no space on disk.
        for (name, shape, type) in [
            ("f32.h5", [2, 1 << 30, 1 << 31], ElementType.float32),
            ("f64.h5", [1 << 20, 1 << 20, 1 << 21], ElementType.float64),
        ] {
            let file = try File(creating: folder + "/" + name)
            _ = try file.createDataset(
                "/x", shape: shape, elementType: type,
                creation: DatasetCreation(chunkShape: [1, 1, 1 << 20]))
            try file.close()
            for command in [["apply", "-g", "1", name, "o.h5"], ["stats", "-g", "1", name]] {
                try expectGnorm(command, exits: 65, mentions: ["can be addressed"], in: folder)
            }
            #expect(!FileManager.default.fileExists(atPath: folder + "/o.h5"))
        }
    }

    @Test func usageErrorsExit64() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try expectFailure(["apply", "--bogus", cases, "o.h5"], status: 64, in: folder)
        try expectFailure(
            ["apply", "--groups", "2", "--group-size", "5", cases, "o.h5"], status: 64, mentions: ["exclude"],
            in: folder)
        try expectFailure(["apply", "--mode", "median", cases, "o.h5"], status: 64, in: folder)
        try expectFailure(["apply", "--compression", "lz4", cases, "o.h5"], status: 64, in: folder)
        try expectFailure(["apply", cases], status: 64, mentions: ["OUTPUT"], in: folder)
        try expectFailure(
            ["apply", "--mean", "m.npy", "--var", "v.npy", cases, "o.h5"], status: 64, mentions: ["batch"], in: folder)
        try expectFailure(
            ["apply", "-d", "/seed", "--weight", "gamma", cases, "o.h5"], status: 64, mentions: ["FILE.npy"], in: folder
        )
        try expectFailure(["stats", "--threads", "0", cases], status: 64, in: folder)
    }

    @Test func dataErrorsExit65() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try expectFailure(
            ["apply", "-d", "/seed", "--groups", "32", cases, "o.h5"], status: 65,
            mentions: [
                "10 channels cannot be split into 32 groups; valid group counts: 1, 2, 5, 10", "cases.h5:/seed",
            ],
            in: folder)
        try expectFailure(
            ["stats", "-d", "/nothing", cases], status: 65, mentions: ["dataset not found", "/seed"], in: folder)
        try expectFailure(["stats", "-d", "/gamma", cases], status: 65, mentions: ["rank 1"], in: folder)
        try expectFailure(["stats", "-d", "/meta/deep/labels", cases], status: 65, mentions: ["string"], in: folder)
        try expectFailure(
            ["apply", "-d", "/affine", "-g", "8", "--weight", "/beta4", cases, "o.h5"], status: 65,
            mentions: ["needs 32"], in: folder)
        try expectFailure(
            ["apply", "-d", "/affine", "-g", "8", "--weight", Gnorm.fixture("params.h5") + ":/short", cases, "o.h5"],
            status: 65, mentions: ["needs 32"], in: folder)
        try expectFailure(
            ["apply", "-d", "/affine", "-g", "8", "--weight", Gnorm.fixture("bad-header.npy"), cases, "o.h5"],
            status: 65, mentions: ["header"], in: folder)
        try expectFailure(
            ["apply", "-d", "/affine", "-g", "8", "--bias", "/missing", cases, "o.h5"], status: 65,
            mentions: ["not found"], in: folder)
        try expectFailure(
            ["stats", Gnorm.fixture("params.h5")], status: 65, mentions: ["no numeric dataset of rank ≥ 3"], in: folder)
        try expectFailure(
            ["apply", "-d", "/seed", "-g", "2", "--weight", "/meta/deep/labels", cases, "o.h5"], status: 65,
            mentions: ["element type string"], in: folder)
    }

    @Test func unreadableInputsExit66() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "not hdf5\n".write(toFile: folder + "/text.h5", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: folder + "/empty.h5", contents: Data())
        try expectFailure(["stats", folder + "/missing.h5"], status: 66, mentions: ["no such file"], in: folder)
        try expectFailure(["stats", folder], status: 66, mentions: ["directory"], in: folder)
        try expectFailure(["ls", folder + "/text.h5"], status: 66, mentions: ["not an HDF5 file"], in: folder)
        try expectFailure(["apply", folder + "/empty.h5", folder + "/o.h5"], status: 66, in: folder)
        try expectFailure(
            ["apply", "-d", "/affine", "-g", "8", "--weight", folder + "/none.npy", cases, "o.h5"],
            status: 66, in: folder)
    }

    /// Issue 17: a file only HDF5 2.x reads (Fixtures/newer_format.py: h5py 3.16, libver="latest") is
    /// INPUT unreadable, in one line naming the HDF5 gnorm was built with, for every command.
    @Test func filesNeedingANewerHDF5Exit66() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let newer = Gnorm.fixture("newer_format.h5")
        let before = try Data(contentsOf: URL(fileURLWithPath: newer))
        for arguments in [["ls", newer], ["stats", newer], ["apply", "-g", "2", newer, folder + "/o.h5"]] {
            try expectFailure(
                arguments, status: 66,
                mentions: ["newer HDF5 format", "HDF5 \(HDF5.buildVersion)", "libver='v110'", newer + ":/x"],
                in: folder)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: newer)) == before)
    }

    @Test func outputConflictsExit73() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = FileManager.default.createFile(atPath: folder + "/exists.h5", contents: Data("keep".utf8))
        try expectFailure(
            ["apply", "-d", "/seed", "-g", "2", cases, folder + "/exists.h5"], status: 73, mentions: ["--force"],
            in: folder)
        #expect(try String(contentsOfFile: folder + "/exists.h5", encoding: .utf8) == "keep")
        try expectFailure(
            ["apply", "-d", "/seed", "-g", "2", "-f", cases, cases], status: 73, mentions: ["--in-place"], in: folder)
        try FileManager.default.createSymbolicLink(atPath: folder + "/alias.h5", withDestinationPath: cases)
        try expectFailure(
            ["apply", "-d", "/seed", "-g", "2", "-f", cases, folder + "/alias.h5"], status: 73, in: folder)
        try expectFailure(
            ["apply", "-d", "/seed", "-g", "2", cases, folder + "/no/such/folder/o.h5"], status: 73,
            mentions: ["does not exist"], in: folder)
        // A hard link to INPUT is INPUT too.
        let scratchInput = folder + "/in.h5"
        try FileManager.default.copyItem(atPath: cases, toPath: scratchInput)
        try FileManager.default.linkItem(atPath: scratchInput, toPath: folder + "/hard.h5")
        try expectFailure(
            ["apply", "-d", "/seed", "-g", "2", "-f", scratchInput, folder + "/hard.h5"], status: 73,
            mentions: ["--in-place"], in: folder)
    }

    @Test func corruptDataExits74AndLeavesNoOutput() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Overwrite the middle of demo.h5's gzip chunks: the superblock and index survive, inflate fails.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Gnorm.fixture("demo.h5"))))
        for index in stride(from: bytes.count / 2, to: bytes.count / 2 + 4096, by: 1) { bytes[index] ^= 0x5A }
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/corrupt.h5"))
        let run = try Gnorm.run(["apply", folder + "/corrupt.h5", folder + "/o.h5"])
        #expect(run.status == 74, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("gnorm: error: cannot read samples"))
        #expect(try Gnorm.listing(folder) == ["corrupt.h5"])
    }
}
