package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/tracking"
)

// Default catalog and schema of bare MLflow model names.
const (
	DefaultCatalog = "main"
	DefaultSchema  = "default"
	// TagLineage is the read-only model version tag listing the table
	// versions the version's run was trained on (JSON).
	TagLineage = "lakebox.lineage.tables"
	// MaxAliasLen is MLflow's alias length limit.
	MaxAliasLen = 255
)

// Service is the MLflow model registry over the catalog.
type Service struct {
	lineage func(ctx context.Context, modelVersion, runID string, tables []tracking.TableRef) error
	cat     Catalog
	runs    Runs
	store   Store
	log     *slog.Logger
	now     func() time.Time
	newID   func() string
	disp    *Dispatcher
}

// Options configure a Service.
type Options struct {
	Logger     *slog.Logger
	Now        func() time.Time
	NewID      func() string
	Dispatcher DispatcherOptions
	// Lineage, when set, is called after a version is created from a run
	// (run_id, a runs:/ source or a logged model's source run) with the
	// version ("<model full name>/<version>"), the run and the table
	// versions its datasets were read from, so the lineage graph gets
	// table → run → model version. Its error is logged, not returned: the
	// version exists and keeps its lineage tag.
	Lineage func(ctx context.Context, modelVersion, runID string, tables []tracking.TableRef) error
}

// NewService returns a registry service.
func NewService(cat Catalog, runs Runs, store Store, o Options) *Service {
	s := &Service{cat: cat, runs: runs, store: store, log: o.Logger, now: o.Now, newID: o.NewID, lineage: o.Lineage}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = func() string {
			var b [16]byte
			rand.Read(b[:])
			return hex.EncodeToString(b[:])
		}
	}
	s.disp = newDispatcher(store, s.log, s.now, s.newID, o.Dispatcher)
	return s
}

// Start runs the webhook dispatcher until the returned stop is called.
func (s *Service) Start() (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.disp.Run(ctx)
	}()
	return func() error {
		cancel()
		<-done
		return nil
	}
}

// Dispatcher returns the webhook dispatcher (tests run it step by step).
func (s *Service) Dispatcher() *Dispatcher { return s.disp }

// FullName maps an MLflow model name to its three-level catalog name: a bare
// name goes to main.default; "catalog.schema.model" is kept. Names are
// lower-cased as the catalog stores them.
func (s *Service) FullName(name string) (string, error) {
	if name == "" {
		return "", tracking.Missing("name")
	}
	parts := strings.Split(name, ".")
	switch len(parts) {
	case 1:
		parts = []string{DefaultCatalog, DefaultSchema, parts[0]}
	case 3:
	default:
		return "", invalid("Invalid registered model name '%s': use a bare name (placed in %s.%s) or catalog.schema.model", name, DefaultCatalog, DefaultSchema)
	}
	for i, p := range parts {
		if err := catalog.ValidateName([]string{"catalog", "schema", "model"}[i], p); err != nil {
			return "", invalid("Invalid registered model name '%s': %s", name, errs.Message(err))
		}
		parts[i] = strings.ToLower(p)
	}
	return strings.Join(parts, "."), nil
}

func splitFull(full string) (string, string, string) {
	p := strings.SplitN(full, ".", 3)
	return p[0], p[1], p[2]
}

func modelNotFound(name string) error {
	return notFound("Registered Model with name=%s not found", name)
}

// model loads a registered model the caller may see.
func (s *Service) model(ctx context.Context, name string) (ModelRow, error) {
	full, err := s.FullName(name)
	if err != nil {
		return ModelRow{}, err
	}
	if _, err := s.cat.GetRegisteredModel(ctx, full); err != nil {
		if errs.Is(err, errs.NotFound) {
			return ModelRow{}, modelNotFound(full)
		}
		return ModelRow{}, err
	}
	m, err := s.store.ModelByName(ctx, full)
	if errs.Is(err, errs.NotFound) {
		return m, modelNotFound(full)
	}
	return m, err
}

func (s *Service) authorize(ctx context.Context, full string, privs ...catalog.Privilege) error {
	var err error
	for _, p := range privs {
		if err = s.cat.Authorize(ctx, catalog.TypeRegisteredModel, full, p); err == nil {
			return nil
		}
		if !errs.Is(err, errs.PermissionDenied) {
			return err
		}
	}
	return err
}

// ---- registered models ----

