package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// SpoolThreshold is the largest stream of unknown size that Put buffers in
// memory. Larger IfAbsent streams are spooled to a temporary file; larger
// plain streams are sent as a multipart upload.
const SpoolThreshold = 16 << 20

// Reasons for errors that only this backend returns.
const (
	ReasonBucketNotFound = "BLOB_BUCKET_NOT_FOUND"
	ReasonUnreachable    = "BLOB_STORE_UNREACHABLE"
	ReasonAccessDenied   = "BLOB_ACCESS_DENIED"
	ReasonInvalidConfig  = "BLOB_INVALID_CONFIG"
)

// Config locates an S3 bucket. The zero value of Endpoint means AWS
// (s3.amazonaws.com over TLS).
type Config struct {
	// Endpoint is host[:port], or a URL "http://host:port" or
	// "https://host:port" whose scheme then overrides UseSSL.
	Endpoint string
	// Region is the bucket's region; empty lets the client discover it.
	Region string
	// Bucket is the S3 bucket name.
	Bucket string
	// Prefix, if not empty, is prepended (with a "/") to every key.
	Prefix string
	// AccessKey and SecretKey are static credentials. SecretKey is never
	// printed: Config's String and LogValue methods redact it.
	AccessKey string
	SecretKey string
	// UseSSL selects https.
	UseSSL bool
	// PathStyle addresses the bucket as host/bucket rather than
	// bucket.host, as MinIO and versitygw expect.
	PathStyle bool
}

// String describes the configuration without the secret key.
func (c Config) String() string {
	secret := ""
	if c.SecretKey != "" {
		secret = "REDACTED"
	}
	return fmt.Sprintf("s3blob.Config{Endpoint:%q Region:%q Bucket:%q Prefix:%q AccessKey:%q SecretKey:%q UseSSL:%t PathStyle:%t}",
		c.Endpoint, c.Region, c.Bucket, c.Prefix, c.AccessKey, secret, c.UseSSL, c.PathStyle)
}

// GoString is String, so that %#v does not print the secret either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the secret key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint), slog.String("region", c.Region),
		slog.String("bucket", c.Bucket), slog.String("prefix", c.Prefix),
		slog.String("access_key", c.AccessKey), slog.Bool("use_ssl", c.UseSSL),
		slog.Bool("path_style", c.PathStyle))
}

