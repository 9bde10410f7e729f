package artifact

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// Scheme is the URI scheme of proxied artifacts.
const Scheme = "mlflow-artifacts:/"

// Owners resolves the artifact roots of runs and logged models
// (tracking.Service implements it).
type Owners interface {
	// RunArtifactURI returns a run's artifact_uri. Errors: errs.NotFound.
	RunArtifactURI(ctx context.Context, runID string) (string, error)
	// LoggedModelArtifactURI returns a logged model's artifact_uri. Errors: errs.NotFound.
	LoggedModelArtifactURI(ctx context.Context, modelID string) (string, error)
}

// Models resolves "models:/…" URIs to an artifact URI (the registry
// implements it). Errors: errs.NotFound, errs.Invalid.
type Models interface {
	ResolveModelURI(ctx context.Context, uri string) (string, error)
}

// FileInfo is one entry of a listing.
type FileInfo struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size,omitempty"`
}

// Service stores artifacts in a bucket.
type Service struct {
	b      blob.Bucket
	owners Owners
	models Models
}

// NewService returns an artifact service on b (keys are mlflow-artifacts
// paths). models may be nil until the registry exists; SetModels sets it.
func NewService(b blob.Bucket, owners Owners, models Models) *Service {
	return &Service{b: b, owners: owners, models: models}
}

// SetModels sets the models:/ resolver (the registry is built after this service).
func (s *Service) SetModels(m Models) { s.models = m }

func invalid(format string, args ...any) error {
	return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", format, args...)
}

func notFound(format string, args ...any) error {
	return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", format, args...)
}

// CleanPath checks an artifact path and returns it without a trailing "/".
// "" (the root) is allowed only when allowRoot.
func CleanPath(p string, allowRoot bool) (string, error) {
	trimmed := strings.TrimSuffix(p, "/")
	if trimmed == "" {
		if allowRoot {
			return "", nil
		}
		return "", invalid("Invalid artifact path: '%s'. A path to a file inside an artifact root is required.", p)
	}
	if strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") || strings.Contains(p, ":") && strings.HasPrefix(p, "file:") {
		return "", invalid("Invalid artifact path: '%s'. Artifact paths must be relative, without backslashes.", p)
	}
	for seg := range strings.SplitSeq(trimmed, "/") {
		switch seg {
		case "":
			return "", invalid("Invalid artifact path: '%s'. It has an empty segment ('//').", p)
		case ".", "..":
			return "", invalid("Invalid artifact path: '%s'. Paths may not contain '.' or '..' segments.", p)
		}
	}
	if err := blob.ValidateKey(trimmed); err != nil {
		return "", invalid("Invalid artifact path: '%s': %s", p, errs.Message(err))
	}
	return trimmed, nil
}

// PathOfURI returns the bucket path of an "mlflow-artifacts:/…" URI.
func PathOfURI(uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, Scheme)
	if !ok {
		return "", invalid("Artifact URI '%s' is not served by this server: only %s URIs are", uri, Scheme)
	}
	return CleanPath(strings.TrimLeft(rest, "/"), true)
}

func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Root returns the artifact root (bucket path) of the run or logged model
// that contains p. Errors: INVALID_PARAMETER_VALUE when p lies in no root;
// RESOURCE_DOES_NOT_EXIST when the run or model named by p does not exist.
func (s *Service) Root(ctx context.Context, p string) (string, error) {
	segs := strings.Split(p, "/")
	for i := 0; i+1 < len(segs); i++ {
		if segs[i+1] != "artifacts" {
			continue
		}
		var uri string
		var err error
		switch {
		case isHex32(segs[i]):
			uri, err = s.owners.RunArtifactURI(ctx, segs[i])
		case strings.HasPrefix(segs[i], "m-") && isHex32(segs[i][2:]):
			uri, err = s.owners.LoggedModelArtifactURI(ctx, segs[i])
		default:
			continue
		}
		if err != nil {
			return "", err
		}
		root := strings.Join(segs[:i+2], "/")
		if rp, err := PathOfURI(uri); err == nil && rp == root {
			return root, nil
		}
		return "", invalid("Artifact path '%s' is not inside the artifact root of %s (%s)", p, segs[i], uri)
	}
	return "", invalid("Artifact path '%s' is not inside a run's or logged model's artifact root (<experiment_id>/<run_id>/artifacts/… or <experiment_id>/models/<model_id>/artifacts/…)", p)
}