// CreateRegisteredModel creates a model (in main.default for a bare name).
func (s *Service) CreateRegisteredModel(ctx context.Context, name, description string, tags []Tag) (RegisteredModel, error) {
	full, err := s.FullName(name)
	if err != nil {
		return RegisteredModel{}, err
	}
	for _, t := range tags {
		if err := tracking.ValidateTag(t); err != nil {
			return RegisteredModel{}, err
		}
	}
	cat, sch, m := splitFull(full)
	req := catalog.CreateRegisteredModel{Name: m, CatalogName: cat, SchemaName: sch, Comment: description}
	_, err = s.cat.CreateRegisteredModel(ctx, req)
	if errs.Is(err, errs.NotFound) && cat == DefaultCatalog && sch == DefaultSchema {
		if err = s.ensureDefaultSchema(ctx); err == nil {
			_, err = s.cat.CreateRegisteredModel(ctx, req)
		}
	}
	if errs.Is(err, errs.AlreadyExists) {
		return RegisteredModel{}, errs.E(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", "Registered Model (name=%s) already exists.", full)
	}
	if err != nil {
		return RegisteredModel{}, err
	}
	row, err := s.store.ModelByName(ctx, full)
	if err != nil {
		return RegisteredModel{}, err
	}
	for _, t := range tags {
		v := t.Value
		if err := s.store.SetModelTag(ctx, row.ID, t.Key, &v); err != nil {
			return RegisteredModel{}, err
		}
	}
	s.emit(ctx, EventRegisteredModelCreated, full, map[string]any{"name": full, "description": description, "tags": tagMap(tags)})
	return s.registeredModel(ctx, row)
}

func (s *Service) ensureDefaultSchema(ctx context.Context) error {
	if _, err := s.cat.CreateCatalog(ctx, catalog.CreateCatalog{Name: DefaultCatalog, Comment: "Default catalog (created for MLflow models)"}); err != nil && !errs.Is(err, errs.AlreadyExists) {
		return err
	}
	if _, err := s.cat.CreateSchema(ctx, catalog.CreateSchema{Name: DefaultSchema, CatalogName: DefaultCatalog}); err != nil && !errs.Is(err, errs.AlreadyExists) {
		return err
	}
	return nil
}

func tagMap(tags []Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// registeredModel assembles the MLflow view of a model row.
func (s *Service) registeredModel(ctx context.Context, row ModelRow) (RegisteredModel, error) {
	ms, err := s.registeredModels(ctx, []ModelRow{row})
	if err != nil {
		return RegisteredModel{}, err
	}
	return ms[0], nil
}

func (s *Service) registeredModels(ctx context.Context, rows []ModelRow) ([]RegisteredModel, error) {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.ID
	}
	tags, err := s.store.ModelTags(ctx, keys)
	if err != nil {
		return nil, err
	}
	aliases, err := s.store.Aliases(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]RegisteredModel, len(rows))
	for i, r := range rows {
		m := RegisteredModel{Name: r.FullName, CreationTimestamp: r.CreatedAt, LastUpdatedTimestamp: r.UpdatedAt, UserID: r.Owner,
			Description: r.Comment, Tags: tags[r.ID], Aliases: aliases[r.ID], ID: r.ID}
		vs, err := s.store.Versions(ctx, r.ID, nil)
		if err != nil {
			return nil, err
		}
		latest := map[string]VersionRow{}
		for _, v := range vs {
			if cur, ok := latest[v.Stage]; !ok || v.Version > cur.Version {
				latest[v.Stage] = v
			}
		}
		var lv []VersionRow
		for _, st := range Stages {
			if v, ok := latest[st]; ok {
				lv = append(lv, v)
			}
		}
		if m.LatestVersions, err = s.versions(ctx, lv); err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// GetRegisteredModel returns a model with its latest versions, tags and aliases.
func (s *Service) GetRegisteredModel(ctx context.Context, name string) (RegisteredModel, error) {
	row, err := s.model(ctx, name)
	if err != nil {
		return RegisteredModel{}, err
	}
	return s.registeredModel(ctx, row)
}

// UpdateRegisteredModel changes a model's description.
func (s *Service) UpdateRegisteredModel(ctx context.Context, name string, description *string) (RegisteredModel, error) {
	row, err := s.model(ctx, name)
	if err != nil {
		return RegisteredModel{}, err
	}
	if description != nil {
		if _, err := s.cat.UpdateRegisteredModel(ctx, row.FullName, catalog.Update{Comment: description}); err != nil {
			return RegisteredModel{}, err
		}
	}
	return s.GetRegisteredModel(ctx, row.FullName)
}

// RenameRegisteredModel renames a model within its schema.
func (s *Service) RenameRegisteredModel(ctx context.Context, name, newName string) (RegisteredModel, error) {
	row, err := s.model(ctx, name)
	if err != nil {
		return RegisteredModel{}, err
	}
	if newName == "" {
		return RegisteredModel{}, tracking.Missing("new_name")
	}
	newFull := newName
	cat, sch, _ := splitFull(row.FullName)
	if !strings.Contains(newName, ".") {
		newFull = cat + "." + sch + "." + newName
	}
	newFull, err = s.FullName(newFull)
	if err != nil {
		return RegisteredModel{}, err
	}
	nc, ns, nm := splitFull(newFull)
	if nc != cat || ns != sch {
		return RegisteredModel{}, invalid("Cannot rename '%s' to '%s': a rename stays in schema %s.%s", row.FullName, newFull, cat, sch)
	}
	if _, err := s.cat.UpdateRegisteredModel(ctx, row.FullName, catalog.Update{NewName: nm}); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return RegisteredModel{}, errs.E(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", "Registered Model (name=%s) already exists.", newFull)
		}
		return RegisteredModel{}, err
	}
	return s.GetRegisteredModel(ctx, newFull)
}

// DeleteRegisteredModel deletes a model and its versions.
func (s *Service) DeleteRegisteredModel(ctx context.Context, name string) error {
	row, err := s.model(ctx, name)
	if err != nil {
		return err
	}
	return s.cat.DeleteRegisteredModel(ctx, row.FullName, true)
}

// SetRegisteredModelTag sets (value != nil) or deletes a model tag.
func (s *Service) SetRegisteredModelTag(ctx context.Context, name, key string, value *string) error {
	t := Tag{Key: key}
	if value != nil {
		t.Value = *value
	}
	if err := tracking.ValidateTag(t); err != nil {
		return err
	}
	row, err := s.model(ctx, name)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, row.FullName, catalog.PrivManage, catalog.PrivApplyTag); err != nil {
		return err
	}
	return s.store.SetModelTag(ctx, row.ID, key, value)
}