// URL renders the configuration, without credentials, in the form ParseURL
// accepts.
func (c Config) URL() string {
	u := url.URL{Scheme: "s3", Host: c.Bucket, Path: "/" + strings.Trim(c.Prefix, "/")}
	q := url.Values{}
	if c.Endpoint != "" {
		ep := c.Endpoint
		if !strings.Contains(ep, "://") {
			ep = map[bool]string{true: "https://", false: "http://"}[c.UseSSL] + ep
		}
		q.Set("endpoint", ep)
	}
	if c.Region != "" {
		q.Set("region", c.Region)
	}
	if c.PathStyle {
		q.Set("path_style", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ParseURL parses a bucket location of the form
//
//	s3://bucket/optional/prefix?endpoint=http://127.0.0.1:7070&region=us-east-1&path_style=true
//
// The endpoint's scheme sets UseSSL (an endpoint without a scheme, or none at
// all, means https). Credentials are not accepted in the URL, because URLs end
// up in logs; set Config.AccessKey and Config.SecretKey separately. It returns
// errs.Invalid saying what was wrong.
func ParseURL(raw string) (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, errs.E(errs.Invalid, ReasonInvalidConfig, "invalid S3 URL: "+format+
			` (want s3://bucket/prefix?endpoint=http://host:port&region=r&path_style=true)`, args...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v", err)
	}
	if u.Scheme != "s3" {
		return bad("scheme is %q, not \"s3\"", u.Scheme)
	}
	if u.User != nil {
		return bad("credentials must not be part of the URL; pass them separately")
	}
	if u.Host == "" {
		return bad("no bucket name")
	}
	cfg := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"), UseSSL: true}
	if cfg.Prefix != "" {
		if err := blob.ValidateKey(cfg.Prefix); err != nil {
			return bad("prefix %q: %s", cfg.Prefix, errs.Message(err))
		}
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "endpoint":
			switch {
			case strings.HasPrefix(v, "http://"):
				cfg.Endpoint, cfg.UseSSL = strings.TrimPrefix(v, "http://"), false
			case strings.HasPrefix(v, "https://"):
				cfg.Endpoint, cfg.UseSSL = strings.TrimPrefix(v, "https://"), true
			case strings.Contains(v, "://"):
				return bad("endpoint %q: scheme must be http or https", v)
			default:
				cfg.Endpoint = v
			}
			cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
			if cfg.Endpoint == "" || strings.ContainsAny(cfg.Endpoint, "/?#@") {
				return bad("endpoint %q must be host[:port], optionally with http:// or https://", v)
			}
		case "region":
			cfg.Region = v
		case "path_style":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return bad("path_style=%q is not a boolean", v)
			}
			cfg.PathStyle = b
		default:
			return bad("unknown parameter %q; accepted: endpoint, region, path_style", k)
		}
	}
	return cfg, nil
}

// Bucket is a blob.Bucket on an S3 bucket. It is safe for concurrent use.
type Bucket struct {
	client *minio.Client
	core   minio.Core
	bucket string
	prefix string // "" or ends with "/"
	desc   string // endpoint and bucket, for messages
}

var _ blob.Bucket = (*Bucket)(nil)

// New connects to the bucket described by cfg and checks that it exists and
// is reachable with the given credentials. Errors name the endpoint and
// bucket (never the secret): errs.Invalid for a bad configuration,
// errs.Unavailable if the endpoint cannot be reached, errs.PermissionDenied
// if the credentials are refused, errs.NotFound if the bucket does not exist.
func New(ctx context.Context, cfg Config) (*Bucket, error) {
	endpoint, secure := cfg.Endpoint, cfg.UseSSL
	switch {
	case endpoint == "":
		endpoint, secure = "s3.amazonaws.com", true
	case strings.HasPrefix(endpoint, "http://"):
		endpoint, secure = strings.TrimPrefix(endpoint, "http://"), false
	case strings.HasPrefix(endpoint, "https://"):
		endpoint, secure = strings.TrimPrefix(endpoint, "https://"), true
	}
	endpoint = strings.TrimRight(endpoint, "/")
	desc := fmt.Sprintf("bucket %q at %s", cfg.Bucket, endpoint)
	if cfg.Bucket == "" {
		return nil, errs.E(errs.Invalid, ReasonInvalidConfig, "s3blob: no bucket name given (endpoint %s)", endpoint)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := blob.ValidateKey(prefix); err != nil {
			return nil, errs.E(errs.Invalid, ReasonInvalidConfig, "s3blob: prefix of %s: %s", desc, errs.Message(err))
		}
		prefix += "/"
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	opts := func(retries int) *minio.Options {
		return &minio.Options{
			Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Secure:       secure,
			Region:       cfg.Region,
			BucketLookup: lookup,
			MaxRetries:   retries,
		}
	}
	client, err := minio.New(endpoint, opts(0))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, ReasonInvalidConfig, err, "s3blob: bad endpoint for %s", desc)
	}
	// Probe with few retries, so a wrong endpoint fails fast.
	probe, err := minio.New(endpoint, opts(2))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, ReasonInvalidConfig, err, "s3blob: bad endpoint for %s", desc)
	}
	exists, err := probe.BucketExists(ctx, cfg.Bucket)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		resp := minio.ToErrorResponse(err)
		switch {
		case resp.StatusCode == http.StatusForbidden || resp.Code == "AccessDenied" ||
			resp.Code == "InvalidAccessKeyId" || resp.Code == "SignatureDoesNotMatch":
			return nil, errs.Wrap(errs.PermissionDenied, ReasonAccessDenied, err,
				"s3blob: access to %s denied for access key %q", desc, cfg.AccessKey)
		case resp.Code != "":
			return nil, errs.Wrap(errs.Unavailable, ReasonUnreachable, err, "s3blob: checking %s failed: %s", desc, resp.Code)
		default:
			return nil, errs.Wrap(errs.Unavailable, ReasonUnreachable, err, "s3blob: cannot reach %s", desc)
		}
	case !exists:
		return nil, errs.E(errs.NotFound, ReasonBucketNotFound, "s3blob: %s does not exist", desc)
	}
	return &Bucket{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, prefix: prefix, desc: desc}, nil
}

