package catalog

import (
	"context"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

func credentialInfo(r Record) CredentialInfo {
	var c CredentialInfo
	decodeBody(r, &c)
	c.Name, c.FullName, c.Comment, c.Owner, c.ID = r.Name, r.FullName, r.Comment, r.Owner, r.ID
	c.CreatedAt, c.CreatedBy, c.UpdatedAt, c.UpdatedBy = ms(r.CreatedAt), r.CreatedBy, ms(r.UpdatedAt), r.UpdatedBy
	return c
}

func locationInfo(r Record) ExternalLocationInfo {
	var l ExternalLocationInfo
	decodeBody(r, &l)
	l.Name, l.URL, l.Comment, l.Owner, l.ID = r.Name, r.Location, r.Comment, r.Owner, r.ID
	l.CreatedAt, l.CreatedBy, l.UpdatedAt, l.UpdatedBy = ms(r.CreatedAt), r.CreatedBy, ms(r.UpdatedAt), r.UpdatedBy
	return l
}

// CreateCredential registers a storage credential. Needs CREATE STORAGE
// CREDENTIAL on the metastore (admins pass).
func (s *Service) CreateCredential(ctx context.Context, req CreateCredential) (CredentialInfo, error) {
	if err := req.Validate(); err != nil {
		return CredentialInfo{}, err
	}
	if err := s.Authorize(ctx, TypeMetastore, "", PrivCreateStorageCredential); err != nil {
		return CredentialInfo{}, err
	}
	id, _ := caller(ctx)
	r := s.newRecord(id, TypeCredential, nil, req.Name, req.Comment)
	r.Body = mustJSON(CredentialInfo{AwsIamRole: req.AwsIamRole, Purpose: req.Purpose})
	if err := s.store.Create(ctx, r); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return CredentialInfo{}, alreadyExists(TypeCredential, r.FullName)
		}
		return CredentialInfo{}, err
	}
	return credentialInfo(r), nil
}

// GetCredential returns a credential the caller owns or holds a privilege on.
func (s *Service) GetCredential(ctx context.Context, name string) (CredentialInfo, error) {
	a, err := s.load(ctx, TypeCredential, name)
	if err != nil {
		return CredentialInfo{}, err
	}
	if err := a.see(); err != nil {
		return CredentialInfo{}, err
	}
	return credentialInfo(a.rec()), nil
}

// ListCredentials lists the credentials the caller may see.
func (s *Service) ListCredentials(ctx context.Context, p Page) (ListCredentialsResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return ListCredentialsResponse{}, err
	}
	recs, next, err := s.listVisible(ctx, ListQuery{Type: TypeCredential}, p, func(rs []Record) ([]Record, error) {
		return s.visibleChildren(ctx, id, nil, rs)
	})
	if err != nil {
		return ListCredentialsResponse{}, err
	}
	out := ListCredentialsResponse{Credentials: []CredentialInfo{}, NextPageToken: next}
	for _, r := range recs {
		out.Credentials = append(out.Credentials, credentialInfo(r))
	}
	return out, nil
}

// UpdateCredential changes a credential. Needs ownership or MANAGE.
func (s *Service) UpdateCredential(ctx context.Context, name string, u CredentialUpdate) (CredentialInfo, error) {
	r, err := s.updateObject(ctx, TypeCredential, name, Update{Comment: u.Comment, Owner: u.Owner, NewName: u.NewName}, func(r *Record) {
		if u.AwsIamRole != nil {
			c := credentialInfo(*r)
			r.Body = mustJSON(CredentialInfo{AwsIamRole: u.AwsIamRole, Purpose: c.Purpose})
		}
	})
	if err != nil {
		return CredentialInfo{}, err
	}
	return credentialInfo(r), nil
}

// DeleteCredential deletes a credential; one used by external locations
// only with force. Needs ownership or MANAGE.
func (s *Service) DeleteCredential(ctx context.Context, name string, force bool) error {
	a, err := s.load(ctx, TypeCredential, name)
	if err != nil {
		return err
	}
	if err := a.manage(); err != nil {
		return err
	}
	locs, err := s.store.List(ctx, ListQuery{Type: TypeExternalLocation})
	if err != nil {
		return err
	}
	for _, l := range locs {
		if locationInfo(l).CredentialID == a.rec().ID && !force {
			return precondition("credential '%s' is used by external location '%s'; delete it first or pass force=true", a.rec().Name, l.Name)
		}
	}
	return s.store.Delete(ctx, []string{a.rec().ID})
}

