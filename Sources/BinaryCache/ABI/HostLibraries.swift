import Foundation

/// Where this machine's dynamic loader finds a library by name: `/etc/ld.so.cache`, then
/// the default directories, keeping the first file of the right ELF class and machine.
struct HostLibraries {
    let multiarch: String
    private let cached: [String: [String]]

    init(multiarch: String, cacheFile: String = "/etc/ld.so.cache") {
        self.multiarch = multiarch
        cached = (FileManager.default.contents(atPath: cacheFile).map { Self.parseCache(Array($0)) }) ?? [:]
    }

    /// A library found for `name`, with what it defines.
    func find(_ name: String, bits: Int?, machine: String?) -> (path: String, image: ELFImage)? {
        // The name comes from an entry: a path in it could reach a file (or FIFO) anywhere.
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", !name.utf8.contains(0) else { return nil }
        let defaults = ["/lib/\(multiarch)", "/usr/lib/\(multiarch)", "/lib", "/usr/lib"] + (bits == 64 ? ["/lib64", "/usr/lib64"] : [])
        for path in (cached[name] ?? []) + defaults.map({ $0 + "/" + name }) {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            guard let image = try? ELFImage(descriptor: descriptor) else { continue }
            if let bits, image.bits != bits { continue }
            if let machine, ABIRecord.machineName(image.machine) != machine { continue }
            return (path, image)
        }
        return nil
    }

    /// glibc's cache, new format (`glibc-ld.so.cache1.1`, after the old one or alone): a
    /// 48-byte header with the entry count, then 24-byte entries whose name and path are
    /// offsets from that header's start.
    static func parseCache(_ bytes: [UInt8]) -> [String: [String]] {
        let magic = Array("glibc-ld.so.cache1.1".utf8)
        guard let start = (0...max(0, bytes.count - magic.count)).first(where: { bytes[$0..<min(bytes.count, $0 + magic.count)].elementsEqual(magic) }) else {
            return [:]
        }
        func uint32(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 4 <= bytes.count else { return nil }
            return Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
        }
        func string(_ offset: Int) -> String? {
            let begin = start + offset
            guard begin >= 0, begin < bytes.count, let end = bytes[begin...].firstIndex(of: 0) else { return nil }
            return String(decoding: bytes[begin..<end], as: UTF8.self)
        }
        guard let count = uint32(start + 20) else { return [:] }
        var libraries: [String: [String]] = [:]
        for index in 0..<count {
            let entry = start + 48 + index * 24
            guard let key = uint32(entry + 4), let value = uint32(entry + 8), let name = string(key), let path = string(value) else { break }
            libraries[name, default: []].append(path)
        }
        return libraries
    }
}
