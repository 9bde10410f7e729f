package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/artifact"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/tracking"
)

var artifactPrefixes = []string{"/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"}

// MountMLflowArtifacts registers the mlflow-artifacts proxy API, the old
// /mlflow/artifacts/list and the logged-model artifact listing on s.
func (s *Server) MountMLflowArtifacts(art *artifact.Service, t *tracking.Service) {
	h := func(method, path string, fn HandlerFunc) {
		for _, p := range artifactPrefixes {
			s.Handle(method+" "+p+path, MLflow, fn)
		}
	}
	h("PUT", "artifacts/{path...}", func(w http.ResponseWriter, r *http.Request) error {
		if err := art.Put(r.Context(), r.PathValue("path"), r.Body); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	h("GET", "artifacts/{path...}", func(w http.ResponseWriter, r *http.Request) error {
		p := r.PathValue("path")
		if strings.TrimSuffix(p, "/") == "" {
			return listArtifacts(w, r, art, r.URL.Query().Get("path"))
		}
		return download(w, r, art, p)
	})
	h("GET", "artifacts", func(w http.ResponseWriter, r *http.Request) error {
		return listArtifacts(w, r, art, r.URL.Query().Get("path"))
	})
	h("DELETE", "artifacts/{path...}", func(w http.ResponseWriter, r *http.Request) error {
		if err := art.Delete(r.Context(), r.PathValue("path")); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	type mpuReq struct {
		Path     string          `json:"path"`
		NumParts i64             `json:"num_parts"`
		UploadID string          `json:"upload_id"`
		Parts    []artifact.Part `json:"parts"`
	}
	mpuPath := func(r *http.Request, req mpuReq) string {
		if p := r.PathValue("path"); p != "" {
			return p
		}
		return req.Path
	}
	h("POST", "mpu/create/{path...}", func(w http.ResponseWriter, r *http.Request) error {
		var req mpuReq
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if req.NumParts < 1 || req.NumParts > 10000 {
			return tracking.Invalid("num_parts must be between 1 and 10000, got %d", req.NumParts)
		}
		id, err := art.CreateMultipart(r.Context(), mpuPath(r, req))
		if err != nil {
			return err
		}
		base := baseURL(r) + strings.SplitN(r.URL.Path, "/mpu/", 2)[0] + "/mpu/upload-part/" + id + "/"
		creds := make([]map[string]any, 0, req.NumParts)
		for n := int64(1); n <= int64(req.NumParts); n++ {
			creds = append(creds, map[string]any{"url": base + strconv.FormatInt(n, 10), "part_number": n, "headers": map[string]string{}})
		}
		return writeMLflow(w, map[string]any{"upload_id": id, "credentials": creds})
	})
	h("POST", "mpu/complete/{path...}", func(w http.ResponseWriter, r *http.Request) error {
		var req mpuReq
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if req.UploadID == "" {
			return tracking.Missing("upload_id")
		}
		if err := art.CompleteMultipart(r.Context(), mpuPath(r, req), req.UploadID, req.Parts); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	h("POST", "mpu/abort/{path...}", func(w http.ResponseWriter, r *http.Request) error {
		var req mpuReq
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if req.UploadID == "" {
			return tracking.Missing("upload_id")
		}
		if err := art.AbortMultipart(r.Context(), mpuPath(r, req), req.UploadID); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	// Part uploads go to the URLs handed out above. Like presigned URLs,
	// they carry no credentials: the 128-bit random upload id is the
	// capability, and it only admits parts of an upload an authenticated
	// caller started.
	for _, p := range artifactPrefixes {
		s.HandlePublic("PUT "+p+"mpu/upload-part/{upload_id}/{part_number}", MLflow, func(w http.ResponseWriter, r *http.Request) error {
			n, err := strconv.ParseInt(r.PathValue("part_number"), 10, 64)
			if err != nil {
				return tracking.Invalid("part_number must be an integer")
			}
			etag, err := art.UploadPart(r.Context(), r.PathValue("upload_id"), n, r.Body)
			if err != nil {
				return err
			}
			w.Header().Set("ETag", etag)
			return writeMLflow(w, nil)
		})
	}
	// Lakebox extension: resolve runs:/, models:/ and mlflow-artifacts:/ URIs.
	h("GET", "resolve", func(w http.ResponseWriter, r *http.Request) error {
		uri := r.URL.Query().Get("uri")
		if uri == "" {
			return tracking.Missing("uri")
		}
		p, err := art.Resolve(r.Context(), uri)
		if err != nil {
			return err
		}
		files, err := art.List(r.Context(), p)
		if err != nil {
			return err
		}
		return writeMLflow(w, map[string]any{"artifact_uri": artifact.Scheme + p, "path": p, "files": files})
	})

	s.handleMLflow("GET", "artifacts/list", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID     string `json:"run_id"`
			RunUUID   string `json:"run_uuid"`
			Path      string `json:"path"`
			PageToken string `json:"page_token"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		id, err := requireRunID(req.RunID, req.RunUUID)
		if err != nil {
			return err
		}
		root, err := t.RunArtifactURI(r.Context(), id)
		if err != nil {
			return err
		}
		return oldList(w, r, art, root, req.Path)
	})
	s.handleMLflow("GET", "logged-models/{model_id}/artifacts/directories", func(w http.ResponseWriter, r *http.Request) error {
		root, err := t.LoggedModelArtifactURI(r.Context(), r.PathValue("model_id"))
		if err != nil {
			return err
		}
		return oldList(w, r, art, root, r.URL.Query().Get("artifact_directory_path"))
	})
	s.handleMLflow("GET", "logged-models/{model_id}/artifacts/files", func(w http.ResponseWriter, r *http.Request) error {
		root, err := t.LoggedModelArtifactURI(r.Context(), r.PathValue("model_id"))
		if err != nil {
			return err
		}
		rp, err := artifact.PathOfURI(root)
		if err != nil {
			return err
		}
		rel, err := artifact.CleanPath(r.URL.Query().Get("artifact_file_path"), false)
		if err != nil {
			return err
		}
		return download(w, r, art, rp+"/"+rel)
	})
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func listArtifacts(w http.ResponseWriter, r *http.Request, art *artifact.Service, p string) error {
	files, err := art.List(r.Context(), p)
	if err != nil {
		return err
	}
	return writeMLflow(w, struct {
		Files []artifact.FileInfo `json:"files,omitempty"`
	}{files})
}

// oldList answers the pre-proxy listing: paths relative to the root, plus root_uri.
func oldList(w http.ResponseWriter, r *http.Request, art *artifact.Service, rootURI, rel string) error {
	out := struct {
		RootURI string              `json:"root_uri"`
		Files   []artifact.FileInfo `json:"files,omitempty"`
	}{RootURI: rootURI}
	rp, err := artifact.PathOfURI(rootURI)
	if err != nil {
		return writeMLflow(w, out) // not served here (a custom artifact location)
	}
	rel, err = artifact.CleanPath(rel, true)
	if err != nil {
		return err
	}
	p := rp
	if rel != "" {
		p += "/" + rel
	}
	files, err := art.List(r.Context(), p)
	if err != nil {
		return err
	}
	for i := range files {
		if rel != "" {
			files[i].Path = rel + "/" + files[i].Path
		}
	}
	out.Files = files
	return writeMLflow(w, out)
}

func download(w http.ResponseWriter, r *http.Request, art *artifact.Service, p string) error {
	rc, a, err := art.Get(r.Context(), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", artifact.ContentType(p))
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	name := p[strings.LastIndexByte(p, '/')+1:]
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = io.Copy(w, rc)
	if err != nil {
		return errs.Wrap(errs.Canceled, "CANCELLED", err, "download interrupted")
	}
	return nil
}