// RegisteredModelGrammar is the filter grammar of registered-models/search.
var RegisteredModelGrammar = &tracking.Grammar{
	Entities:        map[string]string{"tag": tracking.EntityTag, "tags": tracking.EntityTag, "attribute": tracking.EntityAttribute, "attributes": tracking.EntityAttribute},
	Attributes:      map[string]tracking.AttrKind{"name": tracking.AttrString, "creation_timestamp": tracking.AttrNumeric, "last_updated_timestamp": tracking.AttrNumeric},
	Aliases:         map[string]string{"timestamp": "last_updated_timestamp"},
	Orderable:       map[string]bool{"name": true, "creation_timestamp": true, "last_updated_timestamp": true},
	BareIsAttribute: true,
}

// VersionGrammar is the filter grammar of model-versions/search.
var VersionGrammar = &tracking.Grammar{
	Entities: map[string]string{"tag": tracking.EntityTag, "tags": tracking.EntityTag, "attribute": tracking.EntityAttribute, "attributes": tracking.EntityAttribute},
	Attributes: map[string]tracking.AttrKind{"name": tracking.AttrString, "run_id": tracking.AttrString, "source_path": tracking.AttrString,
		"current_stage": tracking.AttrString, "version_number": tracking.AttrNumeric, "creation_timestamp": tracking.AttrNumeric,
		"last_updated_timestamp": tracking.AttrNumeric},
	Aliases:         map[string]string{"timestamp": "last_updated_timestamp", "source": "source_path", "version": "version_number"},
	Orderable:       map[string]bool{"name": true, "version_number": true, "creation_timestamp": true, "last_updated_timestamp": true},
	BareIsAttribute: true,
}

// normalizeNames rewrites name clauses: equality and IN compare full names
// (bare names go to main.default); LIKE patterns match the model's own name,
// or its full name when they contain a '.'.
func (s *Service) normalizeNames(cs []tracking.Clause) ([]tracking.Clause, error) {
	for i, c := range cs {
		if c.Entity != tracking.EntityAttribute || c.Key != "name" {
			continue
		}
		switch c.Op {
		case "=", "!=":
			full, err := s.FullName(c.Str)
			if err != nil {
				return nil, err
			}
			cs[i].Key, cs[i].Str = "full_name", full
		case "IN", "NOT IN":
			for j, n := range c.List {
				full, err := s.FullName(n)
				if err != nil {
					return nil, err
				}
				cs[i].List[j] = full
			}
			cs[i].Key = "full_name"
		default:
			cs[i].Str = strings.ToLower(c.Str)
			if strings.Contains(c.Str, ".") {
				cs[i].Key = "full_name"
			}
		}
	}
	return cs, nil
}

