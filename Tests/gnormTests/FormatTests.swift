import Foundation
import HDF5
import Testing

/// Issue 18: CF missing values, `--compression` that replaces, and where the statistics go
/// (`--stats-group`, `--stats-file`). The tools' own files read back by the tools are in
/// CorpusTests (Fixtures/formats).
@Suite struct FormatTests {
    /// Runs Python code (h5py, hdf5plugin) in `folder`, for inputs the tests make.
    static func python(_ code: String, in folder: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Python.executable)
        process.arguments = (Python.executable == "/usr/bin/env" ? ["python3"] : []) + ["-c", code]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        // h5py brings its own libhdf5 and filters (hdf5plugin): plugins built for another libhdf5
        // (make test-mpi points HDF5_PLUGIN_PATH at parallel HDF5's) fail inside it.
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "HDF5_PLUGIN_PATH" }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(output)")
    }

    /// The ncgen file: `missing_value = -32767s, -32768s` with `_FillValue = -32767s`. The
    /// statistics are those of the five data cells 100…500 (mean 300, variance 20000: -9148 before).
    @Test func everyElementOfAVectorMissingValueIsLeftOut() throws {
        let input = Gnorm.fixture("formats/ncgen_missing.nc")
        let run = try Gnorm.run(["stats", "--format", "csv", "-d", "/v", "-g", "1", input])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "dataset,sample,group,mean,var\n/v,0,0,300.0,20000.0\n")
        // valid_range [0, 1000]: 5000 and -50 are left out, as the _FillValue cell is: 10, 20, 30, 40, 60.
        let ranged = try Gnorm.run(["stats", "--format", "csv", "-d", "/w", "-g", "1", input])
        #expect(ranged.stdout == "dataset,sample,group,mean,var\n/w,0,0,32.0,296.0\n", "\(ranged.stderr)")
        let unmasked = try Gnorm.run(["stats", "--format", "csv", "--no-mask", "-d", "/v", "-g", "1", input])
        #expect(unmasked.stdout == "dataset,sample,group,mean,var\n/v,0,0,-12100.375,256294666.984375\n")
    }

    /// A masked cell keeps its value converted to the new type, as its attribute is (int32
    /// 2147483647 becomes float32 2147483648 in both); a marker the type cannot hold (1e30 as
    /// float16) is refused, before OUTPUT exists.
    @Test func aMissingValueIsConvertedOrRefused() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.python(
            """
            import h5py, numpy as np
            x = np.arange(2 * 4 * 6, dtype=np.int32).reshape(2, 4, 6)
            x[0, 0, 0] = 2147483647
            y = x.astype(np.float32)
            y[0, 0, 0] = -1e30
            with h5py.File("in.h5", "w") as f:
                f.create_dataset("x", data=x).attrs["missing_value"] = np.int32(2147483647)
                f.create_dataset("y", data=y).attrs["_FillValue"] = np.float32(-1e30)
            """, in: folder)
        let converted = try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/x", "in.h5", "out.h5"], in: folder)
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(try Gnorm.read(folder + "/out.h5", "/x")[0] == 2_147_483_648)
        let attribute = try File(openingForReading: folder + "/out.h5").openDataset("/x").attribute("missing_value")
        #expect(attribute == .doubles([2_147_483_648]) || attribute == .double(2_147_483_648))
        let refused = try Gnorm.run(["apply", "-g", "2", "-d", "/y", "--dtype", "f16", "in.h5", "f16.h5"], in: folder)
        #expect(refused.status == 65)
        #expect(
            refused.stderr
                == "gnorm: error: missing value -1.0000000150474662e+30 is outside the range of float16 (masked "
                + "cells keep their value); use a wider --dtype, or --no-mask to normalize them as data (in.h5:/y)\n")
        #expect(!FileManager.default.fileExists(atPath: folder + "/f16.h5"))
    }

    /// `--compression` replaces the compression filters (szip, blosc, lzf, scale-offset, deflate)
    /// and keeps Fletcher-32 in its place; the values do not depend on it.
    @Test func compressionReplacesTheCompressionFilters() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.python(
            """
            import h5py, hdf5plugin, numpy as np
            rng = np.random.default_rng(3)
            with h5py.File("in.h5", "w") as f:
                f.create_dataset("szip", data=rng.random((2, 4, 8, 8), "f4"), chunks=(1, 4, 8, 8), compression="szip")
                f.create_dataset("blosc", data=rng.random((2, 4, 8, 8), "f4"), chunks=(1, 4, 8, 8), fletcher32=True,
                                 **hdf5plugin.Blosc())
                f.create_dataset("lzf", data=rng.random((2, 4, 8, 8)), chunks=(1, 4, 8, 8), scaleoffset=3,
                                 shuffle=True, compression="lzf")
            """, in: folder)
        func filters(_ file: String, _ path: String) throws -> [String] {
            try File(openingForReading: folder + "/" + file).openDataset(path).creation.filters.map {
                if case .other(let id, _, _, _) = $0 { return "id\(id)" }
                return $0.name
            }
        }
        #expect(try filters("in.h5", "/szip") == ["id4"])
        #expect(try filters("in.h5", "/blosc") == ["id32001", "id3"])
        #expect(try filters("in.h5", "/lzf") == ["id6", "shuffle", "id32000"])
        let expected: [String: [String: [String]]] = [
            "gzip=1": [
                "/szip": ["shuffle", "gzip=1"], "/blosc": ["shuffle", "gzip=1", "id3"], "/lzf": ["shuffle", "gzip=1"],
            ],
            "none": ["/szip": [], "/blosc": ["id3"], "/lzf": []],
            "same": ["/szip": ["id4"], "/blosc": ["id32001", "id3"], "/lzf": ["id6", "shuffle", "id32000"]],
        ]
        for (choice, datasets) in expected {
            let run = try Gnorm.run(
                ["apply", "-q", "-g", "2", "--compression", choice, "in.h5", "\(choice).h5"], in: folder)
            #expect(run.status == 0, "\(choice): \(run.stderr)")
            for (path, want) in datasets { #expect(try filters("\(choice).h5", path) == want, "\(choice) \(path)") }
        }
        for path in ["/szip", "/blosc"] {
            let lossless = try Gnorm.read(folder + "/none.h5", path)
            #expect(lossless.count == 512)
            #expect(try Gnorm.read(folder + "/gzip=1.h5", path) == lossless)
            #expect(try Gnorm.read(folder + "/same.h5", path) == lossless)
        }
    }

    /// `--stats-file` writes the statistics elsewhere (OUTPUT gains no group) and `apply --mean`
    /// reads them back; `--stats-group` moves them; misuse is refused with the SPEC §5 status.
    @Test func statisticsGoWhereTheyAreAsked() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.python(
            """
            import h5py, numpy as np
            with h5py.File("in.h5", "w") as f:
                f["x"] = np.random.default_rng(4).standard_normal((3, 4, 5, 5)).astype("f4") * 3 + 7
            """, in: folder)
        let plain = try Gnorm.run(["apply", "-q", "--mode", "batch", "in.h5", "plain.h5"], in: folder)
        #expect(plain.status == 0, "\(plain.stderr)")
        let separate = try Gnorm.run(
            ["apply", "-q", "--mode", "batch", "--stats-file", "s.h5", "in.h5", "out.h5"], in: folder)
        #expect(separate.status == 0, "\(separate.stderr)")
        let outputHasGroup = try File(openingForReading: folder + "/out.h5").exists("/gnorm")
        #expect(!outputHasGroup)
        #expect(try Gnorm.read(folder + "/out.h5", "/x") == Gnorm.read(folder + "/plain.h5", "/x"))
        let mean = try Gnorm.read(folder + "/s.h5", "/gnorm/x/mean")
        #expect(mean.count == 4)
        #expect(mean == (try Gnorm.read(folder + "/plain.h5", "/gnorm/x/mean")))
        #expect(try Gnorm.read(folder + "/s.h5", "/gnorm/x/var") == Gnorm.read(folder + "/plain.h5", "/gnorm/x/var"))
        let listed = try Gnorm.run(["ls", "s.h5"], in: folder)
        #expect(listed.stdout.contains("/gnorm/x/mean  (4,)   float64  contiguous  -        stats"), "\(listed.stdout)")
        // Read back as eval-mode statistics: the same values.
        let eval = try Gnorm.run(
            [
                "apply", "-q", "--mode", "batch", "--mean", "s.h5:/gnorm/x/mean", "--var", "s.h5:/gnorm/x/var", "in.h5",
                "eval.h5",
            ], in: folder)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(try Gnorm.read(folder + "/eval.h5", "/x") == Gnorm.read(folder + "/plain.h5", "/x"))
        // An existing statistics file is replaced only with --force; nothing is written otherwise.
        let exists = try Gnorm.run(["apply", "-q", "-g", "2", "--stats-file", "s.h5", "in.h5", "again.h5"], in: folder)
        #expect(exists.status == 73)
        #expect(exists.stderr == "gnorm: error: --stats-file exists; use --force to replace it (s.h5)\n")
        #expect(!FileManager.default.fileExists(atPath: folder + "/again.h5"))
        let moved = try Gnorm.run(
            ["apply", "-q", "-g", "2", "--stats-group", "/stats/", "in.h5", "moved.h5"], in: folder)
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(try Gnorm.read(folder + "/moved.h5", "/stats/x/mean").count == 6)
        let movedHasGroup = try File(openingForReading: folder + "/moved.h5").exists("/gnorm")
        #expect(!movedHasGroup)
        for (arguments, status) in [
            (["--stats-file", "t.h5", "--stats-group", "/s", "in.h5", "o.h5"], Int32(64)),
            (["--stats-group", "relative", "in.h5", "o.h5"], 64),
            (["--stats-group", "/x", "in.h5", "o.h5"], 65),
            (["--stats-file", "o.h5", "in.h5", "o.h5"], 64),
            (["--stats-file", "in.h5", "--force", "in.h5", "o.h5"], 73),
            (["--stats-file", "t.h5", "--output-dir", "d", "in.h5", "plain.h5"], 64),
        ] {
            let run = try Gnorm.run(["apply", "-q", "-g", "2"] + arguments, in: folder)
            #expect(run.status == status, "\(arguments): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count <= 3, "\(arguments): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/o.h5"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/t.h5"))
    }
}
