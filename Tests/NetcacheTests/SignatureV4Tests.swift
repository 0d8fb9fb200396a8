import Foundation
import XCTest

@testable import NetcacheServer

/// The S3 request signer against AWS's own worked examples ("Signature Calculations for the
/// Authorization Header: Transferring Payload in a Single Chunk", Amazon S3 API reference).
final class SignatureV4Tests: XCTestCase {
    private let signer = SignatureV4(
        credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), region: "us-east-1")
    private let day = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    private let emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func testAWSsGetObjectExampleSignsAlike() {
        let headers = signer.sign(
            method: "GET", encodedPath: "/test.txt", query: [], headers: [("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9")],
            payloadHash: emptyPayload, date: day)
        XCTAssertEqual(headers.first { $0.0 == "x-amz-date" }?.1, "20130524T000000Z")
        XCTAssertEqual(
            headers.first { $0.0 == "authorization" }?.1,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    func testAWSsListObjectsExampleSignsItsQueryAlike() {
        let headers = signer.sign(
            method: "GET", encodedPath: "/", query: [("max-keys", "2"), ("prefix", "J")], headers: [("host", "examplebucket.s3.amazonaws.com")],
            payloadHash: emptyPayload, date: day)
        XCTAssertEqual(
            headers.first { $0.0 == "authorization" }?.1,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    func testKeysAndQueryValuesAreEncodedAsSigV4Wants() {
        XCTAssertEqual(SignatureV4.encode("a b/c~d*e", keepSlashes: true), "a%20b/c~d%2Ae")
        XCTAssertEqual(SignatureV4.encode("a/b"), "a%2Fb")
        XCTAssertEqual(SignatureV4.canonicalQuery([("uploads", ""), ("prefix", "p/")]), "prefix=p%2F&uploads=")
    }
}
