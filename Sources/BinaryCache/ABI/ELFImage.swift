import CElf
import Foundation

/// What the dynamic loader needs to know of one ELF file, read with libelf: its class and
/// machine, the libraries it needs and where it looks for them, the symbol versions it
/// needs of each, and, for a library, its name and the versions it defines.
struct ELFImage: Equatable {
    /// 32 or 64.
    let bits: Int
    /// `e_machine`.
    let machine: Int
    let needed: [String]
    /// DT_RUNPATH, else DT_RPATH, split on `:`; `$ORIGIN` still in.
    let searchPath: [String]
    let soname: String?
    /// Needed library name → the version names needed of it (`GLIBC_2.34`, ...).
    let versionsNeeded: [String: [String]]
    /// The version names a library defines (its own name among them).
    let versionsDefined: [String]

    private static let started: Bool = elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE)

    /// Reads the file open at `descriptor`; `nil` when it is not an ELF file. Reads with
    /// `pread`, so the descriptor's offset does not matter.
    init?(descriptor: Int32) throws {
        guard Self.started else { throw ELFError("libelf is too old for this program") }
        var magic = [UInt8](repeating: 0, count: 4)
        // A read that fails is an error, not a file that is not ELF: its needs would be
        // left out of the signed abi field.
        guard magic.withUnsafeMutableBytes({ preadFully(descriptor, $0, at: 0) }) >= 0 else {
            throw ELFError("cannot read: \(String(cString: strerror(errno)))")
        }
        guard magic == [0x7F, 0x45, 0x4C, 0x46] else { return nil }
        guard let elf = elf_begin(descriptor, ELF_C_READ_MMAP, nil) else { throw ELFError(String(cString: elf_errmsg(-1))) }
        defer { elf_end(elf) }
        guard elf_kind(elf) == ELF_K_ELF else { return nil }
        var header = GElf_Ehdr()
        guard gelf_getehdr(elf, &header) != nil else { throw ELFError(String(cString: elf_errmsg(-1))) }
        bits = gelf_getclass(elf) == ELFCLASS64 ? 64 : 32
        machine = Int(header.e_machine)

        var needed: [String] = []
        var runpath: String?
        var rpath: String?
        var soname: String?
        var versionsNeeded: [String: [String]] = [:]
        var versionsDefined: [String] = []
        var section: OpaquePointer? = nil
        while let current = elf_nextscn(elf, section) {
            section = current
            var sectionHeader = GElf_Shdr()
            guard gelf_getshdr(current, &sectionHeader) != nil, let data = elf_getdata(current, nil) else { continue }
            let strings = Int(sectionHeader.sh_link)
            func text(_ offset: some BinaryInteger) -> String? {
                elf_strptr(elf, strings, Int(offset)).map { String(cString: $0) }
            }
            switch Int32(bitPattern: sectionHeader.sh_type) {
            case SHT_DYNAMIC:
                let count = sectionHeader.sh_entsize > 0 ? Int(sectionHeader.sh_size / sectionHeader.sh_entsize) : 0
                for index in 0..<count {
                    var entry = GElf_Dyn()
                    guard gelf_getdyn(data, Int32(index), &entry) != nil else { break }
                    switch Int32(entry.d_tag) {
                    case DT_NEEDED: if let name = text(entry.d_un.d_val) { needed.append(name) }
                    case DT_RUNPATH: runpath = text(entry.d_un.d_val)
                    case DT_RPATH: rpath = text(entry.d_un.d_val)
                    case DT_SONAME: soname = text(entry.d_un.d_val)
                    default: break
                    }
                }
            case SHT_GNU_verneed:
                var offset = 0
                for _ in 0..<Int(sectionHeader.sh_info) {
                    var need = GElf_Verneed()
                    guard gelf_getverneed(data, Int32(offset), &need) != nil, let file = text(need.vn_file) else { break }
                    var auxOffset = offset + Int(need.vn_aux)
                    for _ in 0..<Int(need.vn_cnt) {
                        var aux = GElf_Vernaux()
                        guard gelf_getvernaux(data, Int32(auxOffset), &aux) != nil else { break }
                        if let name = text(aux.vna_name) { versionsNeeded[file, default: []].append(name) }
                        guard aux.vna_next != 0 else { break }
                        auxOffset += Int(aux.vna_next)
                    }
                    guard need.vn_next != 0 else { break }
                    offset += Int(need.vn_next)
                }
            case SHT_GNU_verdef:
                var offset = 0
                for _ in 0..<Int(sectionHeader.sh_info) {
                    var definition = GElf_Verdef()
                    guard gelf_getverdef(data, Int32(offset), &definition) != nil else { break }
                    var aux = GElf_Verdaux()
                    if gelf_getverdaux(data, Int32(offset + Int(definition.vd_aux)), &aux) != nil, let name = text(aux.vda_name) {
                        versionsDefined.append(name)
                    }
                    guard definition.vd_next != 0 else { break }
                    offset += Int(definition.vd_next)
                }
            default:
                break
            }
        }
        self.needed = needed
        searchPath = (runpath ?? rpath).map { $0.split(separator: ":").map(String.init) } ?? []
        self.soname = soname
        self.versionsNeeded = versionsNeeded
        self.versionsDefined = versionsDefined
    }
}