func (s *Service) writable(ctx context.Context, p string) (string, error) {
	p, err := CleanPath(p, false)
	if err != nil {
		return "", err
	}
	root, err := s.Root(ctx, p)
	if err != nil {
		return "", err
	}
	if p == root {
		return "", invalid("Artifact path '%s' is an artifact root; name a file inside it", p)
	}
	return p, nil
}

// Put stores the bytes of r at artifact path p (inside a run or model root).
func (s *Service) Put(ctx context.Context, p string, r io.Reader) error {
	p, err := s.writable(ctx, p)
	if err != nil {
		return err
	}
	return s.b.Put(ctx, p, r, blob.PutOptions{ContentType: ContentType(p)})
}

// Get opens the file at p. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Service) Get(ctx context.Context, p string) (io.ReadCloser, blob.Attrs, error) {
	p, err := CleanPath(p, false)
	if err != nil {
		return nil, blob.Attrs{}, err
	}
	a, err := s.b.Head(ctx, p)
	if errs.Is(err, errs.NotFound) {
		return nil, a, notFound("Artifact '%s' does not exist", p)
	}
	if err != nil {
		return nil, a, err
	}
	rc, err := s.b.Get(ctx, p, nil)
	if errs.Is(err, errs.NotFound) {
		return nil, a, notFound("Artifact '%s' does not exist", p)
	}
	return rc, a, err
}

