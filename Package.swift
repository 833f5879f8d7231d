// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "gnorm",
    products: [
        .executable(name: "gnorm", targets: ["gnorm"]),
        // For the benchmark package in Benchmarks/, which measures the kernel alone.
        .library(name: "GroupNormKernel", targets: ["GroupNormKernel"]),
        // For the libFuzzer targets in Fuzz/.
        .library(name: "GnormPipeline", targets: ["GnormPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5-serial",
            providers: [.apt(["libhdf5-dev"])]
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
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "GroupNormKernel"),
        .target(name: "GnormPipeline", dependencies: ["HDF5", "GroupNormKernel", "CDeflate", "CISAL"]),
        .executableTarget(
            name: "gnorm",
            dependencies: [
                "GnormPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(name: "GroupNormKernelTests", dependencies: ["GroupNormKernel"]),
        .testTarget(name: "GnormPipelineTests", dependencies: ["GnormPipeline", "HDF5"],
                    resources: []),
        .testTarget(name: "gnormTests", dependencies: ["HDF5"]),
    ],
    swiftLanguageModes: [.v6]
)
