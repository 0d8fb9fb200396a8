// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "netcache",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "netcache", targets: ["netcache"]),
        .library(name: "NetcacheClient", targets: ["NetcacheClient"]),
        .library(name: "NetcacheServer", targets: ["NetcacheServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/attaswift/BigInt.git", from: "6.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian, reached through small shim headers.
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(name: "CElf", path: "Sources/CElf"),

        // Wire formats shared by client and server: Python-compatible JSON, shadir entries, SHA-512.
        .target(
            name: "NetcacheProtocol",
            dependencies: ["COpenSSL", "CZstd", .product(name: "BigInt", package: "BigInt")]
        ),

        // The protocol client: slapos.cfg, libcurl transfers, signatures, entry selection.
        .target(
            name: "NetcacheClient",
            dependencies: ["NetcacheProtocol", "COpenSSL", "CCurl"]
        ),

        // The binary cache: fingerprint, pack, sign, publish; verify and expand in place.
        .target(
            name: "BinaryCache",
            dependencies: ["NetcacheProtocol", "NetcacheClient", "CArchive", "CZstd", "CZlib", "CLinux", "CElf"]
        ),

        // The shacache + shadir server.
        .target(
            name: "NetcacheServer",
            dependencies: [
                "NetcacheProtocol",
                "NetcacheClient",
                "COpenSSL",
                "CArchive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // The command line.
        .executableTarget(
            name: "netcache",
            dependencies: [
                "NetcacheProtocol",
                "NetcacheClient",
                "NetcacheServer",
                "BinaryCache",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["BuildVersion"]
        ),

        // `netcache --version`: the version and commit, from git, before each build.
        .plugin(name: "BuildVersion", capability: .buildTool()),

        // libFuzzer targets for the parsers (scripts/fuzz.sh); built plainly, it replays a
        // corpus.
        .executableTarget(
            name: "netcache-fuzz",
            dependencies: ["NetcacheProtocol", "NetcacheClient", "BinaryCache"],
            path: "Sources/NetcacheFuzz"
        ),

        .testTarget(
            name: "NetcacheTests",
            dependencies: [
                "CZstd",
                "NetcacheClient",
                "NetcacheProtocol",
                "BinaryCache",
                "netcache",
                "NetcacheServer",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
