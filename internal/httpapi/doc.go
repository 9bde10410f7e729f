// Package httpapi holds Lakebox's HTTP surfaces: the platform API (health,
// metrics, SCIM identity, tokens), and — as subsystems arrive — Unity
// Catalog, MLflow, serving, SQL. Every surface shares one Server with the same
// middleware (request ids, access logs, Prometheus metrics, body limits,
// bearer-token authentication, panic recovery).
//
// Handlers return an error; the route's Surface renders it once, in that
// surface's wire format, with the status its kind maps to. Internal errors
// are logged with the request id and shown only as a generic message.
package httpapi