func parseSearch(g *tracking.Grammar, filter string, orderBy []string, maxResults, def, limit int64, pageToken string) ([]tracking.Clause, []tracking.OrderKey, int, int, error) {
	if maxResults == 0 {
		maxResults = def
	}
	if maxResults < 0 || maxResults > limit {
		return nil, nil, 0, 0, invalid("Invalid value %d for parameter 'max_results' supplied. It must be at most %d, and positive.", maxResults, limit)
	}
	cs, err := tracking.ParseFilter(filter, g)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	var order []tracking.OrderKey
	for _, o := range orderBy {
		if strings.TrimSpace(o) == "" {
			continue
		}
		k, err := tracking.ParseOrderBy(o, g)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		order = append(order, k)
	}
	off, err := tracking.DecodePageToken(pageToken)
	return cs, order, int(maxResults), off, err
}

// SearchRegisteredModels searches models the caller may see.
func (s *Service) SearchRegisteredModels(ctx context.Context, filter string, maxResults int64, orderBy []string, pageToken string) ([]RegisteredModel, string, error) {
	cs, order, n, off, err := parseSearch(RegisteredModelGrammar, filter, orderBy, maxResults, 100, 1000, pageToken)
	if err != nil {
		return nil, "", err
	}
	if cs, err = s.normalizeNames(cs); err != nil {
		return nil, "", err
	}
	rows, more, err := s.store.SearchModels(ctx, ModelQuery{Filter: cs, OrderBy: order, MaxResults: n, Offset: off})
	if err != nil {
		return nil, "", err
	}
	visible := rows[:0]
	for _, r := range rows {
		if _, err := s.cat.GetRegisteredModel(ctx, r.FullName); err == nil {
			visible = append(visible, r)
		} else if !errs.Is(err, errs.PermissionDenied) && !errs.Is(err, errs.NotFound) {
			return nil, "", err
		}
	}
	ms, err := s.registeredModels(ctx, visible)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = tracking.EncodePageToken(off + n)
	}
	return ms, next, nil
}

// ---- model versions ----

// CreateVersionRequest is the input of CreateModelVersion.
type CreateVersionRequest struct {
	Name        string
	Source      string
	RunID       string
	Tags        []Tag
	RunLink     string
	Description string
	ModelID     string
}

