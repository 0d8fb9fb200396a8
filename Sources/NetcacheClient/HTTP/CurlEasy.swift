import CCurl
import Foundation

/// A libcurl easy handle: owns the `CURL *`, runs one blocking exchange at a time, and turns
/// curl's error codes into `HTTPClientError`s that carry curl's own message.
///
/// `perform` blocks its thread: callers run it on their own threads, never on Swift's
/// cooperative pool.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    init() {
        Self.globalInit
        guard let handle = curl_easy_init() else { fatalError("libcurl cannot allocate a handle") }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// Runs the exchange. `onBody` receives the head and the body as it arrives; returning
    /// `false` stops the transfer (the head is still returned). Only transport failures
    /// throw: the caller decides which statuses are errors.
    func perform(_ request: HTTPRequest, onBody: (_ head: HTTPResponseHead, _ chunk: UnsafeRawBufferPointer) -> Bool) throws(HTTPClientError) -> HTTPResponseHead {
        let outcome = withoutActuallyEscaping(onBody) { onBody in
            run(request, state: TransferState(onBody: onBody, body: request.body, label: "\(request.method) \(request.url)", stopped: request.stopped))
        }
        switch outcome {
        case .success(let head): return head
        case .failure(let detail): throw HTTPClientError(.transport, method: request.method, url: request.url, detail: detail)
        }
    }

    private enum Outcome {
        case success(HTTPResponseHead)
        case failure(String)
    }

    private func run(_ request: HTTPRequest, state: TransferState) -> Outcome {
        curl_easy_reset(handle)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        // Large bodies would otherwise wait for a "100 Continue" that not every server sends.
        for header in request.headers + ["Expect:"] {
            headerList = curl_slist_append(headerList, header)
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        errorBuffer[0] = 0
        configure(request, headers: headerList, context: Unmanaged.passUnretained(state).toOpaque(), errorBuffer: errorBuffer)
        let code = curl_easy_perform(handle)
        guard state.stoppedByCaller || code == CURLE_OK else {
            let message = String(cString: errorBuffer)
            return .failure(message.isEmpty ? String(cString: curl_easy_strerror(code)) : message)
        }
        // libcurl 7.88 takes a close inside the head for the end of an answer with no length.
        guard !state.insideHead else { return .failure("connection closed inside the response head") }
        var status = 0
        netcache_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var head = state.head
        head.status = status
        return .success(head)
    }

    private func configure(_ request: HTTPRequest, headers: UnsafeMutablePointer<curl_slist>?, context: UnsafeMutableRawPointer, errorBuffer: UnsafeMutablePointer<CChar>) {
        netcache_curl_setopt_string(handle, CURLOPT_URL, request.url)
        netcache_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        netcache_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        netcache_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, request.timeouts.connect)
        netcache_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, request.timeouts.lowSpeedLimit)
        netcache_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, request.timeouts.lowSpeedTime)
        netcache_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers))
        netcache_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, curlWrite)
        netcache_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        netcache_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, curlHeader)
        netcache_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        if TransferProgress.reporter != nil || request.stopped != nil {
            netcache_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            netcache_curl_setopt_progress(handle, curlProgress)
            netcache_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
        }
        // Deployed servers still use 1024-bit keys; the Python client lowers the level too.
        netcache_curl_setopt_string(handle, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=1")
        if let caFile = request.tls.caFile { netcache_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if let certificate = request.tls.certificateFile { netcache_curl_setopt_string(handle, CURLOPT_SSLCERT, certificate) }
        if let key = request.tls.keyFile { netcache_curl_setopt_string(handle, CURLOPT_SSLKEY, key) }
        if request.followRedirects { netcache_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1) }
        if request.resumeFrom > 0 { netcache_curl_setopt_offset(handle, CURLOPT_RESUME_FROM_LARGE, curl_off_t(request.resumeFrom)) }

        switch request.method {
        case "GET": break
        case "HEAD": netcache_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        default:
            netcache_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            netcache_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            netcache_curl_setopt_callback(handle, CURLOPT_READFUNCTION, curlRead)
            netcache_curl_setopt_pointer(handle, CURLOPT_READDATA, context)
            let size: Int
            switch request.body {
            case .bytes(let bytes): size = bytes.count
            case .descriptor(_, let fileSize): size = fileSize
            case nil: size = 0
            }
            netcache_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(size))
        }
    }
}

/// What the C callbacks see of a transfer.
private final class TransferState {
    let onBody: (HTTPResponseHead, UnsafeRawBufferPointer) -> Bool
    var head = HTTPResponseHead()
    /// Whether an HTTP status line came and the blank line ending its head did not yet
    /// (FTP's replies have neither).
    var insideHead = false
    var stoppedByCaller = false
    /// What the progress display calls the transfer.
    let label: String
    let stopped: (@Sendable () -> Bool)?
    private var body: HTTPRequest.Body?
    private var bytesOffset = 0

    init(onBody: @escaping (HTTPResponseHead, UnsafeRawBufferPointer) -> Bool, body: HTTPRequest.Body?, label: String, stopped: (@Sendable () -> Bool)?) {
        self.onBody = onBody
        self.body = body
        self.label = label
        self.stopped = stopped
    }

    func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            head = HTTPResponseHead()
            insideHead = true
            head.status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return
        }
        if line == "\r\n" || line == "\n" {
            insideHead = false
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        head.headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Fills `buffer` with the next bytes of the request body; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        switch body {
        case .bytes(let bytes):
            let count = min(buffer.count, bytes.count - bytesOffset)
            bytes.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[bytesOffset..<bytesOffset + count]))
            }
            bytesOffset += count
            return count
        case .descriptor(let descriptor, let size):
            let count = pread(descriptor, buffer.baseAddress, min(buffer.count, size - bytesOffset), off_t(bytesOffset))
            if count < 0 { return Int(CURL_READFUNC_ABORT) }
            bytesOffset += count
            return count
        case nil:
            return 0
        }
    }
}

private func state(_ context: UnsafeMutableRawPointer?) -> TransferState {
    Unmanaged<TransferState>.fromOpaque(context!).takeUnretainedValue()
}

private let curlWrite: netcache_curl_data_callback = { buffer, size, count, context in
    let state = state(context)
    let total = size * count
    guard state.onBody(state.head, UnsafeRawBufferPointer(start: buffer, count: total)) else {
        state.stoppedByCaller = true
        return 0
    }
    return total
}

private let curlProgress: netcache_curl_progress_callback = { context, downloadTotal, downloaded, uploadTotal, uploaded in
    let state = state(context)
    // Non-zero aborts the transfer, which then fails (CURLE_ABORTED_BY_CALLBACK).
    if state.stopped?() == true { return 1 }
    // An upload reports its body; a download, what arrived of the answer.
    if uploadTotal > 0 {
        TransferProgress.reporter?(state.label, Int(uploaded), Int(uploadTotal))
    } else if downloaded > 0 {
        TransferProgress.reporter?(state.label, Int(downloaded), downloadTotal > 0 ? Int(downloadTotal) : nil)
    }
    return 0
}

private let curlHeader: netcache_curl_data_callback = { buffer, size, count, context in
    let total = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: total), as: UTF8.self)
    state(context).header(line)
    return total
}

private let curlRead: netcache_curl_data_callback = { buffer, size, count, context in
    state(context).read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
}
