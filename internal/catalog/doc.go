// Package catalog is Lakebox's Unity Catalog: the securables of the
// metastore (catalogs, schemas, tables, volumes, functions, registered models
// and their versions, storage credentials and external locations), their
// grants and the privilege checks every subsystem relies on, tags and
// comments, search, storage allocation for managed securables, and the
// volume file API's rules.
//
// Invariants:
//   - Names are case-insensitive and stored in lower case; a full name is
//     "catalog", "catalog.schema" or "catalog.schema.object". A live
//     securable's (type, full name) is unique.
//   - Managed securables get storage under the warehouse
//     (<root>/__lakebox/managed/<uuid>, or under a catalog's or schema's
//     storage root, itself inside the warehouse). External tables and volumes
//     live under a registered external location; nothing else is accepted.
//   - Dropping a managed table or volume marks it dropped; its data is removed
//     by Purge once the retention window (default 7 days) has passed, and
//     Undrop restores it until then.
//   - Authorisation follows the Unity Catalog / Databricks model (see
//     authz.go): metastore admins pass; USE CATALOG and USE SCHEMA gate every
//     object below them; non-owner privileges granted on a container apply
//     to its current and future children; owners of a container may do
//     anything below it; MANAGE lets a non-owner grant, rename, drop and
//     transfer ownership; ALL PRIVILEGES expands at check time to every
//     privilege except MANAGE.
//
// Other subsystems (SQL engine, MLflow registry, serving) use Authorize,
// ResolveTable and ResolveVolume; they never read the Store directly.
//
// The Service holds the rules; Store (implemented in internal/sqldb) holds
// the records; Storage (implemented in internal/app) opens buckets for
// storage URLs. Nothing here imports database/sql or net/http.
package catalog