// CreateModelVersion registers a version (READY at once) and records its
// lineage to the training tables.
func (s *Service) CreateModelVersion(ctx context.Context, req CreateVersionRequest) (ModelVersion, error) {
	full, err := s.FullName(req.Name)
	if err != nil {
		return ModelVersion{}, err
	}
	if req.Source == "" {
		return ModelVersion{}, tracking.Missing("source")
	}
	if strings.Contains(req.Source, "..") {
		return ModelVersion{}, invalid("Invalid model version source '%s': it must not contain '..'", req.Source)
	}
	for _, t := range req.Tags {
		if err := tracking.ValidateTag(t); err != nil {
			return ModelVersion{}, err
		}
	}
	if rest, ok := strings.CutPrefix(req.Source, "models:/"); ok && strings.HasPrefix(rest, "m-") && req.ModelID == "" {
		req.ModelID = strings.TrimRight(rest, "/")
	}
	isURI := strings.Contains(req.Source, ":/")
	if !isURI && req.RunID == "" {
		return ModelVersion{}, invalid("Invalid model version source: '%s'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.", req.Source)
	}
	lineageRun := req.RunID
	if req.RunID != "" {
		if _, err := s.runs.RunArtifactURI(ctx, req.RunID); err != nil {
			return ModelVersion{}, err
		}
	}
	if req.ModelID != "" {
		lm, err := s.runs.GetLoggedModel(ctx, req.ModelID)
		if err != nil {
			return ModelVersion{}, err
		}
		if lineageRun == "" {
			lineageRun = lm.Info.SourceRunID
		}
	}
	if rest, ok := strings.CutPrefix(req.Source, "runs:/"); ok && lineageRun == "" {
		lineageRun, _, _ = strings.Cut(strings.TrimLeft(rest, "/"), "/")
	}
	cat, sch, m := splitFull(full)
	if _, err := s.cat.GetRegisteredModel(ctx, full); errs.Is(err, errs.NotFound) {
		return ModelVersion{}, modelNotFound(full)
	}
	info, err := s.cat.CreateModelVersion(ctx, catalog.CreateModelVersion{ModelName: m, CatalogName: cat, SchemaName: sch,
		Source: req.Source, RunID: req.RunID, Comment: req.Description})
	if err != nil {
		return ModelVersion{}, err
	}
	if _, err := s.cat.FinalizeModelVersion(ctx, full, info.Version); err != nil {
		return ModelVersion{}, err
	}
	row, err := s.store.ModelByName(ctx, full)
	if err != nil {
		return ModelVersion{}, err
	}
	var tables []tracking.TableRef
	if lineageRun != "" {
		if tables, err = s.runs.RunTables(ctx, lineageRun); err != nil && !errs.Is(err, errs.NotFound) {
			return ModelVersion{}, err
		}
		for i := range tables {
			tables[i].RunID = lineageRun
		}
	}
	user := ""
	if id := auth.IdentityFrom(ctx); id != nil {
		user = id.Principal.Name
	}
	x := VersionExtra{ModelKey: row.ID, Version: info.Version, Stage: StageNone, Source: req.Source, RunID: req.RunID,
		RunLink: req.RunLink, LoggedModelID: req.ModelID, UserID: user}
	if err := s.store.PutVersionExtra(ctx, x, tables); err != nil {
		return ModelVersion{}, err
	}
	if s.lineage != nil && lineageRun != "" {
		mvName := full + "/" + strconv.FormatInt(info.Version, 10)
		if err := s.lineage(ctx, mvName, lineageRun, tables); err != nil {
			s.log.Warn("model version lineage not recorded", "model_version", mvName, "run_id", lineageRun, "err", err.Error())
		}
	}
	for _, t := range req.Tags {
		v := t.Value
		if err := s.store.SetVersionTag(ctx, row.ID, info.Version, t.Key, &v); err != nil {
			return ModelVersion{}, err
		}
	}
	mv, err := s.version(ctx, row, info.Version)
	if err != nil {
		return ModelVersion{}, err
	}
	s.emit(ctx, EventVersionCreated, full, map[string]any{"name": full, "version": mv.Version, "source": mv.Source, "run_id": mv.RunID,
		"tags": tagMap(req.Tags), "description": req.Description})
	return mv, nil
}

func versionNotFound(full string, v int64) error {
	return notFound("Model Version (name=%s, version=%d) not found", full, v)
}

// version assembles one version of a model row.
func (s *Service) version(ctx context.Context, row ModelRow, v int64) (ModelVersion, error) {
	vs, err := s.store.Versions(ctx, row.ID, []int64{v})
	if err != nil {
		return ModelVersion{}, err
	}
	if len(vs) == 0 {
		return ModelVersion{}, versionNotFound(row.FullName, v)
	}
	out, err := s.versions(ctx, vs)
	if err != nil {
		return ModelVersion{}, err
	}
	return out[0], nil
}

// versions assembles the MLflow view of version rows (tags, aliases, lineage).
func (s *Service) versions(ctx context.Context, rows []VersionRow) ([]ModelVersion, error) {
	out := make([]ModelVersion, 0, len(rows))
	byModel := map[string][]int64{}
	for _, r := range rows {
		byModel[r.ModelKey] = append(byModel[r.ModelKey], r.Version)
	}
	tags := map[string]map[int64][]Tag{}
	aliases := map[string]map[int64][]string{}
	for key, vs := range byModel {
		t, err := s.store.VersionTags(ctx, key, vs)
		if err != nil {
			return nil, err
		}
		tags[key] = t
		al, err := s.store.Aliases(ctx, []string{key})
		if err != nil {
			return nil, err
		}
		aliases[key] = map[int64][]string{}
		for _, a := range al[key] {
			n, _ := strconv.ParseInt(a.Version, 10, 64)
			aliases[key][n] = append(aliases[key][n], a.Alias)
		}
	}
	for _, r := range rows {
		mv := ModelVersion{Name: r.FullName, Version: strconv.FormatInt(r.Version, 10), CreationTimestamp: r.CreatedAt,
			LastUpdatedTimestamp: r.UpdatedAt, UserID: r.UserID, CurrentStage: r.Stage, Description: r.Comment, Source: r.Source,
			RunID: r.RunID, Status: r.Status, RunLink: r.RunLink, ModelID: r.LoggedModelID, ModelKey: r.ModelKey,
			Tags: tags[r.ModelKey][r.Version], Aliases: aliases[r.ModelKey][r.Version]}
		if mv.UserID == "" {
			mv.UserID = r.CatalogUser
		}
		if mv.CurrentStage == "" {
			mv.CurrentStage = StageNone
		}
		tables, err := s.store.VersionTables(ctx, r.ModelKey, r.Version)
		if err != nil {
			return nil, err
		}
		if len(tables) > 0 {
			b, _ := json.Marshal(tables)
			mv.Tags = append(mv.Tags, Tag{Key: TagLineage, Value: string(b)})
		}
		sort.Strings(mv.Aliases)
		out = append(out, mv)
	}
	return out, nil
}

