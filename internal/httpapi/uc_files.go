package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
)

// FS is the surface of the Databricks FS API (/api/2.0/fs): the
// Databricks error shape.
var FS = &Surface{
	Name:   "files",
	Status: func(err error) int { return KindStatus(errs.KindOf(err)) },
	Body: func(err error, _ int, msg string) any {
		return DatabricksError{ErrorCode: errorCode(err), Message: msg}
	},
}

// volumePath returns the /Volumes/… path of a files or directories route.
func ucVolumePath(r *http.Request) string { return "/Volumes/" + r.PathValue("path") }

func ucParseRange(h string) (*blob.Range, error) {
	if h == "" {
		return nil, nil
	}
	spec, ok := strings.CutPrefix(h, "bytes=")
	from, to, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 || strings.Contains(spec, ",") {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "unsupported Range %q: use bytes=START-END, bytes=START- or bytes=-SUFFIX", h)
	}
	if from == "" {
		n, err := strconv.ParseInt(to, 10, 64)
		if err != nil || n <= 0 {
			return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid Range %q", h)
		}
		return &blob.Range{Offset: -n, Length: -1}, nil
	}
	a, err := strconv.ParseInt(from, 10, 64)
	if err != nil || a < 0 {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid Range %q", h)
	}
	if to == "" {
		return &blob.Range{Offset: a, Length: -1}, nil
	}
	b, err := strconv.ParseInt(to, 10, 64)
	if err != nil || b < a {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid Range %q", h)
	}
	return &blob.Range{Offset: a, Length: b - a + 1}, nil
}

func (a *ucAPI) mountFiles(s *Server) {
	c := a.cat
	const files, dirs = "/api/2.0/fs/files/Volumes/", "/api/2.0/fs/directories/Volumes/"
	s.Handle("PUT "+files+"{path...}", FS, func(w http.ResponseWriter, r *http.Request) error {
		if err := c.UploadFile(r.Context(), ucVolumePath(r), r.Body, ucBool(r, "overwrite")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("GET "+files+"{path...}", FS, func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == http.MethodHead {
			at, err := c.StatFile(r.Context(), ucVolumePath(r))
			if err != nil {
				return err
			}
			ucFileHeaders(w, at)
			w.WriteHeader(http.StatusOK)
			return nil
		}
		rng, err := ucParseRange(r.Header.Get("Range"))
		if err != nil {
			return err
		}
		if rng != nil && rng.Offset < 0 {
			at, err := c.StatFile(r.Context(), ucVolumePath(r))
			if err != nil {
				return err
			}
			rng.Offset = max(0, at.Size+rng.Offset)
		}
		rc, at, err := c.DownloadFile(r.Context(), ucVolumePath(r), rng)
		if err != nil {
			if rng != nil && errs.ReasonOf(err) == "OUT_OF_RANGE" {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", at.Size))
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "range not satisfiable: %s", errs.Message(err))
			}
			return err
		}
		defer rc.Close()
		ucFileHeaders(w, at)
		status := http.StatusOK
		if rng != nil {
			n := at.Size - rng.Offset
			if rng.Length >= 0 && rng.Length < n {
				n = rng.Length
			}
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.Offset, rng.Offset+n-1, at.Size))
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
			status = http.StatusPartialContent
		}
		w.WriteHeader(status)
		_, err = io.Copy(w, rc)
		return err
	})
	s.Handle("DELETE "+files+"{path...}", FS, func(w http.ResponseWriter, r *http.Request) error {
		if err := c.DeleteFile(r.Context(), ucVolumePath(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("GET "+dirs+"{path...}", FS, func(w http.ResponseWriter, r *http.Request) error {
		p, err := ucPage(r)
		if err != nil {
			return err
		}
		if r.URL.Query().Get("page_size") != "" {
			n, err := strconv.Atoi(r.URL.Query().Get("page_size"))
			if err != nil {
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "page_size must be an integer")
			}
			p.MaxResults = n
		}
		l, err := c.ListDirectory(r.Context(), ucVolumePath(r), p)
		if err != nil {
			return err
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return nil
		}
		return ucOK(w, l)
	})
	s.Handle("PUT "+dirs+"{path...}", FS, func(w http.ResponseWriter, r *http.Request) error {
		if err := c.CreateDirectory(r.Context(), ucVolumePath(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("DELETE "+dirs+"{path...}", FS, func(w http.ResponseWriter, r *http.Request) error {
		if err := c.DeleteDirectory(r.Context(), ucVolumePath(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	_ = catalog.DirMarker
}

func ucFileHeaders(w http.ResponseWriter, at blob.Attrs) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(at.Size, 10))
	w.Header().Set("Last-Modified", at.ModTime.UTC().Format(time.RFC1123[:len(time.RFC1123)-3]+"GMT"))
	w.Header().Set("Accept-Ranges", "bytes")
}
