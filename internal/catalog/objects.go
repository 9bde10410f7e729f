package catalog

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

func volumeInfo(r Record) VolumeInfo {
	var v VolumeInfo
	decodeBody(r, &v)
	p := parts(r.FullName)
	v.Name, v.CatalogName, v.SchemaName, v.FullName = r.Name, p[0], p[1], r.FullName
	v.Comment, v.Owner, v.VolumeID, v.StorageLocation = r.Comment, r.Owner, r.ID, r.Location
	v.CreatedAt, v.CreatedBy, v.UpdatedAt, v.UpdatedBy = ms(r.CreatedAt), r.CreatedBy, ms(r.UpdatedAt), r.UpdatedBy
	v.DeletedAt = ms(r.DroppedAt)
	return v
}

// CreateVolume creates a volume. Needs USE CATALOG, USE SCHEMA and CREATE
// VOLUME; EXTERNAL volumes also CREATE EXTERNAL VOLUME on their external
// location.
func (s *Service) CreateVolume(ctx context.Context, req CreateVolume) (VolumeInfo, error) {
	if err := req.Validate(); err != nil {
		return VolumeInfo{}, err
	}
	a, err := s.createIn(ctx, req.CatalogName, req.SchemaName, PrivCreateVolume)
	if err != nil {
		return VolumeInfo{}, err
	}
	sch := a.chain[1]
	r := s.newRecord(a.id, TypeVolume, &sch, req.Name, req.Comment)
	if req.VolumeType == VolumeExternal {
		if r.Location, err = s.external(ctx, a.id, req.StorageLocation, PrivCreateExternalVolume); err != nil {
			return VolumeInfo{}, err
		}
	} else {
		r.Location, r.Managed = s.managedLocation(a.chain[0], sch, "volumes", r.ID), true
	}
	r.Body = mustJSON(VolumeInfo{VolumeType: req.VolumeType})
	if err := s.store.Create(ctx, r); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return VolumeInfo{}, alreadyExists(TypeVolume, r.FullName)
		}
		return VolumeInfo{}, err
	}
	return volumeInfo(r), nil
}

// GetVolume returns a volume the caller may see.
func (s *Service) GetVolume(ctx context.Context, full string) (VolumeInfo, error) {
	return s.ResolveVolume(ctx, full)
}

// ListVolumes lists the volumes of a schema the caller may see.
func (s *Service) ListVolumes(ctx context.Context, catalog, schema string, p Page) (ListVolumesResponse, error) {
	recs, next, err := s.listChildren(ctx, catalog, schema, TypeVolume, p)
	if err != nil {
		return ListVolumesResponse{}, err
	}
	out := ListVolumesResponse{Volumes: make([]VolumeInfo, 0, len(recs)), NextPageToken: next}
	for _, r := range recs {
		out.Volumes = append(out.Volumes, volumeInfo(r))
	}
	return out, nil
}

// updateObject applies an Update to an object in a schema (owner, comment,
// name) after the manage check.
func (s *Service) updateObject(ctx context.Context, t SecurableType, full string, u Update, body func(*Record)) (Record, error) {
	if err := u.Validate(); err != nil {
		return Record{}, err
	}
	a, err := s.load(ctx, t, full)
	if err != nil {
		return Record{}, err
	}
	if err := a.manage(); err != nil {
		return Record{}, err
	}
	r := a.rec()
	if err := s.applyUpdate(ctx, a, &r, u, nil); err != nil {
		return Record{}, err
	}
	if body != nil {
		body(&r)
	}
	if err := s.store.Update(ctx, r); err != nil {
		return Record{}, err
	}
	if u.NewName != "" {
		if err := ValidateName(typeLabel(t), u.NewName); err != nil {
			return Record{}, err
		}
		if err := s.rename(ctx, a, &r, u.NewName); err != nil {
			return Record{}, err
		}
	}
	return r, nil
}

// UpdateVolume changes a volume's comment, owner or name.
func (s *Service) UpdateVolume(ctx context.Context, full string, u Update) (VolumeInfo, error) {
	r, err := s.updateObject(ctx, TypeVolume, full, u, nil)
	if err != nil {
		return VolumeInfo{}, err
	}
	return volumeInfo(r), nil
}