// GetModelVersion returns a version.
func (s *Service) GetModelVersion(ctx context.Context, name, version string) (ModelVersion, error) {
	row, v, err := s.modelAndVersion(ctx, name, version)
	if err != nil {
		return ModelVersion{}, err
	}
	return s.version(ctx, row, v)
}

func (s *Service) modelAndVersion(ctx context.Context, name, version string) (ModelRow, int64, error) {
	v, err := VersionNumber(version)
	if err != nil {
		return ModelRow{}, 0, err
	}
	row, err := s.model(ctx, name)
	if err != nil {
		return ModelRow{}, 0, err
	}
	if _, err := s.cat.GetModelVersion(ctx, row.FullName, v); err != nil {
		if errs.Is(err, errs.NotFound) {
			return row, v, versionNotFound(row.FullName, v)
		}
		return row, v, err
	}
	return row, v, nil
}

// UpdateModelVersion changes a version's description.
func (s *Service) UpdateModelVersion(ctx context.Context, name, version string, description *string) (ModelVersion, error) {
	row, v, err := s.modelAndVersion(ctx, name, version)
	if err != nil {
		return ModelVersion{}, err
	}
	if description != nil {
		if _, err := s.cat.UpdateModelVersion(ctx, row.FullName, v, description); err != nil {
			return ModelVersion{}, err
		}
	}
	return s.version(ctx, row, v)
}

// DeleteModelVersion deletes a version (aliases pointing at it go too).
func (s *Service) DeleteModelVersion(ctx context.Context, name, version string) error {
	row, v, err := s.modelAndVersion(ctx, name, version)
	if err != nil {
		return err
	}
	if err := s.cat.DeleteModelVersion(ctx, row.FullName, v); err != nil {
		return err
	}
	al, err := s.store.Aliases(ctx, []string{row.ID})
	if err != nil {
		return err
	}
	for _, a := range al[row.ID] {
		if a.Version == strconv.FormatInt(v, 10) {
			if err := s.store.SetAlias(ctx, row.ID, a.Alias, 0); err != nil && !errs.Is(err, errs.NotFound) {
				return err
			}
		}
	}
	return nil
}

// TransitionStage moves a version to a stage (legacy MLflow stages).
func (s *Service) TransitionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (ModelVersion, error) {
	if stage == "" {
		return ModelVersion{}, tracking.Missing("stage")
	}
	st, err := CanonicalStage(stage)
	if err != nil {
		return ModelVersion{}, err
	}
	row, v, err := s.modelAndVersion(ctx, name, version)
	if err != nil {
		return ModelVersion{}, err
	}
	if err := s.authorize(ctx, row.FullName, catalog.PrivManage); err != nil {
		return ModelVersion{}, err
	}
	archive := archiveExisting && (st == StageStaging || st == StageProduction)
	changed, err := s.store.SetStage(ctx, row.ID, v, st, archive)
	if err != nil {
		return ModelVersion{}, err
	}
	for _, c := range changed {
		stg := st
		if c != v {
			stg = StageArchived
		}
		s.emit(ctx, EventVersionStageTransition, row.FullName, map[string]any{"name": row.FullName, "version": strconv.FormatInt(c, 10), "to_stage": stg})
	}
	return s.version(ctx, row, v)
}

// GetLatestVersions returns the newest version per stage (only the given stages when non-empty).
func (s *Service) GetLatestVersions(ctx context.Context, name string, stages []string) ([]ModelVersion, error) {
	m, err := s.GetRegisteredModel(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		return m.LatestVersions, nil
	}
	want := map[string]bool{}
	for _, st := range stages {
		c, err := CanonicalStage(st)
		if err != nil {
			return nil, err
		}
		want[c] = true
	}
	var out []ModelVersion
	for _, v := range m.LatestVersions {
		if want[v.CurrentStage] {
			out = append(out, v)
		}
	}
	return out, nil
}

