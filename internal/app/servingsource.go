package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lakebox/lakebox/internal/artifact"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/registry"
	"github.com/lakebox/lakebox/internal/serving"
)

// RegistrySource is serving.ModelSource on the MLflow model registry and
// the Unity Catalog: "catalog.schema.model" at a version or an alias
// resolves to the registered model version, whose artifacts are copied from
// the blob store into a local cache directory (one directory per model
// version and source, reused across restarts) for the runtimes to load.
//
// Resolution runs as the server (aliases are re-resolved by a background
// loop that has no caller); who may use a model is Authorize's job, which
// runs with the caller's identity through catalog.Authorize: querying needs
// EXECUTE on the registered model plus USE CATALOG and USE SCHEMA.
type RegistrySource struct {
	Registry  *registry.Service
	Catalog   *catalog.Service
	Artifacts *artifact.Service
	// Bucket holds the mlflow-artifacts objects (the warehouse prefixed
	// with ArtifactPrefix).
	Bucket blob.Bucket
	// CacheDir holds the materialised model versions.
	CacheDir string
	Logger   *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex // cache key → materialisation lock
}

var _ serving.ModelSource = (*RegistrySource)(nil)

// serverIdentity is the identity resolution runs with.
func serverIdentity() *auth.Identity {
	return &auth.Identity{Principal: auth.Principal{Kind: auth.KindServicePrincipal, Name: "lakebox-serving"}, Admin: true}
}

func (r *RegistrySource) fullName(entityName string) (string, error) {
	if strings.Count(entityName, ".") != 2 {
		return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "entity_name %q is not a three-level model name catalog.schema.model", entityName)
	}
	full, err := r.Registry.FullName(entityName)
	if err != nil {
		return "", errs.Wrap(errs.Invalid, "INVALID_PARAMETER_VALUE", err, "entity_name %q: %s", entityName, errs.Message(err))
	}
	return full, nil
}

// Resolve implements serving.ModelSource.
func (r *RegistrySource) Resolve(ctx context.Context, entityName, version, alias string) (*serving.ResolvedModel, error) {
	full, err := r.fullName(entityName)
	if err != nil {
		return nil, err
	}
	sctx := auth.WithIdentity(ctx, serverIdentity())
	var mv registry.ModelVersion
	if version == "" {
		if alias == "" {
			return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "served entity %q needs entity_version or an alias", entityName)
		}
		mv, err = r.Registry.GetByAlias(sctx, full, alias)
		if errs.Is(err, errs.Invalid) {
			// The name is valid, so INVALID_PARAMETER_VALUE is MLflow's
			// "alias not found".
			return nil, errs.Wrap(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", err, "registered model %q has no alias %q", full, alias)
		}
	} else {
		mv, err = r.Registry.GetModelVersion(sctx, full, version)
	}
	if err != nil {
		return nil, err
	}
	if mv.Status != "" && mv.Status != "READY" {
		return nil, errs.E(errs.FailedPrecondition, "MODEL_VERSION_NOT_READY", "model %s version %s is %s, not READY", full, mv.Version, mv.Status)
	}
	uri, err := r.Registry.GetDownloadURI(sctx, full, mv.Version)
	if err != nil {
		return nil, err
	}
	dir, err := r.materialise(sctx, full, mv.Version, uri)
	if err != nil {
		return nil, fmt.Errorf("model %s version %s: %w", full, mv.Version, err)
	}
	m, err := serving.LoadMLmodel(dir)
	if err != nil {
		return nil, fmt.Errorf("model %s version %s (%s): %w", full, mv.Version, uri, err)
	}
	return &serving.ResolvedModel{EntityName: full, Version: mv.Version, Dir: dir, MLmodel: m}, nil
}

// materialise returns a local directory holding the artifacts at uri:
// <cache>/<model>/<version>-<hash of uri>, filled once (written to a
// temporary directory and renamed, so a crash never leaves a half copy
// that a restart would reuse). A local file:// source is used in place.
func (r *RegistrySource) materialise(ctx context.Context, full, version, uri string) (string, error) {
	if p, ok := strings.CutPrefix(uri, "file://"); ok {
		return filepath.Clean(p), nil
	}
	sum := sha256.Sum256([]byte(uri))
	dir := filepath.Join(r.CacheDir, full, version+"-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "MLmodel")); err == nil {
		return dir, nil
	}
	r.mu.Lock()
	if r.locks == nil {
		r.locks = map[string]*sync.Mutex{}
	}
	l := r.locks[dir]
	if l == nil {
		l = &sync.Mutex{}
		r.locks[dir] = l
	}
	r.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "MLmodel")); err == nil {
		return dir, nil
	}
	prefix, err := r.Artifacts.Resolve(ctx, uri)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".download-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	n, err := r.copyTree(ctx, prefix, tmp)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", errs.E(errs.NotFound, "MODEL_FILE_MISSING", "the model version's artifacts at %s are empty", uri)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "MLmodel")); serr == nil {
			return dir, nil // another process won the race
		}
		return "", err
	}
	if r.Logger != nil {
		r.Logger.Info("model artifacts cached", "model", full, "version", version, "files", n, "dir", dir)
	}
	return dir, nil
}

// copyTree copies every object under prefix/ into dir (keys relative to
// prefix become paths; keys that would leave dir are refused).
func (r *RegistrySource) copyTree(ctx context.Context, prefix, dir string) (int, error) {
	n := 0
	after := ""
	for {
		as, err := r.Bucket.List(ctx, blob.ListOptions{Prefix: prefix + "/", StartAfter: after, Limit: 1000})
		if err != nil {
			return n, err
		}
		for _, a := range as {
			rel := strings.TrimPrefix(a.Key, prefix+"/")
			if strings.HasPrefix(rel, ".mpu/") {
				continue
			}
			if _, err := artifact.CleanPath(rel, false); err != nil {
				return n, err
			}
			dst := filepath.Join(dir, filepath.FromSlash(rel))
			if err := r.copyObject(ctx, a.Key, dst); err != nil {
				return n, fmt.Errorf("copy %s: %w", a.Key, err)
			}
			n++
		}
		if len(as) < 1000 {
			return n, nil
		}
		after = as[len(as)-1].Key
	}
}

func (r *RegistrySource) copyObject(ctx context.Context, key, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	rc, err := r.Bucket.Get(ctx, key, nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Authorize implements serving.ModelSource: CAN_QUERY needs EXECUTE on the
// registered model, CAN_MANAGE needs MANAGE (or ownership), CAN_VIEW that
// the caller can see the model; the catalog adds the USE CATALOG and USE
// SCHEMA gates. A model the caller cannot see is PermissionDenied (the
// endpoint exists; its model is not theirs to use).
func (r *RegistrySource) Authorize(ctx context.Context, entityName string, action serving.Action) error {
	full, err := r.fullName(entityName)
	if err != nil {
		return err
	}
	switch action {
	case serving.ActionQuery:
		err = r.Catalog.Authorize(ctx, catalog.TypeRegisteredModel, full, catalog.PrivExecute)
	case serving.ActionManage:
		err = r.Catalog.Authorize(ctx, catalog.TypeRegisteredModel, full, catalog.PrivManage)
	default:
		_, err = r.Catalog.GetRegisteredModel(ctx, full)
	}
	if errs.Is(err, errs.NotFound) {
		who := "the caller"
		if id := auth.IdentityFrom(ctx); id != nil {
			who = id.Principal.Name
		}
		return errs.Wrap(errs.PermissionDenied, "PERMISSION_DENIED", err, "%s has no %s permission on model %q", who, action, full)
	}
	return err
}
