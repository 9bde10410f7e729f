package serving

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// ResolvedModel is one model version ready to load: its directory on local
// disk (the source downloads remote artifacts first) and its MLmodel.
type ResolvedModel struct {
	// EntityName is the three-level model name.
	EntityName string
	// Version is the concrete version the reference resolved to.
	Version string
	// Dir is a local directory holding the MLflow model (MLmodel + files).
	Dir     string
	MLmodel *MLmodel
}

// Action is what a caller wants to do with an endpoint.
type Action string

// The endpoint actions, named after the Databricks permission levels.
const (
	ActionView   Action = "CAN_VIEW"
	ActionQuery  Action = "CAN_QUERY"
	ActionManage Action = "CAN_MANAGE"
)

// ModelSource resolves served entities to model directories and decides who
// may use them. The registry (internal/registry, adapted in internal/app)
// and DirSource implement it.
type ModelSource interface {
	// Resolve resolves entityName ("catalog.schema.model") at version, or at
	// alias when version is "". Errors: errs.NotFound for an unknown model,
	// version or alias; errs.Invalid for a malformed name.
	Resolve(ctx context.Context, entityName, version, alias string) (*ResolvedModel, error)
	// Authorize checks that the caller in ctx may perform action on a model
	// served by an endpoint (e.g. EXECUTE on the model for ActionQuery).
	// Errors: errs.PermissionDenied.
	Authorize(ctx context.Context, entityName string, action Action) error
}

var modelNameRE = regexp.MustCompile(`^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$`)

// DirSource is a ModelSource over a directory tree:
//
//	<root>/<catalog>/<schema>/<model>/<version>/MLmodel (+ model files)
//	<root>/<catalog>/<schema>/<model>/aliases.json   {"champion": "2"}
//
// It serves laptops without a registry, batch scoring by path and tests.
type DirSource struct {
	Root string
	// Allow, when set, decides Authorize (nil: everyone authenticated may
	// view and query; managing is left to the endpoint ACL).
	Allow func(id *auth.Identity, entityName string, action Action) bool
}

var _ ModelSource = (*DirSource)(nil)

// Resolve implements ModelSource.
func (d *DirSource) Resolve(ctx context.Context, entityName, version, alias string) (*ResolvedModel, error) {
	if !modelNameRE.MatchString(entityName) {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "entity_name %q is not a three-level model name catalog.schema.model", entityName)
	}
	mdir := filepath.Join(d.Root, filepath.FromSlash(strings.ReplaceAll(entityName, ".", "/")))
	if _, err := os.Stat(mdir); err != nil {
		return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "registered model %q does not exist", entityName)
	}
	if version == "" {
		if alias == "" {
			return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "served entity %q needs entity_version or an alias", entityName)
		}
		aliases, err := d.Aliases(entityName)
		if err != nil {
			return nil, err
		}
		v, ok := aliases[alias]
		if !ok {
			return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "registered model %q has no alias %q", entityName, alias)
		}
		version = v
	}
	if _, err := strconv.Atoi(version); err != nil {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "entity_version %q is not a version number", version)
	}
	vdir := filepath.Join(mdir, version)
	m, err := LoadMLmodel(vdir)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "model %q has no version %s", entityName, version)
		}
		return nil, err
	}
	return &ResolvedModel{EntityName: entityName, Version: version, Dir: vdir, MLmodel: m}, nil
}

// Aliases returns the alias → version map of a model.
func (d *DirSource) Aliases(entityName string) (map[string]string, error) {
	p := filepath.Join(d.Root, filepath.FromSlash(strings.ReplaceAll(entityName, ".", "/")), "aliases.json")
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errs.Wrap(errs.Internal, "", err, "read %s", p)
	}
	return m, nil
}

// SetAlias points alias at version (atomically: write and rename).
func (d *DirSource) SetAlias(entityName, alias, version string) error {
	m, err := d.Aliases(entityName)
	if err != nil {
		return err
	}
	m[alias] = version
	b, _ := json.Marshal(m)
	p := filepath.Join(d.Root, filepath.FromSlash(strings.ReplaceAll(entityName, ".", "/")), "aliases.json")
	if err := os.WriteFile(p+".tmp", b, 0o640); err != nil {
		return err
	}
	return os.Rename(p+".tmp", p)
}

// Versions lists the versions of a model in ascending order.
func (d *DirSource) Versions(entityName string) []string {
	ents, _ := os.ReadDir(filepath.Join(d.Root, filepath.FromSlash(strings.ReplaceAll(entityName, ".", "/"))))
	var vs []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			vs = append(vs, n)
		}
	}
	sort.Ints(vs)
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.Itoa(v)
	}
	return out
}

// Authorize implements ModelSource.
func (d *DirSource) Authorize(ctx context.Context, entityName string, action Action) error {
	if d.Allow == nil {
		return nil
	}
	id := auth.IdentityFrom(ctx)
	if id != nil && d.Allow(id, entityName, action) {
		return nil
	}
	return errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "no %s permission on model %q", action, entityName)
}

// ParseModelRef splits "catalog.schema.model@alias" or
// "catalog.schema.model/3" (also "models:/name@alias", "models:/name/3").
func ParseModelRef(ref string) (name, version, alias string, err error) {
	ref = strings.TrimPrefix(ref, "models:/")
	if n, a, ok := strings.Cut(ref, "@"); ok {
		name, alias = n, a
	} else if n, v, ok := strings.Cut(ref, "/"); ok {
		name, version = n, v
	} else {
		return "", "", "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "model reference %q needs a version or alias: catalog.schema.model@alias or catalog.schema.model/3", ref)
	}
	if !modelNameRE.MatchString(name) {
		return "", "", "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "%q is not a three-level model name catalog.schema.model", name)
	}
	return name, version, alias, nil
}
