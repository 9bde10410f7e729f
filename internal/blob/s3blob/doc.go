// Package s3blob implements blob.Bucket on an S3-compatible object store
// (AWS S3, MinIO, versitygw, ...) using github.com/minio/minio-go/v7.
//
// Put with IfAbsent sends "If-None-Match: *" on a single PUT request, so the
// store decides atomically which of many racing writers wins; the losers get
// HTTP 412 (or 409 ConditionalRequestConflict), reported as errs.Conflict
// with reason blob.ReasonExists. Conditional writes are only honoured on
// single-part uploads, so an IfAbsent Put of a stream of unknown size larger
// than SpoolThreshold is first spooled to a temporary file to learn its size;
// such objects are limited to the 5 GiB a single PUT may carry.
//
// Config.Prefix places the bucket's key space under a prefix of the S3
// bucket, which lets several Lakebox buckets share one S3 bucket.
// Credentials are passed in Config and never appear in URLs or error
// messages.
package s3blob