// CreateExternalLocation registers an external location. Needs CREATE
// EXTERNAL LOCATION on the metastore and on the credential (admins pass).
// The URL may not overlap the warehouse or another external location.
func (s *Service) CreateExternalLocation(ctx context.Context, req CreateExternalLocation) (ExternalLocationInfo, error) {
	if err := req.Validate(); err != nil {
		return ExternalLocationInfo{}, err
	}
	if err := s.Authorize(ctx, TypeMetastore, "", PrivCreateExternalLocation); err != nil {
		return ExternalLocationInfo{}, err
	}
	ca, err := s.load(ctx, TypeCredential, req.CredentialName)
	if err != nil {
		return ExternalLocationInfo{}, err
	}
	if err := ca.allow(PrivCreateExternalLocation); err != nil {
		return ExternalLocationInfo{}, err
	}
	if err := s.checkLocationURL(ctx, req.URL, ""); err != nil {
		return ExternalLocationInfo{}, err
	}
	r := s.newRecord(ca.id, TypeExternalLocation, nil, req.Name, req.Comment)
	r.Location = req.URL
	r.Body = mustJSON(ExternalLocationInfo{CredentialName: ca.rec().Name, CredentialID: ca.rec().ID})
	if err := s.store.Create(ctx, r); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return ExternalLocationInfo{}, alreadyExists(TypeExternalLocation, r.FullName)
		}
		return ExternalLocationInfo{}, err
	}
	return locationInfo(r), nil
}

func (s *Service) checkLocationURL(ctx context.Context, u, selfID string) error {
	if s.o.WarehouseURL != "" && (under(u, s.o.WarehouseURL) || under(s.o.WarehouseURL, u)) {
		return invalid("external location URL %q overlaps the warehouse %s, which holds managed storage", u, s.o.WarehouseURL)
	}
	locs, err := s.store.List(ctx, ListQuery{Type: TypeExternalLocation})
	if err != nil {
		return err
	}
	for _, l := range locs {
		if l.ID != selfID && (under(u, l.Location) || under(l.Location, u)) {
			return invalid("external location URL %q overlaps external location '%s' (%s)", u, l.Name, l.Location)
		}
	}
	return nil
}

// GetExternalLocation returns an external location the caller may see.
func (s *Service) GetExternalLocation(ctx context.Context, name string) (ExternalLocationInfo, error) {
	a, err := s.load(ctx, TypeExternalLocation, name)
	if err != nil {
		return ExternalLocationInfo{}, err
	}
	if err := a.see(); err != nil {
		return ExternalLocationInfo{}, err
	}
	return locationInfo(a.rec()), nil
}

// ListExternalLocations lists the external locations the caller may see.
func (s *Service) ListExternalLocations(ctx context.Context, p Page) (ListExternalLocationsResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return ListExternalLocationsResponse{}, err
	}
	recs, next, err := s.listVisible(ctx, ListQuery{Type: TypeExternalLocation}, p, func(rs []Record) ([]Record, error) {
		return s.visibleChildren(ctx, id, nil, rs)
	})
	if err != nil {
		return ListExternalLocationsResponse{}, err
	}
	out := ListExternalLocationsResponse{ExternalLocations: []ExternalLocationInfo{}, NextPageToken: next}
	for _, r := range recs {
		out.ExternalLocations = append(out.ExternalLocations, locationInfo(r))
	}
	return out, nil
}

// UpdateExternalLocation changes an external location. Needs ownership or
// MANAGE.
func (s *Service) UpdateExternalLocation(ctx context.Context, name string, u ExternalLocationUpdate) (ExternalLocationInfo, error) {
	var newURL string
	if u.URL != "" {
		v, err := normalizeURL(u.URL)
		if err != nil {
			return ExternalLocationInfo{}, err
		}
		newURL = v
		cur, err := s.store.Get(ctx, TypeExternalLocation, strings.ToLower(name))
		if err == nil {
			if err := s.checkLocationURL(ctx, v, cur.ID); err != nil {
				return ExternalLocationInfo{}, err
			}
		}
	}
	var cred *Record
	if u.CredentialName != "" {
		c, err := s.store.Get(ctx, TypeCredential, strings.ToLower(u.CredentialName))
		if err != nil {
			return ExternalLocationInfo{}, notFound(TypeCredential, u.CredentialName)
		}
		cred = &c
	}
	r, err := s.updateObject(ctx, TypeExternalLocation, name, Update{Comment: u.Comment, Owner: u.Owner, NewName: u.NewName}, func(r *Record) {
		if newURL != "" {
			r.Location = newURL
		}
		if cred != nil {
			r.Body = mustJSON(ExternalLocationInfo{CredentialName: cred.Name, CredentialID: cred.ID})
		}
	})
	if err != nil {
		return ExternalLocationInfo{}, err
	}
	return locationInfo(r), nil
}

