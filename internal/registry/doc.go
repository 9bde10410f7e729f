// Package registry is the MLflow model registry of Lakebox: registered
// models and versions with tags, aliases, stages, download URIs, lineage to
// training tables, and webhooks.
//
// One store of models. Registered models and model versions are Unity
// Catalog securables owned by internal/catalog (three-level names such as
// main.default.churn). This package never keeps a second model table: it
// goes through the Catalog interface for creating, reading, renaming and
// deleting models and versions (and for every privilege check), and keeps
// only MLflow's extras (tags, aliases, stages, the version's source/run,
// lineage and webhooks) in its own tables keyed by the catalog's ids.
//
// Names. MLflow clients may send a bare name ("churn"); it is placed in
// catalog "main", schema "default" ("main.default.churn"), creating that
// catalog and schema on first use when the caller may. A three-part name is
// used as is. Responses always carry the three-level name. Unity Catalog
// lower-cases names and rejects spaces, periods and slashes inside a part.
//
// Privileges (checked by the catalog): seeing a model or version needs the
// catalog's visibility rules; loading a version (get-download-uri,
// get-by-alias, models:/ resolution) needs EXECUTE; creating a version
// needs CREATE MODEL VERSION or MANAGE; moving aliases, changing stages and
// tags need MANAGE or ownership; webhooks are for metastore admins.
//
// Lineage. A version created with a run (or a logged model that has a
// source run) records the table versions that run's datasets were read from
// (tracking.TableRef); they are returned on the version as the read-only tag
// "lakebox.lineage.tables" (a JSON list) and by Service.VersionTables.
//
// Webhooks. Events (model_version.created, model_version_alias.created,
// model_version_alias.deleted, model_version.stage_transitioned,
// registered_model.created, model_version_tag.set) are written to a durable
// delivery table and POSTed by a dispatcher with retries and exponential
// backoff; each request carries X-Lakebox-Signature / X-MLflow-Signature:
// "v1," + base64(HMAC-SHA256(secret, delivery_id + "." + timestamp + "." + body)).
package registry