// DeleteVolume drops a volume (a MANAGED one is kept for the retention
// window; UndropVolume restores it). Needs ownership or MANAGE.
func (s *Service) DeleteVolume(ctx context.Context, full string) error {
	return s.dropObject(ctx, TypeVolume, full)
}

// dropObject drops a table or volume: a MANAGED one is marked dropped (and
// purged after the retention window), any other is forgotten at once.
// Needs ownership or MANAGE.
func (s *Service) dropObject(ctx context.Context, t SecurableType, full string) error {
	a, err := s.load(ctx, t, full)
	if err != nil {
		return err
	}
	if err := a.manage(); err != nil {
		return err
	}
	r := a.rec()
	if r.Managed {
		return s.store.SetDropped(ctx, []string{r.ID}, s.o.Now())
	}
	return s.store.Delete(ctx, []string{r.ID})
}

// UndropVolume restores a dropped managed volume within the retention window.
func (s *Service) UndropVolume(ctx context.Context, full string) (VolumeInfo, error) {
	r, err := s.undrop(ctx, TypeVolume, full)
	if err != nil {
		return VolumeInfo{}, err
	}
	return volumeInfo(r), nil
}

func functionInfo(r Record) FunctionInfo {
	var f FunctionInfo
	decodeBody(r, &f)
	p := parts(r.FullName)
	f.Name, f.CatalogName, f.SchemaName, f.FullName = r.Name, p[0], p[1], r.FullName
	f.Comment, f.Owner, f.FunctionID = r.Comment, r.Owner, r.ID
	f.CreatedAt, f.CreatedBy, f.UpdatedAt, f.UpdatedBy = ms(r.CreatedAt), r.CreatedBy, ms(r.UpdatedAt), r.UpdatedBy
	if f.SpecificName == "" {
		f.SpecificName = r.Name
	}
	return f
}

// CreateFunction creates a function. Needs USE CATALOG, USE SCHEMA and
// CREATE FUNCTION.
func (s *Service) CreateFunction(ctx context.Context, req CreateFunctionRequest) (FunctionInfo, error) {
	if err := req.Validate(); err != nil {
		return FunctionInfo{}, err
	}
	f := *req.FunctionInfo
	a, err := s.createIn(ctx, f.CatalogName, f.SchemaName, PrivCreateFunction)
	if err != nil {
		return FunctionInfo{}, err
	}
	sch := a.chain[1]
	r := s.newRecord(a.id, TypeFunction, &sch, f.Name, f.Comment)
	f.Owner, f.FunctionID, f.FullName, f.CreatedAt, f.CreatedBy, f.UpdatedAt, f.UpdatedBy = "", "", "", 0, "", 0, ""
	r.Body = mustJSON(f)
	if err := s.store.Create(ctx, r); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return FunctionInfo{}, alreadyExists(TypeFunction, r.FullName)
		}
		return FunctionInfo{}, err
	}
	return functionInfo(r), nil
}

// GetFunction returns a function the caller may see.
func (s *Service) GetFunction(ctx context.Context, full string) (FunctionInfo, error) {
	a, err := s.load(ctx, TypeFunction, full)
	if err != nil {
		return FunctionInfo{}, err
	}
	if err := a.see(); err != nil {
		return FunctionInfo{}, err
	}
	return functionInfo(a.rec()), nil
}

// ListFunctions lists the functions of a schema the caller may see.
func (s *Service) ListFunctions(ctx context.Context, catalog, schema string, p Page) (ListFunctionsResponse, error) {
	recs, next, err := s.listChildren(ctx, catalog, schema, TypeFunction, p)
	if err != nil {
		return ListFunctionsResponse{}, err
	}
	out := ListFunctionsResponse{Functions: make([]FunctionInfo, 0, len(recs)), NextPageToken: next}
	for _, r := range recs {
		out.Functions = append(out.Functions, functionInfo(r))
	}
	return out, nil
}