// DeleteExternalLocation deletes an external location; one still holding
// external tables or volumes only with force. Needs ownership or MANAGE.
func (s *Service) DeleteExternalLocation(ctx context.Context, name string, force bool) error {
	a, err := s.load(ctx, TypeExternalLocation, name)
	if err != nil {
		return err
	}
	if err := a.manage(); err != nil {
		return err
	}
	if !force {
		for _, t := range []SecurableType{TypeTable, TypeVolume} {
			recs, err := s.store.List(ctx, ListQuery{Type: t})
			if err != nil {
				return err
			}
			for _, r := range recs {
				if !r.Managed && r.Location != "" && under(r.Location, a.rec().Location) {
					return precondition("external location '%s' holds %s '%s'; delete it first or pass force=true", a.rec().Name, t, r.FullName)
				}
			}
		}
	}
	return s.store.Delete(ctx, []string{a.rec().ID})
}

// vend builds temporary credentials for loc. For s3:// storage it returns
// the configured static key pair, which is not scoped down to loc: every
// caller who passes the privilege check receives the server's key pair, so
// it is only vended when the operator opted in (Options.S3); otherwise an
// s3:// location is refused (STS/AssumeRole vending scoped to the
// location does not exist yet). Local locations need no credentials.
func (s *Service) vend(loc string) (TemporaryCredentials, error) {
	tc := TemporaryCredentials{URL: loc, ExpirationTime: s.o.Now().Add(s.o.CredentialTTL).UnixMilli()}
	if strings.HasPrefix(loc, "s3://") {
		if s.o.S3 == nil {
			return TemporaryCredentials{}, errs.E(errs.FailedPrecondition, "CREDENTIAL_VENDING_DISABLED",
				"this server does not vend credentials for %s: it has no way to scope them to the location; read the data through Lakebox (SQL, the files API), or start the server with --s3-vend-static-credentials to hand out its own, unscoped S3 key pair", loc)
		}
		tc.AwsTempCredentials = &AwsCredentials{AccessKeyID: s.o.S3.AccessKeyID, SecretAccessKey: s.o.S3.SecretAccessKey}
	}
	return tc, nil
}

// TableCredentials vends credentials for a table's storage. READ needs
// SELECT (or ownership of the table); READ_WRITE needs SELECT and MODIFY
// (or ownership). As in Unity Catalog, owning a container or being a
// metastore admin is not enough: a table-level privilege (inherited grants
// count) is required.
func (s *Service) TableCredentials(ctx context.Context, tableID, operation string) (TemporaryCredentials, error) {
	r, err := s.byID(ctx, TypeTable, tableID)
	if err != nil {
		return TemporaryCredentials{}, err
	}
	a, err := s.load(ctx, TypeTable, r.FullName)
	if err != nil {
		return TemporaryCredentials{}, err
	}
	var need []Privilege
	switch operation {
	case OpRead:
		need = []Privilege{PrivSelect}
	case OpReadWrite:
		need = []Privilege{PrivSelect, PrivModify}
	default:
		return TemporaryCredentials{}, invalid("invalid operation %q; accepted: READ, READ_WRITE", operation)
	}
	if err := a.explicit(need...); err != nil {
		return TemporaryCredentials{}, err
	}
	if a.rec().Location == "" {
		return TemporaryCredentials{}, precondition("table '%s' has no storage location", a.rec().FullName)
	}
	return s.vend(a.rec().Location)
}

// explicit checks usage gates and, unless the principal owns the leaf
// itself, every privilege in need on the leaf (inherited grants count;
// admin or container ownership alone does not).
func (a *access) explicit(need ...Privilege) error {
	if err := a.gate(a.leaf()); err != nil {
		return err
	}
	if a.ownsAt(a.leaf()) {
		return nil
	}
	for _, p := range need {
		if !a.has(a.leaf(), p) {
			return a.deny(p, a.leaf())
		}
	}
	return nil
}

