import Foundation

/// Prints rows under a header, in columns as wide as their widest cell.
func printTable(header: [String], rows: [[String]]) throws {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        let cells = row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
        try printFlushed(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
    }
}
