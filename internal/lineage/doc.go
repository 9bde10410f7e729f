// Package lineage owns Lakebox's lineage graph: edges between securables and
// entities — table → table, column → column, and table/dataset → run →
// model version → serving endpoint — each stamped with the event that
// created it (who, when, and the entity: a SQL statement, job run, notebook,
// MLflow run or OpenLineage run).
//
// Sources of edges:
//   - other subsystems through Service.RecordTableLineage,
//     RecordModelLineage, RecordServingLineage and RecordEdges;
//   - external tools through OpenLineage 2-0-2 RunEvents (ParseOpenLineage,
//     Service.RecordOpenLineage), served at POST /api/v1/lineage.
//
// Storage: the Store (sqldb, migrations 0200+) is the source of truth for the
// API; edges are also spooled and committed in batches, exactly once, to the
// Delta tables system.access.table_lineage and system.access.column_lineage
// (DeltaWriter, built on audit.Spool and audit.Batcher). The store is written
// first; a crash between the two loses at most that edge's Delta row, never
// the edge.
//
// # Node identity
//
// A node is (type, name). TABLE names are three-level and lower-cased
// (catalog.schema.table); PATH names are storage URLs (s3://b/p); EXTERNAL
// names are "<namespace>/<name>" of OpenLineage datasets that are neither;
// RUN names are MLflow run ids; MODEL_VERSION names are "<model full
// name>/<version>"; SERVING_ENDPOINT names are endpoint names.
//
// # Edge identity and idempotence
//
// An edge's ID hashes its endpoints, columns and entity (type, id, run id,
// statement id), so repeated reports of the same run (OpenLineage START,
// RUNNING, COMPLETE) add one edge, while two statements add two.
//
// # Visibility
//
// Results only show nodes the caller can see: a Visibility (wired by app to
// the catalog) answers CanSee for every node; walks do not pass through
// hidden nodes. Without a Visibility only metastore admins may read or
// write lineage (everyone else gets PERMISSION_DENIED).
//
// # Walks
//
// Walk does a breadth-first search from a node, upstream, downstream or
// both, to a depth (default 3, at most 20) and at most 1000 nodes; a visited
// set makes cycles terminate, and each (source, target) pair appears once
// with the number of events behind it and the latest one.
package lineage
