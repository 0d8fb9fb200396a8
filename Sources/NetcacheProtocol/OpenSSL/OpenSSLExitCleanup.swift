import COpenSSL

/// OpenSSL frees its global state in an `atexit` handler, while the process may still
/// have threads working in it: a download told to stop ends on its own, up to a second
/// later, and one that overlaps `exit` crashes the ending process. The system takes the
/// memory back anyway.
public enum OpenSSLExitCleanup {
    /// Turns the handler off; must come before anything in the process uses OpenSSL.
    public static func disable() {
        OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    }
}
