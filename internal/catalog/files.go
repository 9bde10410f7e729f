package catalog

import (
	"context"
	"io"
	"strings"
	"unicode"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// DirMarker is the object that records an explicitly created, possibly
// empty, directory of a volume; listings hide it and paths may not name it.
const DirMarker = ".lakebox-dir"

// VolumePath is a parsed /Volumes/<catalog>/<schema>/<volume>[/<path>].
type VolumePath struct {
	Volume string // catalog.schema.volume, lower case
	Key    string // path inside the volume, "" for its root
}

// String returns the canonical /Volumes/… form.
func (v VolumePath) String() string {
	s := "/Volumes/" + strings.ReplaceAll(v.Volume, ".", "/")
	if v.Key != "" {
		s += "/" + v.Key
	}
	return s
}

// ParseVolumePath parses an absolute volume path (a "dbfs:" prefix is
// accepted). It refuses ".", ".." and empty segments, NUL and other control
// characters and backslashes, so nothing outside the volume can be named.
// Errors: errs.Invalid.
func ParseVolumePath(p string) (VolumePath, error) {
	p = strings.TrimPrefix(p, "dbfs:")
	for _, r := range p {
		if r == 0 || r == '\\' || unicode.IsControl(r) {
			return VolumePath{}, invalid("invalid volume path %q: NUL, control characters and backslashes are not allowed", p)
		}
	}
	if !strings.HasPrefix(p, "/Volumes/") {
		return VolumePath{}, invalid("invalid volume path %q: expected /Volumes/<catalog>/<schema>/<volume>/<path>", p)
	}
	rest := strings.TrimSuffix(strings.TrimPrefix(p, "/Volumes/"), "/")
	segs := strings.Split(rest, "/")
	for _, s := range segs {
		switch s {
		case "", ".", "..":
			return VolumePath{}, invalid("invalid volume path %q: empty, \".\" and \"..\" segments are not allowed", p)
		case DirMarker:
			return VolumePath{}, invalid("invalid volume path %q: %s is a reserved name", p, DirMarker)
		}
	}
	if len(segs) < 3 {
		return VolumePath{}, invalid("invalid volume path %q: expected /Volumes/<catalog>/<schema>/<volume>/<path>", p)
	}
	ps, err := splitFullName(TypeVolume, strings.Join(segs[:3], "."), 3)
	if err != nil {
		return VolumePath{}, err
	}
	v := VolumePath{Volume: strings.Join(ps, "."), Key: strings.Join(segs[3:], "/")}
	if v.Key != "" {
		if err := blob.ValidateKey(v.Key); err != nil {
			return VolumePath{}, invalid("invalid volume path %q: %s", p, errs.Message(err))
		}
	}
	return v, nil
}

// openVolume checks READ VOLUME (or WRITE VOLUME when write) and opens the
// volume's storage.
func (s *Service) openVolume(ctx context.Context, path string, write bool) (VolumePath, blob.Bucket, error) {
	vp, err := ParseVolumePath(path)
	if err != nil {
		return vp, nil, err
	}
	a, err := s.load(ctx, TypeVolume, vp.Volume)
	if err != nil {
		return vp, nil, err
	}
	need := PrivReadVolume
	if write {
		need = PrivWriteVolume
	}
	if err := a.allow(need); err != nil {
		return vp, nil, err
	}
	if s.storage == nil {
		return vp, nil, errs.E(errs.Unavailable, "STORAGE_UNAVAILABLE", "no storage configured")
	}
	b, err := s.storage.Open(ctx, a.rec().Location)
	if err != nil {
		return vp, nil, err
	}
	return vp, b, nil
}

func fileNotFound(vp VolumePath) error {
	return errs.E(errs.NotFound, "NOT_FOUND", "file %s does not exist", vp)
}

func needFile(vp VolumePath) error {
	if vp.Key == "" {
		return invalid("%s is a volume root, not a file", vp)
	}
	return nil
}

// UploadFile stores r at a volume path; without overwrite an existing file
// is refused with errs.AlreadyExists. Needs WRITE VOLUME.
func (s *Service) UploadFile(ctx context.Context, path string, r io.Reader, overwrite bool) error {
	vp, b, err := s.openVolume(ctx, path, true)
	if err != nil {
		return err
	}
	defer closeBucket(b)
	if err := needFile(vp); err != nil {
		return err
	}
	err = b.Put(ctx, vp.Key, r, blob.PutOptions{IfAbsent: !overwrite})
	switch {
	case errs.Is(err, errs.Conflict):
		return errs.E(errs.AlreadyExists, "ALREADY_EXISTS", "file %s already exists; pass overwrite=true to replace it", vp)
	case errs.Is(err, errs.FailedPrecondition):
		return errs.E(errs.AlreadyExists, "ALREADY_EXISTS", "cannot write %s: a directory or file is in the way", vp)
	case errs.Is(err, errs.Invalid):
		return invalid("cannot write %s: %s", vp, errs.Message(err))
	}
	return err
}

// DownloadFile opens a file of a volume (rng selects bytes). Needs READ
// VOLUME.
func (s *Service) DownloadFile(ctx context.Context, path string, rng *blob.Range) (io.ReadCloser, blob.Attrs, error) {
	vp, b, err := s.openVolume(ctx, path, false)
	if err != nil {
		return nil, blob.Attrs{}, err
	}
	if err := needFile(vp); err != nil {
		closeBucket(b)
		return nil, blob.Attrs{}, err
	}
	at, err := b.Head(ctx, vp.Key)
	if err != nil {
		closeBucket(b)
		return nil, blob.Attrs{}, mapBlobErr(vp, err)
	}
	rc, err := b.Get(ctx, vp.Key, rng)
	if err != nil {
		closeBucket(b)
		return nil, at, mapBlobErr(vp, err)
	}
	return &closeBoth{rc, b}, at, nil
}

type closeBoth struct {
	io.ReadCloser
	b blob.Bucket
}

func (c *closeBoth) Close() error {
	err := c.ReadCloser.Close()
	closeBucket(c.b)
	return err
}

func mapBlobErr(vp VolumePath, err error) error {
	switch {
	case errs.Is(err, errs.NotFound):
		return fileNotFound(vp)
	case errs.Is(err, errs.Invalid):
		if errs.ReasonOf(err) == blob.ReasonInvalidRange {
			return errs.E(errs.Invalid, "OUT_OF_RANGE", "%s", errs.Message(err))
		}
		return invalid("%s: %s", vp, errs.Message(err))
	}
	return err
}

// StatFile returns a file's attributes. Needs READ VOLUME.
func (s *Service) StatFile(ctx context.Context, path string) (blob.Attrs, error) {
	vp, b, err := s.openVolume(ctx, path, false)
	if err != nil {
		return blob.Attrs{}, err
	}
	defer closeBucket(b)
	if err := needFile(vp); err != nil {
		return blob.Attrs{}, err
	}
	at, err := b.Head(ctx, vp.Key)
	return at, mapBlobErr(vp, err)
}

// DeleteFile deletes a file. Needs WRITE VOLUME. Errors: errs.NotFound.
func (s *Service) DeleteFile(ctx context.Context, path string) error {
	vp, b, err := s.openVolume(ctx, path, true)
	if err != nil {
		return err
	}
	defer closeBucket(b)
	if err := needFile(vp); err != nil {
		return err
	}
	if _, err := b.Head(ctx, vp.Key); err != nil {
		return mapBlobErr(vp, err)
	}
	return mapBlobErr(vp, b.Delete(ctx, vp.Key))
}

// DirectoryEntry is one entry of a directory listing.
type DirectoryEntry struct {
	Path         string `json:"path"`
	IsDirectory  bool   `json:"is_directory"`
	FileSize     int64  `json:"file_size,omitempty"`
	LastModified int64  `json:"last_modified,omitempty"`
	Name         string `json:"name"`
}

// DirectoryList is a page of a directory listing.
type DirectoryList struct {
	Contents      []DirectoryEntry `json:"contents"`
	NextPageToken string           `json:"next_page_token,omitempty"`
}

const skipSuffix = "/\U0010FFFF\U0010FFFF"

// ListDirectory lists the files and subdirectories directly in a volume
// directory, by name. Needs READ VOLUME. Errors: errs.NotFound for a
// directory that does not exist.
func (s *Service) ListDirectory(ctx context.Context, path string, p Page) (DirectoryList, error) {
	vp, b, err := s.openVolume(ctx, path, false)
	if err != nil {
		return DirectoryList{}, err
	}
	defer closeBucket(b)
	n, err := s.pageSize(p)
	if err != nil {
		return DirectoryList{}, err
	}
	after, err := decodeToken(p.Token)
	if err != nil {
		return DirectoryList{}, err
	}
	prefix := ""
	if vp.Key != "" {
		prefix = vp.Key + "/"
		if _, err := b.Head(ctx, vp.Key); err == nil {
			return DirectoryList{}, invalid("%s is a file, not a directory", vp)
		}
	}
	type ent struct {
		e     DirectoryEntry
		after string
	}
	var ents []ent
	seenAny := false
	base := vp.String()
	for len(ents) <= n {
		objs, err := b.List(ctx, blob.ListOptions{Prefix: prefix, StartAfter: after, Limit: 1000})
		if err != nil {
			return DirectoryList{}, mapBlobErr(vp, err)
		}
		jumped := false
		for _, o := range objs {
			seenAny = true
			rest := o.Key[len(prefix):]
			if dir, _, ok := strings.Cut(rest, "/"); ok {
				after = prefix + dir + skipSuffix
				ents = append(ents, ent{DirectoryEntry{Path: base + "/" + dir + "/", IsDirectory: true, Name: dir}, after})
				jumped = true
				break // re-list from after the subdirectory
			}
			after = o.Key
			if rest == DirMarker {
				continue
			}
			ents = append(ents, ent{DirectoryEntry{Path: base + "/" + rest, FileSize: o.Size, LastModified: o.ModTime.UnixMilli(), Name: rest}, o.Key})
			if len(ents) > n {
				break
			}
		}
		if len(objs) == 0 || len(ents) > n {
			break
		}
		if !jumped && len(objs) < 1000 {
			break
		}
	}
	if !seenAny && vp.Key != "" && p.Token == "" {
		return DirectoryList{}, errs.E(errs.NotFound, "NOT_FOUND", "directory %s does not exist", vp)
	}
	out := DirectoryList{Contents: []DirectoryEntry{}}
	if len(ents) > n {
		ents = ents[:n]
		out.NextPageToken = encodeToken(ents[n-1].after)
	}
	for _, e := range ents {
		out.Contents = append(out.Contents, e.e)
	}
	return out, nil
}

// CreateDirectory creates a directory (and its parents). Needs WRITE VOLUME.
func (s *Service) CreateDirectory(ctx context.Context, path string) error {
	vp, b, err := s.openVolume(ctx, path, true)
	if err != nil {
		return err
	}
	defer closeBucket(b)
	if vp.Key == "" {
		return nil
	}
	if _, err := b.Head(ctx, vp.Key); err == nil {
		return errs.E(errs.AlreadyExists, "ALREADY_EXISTS", "%s is a file", vp)
	}
	err = b.Put(ctx, vp.Key+"/"+DirMarker, strings.NewReader(""), blob.PutOptions{IfAbsent: true})
	if errs.Is(err, errs.Conflict) {
		return nil
	}
	if errs.Is(err, errs.FailedPrecondition) {
		return errs.E(errs.AlreadyExists, "ALREADY_EXISTS", "cannot create %s: a file is in the way", vp)
	}
	return mapBlobErr(vp, err)
}

// DeleteDirectory deletes an empty directory. Needs WRITE VOLUME.
func (s *Service) DeleteDirectory(ctx context.Context, path string) error {
	vp, b, err := s.openVolume(ctx, path, true)
	if err != nil {
		return err
	}
	defer closeBucket(b)
	if vp.Key == "" {
		return invalid("the root of a volume cannot be deleted; delete the volume instead")
	}
	objs, err := b.List(ctx, blob.ListOptions{Prefix: vp.Key + "/", Limit: 2})
	if err != nil {
		return mapBlobErr(vp, err)
	}
	if len(objs) == 0 {
		return errs.E(errs.NotFound, "NOT_FOUND", "directory %s does not exist", vp)
	}
	for _, o := range objs {
		if o.Key != vp.Key+"/"+DirMarker {
			return errs.E(errs.FailedPrecondition, "DIRECTORY_NOT_EMPTY", "directory %s is not empty", vp)
		}
	}
	return mapBlobErr(vp, b.Delete(ctx, vp.Key+"/"+DirMarker))
}
