// swift-tools-version:6.1
import Foundation
import PackageDescription

/// The pkg-config name of the serial libhdf5: `hdf5-serial` where pkg-config has that name
/// (Debian and Ubuntu, where plain `hdf5` is an alternative that installing libhdf5-openmpi-dev
/// repoints to the MPI build), else `hdf5` (upstream's CMake install, Fedora, conda, Homebrew, a
/// user's own build). The folders of PKG_CONFIG_PATH are asked first, in order, as pkg-config
/// does: a folder with a 1.14 install's `hdf5.pc` there wins over Debian's `hdf5-serial.pc`.
/// GNORM_HDF5_PKG_CONFIG=NAME overrides the choice. SwiftPM's systemLibrary takes one name, and
/// the manifest is evaluated again when the environment changes.
let hdf5PkgConfig: String = {
    let environment = ProcessInfo.processInfo.environment
    if let chosen = environment["GNORM_HDF5_PKG_CONFIG"], !chosen.isEmpty { return chosen }
    let exists = { (path: String) in FileManager.default.fileExists(atPath: path) }
    for folder in (environment["PKG_CONFIG_PATH"] ?? "").split(separator: ":").map(String.init) {
        if exists(folder + "/hdf5-serial.pc") { return "hdf5-serial" }
        if exists(folder + "/hdf5.pc") { return "hdf5" }
    }
    // pkg-config's own folders: /usr/lib/<multiarch>/pkgconfig on Debian, then the usual others.
    let libraries = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
    let systemFolders =
        libraries.sorted().map { "/usr/lib/\($0)/pkgconfig" } + ["/usr/lib/pkgconfig", "/usr/share/pkgconfig"]
    return systemFolders.contains { exists($0 + "/hdf5-serial.pc") } ? "hdf5-serial" : "hdf5"
}()

// AVX2 without FMA: a fused multiply-add would round differently from the baseline build. The
// manifest cannot ask the *target's* architecture (`#if arch` here is the build host's), so the
// feature is named for the code generator itself rather than through `-mavx2`, which clang refuses
// for other targets: compiling for aarch64, LLVM notes "'+avx2' is not a recognized feature for
// this target (ignoring feature)" and GroupNormLoopsAVX2 is a second baseline build that the
// kernel never picks (`System.cpuHasAVX2` is false there).
// F16C (float16 conversions; every AVX2 CPU has it, and `System.cpuHasAVX2` asks for both) is
// enabled beside it, and GNORM_F16C tells HalfLoops.swift to use it.
let avx2: [SwiftSetting] = [
    .unsafeFlags([
        "-Xcc", "-Xclang", "-Xcc", "-target-feature", "-Xcc", "-Xclang", "-Xcc", "+avx2",
        "-Xcc", "-Xclang", "-Xcc", "-target-feature", "-Xcc", "-Xclang", "-Xcc", "+f16c",
    ]),
    .define("GNORM_F16C"),
]

let package = Package(
    name: "gnorm",
    // Built and tested on Linux (Debian 12, x86-64); written for, not run on, macOS and Linux aarch64
    // (README, Platforms).
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gnorm", targets: ["gnorm"]),
        // For the benchmark package in Benchmarks/, which measures the kernel alone.
        .library(name: "GroupNormKernel", targets: ["GroupNormKernel"]),
        // For the libFuzzer targets in Fuzz/.
        .library(name: "GnormPipeline", targets: ["GnormPipeline"]),
    ],
    // Two builds of the same code: `Serial` (the default: libhdf5 serial, thread-safe, no MPI
    // needed) and `MPI` (`swift build --traits MPI`: Debian's libhdf5-openmpi, installed as gnorm-mpi).
    traits: [
        .default(enabledTraits: ["Serial"]),
        .trait(name: "Serial", description: "Serial libhdf5 (pkg-config hdf5-serial, else hdf5)."),
        .trait(
            name: "MPI", description: "Parallel libhdf5 over OpenMPI (pkg-config hdf5-openmpi); runs under mpirun/srun."
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: hdf5PkgConfig,
            providers: [.apt(["libhdf5-dev"])]
        ),
        // The MPI build's libhdf5 and MPI itself; the shims give HDF5 the same accessor names.
        .systemLibrary(
            name: "CHDF5MPI",
            pkgConfig: "hdf5-openmpi",
            providers: [.apt(["libhdf5-openmpi-dev"])]
        ),
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        .systemLibrary(
            name: "CDeflate",
            pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        .systemLibrary(
            name: "CISAL",
            pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]
        ),
        // The platform layer: Linux's calls that Swift does not import, CPU features (CPlatform),
        // and their Swift face with `SystemCallError` (Platform); fallbacks elsewhere.
        .target(name: "CPlatform"),
        .target(name: "Platform", dependencies: ["CPlatform"]),
        .target(
            name: "HDF5",
            dependencies: [
                "Platform",
                .target(name: "CHDF5", condition: .when(traits: ["Serial"])),
                .target(name: "CHDF5MPI", condition: .when(traits: ["MPI"])),
            ]),
        // The kernel's innermost loops, compiled twice from the same files (GroupNormLoopsAVX2
        // holds links to GroupNormLoops'): the kernel picks a build at run time (`InstructionSet`).
        .target(name: "GroupNormLoops"),
        .target(name: "GroupNormLoopsAVX2", swiftSettings: avx2),
        .target(name: "GroupNormKernel", dependencies: ["GroupNormLoops", "GroupNormLoopsAVX2"]),
        // HDF5's deflate (+ shuffle) chunks coded by libdeflate and ISA-L, behind one face.
        .target(name: "ChunkCoding", dependencies: ["CDeflate", "CISAL"]),
        .target(
            name: "GnormPipeline",
            dependencies: [
                "HDF5", "GroupNormKernel", "ChunkCoding", "Platform",
                .target(name: "CMPI", condition: .when(traits: ["MPI"])),
            ],
            // Each folder's README says what lives there and what it may import.
            exclude: [
                "README.md", "Commands/README.md", "Parameters/README.md", "Planning/README.md",
                "Streaming/README.md", "Codecs/README.md", "OutputFile/README.md", "Distributed/README.md",
                "Reports/README.md",
            ]),
        .executableTarget(
            name: "gnorm",
            dependencies: [
                "GnormPipeline", "Platform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PlatformTests", dependencies: ["Platform"]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(
            name: "GroupNormKernelTests", dependencies: ["GroupNormKernel", "GroupNormLoops", "GroupNormLoopsAVX2"]),
        .testTarget(name: "ChunkCodingTests", dependencies: ["ChunkCoding"]),
        .testTarget(
            name: "GnormPipelineTests", dependencies: ["GnormPipeline", "HDF5"],
            resources: []),
        // Help/*.txt: the help snapshots that `make manual` writes beside the manual page.
        .testTarget(name: "gnormTests", dependencies: ["HDF5"], resources: [.copy("Help")]),
    ],
    swiftLanguageModes: [.v6]
)
