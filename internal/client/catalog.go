package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/catalog"
)

const ucBase = "/api/2.1/unity-catalog"

func pageQuery(p catalog.Page, q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if p.MaxResults != 0 {
		q.Set("max_results", strconv.Itoa(p.MaxResults))
	}
	if p.Token != "" {
		q.Set("page_token", p.Token)
	}
	return q
}

func esc(s string) string { return url.PathEscape(s) }

// CreateCatalog creates a catalog.
func (c *Client) CreateCatalog(ctx context.Context, req catalog.CreateCatalog) (catalog.CatalogInfo, error) {
	var out catalog.CatalogInfo
	return out, c.Do(ctx, "POST", ucBase+"/catalogs", nil, req, &out)
}

// ListCatalogs lists a page of catalogs.
func (c *Client) ListCatalogs(ctx context.Context, p catalog.Page) (catalog.ListCatalogsResponse, error) {
	var out catalog.ListCatalogsResponse
	return out, c.Do(ctx, "GET", ucBase+"/catalogs", pageQuery(p, nil), nil, &out)
}

// GetCatalog returns a catalog.
func (c *Client) GetCatalog(ctx context.Context, name string) (catalog.CatalogInfo, error) {
	var out catalog.CatalogInfo
	return out, c.Do(ctx, "GET", ucBase+"/catalogs/"+esc(name), nil, nil, &out)
}

// UpdateCatalog updates a catalog.
func (c *Client) UpdateCatalog(ctx context.Context, name string, u catalog.Update) (catalog.CatalogInfo, error) {
	var out catalog.CatalogInfo
	return out, c.Do(ctx, "PATCH", ucBase+"/catalogs/"+esc(name), nil, u, &out)
}

// DeleteCatalog deletes a catalog (force: with its contents).
func (c *Client) DeleteCatalog(ctx context.Context, name string, force bool) error {
	return c.Do(ctx, "DELETE", ucBase+"/catalogs/"+esc(name), url.Values{"force": {strconv.FormatBool(force)}}, nil, nil)
}

// CreateSchema creates a schema.
func (c *Client) CreateSchema(ctx context.Context, req catalog.CreateSchema) (catalog.SchemaInfo, error) {
	var out catalog.SchemaInfo
	return out, c.Do(ctx, "POST", ucBase+"/schemas", nil, req, &out)
}

// ListSchemas lists a page of a catalog's schemas.
func (c *Client) ListSchemas(ctx context.Context, catalogName string, p catalog.Page) (catalog.ListSchemasResponse, error) {
	var out catalog.ListSchemasResponse
	return out, c.Do(ctx, "GET", ucBase+"/schemas", pageQuery(p, url.Values{"catalog_name": {catalogName}}), nil, &out)
}

// GetSchema returns a schema.
func (c *Client) GetSchema(ctx context.Context, fullName string) (catalog.SchemaInfo, error) {
	var out catalog.SchemaInfo
	return out, c.Do(ctx, "GET", ucBase+"/schemas/"+esc(fullName), nil, nil, &out)
}

// DeleteSchema deletes a schema.
func (c *Client) DeleteSchema(ctx context.Context, fullName string, force bool) error {
	return c.Do(ctx, "DELETE", ucBase+"/schemas/"+esc(fullName), url.Values{"force": {strconv.FormatBool(force)}}, nil, nil)
}

// CreateTable creates a table.
func (c *Client) CreateTable(ctx context.Context, req catalog.CreateTable) (catalog.TableInfo, error) {
	var out catalog.TableInfo
	return out, c.Do(ctx, "POST", ucBase+"/tables", nil, req, &out)
}

// ListTables lists a page of a schema's tables.
func (c *Client) ListTables(ctx context.Context, catalogName, schemaName string, p catalog.Page) (catalog.ListTablesResponse, error) {
	var out catalog.ListTablesResponse
	q := url.Values{"catalog_name": {catalogName}, "schema_name": {schemaName}}
	return out, c.Do(ctx, "GET", ucBase+"/tables", pageQuery(p, q), nil, &out)
}

