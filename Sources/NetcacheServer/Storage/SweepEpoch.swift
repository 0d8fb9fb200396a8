/// Where a sweep of unreferenced blobs began in the order of an entry directory's use marks.
///
/// Every filing of an entry marks the blobs it names, in the transaction that files it;
/// every upload and every HEAD marks its blob before it looks at the store. Each mark takes
/// the next number of one counter (a PostgreSQL sequence; SQLite's own, under its single
/// writer), never a clock: a blob marked after `sequence` was used during the sweep.
public struct SweepEpoch: Sendable, Equatable {
    let sequence: Int64
}