// SetModelVersionTag sets (value != nil) or deletes a version tag.
func (s *Service) SetModelVersionTag(ctx context.Context, name, version, key string, value *string) error {
	t := Tag{Key: key}
	if value != nil {
		t.Value = *value
	}
	if err := tracking.ValidateTag(t); err != nil {
		return err
	}
	if strings.HasPrefix(key, "lakebox.lineage") {
		return invalid("Tag '%s' is maintained by Lakebox and cannot be set", key)
	}
	row, v, err := s.modelAndVersion(ctx, name, version)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, row.FullName, catalog.PrivManage, catalog.PrivApplyTag); err != nil {
		return err
	}
	if err := s.store.SetVersionTag(ctx, row.ID, v, key, value); err != nil {
		return err
	}
	if value != nil {
		s.emit(ctx, EventVersionTagSet, row.FullName, map[string]any{"name": row.FullName, "version": version, "key": key, "value": *value})
	}
	return nil
}

// SearchModelVersions searches versions of models the caller may see.
func (s *Service) SearchModelVersions(ctx context.Context, filter string, maxResults int64, orderBy []string, pageToken string) ([]ModelVersion, string, error) {
	cs, order, n, off, err := parseSearch(VersionGrammar, filter, orderBy, maxResults, 10000, 200000, pageToken)
	if err != nil {
		return nil, "", err
	}
	if cs, err = s.normalizeNames(cs); err != nil {
		return nil, "", err
	}
	rows, more, err := s.store.SearchVersions(ctx, VersionQuery{Filter: cs, OrderBy: order, MaxResults: n, Offset: off})
	if err != nil {
		return nil, "", err
	}
	seen := map[string]bool{}
	visible := rows[:0]
	for _, r := range rows {
		ok, known := seen[r.FullName]
		if !known {
			_, err := s.cat.GetRegisteredModel(ctx, r.FullName)
			if err != nil && !errs.Is(err, errs.PermissionDenied) && !errs.Is(err, errs.NotFound) {
				return nil, "", err
			}
			ok = err == nil
			seen[r.FullName] = ok
		}
		if ok {
			visible = append(visible, r)
		}
	}
	vs, err := s.versions(ctx, visible)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = tracking.EncodePageToken(off + n)
	}
	return vs, next, nil
}

// ---- aliases ----

func validateAlias(alias string) error {
	if alias == "" {
		return tracking.Missing("alias")
	}
	if len(alias) > MaxAliasLen {
		return invalid("Alias '%s...' is longer than %d characters", alias[:20], MaxAliasLen)
	}
	for _, c := range alias {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return invalid("Invalid alias name: '%s'. Aliases may only contain alphanumerics, underscores (_) and dashes (-).", alias)
		}
	}
	lower := strings.ToLower(alias)
	if lower == "latest" || (len(lower) > 1 && lower[0] == 'v' && isDigits(lower[1:])) {
		return invalid("Invalid alias name: '%s'. The alias 'latest' and aliases of the form v<number> are reserved.", alias)
	}
	return nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// SetAlias points alias at a version (moving it if set). Needs MANAGE.
func (s *Service) SetAlias(ctx context.Context, name, alias, version string) error {
	if err := validateAlias(alias); err != nil {
		return err
	}
	row, v, err := s.modelAndVersion(ctx, name, version)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, row.FullName, catalog.PrivManage); err != nil {
		return err
	}
	if err := s.store.SetAlias(ctx, row.ID, alias, v); err != nil {
		return err
	}
	s.emit(ctx, EventAliasCreated, row.FullName, map[string]any{"name": row.FullName, "alias": alias, "version": version})
	return nil
}

// DeleteAlias removes an alias. Needs MANAGE.
func (s *Service) DeleteAlias(ctx context.Context, name, alias string) error {
	if alias == "" {
		return tracking.Missing("alias")
	}
	row, err := s.model(ctx, name)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, row.FullName, catalog.PrivManage); err != nil {
		return err
	}
	if err := s.store.SetAlias(ctx, row.ID, alias, 0); err != nil {
		if errs.Is(err, errs.NotFound) {
			return invalid("Registered model alias %s not found.", alias)
		}
		return err
	}
	s.emit(ctx, EventAliasDeleted, row.FullName, map[string]any{"name": row.FullName, "alias": alias})
	return nil
}

func (s *Service) aliasVersion(ctx context.Context, row ModelRow, alias string) (int64, error) {
	al, err := s.store.Aliases(ctx, []string{row.ID})
	if err != nil {
		return 0, err
	}
	for _, a := range al[row.ID] {
		if a.Alias == alias {
			return strconv.ParseInt(a.Version, 10, 64)
		}
	}
	return 0, invalid("Registered model alias %s not found.", alias)
}