func (s *Service) byID(ctx context.Context, t SecurableType, id string) (Record, error) {
	if id == "" {
		return Record{}, invalid("%s_id is required", t)
	}
	r, err := s.store.GetByID(ctx, id)
	if err != nil || r.Type != t || !r.DroppedAt.IsZero() {
		return Record{}, errs.E(errs.NotFound, ReasonNotFound, "%s with id %q does not exist", typeLabel(t), id)
	}
	return r, nil
}

// VolumeCredentials vends credentials for a volume's storage: READ_VOLUME
// needs READ VOLUME, WRITE_VOLUME needs READ VOLUME and WRITE VOLUME (or
// ownership of the volume).
func (s *Service) VolumeCredentials(ctx context.Context, volumeID, operation string) (TemporaryCredentials, error) {
	r, err := s.byID(ctx, TypeVolume, volumeID)
	if err != nil {
		return TemporaryCredentials{}, err
	}
	a, err := s.load(ctx, TypeVolume, r.FullName)
	if err != nil {
		return TemporaryCredentials{}, err
	}
	switch operation {
	case OpReadVolume:
		err = a.explicit(PrivReadVolume)
	case OpWriteVolume:
		err = a.explicit(PrivReadVolume, PrivWriteVolume)
	default:
		err = invalid("invalid operation %q; accepted: READ_VOLUME, WRITE_VOLUME", operation)
	}
	if err != nil {
		return TemporaryCredentials{}, err
	}
	return s.vend(a.rec().Location)
}

// ModelVersionCredentials vends credentials for a model version's
// artifacts: READ_MODEL_VERSION needs EXECUTE (or ownership);
// READ_WRITE_MODEL_VERSION needs ownership, MANAGE or CREATE MODEL VERSION
// and a version still PENDING_REGISTRATION.
func (s *Service) ModelVersionCredentials(ctx context.Context, catalog, schema, model string, version int64, operation string) (TemporaryCredentials, error) {
	if err := validateParent(catalog, schema); err != nil {
		return TemporaryCredentials{}, err
	}
	full := catalog + "." + schema + "." + model
	var a *access
	var err error
	switch operation {
	case OpReadModelVersion:
		if a, err = s.load(ctx, TypeRegisteredModel, full); err == nil {
			err = a.explicit(PrivExecute)
		}
	case OpReadWriteModelVersion:
		a, err = s.versionWriter(ctx, full)
	default:
		err = invalid("invalid operation %q; accepted: READ_MODEL_VERSION, READ_WRITE_MODEL_VERSION", operation)
	}
	if err != nil {
		return TemporaryCredentials{}, err
	}
	v, err := s.modelVersion(ctx, a, version)
	if err != nil {
		return TemporaryCredentials{}, err
	}
	if operation == OpReadWriteModelVersion && v.Status != VersionPending {
		return TemporaryCredentials{}, precondition("model version %d is %s; write credentials are only vended while PENDING_REGISTRATION", version, v.Status)
	}
	return s.vend(v.Location)
}

// PathCredentials vends credentials for a URL under an external location:
// PATH_READ needs READ FILES, PATH_READ_WRITE needs READ FILES and WRITE
// FILES, PATH_CREATE_TABLE needs CREATE EXTERNAL TABLE on the location (or
// its ownership; metastore admins pass). Managed storage is refused.
func (s *Service) PathCredentials(ctx context.Context, rawURL, operation string) (TemporaryCredentials, error) {
	id, err := caller(ctx)
	if err != nil {
		return TemporaryCredentials{}, err
	}
	u, err := normalizeURL(rawURL)
	if err != nil {
		return TemporaryCredentials{}, err
	}
	var need []Privilege
	switch operation {
	case OpPathRead:
		need = []Privilege{PrivReadFiles}
	case OpPathReadWrite:
		need = []Privilege{PrivReadFiles, PrivWriteFiles}
	case OpPathCreateTable:
		need = []Privilege{PrivCreateExternalTable}
	default:
		return TemporaryCredentials{}, invalid("invalid operation %q; accepted: PATH_READ, PATH_READ_WRITE, PATH_CREATE_TABLE", operation)
	}
	if s.o.WarehouseURL != "" && under(u, s.o.WarehouseURL) {
		return TemporaryCredentials{}, denied("path credentials are not vended for managed storage (%s); request table or volume credentials instead", u)
	}
	for _, p := range need {
		if _, err := s.external(ctx, id, u, p); err != nil {
			return TemporaryCredentials{}, err
		}
	}
	return s.vend(u)
}
