// swift-tools-version:6.1
import PackageDescription

// AVX2 without FMA: a fused multiply-add would round differently from the baseline build. The
// manifest cannot ask the *target's* architecture (`#if arch` here is the build host's), so the
// feature is named for the code generator itself rather than through `-mavx2`, which clang refuses
// for other targets: compiling for aarch64, LLVM notes "'+avx2' is not a recognized feature for
// this target (ignoring feature)" and GroupNormLoopsAVX2 is a second baseline build that the
// kernel never picks (`System.cpuHasAVX2` is false there).
let avx2: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-Xclang", "-Xcc", "-target-feature", "-Xcc", "-Xclang", "-Xcc", "+avx2"])
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
        .trait(name: "Serial", description: "Serial libhdf5 (pkg-config hdf5-serial)."),
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
            pkgConfig: "hdf5-serial",
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
        .testTarget(name: "GroupNormKernelTests", dependencies: ["GroupNormKernel"]),
        .testTarget(name: "ChunkCodingTests", dependencies: ["ChunkCoding"]),
        .testTarget(
            name: "GnormPipelineTests", dependencies: ["GnormPipeline", "HDF5"],
            resources: []),
        .testTarget(name: "gnormTests", dependencies: ["HDF5"]),
    ],
    swiftLanguageModes: [.v6]
)
