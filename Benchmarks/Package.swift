// swift-tools-version:6.0
// Benchmarks live in their own package so that building gnorm stays lean.
import PackageDescription

let package = Package(
    name: "gnorm-benchmarks",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "gnorm-bench",
            dependencies: [.product(name: "GroupNormKernel", package: "main")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
