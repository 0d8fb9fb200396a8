import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The few answers of S3 that are XML, read as records: every element named `record`
/// (`Contents`, `Upload`, ...) becomes the texts of its children, and the document's other
/// leaves are kept by name (`IsTruncated`, `UploadId`, `Code`, ...).
struct S3XML {
    private(set) var records: [[String: String]] = []
    private(set) var values: [String: String] = [:]

    init(_ data: Data, record: String? = nil) throws {
        let reader = Reader(record: record)
        let parser = XMLParser(data: data)
        parser.delegate = reader
        guard parser.parse() else { throw S3XMLError(reason: parser.parserError.map { "\($0)" } ?? "unreadable XML") }
        records = reader.records
        values = reader.values
    }

    private final class Reader: NSObject, XMLParserDelegate {
        let record: String?
        var records: [[String: String]] = []
        var values: [String: String] = [:]
        var current: [String: String]?
        var text = ""

        init(record: String?) {
            self.record = record
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == record { current = [:] }
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == record, let finished = current {
                records.append(finished)
                current = nil
            } else if current != nil {
                current?[name] = text
            } else {
                values[name] = text
            }
            text = ""
        }
    }
}
