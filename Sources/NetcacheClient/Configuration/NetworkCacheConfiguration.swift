/// The `[networkcache]` section of slapos.cfg, or the same settings in code.
public struct NetworkCacheConfiguration: Sendable {
    public var downloadCacheURL: String?
    public var downloadDirURL: String?
    public var uploadCacheURL: String?
    public var uploadDirURL: String?
    public var downloadBinaryCacheURL: String?
    public var downloadBinaryDirURL: String?
    public var uploadBinaryCacheURL: String?
    public var uploadBinaryDirURL: String?
    public var signaturePrivateKeyFile: String?
    /// Concatenated PEM certificates: the trust list.
    public var signatureCertificateList: String
    /// Concatenated PEM certificates of the roots whose trust documents delegate signers.
    public var signatureRootList = ""
    /// Raw texts, read by `TrustSettings`, which says what is wrong with them.
    public var signatureRootThreshold: String?
    public var signatureThreshold: String?
    public var signaturePolicy: String?
    public var trustStateFile: String?
    public var shacacheTLS: TLSSettings
    public var shadirTLS: TLSSettings
    public var binaryCacheURLBlacklist: [String]
    public var uploadToBinaryCacheURLBlacklist: [String]
    public var downloadFromBinaryCacheURLBlacklist: [String]
    public var downloadFromBinaryCacheForceURLList: [String]

    public init(
        downloadCacheURL: String? = nil, downloadDirURL: String? = nil,
        uploadCacheURL: String? = nil, uploadDirURL: String? = nil,
        signaturePrivateKeyFile: String? = nil, signatureCertificateList: String = ""
    ) {
        self.downloadCacheURL = downloadCacheURL
        self.downloadDirURL = downloadDirURL
        self.uploadCacheURL = uploadCacheURL
        self.uploadDirURL = uploadDirURL
        self.signaturePrivateKeyFile = signaturePrivateKeyFile
        self.signatureCertificateList = signatureCertificateList
        shacacheTLS = TLSSettings()
        shadirTLS = TLSSettings()
        binaryCacheURLBlacklist = []
        uploadToBinaryCacheURLBlacklist = []
        downloadFromBinaryCacheURLBlacklist = []
        downloadFromBinaryCacheForceURLList = []
    }

    /// Reads `[networkcache]`; a file without that section yields an empty configuration.
    public init(file: INIFile) {
        func value(_ key: String) -> String? {
            guard let value = file.value(key, in: "networkcache"), !value.isEmpty else { return nil }
            return value
        }
        func list(_ key: String) -> [String] {
            (value(key) ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        }
        self.init(
            downloadCacheURL: value("download-cache-url"), downloadDirURL: value("download-dir-url"),
            uploadCacheURL: value("upload-cache-url"), uploadDirURL: value("upload-dir-url"),
            signaturePrivateKeyFile: value("signature-private-key-file"),
            signatureCertificateList: value("signature-certificate-list") ?? "")
        signatureRootList = value("signature-root-list") ?? ""
        signatureRootThreshold = value("signature-root-threshold")
        signatureThreshold = value("signature-threshold")
        signaturePolicy = value("signature-policy")
        trustStateFile = value("trust-state-file")
        downloadBinaryCacheURL = value("download-binary-cache-url")
        downloadBinaryDirURL = value("download-binary-dir-url")
        uploadBinaryCacheURL = value("upload-binary-cache-url")
        uploadBinaryDirURL = value("upload-binary-dir-url")
        shacacheTLS = TLSSettings(caFile: value("shacache-ca-file"), certificateFile: value("shacache-cert-file"), keyFile: value("shacache-key-file"))
        shadirTLS = TLSSettings(caFile: value("shadir-ca-file"), certificateFile: value("shadir-cert-file"), keyFile: value("shadir-key-file"))
        binaryCacheURLBlacklist = list("binary-cache-url-blacklist")
        uploadToBinaryCacheURLBlacklist = list("upload-to-binary-cache-url-blacklist")
        downloadFromBinaryCacheURLBlacklist = list("download-from-binary-cache-url-blacklist")
        downloadFromBinaryCacheForceURLList = list("download-from-binary-cache-force-url-list")
    }

    public init(contentsOf path: String) throws {
        self.init(file: try INIFile(contentsOf: path))
    }
}