// DeleteFunction deletes a function. Needs ownership or MANAGE.
func (s *Service) DeleteFunction(ctx context.Context, full string) error {
	a, err := s.load(ctx, TypeFunction, full)
	if err != nil {
		return err
	}
	if err := a.manage(); err != nil {
		return err
	}
	return s.store.Delete(ctx, []string{a.rec().ID})
}

func modelInfo(r Record) RegisteredModelInfo {
	p := parts(r.FullName)
	return RegisteredModelInfo{Name: r.Name, CatalogName: p[0], SchemaName: p[1], FullName: r.FullName, StorageLocation: r.Location,
		Comment: r.Comment, Owner: r.Owner, ID: r.ID,
		CreatedAt: ms(r.CreatedAt), CreatedBy: r.CreatedBy, UpdatedAt: ms(r.UpdatedAt), UpdatedBy: r.UpdatedBy}
}

// CreateRegisteredModel creates a model with managed storage. Needs USE
// CATALOG, USE SCHEMA and CREATE MODEL.
func (s *Service) CreateRegisteredModel(ctx context.Context, req CreateRegisteredModel) (RegisteredModelInfo, error) {
	if err := req.Validate(); err != nil {
		return RegisteredModelInfo{}, err
	}
	a, err := s.createIn(ctx, req.CatalogName, req.SchemaName, PrivCreateModel)
	if err != nil {
		return RegisteredModelInfo{}, err
	}
	sch := a.chain[1]
	r := s.newRecord(a.id, TypeRegisteredModel, &sch, req.Name, req.Comment)
	r.Location, r.Managed, r.Body = s.managedLocation(a.chain[0], sch, "models", r.ID), true, []byte("{}")
	if err := s.store.Create(ctx, r); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return RegisteredModelInfo{}, alreadyExists(TypeRegisteredModel, r.FullName)
		}
		return RegisteredModelInfo{}, err
	}
	return modelInfo(r), nil
}

// GetRegisteredModel returns a model the caller may see.
func (s *Service) GetRegisteredModel(ctx context.Context, full string) (RegisteredModelInfo, error) {
	a, err := s.load(ctx, TypeRegisteredModel, full)
	if err != nil {
		return RegisteredModelInfo{}, err
	}
	if err := a.see(); err != nil {
		return RegisteredModelInfo{}, err
	}
	return modelInfo(a.rec()), nil
}

// ListRegisteredModels lists the models of a schema (or, with catalog and
// schema empty, of every schema) the caller may see.
func (s *Service) ListRegisteredModels(ctx context.Context, catalog, schema string, p Page) (ListRegisteredModelsResponse, error) {
	var recs []Record
	var next string
	var err error
	if catalog == "" && schema == "" {
		id, cerr := caller(ctx)
		if cerr != nil {
			return ListRegisteredModelsResponse{}, cerr
		}
		recs, next, err = s.listVisible(ctx, ListQuery{Type: TypeRegisteredModel}, p, func(rs []Record) ([]Record, error) {
			return s.visibleEach(ctx, id, rs)
		})
	} else {
		recs, next, err = s.listChildren(ctx, catalog, schema, TypeRegisteredModel, p)
	}
	if err != nil {
		return ListRegisteredModelsResponse{}, err
	}
	out := ListRegisteredModelsResponse{RegisteredModels: make([]RegisteredModelInfo, 0, len(recs)), NextPageToken: next}
	for _, r := range recs {
		out.RegisteredModels = append(out.RegisteredModels, modelInfo(r))
	}
	return out, nil
}

// visibleEach filters records from different containers, one check each.
func (s *Service) visibleEach(ctx context.Context, id *auth.Identity, rs []Record) ([]Record, error) {
	var out []Record
	for _, r := range rs {
		keys, err := chainKeys(r.Type, r.FullName)
		if err != nil {
			continue
		}
		chain, err := s.loadChain(ctx, keys[:len(keys)-1])
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		a, err := s.accessOn(ctx, id, append(chain, r))
		if err != nil {
			return nil, err
		}
		if a.visible() {
			out = append(out, r)
		}
	}
	return out, nil
}