func notFound(key string) error {
	return errs.E(errs.NotFound, blob.ReasonNotFound, "blob %q not found", key)
}

// mapErr translates an S3 error for operation op on key.
func (b *Bucket) mapErr(ctx context.Context, op, key string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || (resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket"):
		return notFound(key)
	case resp.Code == "NoSuchBucket":
		return errs.Wrap(errs.FailedPrecondition, ReasonBucketNotFound, err, "s3blob %s %q: %s no longer exists", op, key, b.desc)
	case resp.StatusCode == http.StatusForbidden:
		return errs.Wrap(errs.PermissionDenied, ReasonAccessDenied, err, "s3blob %s %q: access denied to %s", op, key, b.desc)
	case resp.StatusCode == http.StatusServiceUnavailable || resp.Code == "SlowDown":
		return errs.Wrap(errs.Unavailable, ReasonUnreachable, err, "s3blob %s %q: %s is unavailable", op, key, b.desc)
	case resp.Code == "":
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return errs.Wrap(errs.Unavailable, ReasonUnreachable, err, "s3blob %s %q: cannot reach %s", op, key, b.desc)
		}
	}
	return fmt.Errorf("s3blob %s %q in %s: %w", op, key, b.desc, err)
}

// Get implements blob.Bucket.
func (b *Bucket) Get(ctx context.Context, key string, rng *blob.Range) (io.ReadCloser, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	var opts minio.GetObjectOptions
	if rng != nil {
		if rng.Offset < 0 {
			_, _, err := blob.ValidateRange(rng, 0)
			return nil, err
		}
		if rng.Length == 0 {
			return b.emptyRange(ctx, key, rng)
		}
		var err error
		switch {
		case rng.Length > 0:
			err = opts.SetRange(rng.Offset, rng.Offset+rng.Length-1)
		case rng.Offset > 0:
			err = opts.SetRange(rng.Offset, 0)
		}
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, blob.ReasonInvalidRange, err, "bad byte range %+v", *rng)
		}
	}
	rc, _, hdr, err := b.core.GetObject(ctx, b.bucket, b.prefix+key, opts)
	if err != nil {
		if minio.ToErrorResponse(err).StatusCode == http.StatusRequestedRangeNotSatisfiable {
			return b.emptyRange(ctx, key, rng)
		}
		return nil, b.mapErr(ctx, "get", key, err)
	}
	if rng != nil && (rng.Offset > 0 || rng.Length >= 0) && hdr.Get("Content-Range") == "" {
		// The store ignored the Range header and sent the whole object.
		if _, err := io.CopyN(io.Discard, rc, rng.Offset); err != nil && err != io.EOF {
			rc.Close()
			return nil, b.mapErr(ctx, "get", key, err)
		}
		r := io.Reader(rc)
		if rng.Length >= 0 {
			r = io.LimitReader(rc, rng.Length)
		}
		return readCloser{r, rc}, nil
	}
	return rc, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// emptyRange answers a range the store cannot express or refused (HTTP 416):
// an empty read if the range starts at or before the end, errs.Invalid if it
// starts past the end.
func (b *Bucket) emptyRange(ctx context.Context, key string, rng *blob.Range) (io.ReadCloser, error) {
	a, err := b.Head(ctx, key)
	if err != nil {
		return nil, err
	}
	if _, _, err := blob.ValidateRange(rng, a.Size); err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(nil)), nil
}

