// swift-tools-version:6.0
// libFuzzer targets (`make fuzz`): built with -sanitize=fuzzer,address; libFuzzer provides main.
import PackageDescription

let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "gnorm-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "FuzzNumpy", dependencies: [.product(name: "GnormPipeline", package: "main")], swiftSettings: fuzzer),
        .executableTarget(name: "FuzzSpec", dependencies: [.product(name: "GnormPipeline", package: "main")], swiftSettings: fuzzer),
        .executableTarget(name: "FuzzStats", dependencies: [.product(name: "GnormPipeline", package: "main")], swiftSettings: fuzzer),
    ],
    swiftLanguageModes: [.v6]
)