// GetTable returns a table.
func (c *Client) GetTable(ctx context.Context, fullName string) (catalog.TableInfo, error) {
	var out catalog.TableInfo
	return out, c.Do(ctx, "GET", ucBase+"/tables/"+esc(fullName), nil, nil, &out)
}

// UpdateTable applies the Lakebox PATCH /tables/{full_name} extension.
func (c *Client) UpdateTable(ctx context.Context, fullName string, u catalog.TableUpdate) (catalog.TableInfo, error) {
	var out catalog.TableInfo
	return out, c.Do(ctx, "PATCH", ucBase+"/tables/"+esc(fullName), nil, u, &out)
}

// DeleteTable drops a table.
func (c *Client) DeleteTable(ctx context.Context, fullName string) error {
	return c.Do(ctx, "DELETE", ucBase+"/tables/"+esc(fullName), nil, nil, nil)
}

// UndropTable restores a dropped managed table.
func (c *Client) UndropTable(ctx context.Context, fullName string) (catalog.TableInfo, error) {
	var out catalog.TableInfo
	return out, c.Do(ctx, "POST", ucBase+"/tables/"+esc(fullName)+"/undrop", nil, nil, &out)
}

// CreateVolume creates a volume.
func (c *Client) CreateVolume(ctx context.Context, req catalog.CreateVolume) (catalog.VolumeInfo, error) {
	var out catalog.VolumeInfo
	return out, c.Do(ctx, "POST", ucBase+"/volumes", nil, req, &out)
}

// ListVolumes lists a page of a schema's volumes.
func (c *Client) ListVolumes(ctx context.Context, catalogName, schemaName string, p catalog.Page) (catalog.ListVolumesResponse, error) {
	var out catalog.ListVolumesResponse
	q := url.Values{"catalog_name": {catalogName}, "schema_name": {schemaName}}
	return out, c.Do(ctx, "GET", ucBase+"/volumes", pageQuery(p, q), nil, &out)
}

// GetVolume returns a volume.
func (c *Client) GetVolume(ctx context.Context, fullName string) (catalog.VolumeInfo, error) {
	var out catalog.VolumeInfo
	return out, c.Do(ctx, "GET", ucBase+"/volumes/"+esc(fullName), nil, nil, &out)
}

// DeleteVolume drops a volume.
func (c *Client) DeleteVolume(ctx context.Context, fullName string) error {
	return c.Do(ctx, "DELETE", ucBase+"/volumes/"+esc(fullName), nil, nil, nil)
}

// CreateFunction creates a function.
func (c *Client) CreateFunction(ctx context.Context, f catalog.FunctionInfo) (catalog.FunctionInfo, error) {
	var out catalog.FunctionInfo
	return out, c.Do(ctx, "POST", ucBase+"/functions", nil, catalog.CreateFunctionRequest{FunctionInfo: &f}, &out)
}

// ListFunctions lists a page of a schema's functions.
func (c *Client) ListFunctions(ctx context.Context, catalogName, schemaName string, p catalog.Page) (catalog.ListFunctionsResponse, error) {
	var out catalog.ListFunctionsResponse
	q := url.Values{"catalog_name": {catalogName}, "schema_name": {schemaName}}
	return out, c.Do(ctx, "GET", ucBase+"/functions", pageQuery(p, q), nil, &out)
}

// GetFunction returns a function.
func (c *Client) GetFunction(ctx context.Context, fullName string) (catalog.FunctionInfo, error) {
	var out catalog.FunctionInfo
	return out, c.Do(ctx, "GET", ucBase+"/functions/"+esc(fullName), nil, nil, &out)
}

// DeleteFunction deletes a function.
func (c *Client) DeleteFunction(ctx context.Context, fullName string) error {
	return c.Do(ctx, "DELETE", ucBase+"/functions/"+esc(fullName), nil, nil, nil)
}

// GetPermissions lists the grants on a securable (principal "" = all).
func (c *Client) GetPermissions(ctx context.Context, securableType, fullName, principal string) (catalog.PermissionsList, error) {
	var out catalog.PermissionsList
	var q url.Values
	if principal != "" {
		q = url.Values{"principal": {principal}}
	}
	return out, c.Do(ctx, "GET", ucBase+"/permissions/"+esc(securableType)+"/"+esc(fullName), q, nil, &out)
}