// GetByAlias returns the version an alias points at. Loading a version
// needs EXECUTE on the model. An unknown alias is INVALID_PARAMETER_VALUE,
// as in MLflow.
func (s *Service) GetByAlias(ctx context.Context, name, alias string) (ModelVersion, error) {
	if alias == "" {
		return ModelVersion{}, tracking.Missing("alias")
	}
	row, err := s.model(ctx, name)
	if err != nil {
		return ModelVersion{}, err
	}
	if err := s.authorize(ctx, row.FullName, catalog.PrivExecute); err != nil {
		return ModelVersion{}, err
	}
	v, err := s.aliasVersion(ctx, row, alias)
	if err != nil {
		return ModelVersion{}, err
	}
	return s.version(ctx, row, v)
}

// ---- download URIs ----

// GetDownloadURI returns the artifact URI of a version's files. Needs EXECUTE.
func (s *Service) GetDownloadURI(ctx context.Context, name, version string) (string, error) {
	row, v, err := s.modelAndVersion(ctx, name, version)
	if err != nil {
		return "", err
	}
	if err := s.authorize(ctx, row.FullName, catalog.PrivExecute); err != nil {
		return "", err
	}
	mv, err := s.version(ctx, row, v)
	if err != nil {
		return "", err
	}
	return s.sourceURI(ctx, mv.Source)
}

// sourceURI resolves a version source to an artifact URI.
func (s *Service) sourceURI(ctx context.Context, source string) (string, error) {
	switch {
	case strings.HasPrefix(source, "runs:/"):
		rest := strings.TrimLeft(strings.TrimPrefix(source, "runs:/"), "/")
		runID, rel, _ := strings.Cut(rest, "/")
		root, err := s.runs.RunArtifactURI(ctx, runID)
		if err != nil {
			return "", err
		}
		if rel == "" {
			return root, nil
		}
		return root + "/" + strings.Trim(rel, "/"), nil
	case strings.HasPrefix(source, "models:/m-"):
		lm, err := s.runs.GetLoggedModel(ctx, strings.Trim(strings.TrimPrefix(source, "models:/"), "/"))
		if err != nil {
			return "", err
		}
		return lm.Info.ArtifactURI, nil
	}
	return source, nil
}

// ResolveModelURI resolves models:/<name>/<version>, models:/<name>@<alias>,
// models:/<name>/<stage>, models:/<name>/latest and models:/<model_id> to an
// artifact URI (artifact.Models).
func (s *Service) ResolveModelURI(ctx context.Context, uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, "models:/")
	if !ok {
		return "", invalid("Not a models:/ URI: '%s'", uri)
	}
	rest = strings.Trim(rest, "/")
	if strings.HasPrefix(rest, "m-") && !strings.ContainsAny(rest, "/@") {
		return s.sourceURI(ctx, "models:/"+rest)
	}
	var name, version string
	if n, alias, ok := strings.Cut(rest, "@"); ok {
		mv, err := s.GetByAlias(ctx, n, alias)
		if err != nil {
			return "", err
		}
		name, version = n, mv.Version
	} else {
		n, sel, ok := strings.Cut(rest, "/")
		if !ok || sel == "" {
			return "", invalid("Invalid models URI '%s': use models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/<stage> or models:/<model_id>", uri)
		}
		name = n
		if isDigits(sel) {
			version = sel
		} else {
			var stages []string
			if !strings.EqualFold(sel, "latest") {
				stages = []string{sel}
			}
			vs, err := s.GetLatestVersions(ctx, n, stages)
			if err != nil {
				return "", err
			}
			var best ModelVersion
			var bestN int64
			for _, v := range vs {
				if k, _ := strconv.ParseInt(v.Version, 10, 64); k > bestN {
					best, bestN = v, k
				}
			}
			if bestN == 0 {
				return "", notFound("No versions of model '%s' match '%s'", n, sel)
			}
			version = best.Version
		}
	}
	return s.GetDownloadURI(ctx, name, version)
}

// VersionTables returns the table versions a model version was trained on.
func (s *Service) VersionTables(ctx context.Context, name, version string) ([]tracking.TableRef, error) {
	row, v, err := s.modelAndVersion(ctx, name, version)
	if err != nil {
		return nil, err
	}
	return s.store.VersionTables(ctx, row.ID, v)
}
