// swift-tools-version:6.0
// Benchmarks live in their own package so that building gnorm stays lean.
import PackageDescription

let package = Package(
    name: "gnorm-benchmarks",
    platforms: [.macOS(.v13)],  // gnorm's own
    // Named explicitly: a path dependency is otherwise named after its folder (the checkout's name).
    dependencies: [.package(name: "gnorm", path: "..")],
    targets: [
        .executableTarget(
            name: "gnorm-bench",
            dependencies: [.product(name: "GroupNormKernel", package: "gnorm")]
        )
    ],
    swiftLanguageModes: [.v6]
)