// UpdatePermissions grants and revokes privileges.
func (c *Client) UpdatePermissions(ctx context.Context, securableType, fullName string, changes ...catalog.PermissionsChange) (catalog.PermissionsList, error) {
	var out catalog.PermissionsList
	for i := range changes {
		if changes[i].Add == nil {
			changes[i].Add = []catalog.Privilege{}
		}
		if changes[i].Remove == nil {
			changes[i].Remove = []catalog.Privilege{}
		}
	}
	return out, c.Do(ctx, "PATCH", ucBase+"/permissions/"+esc(securableType)+"/"+esc(fullName), nil, catalog.UpdatePermissions{Changes: changes}, &out)
}

// EffectivePermissions lists effective privileges with their origin.
func (c *Client) EffectivePermissions(ctx context.Context, securableType, fullName, principal string) (catalog.EffectivePermissionsList, error) {
	var out catalog.EffectivePermissionsList
	var q url.Values
	if principal != "" {
		q = url.Values{"principal": {principal}}
	}
	return out, c.Do(ctx, "GET", ucBase+"/effective-permissions/"+esc(securableType)+"/"+esc(fullName), q, nil, &out)
}

// VolumeFilePath turns "/Volumes/c/s/v/p" or "dbfs:/Volumes/…" into the
// escaped path below /api/2.0/fs/files or /api/2.0/fs/directories.
func VolumeFilePath(p string) string {
	p = strings.TrimPrefix(p, "dbfs:")
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + strings.Join(segs, "/")
}

// ucRaw sends a request with a raw body and returns the response (the caller
// closes its body); error statuses are decoded into *APIError.
func (c *Client) ucRaw(ctx context.Context, method, path string, q url.Values, body io.Reader, hdr http.Header) (*http.Response, error) {
	u := c.Host + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return nil, decodeError(resp, data)
	}
	return resp, nil
}

// UploadFile writes r to a volume path.
func (c *Client) UploadFile(ctx context.Context, path string, r io.Reader, overwrite bool) error {
	resp, err := c.ucRaw(ctx, "PUT", "/api/2.0/fs/files"+VolumeFilePath(path), url.Values{"overwrite": {strconv.FormatBool(overwrite)}}, r,
		http.Header{"Content-Type": {"application/octet-stream"}})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// DownloadFile opens a volume file; rangeHeader ("bytes=0-9") may be "".
func (c *Client) DownloadFile(ctx context.Context, path, rangeHeader string) (io.ReadCloser, error) {
	h := http.Header{}
	if rangeHeader != "" {
		h.Set("Range", rangeHeader)
	}
	resp, err := c.ucRaw(ctx, "GET", "/api/2.0/fs/files"+VolumeFilePath(path), nil, nil, h)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// DeleteFile deletes a volume file.
func (c *Client) DeleteFile(ctx context.Context, path string) error {
	resp, err := c.ucRaw(ctx, "DELETE", "/api/2.0/fs/files"+VolumeFilePath(path), nil, nil, nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// ListDirectory lists a page of a volume directory.
func (c *Client) ListDirectory(ctx context.Context, path string, p catalog.Page) (catalog.DirectoryList, error) {
	var out catalog.DirectoryList
	return out, c.Do(ctx, "GET", "/api/2.0/fs/directories"+VolumeFilePath(path), pageQuery(p, nil), nil, &out)
}

// CreateDirectory creates a volume directory.
func (c *Client) CreateDirectory(ctx context.Context, path string) error {
	return c.Do(ctx, "PUT", "/api/2.0/fs/directories"+VolumeFilePath(path), nil, nil, nil)
}

// DeleteDirectory deletes an empty volume directory.
func (c *Client) DeleteDirectory(ctx context.Context, path string) error {
	return c.Do(ctx, "DELETE", "/api/2.0/fs/directories"+VolumeFilePath(path), nil, nil, nil)
}