// UpdateRegisteredModel changes a model's comment, owner or name.
func (s *Service) UpdateRegisteredModel(ctx context.Context, full string, u Update) (RegisteredModelInfo, error) {
	r, err := s.updateObject(ctx, TypeRegisteredModel, full, u, nil)
	if err != nil {
		return RegisteredModelInfo{}, err
	}
	return modelInfo(r), nil
}

// DeleteRegisteredModel drops a model; it must have no versions unless
// force. Its artifacts are removed after the retention window.
func (s *Service) DeleteRegisteredModel(ctx context.Context, full string, force bool) error {
	a, err := s.load(ctx, TypeRegisteredModel, full)
	if err != nil {
		return err
	}
	if err := a.manage(); err != nil {
		return err
	}
	r := a.rec()
	vs, err := s.store.ListModelVersions(ctx, r.ID, 0, 1)
	if err != nil {
		return err
	}
	if len(vs) > 0 && !force {
		return precondition("registered model '%s' has versions; delete them first or pass force=true", r.FullName)
	}
	return s.store.SetDropped(ctx, []string{r.ID}, s.o.Now())
}

func versionInfo(m Record, v ModelVersion) ModelVersionInfo {
	var mv ModelVersionInfo
	_ = json.Unmarshal(v.Body, &mv)
	p := parts(m.FullName)
	mv.ModelName, mv.CatalogName, mv.SchemaName = m.Name, p[0], p[1]
	mv.Version, mv.Status, mv.StorageLocation, mv.ID = v.Version, v.Status, v.Location, v.ID
	mv.CreatedAt, mv.CreatedBy, mv.UpdatedAt, mv.UpdatedBy = ms(v.CreatedAt), v.CreatedBy, ms(v.UpdatedAt), v.UpdatedBy
	return mv
}

// versionWriter checks that the caller may add or change versions of a
// model: ownership (of it or a container), MANAGE or CREATE MODEL VERSION.
func (s *Service) versionWriter(ctx context.Context, full string) (*access, error) {
	a, err := s.load(ctx, TypeRegisteredModel, full)
	if err != nil {
		return nil, err
	}
	if err := a.manage(); err != nil {
		if err2 := a.allow(PrivCreateModelVersion); err2 != nil {
			return nil, err
		}
	}
	return a, nil
}

// CreateModelVersion registers a new version (PENDING_REGISTRATION) with
// storage under the model's location.
func (s *Service) CreateModelVersion(ctx context.Context, req CreateModelVersion) (ModelVersionInfo, error) {
	if err := req.Validate(); err != nil {
		return ModelVersionInfo{}, err
	}
	a, err := s.versionWriter(ctx, req.CatalogName+"."+req.SchemaName+"."+req.ModelName)
	if err != nil {
		return ModelVersionInfo{}, err
	}
	m := a.rec()
	now := s.o.Now()
	id := s.o.NewID()
	v := ModelVersion{ModelID: m.ID, ID: id, Status: VersionPending, Location: m.Location + "/versions/" + id,
		Body: mustJSON(ModelVersionInfo{Source: req.Source, RunID: req.RunID, Comment: req.Comment}), CreatedAt: now, UpdatedAt: now,
		CreatedBy: a.id.Principal.Name, UpdatedBy: a.id.Principal.Name}
	if v.Version, err = s.store.CreateModelVersion(ctx, v); err != nil {
		return ModelVersionInfo{}, err
	}
	return versionInfo(m, v), nil
}

// modelVersion loads a version of a model the caller may see.
func (s *Service) modelVersion(ctx context.Context, a *access, version int64) (ModelVersion, error) {
	v, err := s.store.GetModelVersion(ctx, a.rec().ID, version)
	if errs.Is(err, errs.NotFound) {
		return v, errs.E(errs.NotFound, ReasonNotFound, "version %d of model '%s' does not exist", version, a.rec().FullName)
	}
	return v, err
}

// GetModelVersion returns a version of a model the caller may see.
func (s *Service) GetModelVersion(ctx context.Context, full string, version int64) (ModelVersionInfo, error) {
	a, err := s.load(ctx, TypeRegisteredModel, full)
	if err != nil {
		return ModelVersionInfo{}, err
	}
	if err := a.see(); err != nil {
		return ModelVersionInfo{}, err
	}
	v, err := s.modelVersion(ctx, a, version)
	if err != nil {
		return ModelVersionInfo{}, err
	}
	return versionInfo(a.rec(), v), nil
}

