// swift-tools-version:6.0
// libFuzzer targets (`make fuzz`): built with -sanitize=fuzzer,address; libFuzzer provides main.
import PackageDescription

let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
let pipeline = Target.Dependency.product(name: "GnormPipeline", package: "gnorm")

let package = Package(
    name: "gnorm-fuzz",
    platforms: [.macOS(.v13)],  // gnorm's own
    // Named explicitly: a path dependency is otherwise named after its folder (the checkout's name).
    dependencies: [.package(name: "gnorm", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzNumpy", dependencies: ["FuzzDriver", pipeline], swiftSettings: fuzzer),
        .executableTarget(name: "FuzzSpec", dependencies: ["FuzzDriver", pipeline], swiftSettings: fuzzer),
        .executableTarget(name: "FuzzStats", dependencies: ["FuzzDriver", pipeline], swiftSettings: fuzzer),
        .executableTarget(name: "FuzzApply", dependencies: ["FuzzDriver", pipeline], swiftSettings: fuzzer),
    ],
    swiftLanguageModes: [.v6]
)
