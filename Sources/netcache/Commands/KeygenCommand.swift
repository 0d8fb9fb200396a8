import ArgumentParser
import Foundation
import NetcacheClient

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a signature key and its self-signed certificate (like generate-signature-key).",
        discussion: """
            Writes the private key (mode 0600) and prints the certificate, or writes it to \
            --cert-file. Add the certificate to signature-certificate-list on every machine \
            that should trust your entries. Existing files are never overwritten.
            """
    )

    @Argument(help: ArgumentHelp("Private key file to create.", valueName: "KEY_FILE"))
    var keyFile: String

    @Argument(help: ArgumentHelp("Common name of the certificate.", valueName: "COMMON_NAME"))
    var commonName: String

    @Option(help: ArgumentHelp("Write the certificate here instead of printing it.", valueName: "file"))
    var certFile: String?

    @Option(help: "rsa signs every entry, the SlapOS Python tools' included; ed25519 only netcache's own entries and trust documents.")
    var type: KeyGenerator.KeyType = .rsa

    @Option(help: "RSA key size in bits (upstream used 1024).")
    var bits = 3072

    func run() throws {
        for path in [keyFile, certFile].compactMap({ $0 }) where FileManager.default.fileExists(atPath: path) || isSymlink(path) {
            throw CommandError("\(path) exists, will not overwrite")
        }
        let generated = try KeyGenerator.generate(commonName: commonName, type: type, bits: bits)
        try createExclusively(keyFile, contents: generated.privateKeyPEM, mode: 0o600)
        // A key whose certificate was lost is removed: the next run may then make both.
        do {
            if let certFile {
                try createExclusively(certFile, contents: generated.certificatePEM, mode: 0o644)
            } else {
                try printFlushed(generated.certificatePEM, terminator: "")
            }
        } catch {
            unlink(keyFile)
            throw error
        }
        StandardError.write("Don't forget to add the certificate to the signature-certificate-list in your SlapOS configuration file, or to have a root delegate to it (netcache trust delegate).\n")
    }

    private func isSymlink(_ path: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
    }

    private func createExclusively(_ path: String, contents: String, mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw CommandError("cannot create \(path): \(String(cString: strerror(errno)))") }
        let code = writeFully(descriptor, contents) ?? (fsync(descriptor) == 0 ? nil : errno)
        let closeCode = close(descriptor) == 0 ? nil : errno
        if let failure = code ?? closeCode {
            unlink(path)
            throw CommandError("cannot write \(path): \(String(cString: strerror(failure)))")
        }
    }
}