// Put implements blob.Bucket.
func (b *Bucket) Put(ctx context.Context, key string, data io.Reader, opts blob.PutOptions) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	size := int64(-1)
	if l, ok := data.(interface{ Len() int }); ok {
		size = int64(l.Len())
	} else {
		// Learn the size, so that small objects go in one PUT.
		head, err := io.ReadAll(io.LimitReader(data, SpoolThreshold+1))
		if err != nil {
			return fmt.Errorf("s3blob put %q: read: %w", key, err)
		}
		if len(head) <= SpoolThreshold {
			data, size = bytes.NewReader(head), int64(len(head))
		} else {
			data = io.MultiReader(bytes.NewReader(head), data)
			if opts.IfAbsent {
				f, n, err := spool(data)
				if err != nil {
					return fmt.Errorf("s3blob put %q: %w", key, err)
				}
				defer f.Close()
				data, size = f, n
			}
		}
	}
	popts := minio.PutObjectOptions{ContentType: opts.ContentType}
	if opts.IfAbsent {
		popts.SetMatchETagExcept("*")
		popts.DisableMultipart = true // conditional headers only apply to a single PUT
	}
	_, err := b.client.PutObject(ctx, b.bucket, b.prefix+key, data, size, popts)
	if err != nil {
		resp := minio.ToErrorResponse(err)
		if opts.IfAbsent && (resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed" ||
			resp.Code == "ConditionalRequestConflict") {
			return errs.E(errs.Conflict, blob.ReasonExists, "blob %q already exists", key)
		}
		return b.mapErr(ctx, "put", key, err)
	}
	return nil
}

// spool copies r to an unlinked temporary file and returns it rewound, with
// its size.
func spool(r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "s3blob-spool-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	os.Remove(f.Name()) // the open descriptor keeps it alive
	n, err := io.Copy(f, r)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	return f, n, nil
}

// List implements blob.Bucket.
func (b *Bucket) List(ctx context.Context, opts blob.ListOptions) ([]blob.Attrs, error) {
	if err := blob.ValidatePrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, errs.E(errs.Invalid, "BLOB_INVALID_LIMIT", "list limit %d is negative; use 0 for no limit", opts.Limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the lister goroutine when we stop early
	lopts := minio.ListObjectsOptions{Prefix: b.prefix + opts.Prefix, Recursive: true}
	if opts.StartAfter != "" {
		lopts.StartAfter = b.prefix + opts.StartAfter
	}
	if opts.Limit > 0 && opts.Limit < 1000 {
		lopts.MaxKeys = opts.Limit
	}
	var out []blob.Attrs
	for oi := range b.client.ListObjects(lctx, b.bucket, lopts) {
		if oi.Err != nil {
			return nil, b.mapErr(ctx, "list", opts.Prefix, oi.Err)
		}
		key := strings.TrimPrefix(oi.Key, b.prefix)
		if key <= opts.StartAfter || strings.HasSuffix(key, "/") {
			continue // defensive: stores that ignore StartAfter; directory markers
		}
		out = append(out, blob.Attrs{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag})
		if opts.Limit > 0 && len(out) == opts.Limit {
			break
		}
	}
	return out, nil
}

// Head implements blob.Bucket.
func (b *Bucket) Head(ctx context.Context, key string) (blob.Attrs, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Attrs{}, err
	}
	oi, err := b.client.StatObject(ctx, b.bucket, b.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return blob.Attrs{}, b.mapErr(ctx, "head", key, err)
	}
	return blob.Attrs{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}, nil
}

// Delete implements blob.Bucket.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	err := b.client.RemoveObject(ctx, b.bucket, b.prefix+key, minio.RemoveObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil
		}
		return b.mapErr(ctx, "delete", key, err)
	}
	return nil
}
