// Package auth owns identity: users, groups (which may contain groups),
// service principals, and the personal access tokens they authenticate with.
//
// Invariants:
//   - A token's secret is shown exactly once, when it is created; only its
//     SHA-256 hash is stored, so a stolen metastore does not yield tokens.
//   - Group membership never forms a cycle; AddMember refuses an edge that
//     would create one.
//   - Metastore admins are the (transitive) members of the built-in group
//     "admins".
//   - The authenticated caller travels in the context (WithIdentity /
//     IdentityFrom); every service below the HTTP layer reads it from there.
//
// Storage is behind the Store interfaces; internal/sqldb implements them for
// SQLite and PostgreSQL and both run the authtest conformance suite.
package auth
