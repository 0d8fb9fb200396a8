/// An ELF file that libelf could not read.
struct ELFError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