// ContentType guesses a download's content type from its name.
func ContentType(p string) string {
	base := path.Base(p)
	switch {
	case base == "MLmodel" || strings.HasSuffix(base, ".txt") || strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml") || base == "requirements.txt":
		return "text/plain"
	}
	if t := mime.TypeByExtension(path.Ext(base)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (s *Service) listAll(ctx context.Context, prefix string) ([]blob.Attrs, error) {
	var out []blob.Attrs
	after := ""
	for {
		as, err := s.b.List(ctx, blob.ListOptions{Prefix: prefix, StartAfter: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
		if len(as) < 1000 {
			return out, nil
		}
		after = as[len(as)-1].Key
	}
}

// List returns the direct children of directory p (names relative to p),
// files with their sizes, sorted by path. A missing directory or a file gives
// an empty list, as in MLflow.
func (s *Service) List(ctx context.Context, p string) ([]FileInfo, error) {
	p, err := CleanPath(p, true)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if p != "" {
		prefix = p + "/"
	}
	as, err := s.listAll(ctx, prefix)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []FileInfo
	for _, a := range as {
		rel := strings.TrimPrefix(a.Key, prefix)
		if strings.HasPrefix(rel, ".mpu/") || rel == "" {
			continue
		}
		if dir, _, ok := strings.Cut(rel, "/"); ok {
			if !seen[dir] {
				seen[dir] = true
				out = append(out, FileInfo{Path: dir, IsDir: true})
			}
			continue
		}
		out = append(out, FileInfo{Path: rel, FileSize: a.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Delete removes the file at p, or every file under directory p.
func (s *Service) Delete(ctx context.Context, p string) error {
	p, err := s.writable(ctx, p)
	if err != nil {
		return err
	}
	if err := s.b.Delete(ctx, p); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	as, err := s.listAll(ctx, p+"/")
	if err != nil {
		return err
	}
	for _, a := range as {
		if err := s.b.Delete(ctx, a.Key); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
	}
	return nil
}

// Resolve turns an artifact URI ("mlflow-artifacts:/…", "runs:/<run_id>/…",
// "models:/<name>/<version>", "models:/<name>@<alias>", "models:/<model_id>")
// into a bucket path.
func (s *Service) Resolve(ctx context.Context, uri string) (string, error) {
	switch {
	case strings.HasPrefix(uri, Scheme):
		return PathOfURI(uri)
	case strings.HasPrefix(uri, "runs:/"):
		rest := strings.TrimLeft(strings.TrimPrefix(uri, "runs:/"), "/")
		runID, rel, _ := strings.Cut(rest, "/")
		if runID == "" {
			return "", invalid("Invalid runs URI '%s': use runs:/<run_id>/<path>", uri)
		}
		root, err := s.owners.RunArtifactURI(ctx, runID)
		if err != nil {
			return "", err
		}
		rp, err := PathOfURI(root)
		if err != nil {
			return "", err
		}
		rel, err = CleanPath(rel, true)
		if err != nil {
			return "", err
		}
		return joinPath(rp, rel), nil
	case strings.HasPrefix(uri, "models:/"):
		if s.models == nil {
			return "", errs.E(errs.Unimplemented, "NOT_IMPLEMENTED", "models:/ URIs need the model registry")
		}
		target, err := s.models.ResolveModelURI(ctx, uri)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "models:/") {
			return "", invalid("models URI '%s' resolves to itself", uri)
		}
		return s.Resolve(ctx, target)
	}
	return "", invalid("Unsupported artifact URI '%s': use mlflow-artifacts:/, runs:/ or models:/", uri)
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "/" + b
}

// ---- multipart uploads ----

const mpuDir = ".mpu"

// Part is an uploaded part of a multipart upload.
type Part struct {
	PartNumber int64  `json:"part_number"`
	ETag       string `json:"etag"`
	URL        string `json:"url,omitempty"`
}

func newUploadID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validUploadID(id string) error {
	if !isHex32(id) {
		return invalid("Invalid upload_id '%s'", id)
	}
	return nil
}

func partKey(id string, n int64) string { return fmt.Sprintf("%s/%s/part-%06d", mpuDir, id, n) }

// CreateMultipart starts a multipart upload to p and returns its id.
func (s *Service) CreateMultipart(ctx context.Context, p string) (string, error) {
	p, err := s.writable(ctx, p)
	if err != nil {
		return "", err
	}
	id := newUploadID()
	if err := blob.PutBytes(ctx, s.b, mpuDir+"/"+id+"/meta", []byte(p), blob.PutOptions{IfAbsent: true}); err != nil {
		return "", err
	}
	return id, nil
}

func (s *Service) uploadPath(ctx context.Context, id string) (string, error) {
	if err := validUploadID(id); err != nil {
		return "", err
	}
	b, err := blob.ReadAll(ctx, s.b, mpuDir+"/"+id+"/meta")
	if errs.Is(err, errs.NotFound) {
		return "", notFound("Multipart upload '%s' does not exist", id)
	}
	return string(b), err
}

// UploadPart stores part n (1..10000) of upload id and returns its ETag.
func (s *Service) UploadPart(ctx context.Context, id string, n int64, r io.Reader) (string, error) {
	if _, err := s.uploadPath(ctx, id); err != nil {
		return "", err
	}
	if n < 1 || n > 10000 {
		return "", invalid("part_number must be between 1 and 10000, got %d", n)
	}
	if err := s.b.Put(ctx, partKey(id, n), r, blob.PutOptions{}); err != nil {
		return "", err
	}
	a, err := s.b.Head(ctx, partKey(id, n))
	if err != nil {
		return "", err
	}
	etag := a.ETag
	if etag == "" {
		etag = strconv.FormatInt(a.Size, 10) + "-" + strconv.FormatInt(n, 10)
	}
	return etag, nil
}

// CompleteMultipart concatenates the parts (in part-number order) into the
// upload's path, then removes them. p must be the path the upload was created for.
func (s *Service) CompleteMultipart(ctx context.Context, p, id string, parts []Part) error {
	want, err := s.uploadPath(ctx, id)
	if err != nil {
		return err
	}
	if cp, err := CleanPath(p, false); err != nil || cp != want {
		return invalid("Multipart upload '%s' is for '%s', not '%s'", id, want, p)
	}
	if len(parts) == 0 {
		return invalid("Completing a multipart upload needs its parts")
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
	for _, pt := range parts {
		if _, err := s.b.Head(ctx, partKey(id, pt.PartNumber)); err != nil {
			return invalid("Part %d of multipart upload '%s' was not uploaded", pt.PartNumber, id)
		}
	}
	pr, pw := io.Pipe()
	go func() {
		for _, pt := range parts {
			rc, err := s.b.Get(ctx, partKey(id, pt.PartNumber), nil)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, err = io.Copy(pw, rc)
			rc.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	if err := s.b.Put(ctx, want, pr, blob.PutOptions{ContentType: ContentType(want)}); err != nil {
		pr.CloseWithError(err)
		return err
	}
	return s.AbortMultipart(ctx, p, id)
}

// AbortMultipart removes an upload's parts.
func (s *Service) AbortMultipart(ctx context.Context, _ string, id string) error {
	if err := validUploadID(id); err != nil {
		return err
	}
	as, err := s.listAll(ctx, mpuDir+"/"+id+"/")
	if err != nil {
		return err
	}
	for _, a := range as {
		if err := s.b.Delete(ctx, a.Key); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
	}
	return nil
}