// ListModelVersions lists a model's versions in ascending order.
func (s *Service) ListModelVersions(ctx context.Context, full string, p Page) (ListModelVersionsResponse, error) {
	a, err := s.load(ctx, TypeRegisteredModel, full)
	if err != nil {
		return ListModelVersionsResponse{}, err
	}
	if err := a.see(); err != nil {
		return ListModelVersionsResponse{}, err
	}
	n, err := s.pageSize(p)
	if err != nil {
		return ListModelVersionsResponse{}, err
	}
	tok, err := decodeToken(p.Token)
	if err != nil {
		return ListModelVersionsResponse{}, err
	}
	after := int64(0)
	if tok != "" {
		if after, err = strconv.ParseInt(tok, 10, 64); err != nil {
			return ListModelVersionsResponse{}, invalid("invalid page_token")
		}
	}
	vs, err := s.store.ListModelVersions(ctx, a.rec().ID, after, n+1)
	if err != nil {
		return ListModelVersionsResponse{}, err
	}
	out := ListModelVersionsResponse{ModelVersions: []ModelVersionInfo{}}
	if len(vs) > n {
		vs = vs[:n]
		out.NextPageToken = encodeToken(strconv.FormatInt(vs[n-1].Version, 10))
	}
	for _, v := range vs {
		out.ModelVersions = append(out.ModelVersions, versionInfo(a.rec(), v))
	}
	return out, nil
}

// UpdateModelVersion changes a version's comment.
func (s *Service) UpdateModelVersion(ctx context.Context, full string, version int64, comment *string) (ModelVersionInfo, error) {
	return s.changeVersion(ctx, full, version, func(v *ModelVersion, info *ModelVersionInfo) error {
		if comment != nil {
			info.Comment = *comment
		}
		return nil
	})
}

// FinalizeModelVersion marks a PENDING_REGISTRATION version READY.
func (s *Service) FinalizeModelVersion(ctx context.Context, full string, version int64) (ModelVersionInfo, error) {
	return s.changeVersion(ctx, full, version, func(v *ModelVersion, _ *ModelVersionInfo) error {
		if v.Status != VersionPending {
			return precondition("model version %d is %s; only PENDING_REGISTRATION versions can be finalized", v.Version, v.Status)
		}
		v.Status = VersionReady
		return nil
	})
}

func (s *Service) changeVersion(ctx context.Context, full string, version int64, f func(*ModelVersion, *ModelVersionInfo) error) (ModelVersionInfo, error) {
	a, err := s.versionWriter(ctx, full)
	if err != nil {
		return ModelVersionInfo{}, err
	}
	v, err := s.modelVersion(ctx, a, version)
	if err != nil {
		return ModelVersionInfo{}, err
	}
	info := versionInfo(a.rec(), v)
	if err := f(&v, &info); err != nil {
		return ModelVersionInfo{}, err
	}
	v.Body = mustJSON(ModelVersionInfo{Source: info.Source, RunID: info.RunID, Comment: info.Comment})
	v.UpdatedAt, v.UpdatedBy = s.o.Now(), a.id.Principal.Name
	if err := s.store.UpdateModelVersion(ctx, v); err != nil {
		return ModelVersionInfo{}, err
	}
	return versionInfo(a.rec(), v), nil
}

// DeleteModelVersion deletes a version and its artifacts. Needs ownership
// or MANAGE on the model.
func (s *Service) DeleteModelVersion(ctx context.Context, full string, version int64) error {
	a, err := s.load(ctx, TypeRegisteredModel, full)
	if err != nil {
		return err
	}
	if err := a.manage(); err != nil {
		return err
	}
	v, err := s.modelVersion(ctx, a, version)
	if err != nil {
		return err
	}
	if err := s.store.DeleteModelVersion(ctx, a.rec().ID, version); err != nil {
		return err
	}
	s.removeData(ctx, v.Location)
	return nil
}
