package httpapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/query"
)

// SQLPrefix is the path of the SQL Statement Execution API.
const SQLPrefix = "/api/2.0/sql/statements"

// SQL is the surface of the SQL Statement Execution API: the Databricks
// error shape; an unsupported option (format CSV, ARROW_STREAM with the
// INLINE disposition) is a 400 NOT_IMPLEMENTED as on Databricks, not a
// 501.
var SQL = &Surface{
	Name: "sql",
	Status: func(err error) int {
		if errs.KindOf(err) == errs.Unimplemented {
			return http.StatusBadRequest
		}
		return KindStatus(errs.KindOf(err))
	},
	Body: func(err error, _ int, msg string) any {
		return DatabricksError{ErrorCode: errorCode(err), Message: msg}
	},
}

// SQLParameter is a named parameter of a statement (:name in the text).
// A missing value binds NULL; type defaults to STRING.
type SQLParameter struct {
	Name  string  `json:"name"`
	Value *string `json:"value,omitempty"`
	Type  string  `json:"type,omitempty"`
}

// ExecuteStatementRequest is the body of POST /api/2.0/sql/statements.
type ExecuteStatementRequest struct {
	Statement string `json:"statement"`
	// WarehouseID is accepted for compatibility and ignored: Lakebox has
	// one SQL engine.
	WarehouseID   string         `json:"warehouse_id,omitempty"`
	Catalog       string         `json:"catalog,omitempty"`
	Schema        string         `json:"schema,omitempty"`
	Parameters    []SQLParameter `json:"parameters,omitempty"`
	WaitTimeout   string         `json:"wait_timeout,omitempty"`
	OnWaitTimeout string         `json:"on_wait_timeout,omitempty"`
	Disposition   string         `json:"disposition,omitempty"`
	Format        string         `json:"format,omitempty"`
	RowLimit      int64          `json:"row_limit,omitempty"`
	ByteLimit     int64          `json:"byte_limit,omitempty"`
}

// StatementError is the error of a FAILED statement.
type StatementError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// StatementStatus is a statement's state.
type StatementStatus struct {
	State string          `json:"state"`
	Error *StatementError `json:"error,omitempty"`
}

// SQLColumn describes one result column.
type SQLColumn struct {
	Name     string `json:"name"`
	TypeName string `json:"type_name"`
	TypeText string `json:"type_text"`
	Position int    `json:"position"`
}

// ResultSchema lists the result columns.
type ResultSchema struct {
	ColumnCount int         `json:"column_count"`
	Columns     []SQLColumn `json:"columns"`
}

// ExternalLink locates one result chunk fetched from a URL (the
// EXTERNAL_LINKS disposition). ExternalLink is presigned: fetch it without
// the Authorization header before Expiration.
type ExternalLink struct {
	ChunkIndex            int    `json:"chunk_index"`
	RowOffset             int64  `json:"row_offset"`
	RowCount              int64  `json:"row_count"`
	ByteCount             int64  `json:"byte_count"`
	ExternalLink          string `json:"external_link"`
	Expiration            string `json:"expiration"`
	NextChunkIndex        *int   `json:"next_chunk_index,omitempty"`
	NextChunkInternalLink string `json:"next_chunk_internal_link,omitempty"`
}

// ChunkInfo locates one result chunk.
type ChunkInfo struct {
	ChunkIndex int   `json:"chunk_index"`
	RowOffset  int64 `json:"row_offset"`
	RowCount   int64 `json:"row_count"`
	ByteCount  int64 `json:"byte_count,omitempty"`
}

// ResultManifest describes a succeeded statement's result.
type ResultManifest struct {
	Format          string       `json:"format"`
	Schema          ResultSchema `json:"schema"`
	TotalChunkCount int          `json:"total_chunk_count"`
	TotalRowCount   int64        `json:"total_row_count"`
	TotalByteCount  int64        `json:"total_byte_count"`
	Chunks          []ChunkInfo  `json:"chunks"`
	Truncated       bool         `json:"truncated"`
}

// ResultData is one chunk of a result: with the INLINE disposition
// DataArray holds its rows (every value as a string, or null); with
// EXTERNAL_LINKS ExternalLinks says where to fetch it.
type ResultData struct {
	ChunkIndex            int            `json:"chunk_index"`
	RowOffset             int64          `json:"row_offset"`
	RowCount              int64          `json:"row_count"`
	DataArray             [][]*string    `json:"data_array,omitzero"`
	ExternalLinks         []ExternalLink `json:"external_links,omitempty"`
	NextChunkIndex        *int           `json:"next_chunk_index,omitempty"`
	NextChunkInternalLink string         `json:"next_chunk_internal_link,omitempty"`
}

// StatementResponse answers execute and get.
type StatementResponse struct {
	StatementID string          `json:"statement_id"`
	Status      StatementStatus `json:"status"`
	Manifest    *ResultManifest `json:"manifest,omitempty"`
	Result      *ResultData     `json:"result,omitempty"`
}

// InlineResultLimit is the largest result the INLINE disposition returns
// (as on Databricks): a statement with a larger result fails with
// RESULT_TOO_LARGE; EXTERNAL_LINKS has no limit.
const InlineResultLimit = 25 << 20

// SQLOptions configure the SQL Statement Execution API. Zero values take
// the defaults.
type SQLOptions struct {
	// Now is the clock external links expire by (default time.Now).
	Now func() time.Time
	// LinkKey signs external links (default 32 random bytes, so links die
	// with the process).
	LinkKey []byte
	// LinkTTL is how long an external link is valid (default 15 minutes).
	LinkTTL time.Duration
}

type sqlAPI struct {
	st  *query.Statements
	now func() time.Time
	key []byte
	ttl time.Duration
}

// MountSQL registers the SQL Statement Execution API on the statement
// registry, with the public route that serves external links.
func (s *Server) MountSQL(st *query.Statements, o SQLOptions) {
	a := &sqlAPI{st: st, now: o.Now, key: o.LinkKey, ttl: o.LinkTTL}
	if a.now == nil {
		a.now = time.Now
	}
	if len(a.key) == 0 {
		a.key = make([]byte, 32)
		rand.Read(a.key)
	}
	if a.ttl <= 0 {
		a.ttl = 15 * time.Minute
	}
	s.Handle("POST "+SQLPrefix, SQL, a.execute)
	s.Handle("GET "+SQLPrefix+"/{statement_id}", SQL, a.get)
	s.Handle("GET "+SQLPrefix+"/{statement_id}/result/chunks/{chunk_index}", SQL, a.chunk)
	// The external link: authorised by its signature, not a token, as a
	// presigned cloud URL is.
	s.HandlePublic("GET "+SQLPrefix+"/{statement_id}/result/chunks/{chunk_index}/data", SQL, a.linkData)
	s.Handle("POST "+SQLPrefix+"/{statement_id}/cancel", SQL, a.cancel)
	s.HandleFallback("/api/2.0/sql/", SQL)
}

var waitRE = regexp.MustCompile(`^([0-9]+)s$`)

func sqlInvalid(format string, args ...any) error {
	return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", format, args...)
}

// validate checks the request and returns the wait and the parameters.
func (req *ExecuteStatementRequest) validate() (time.Duration, []query.Parameter, error) {
	if strings.TrimSpace(req.Statement) == "" {
		return 0, nil, sqlInvalid("statement is required")
	}
	wait := 10 * time.Second
	if req.WaitTimeout != "" {
		m := waitRE.FindStringSubmatch(req.WaitTimeout)
		n := -1
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		if n != 0 && (n < 5 || n > 50) {
			return 0, nil, sqlInvalid("wait_timeout %q is invalid: use 0s (return at once) or a value from 5s to 50s", req.WaitTimeout)
		}
		wait = time.Duration(n) * time.Second
	}
	switch strings.ToUpper(req.OnWaitTimeout) {
	case "", "CONTINUE", "CANCEL":
	default:
		return 0, nil, sqlInvalid("on_wait_timeout %q is invalid: use CONTINUE or CANCEL", req.OnWaitTimeout)
	}
	disp, format := strings.ToUpper(req.Disposition), strings.ToUpper(req.Format)
	switch disp {
	case "":
		disp = "INLINE"
	case "INLINE", "EXTERNAL_LINKS":
	default:
		return 0, nil, sqlInvalid("disposition %q is invalid: use INLINE or EXTERNAL_LINKS", req.Disposition)
	}
	switch format {
	case "":
		format = "JSON_ARRAY"
	case "JSON_ARRAY":
	case "ARROW_STREAM":
		if disp == "INLINE" {
			return 0, nil, errs.E(errs.Unimplemented, "NOT_IMPLEMENTED", "format ARROW_STREAM is not supported with the INLINE disposition; use disposition EXTERNAL_LINKS (or format JSON_ARRAY)")
		}
	case "CSV":
		return 0, nil, errs.E(errs.Unimplemented, "NOT_IMPLEMENTED", "format CSV is not supported by Lakebox; use JSON_ARRAY, or ARROW_STREAM with disposition EXTERNAL_LINKS")
	default:
		return 0, nil, sqlInvalid("format %q is invalid: use JSON_ARRAY, or ARROW_STREAM with disposition EXTERNAL_LINKS", req.Format)
	}
	req.Disposition, req.Format = disp, format
	if req.RowLimit < 0 {
		return 0, nil, sqlInvalid("row_limit must not be negative")
	}
	if req.RowLimit > math.MaxInt32 {
		req.RowLimit = 0
	}
	if req.ByteLimit < 0 {
		return 0, nil, sqlInvalid("byte_limit must not be negative")
	}
	var ps []query.Parameter
	for i, p := range req.Parameters {
		if p.Name == "" {
			return 0, nil, sqlInvalid("parameters[%d] has no name", i)
		}
		qp := query.Parameter{Name: p.Name, Type: p.Type, Null: p.Value == nil}
		if p.Value != nil {
			qp.Value = *p.Value
		}
		ps = append(ps, qp)
	}
	return wait, ps, nil
}

func (a *sqlAPI) execute(w http.ResponseWriter, r *http.Request) error {
	var req ExecuteStatementRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	wait, params, err := req.validate()
	if err != nil {
		return err
	}
	sess := query.Session{Catalog: req.Catalog, Schema: req.Schema}
	if sess.Catalog != "" && sess.Schema == "" {
		sess.Schema = "default"
	}
	ctx := r.Context()
	var maxBytes int64
	if req.Disposition == "INLINE" {
		maxBytes = InlineResultLimit
	}
	id, err := a.st.Submit(ctx, sess, req.Statement, params,
		query.ResultOptions{RowLimit: int(req.RowLimit), ByteLimit: req.ByteLimit, MaxBytes: maxBytes, Disposition: req.Disposition, Format: req.Format})
	if err != nil {
		return err
	}
	info, err := a.st.Wait(ctx, id, wait)
	if err != nil {
		return err
	}
	if !info.State.Finished() && wait > 0 && strings.EqualFold(req.OnWaitTimeout, "CANCEL") {
		if err := a.st.Cancel(ctx, id); err != nil {
			return err
		}
		// Wait (up to 30 seconds) for the canceled statement to stop.
		if info, err = a.st.Wait(ctx, id, 30*time.Second); err != nil {
			return err
		}
	}
	return a.respond(r, w, info)
}

func (a *sqlAPI) get(w http.ResponseWriter, r *http.Request) error {
	info, err := a.st.Get(r.Context(), r.PathValue("statement_id"))
	if err != nil {
		return err
	}
	return a.respond(r, w, info)
}

func (a *sqlAPI) chunk(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.Atoi(r.PathValue("chunk_index"))
	if err != nil {
		return sqlInvalid("chunk_index %q is not a non-negative integer", r.PathValue("chunk_index"))
	}
	info, c, data, err := a.st.Chunk(r.Context(), r.PathValue("statement_id"), n)
	if err != nil {
		return err
	}
	res, err := a.result(r, info, c, data)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, res)
}

// result renders a chunk (data as EncodeChunk encoded it) as the
// statement's disposition asks: its rows inline, or a link to them.
func (a *sqlAPI) result(r *http.Request, info query.StatementInfo, c query.Chunk, data []byte) (*ResultData, error) {
	d := &ResultData{ChunkIndex: c.Index, RowOffset: int64(c.RowOffset), RowCount: int64(c.RowCount)}
	if next := c.Index + 1; next < len(info.Chunks) {
		d.NextChunkIndex = &next
		d.NextChunkInternalLink = fmt.Sprintf("%s/%s/result/chunks/%d", SQLPrefix, info.ID, next)
	}
	if info.Disposition != "EXTERNAL_LINKS" {
		if err := json.Unmarshal(data, &d.DataArray); err != nil {
			return nil, fmt.Errorf("decode chunk %d of statement %s: %w", c.Index, info.ID, err)
		}
		if d.DataArray == nil {
			d.DataArray = [][]*string{}
		}
		return d, nil
	}
	exp := a.now().Add(a.ttl).Truncate(time.Second)
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	l := ExternalLink{ChunkIndex: c.Index, RowOffset: d.RowOffset, RowCount: d.RowCount, ByteCount: c.ByteCount,
		ExternalLink: fmt.Sprintf("%s://%s%s/%s/result/chunks/%d/data?expires=%d&sig=%s", scheme, r.Host, SQLPrefix,
			url.PathEscape(info.ID), c.Index, exp.Unix(), a.sign(info.ID, c.Index, exp.Unix())),
		Expiration: exp.UTC().Format(time.RFC3339)}
	l.NextChunkIndex, l.NextChunkInternalLink = d.NextChunkIndex, d.NextChunkInternalLink
	d.ExternalLinks = []ExternalLink{l}
	return d, nil
}

// sign is the hex HMAC-SHA256 of an external link: statement id, chunk
// and expiry (Unix seconds).
func (a *sqlAPI) sign(id string, n int, expires int64) string {
	m := hmac.New(sha256.New, a.key)
	fmt.Fprintf(m, "%s|%d|%d", id, n, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// linkData serves an external link: the chunk as an Arrow IPC stream
// (ARROW_STREAM) or a JSON array of rows (JSON_ARRAY). The signature is
// the authorisation; a bad one or an expired link is a 403.
func (a *sqlAPI) linkData(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("statement_id")
	n, err := strconv.Atoi(r.PathValue("chunk_index"))
	if err != nil || n < 0 {
		return sqlInvalid("chunk_index %q is not a non-negative integer", r.PathValue("chunk_index"))
	}
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig, herr := hex.DecodeString(q.Get("sig"))
	want, _ := hex.DecodeString(a.sign(id, n, exp))
	if err != nil || herr != nil || !hmac.Equal(sig, want) {
		return errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "the external link's signature is invalid; use the link exactly as the statement's result gave it")
	}
	if now := a.now(); now.Unix() > exp {
		return errs.E(errs.PermissionDenied, "PERMISSION_DENIED",
			"the external link expired at %s; fetch a fresh one with GET %s/%s/result/chunks/%d", time.Unix(exp, 0).UTC().Format(time.RFC3339), SQLPrefix, id, n)
	}
	info, _, data, err := a.st.LinkedChunk(r.Context(), id, n)
	if err != nil {
		return err
	}
	ct := "application/json"
	if info.Format == "ARROW_STREAM" {
		ct = ArrowStreamType
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(data)
	return err
}

// EncodeChunk encodes one chunk of a statement's result as its external
// link serves it: an Arrow IPC stream for the ARROW_STREAM format, else
// the JSON array of rows of the JSON_ARRAY format (every value a string or
// null; the INLINE disposition embeds the same array). It is the
// statement registry's encoder (query.StatementsOptions.Encode).
func EncodeChunk(info query.StatementInfo, rows [][]any) ([]byte, error) {
	if info.Format == "ARROW_STREAM" {
		var buf bytes.Buffer
		if err := writeArrowStream(&buf, info.Columns, rows); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	out := make([][]*string, len(rows))
	for j, row := range rows {
		out[j] = make([]*string, len(row))
		for i, v := range row {
			typ := ""
			if i < len(info.Columns) {
				typ = info.Columns[i].Type
			}
			out[j][i] = sqlString(v, typ)
		}
	}
	return json.Marshal(out)
}

func (a *sqlAPI) cancel(w http.ResponseWriter, r *http.Request) error {
	if err := a.st.Cancel(r.Context(), r.PathValue("statement_id")); err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, struct{}{})
}

// respond renders a statement with its manifest and first chunk.
func (a *sqlAPI) respond(r *http.Request, w http.ResponseWriter, info query.StatementInfo) error {
	ctx := r.Context()
	resp := StatementResponse{StatementID: info.ID, Status: StatementStatus{State: string(info.State)}}
	switch info.State {
	case query.StateFailed:
		resp.Status.Error = statementError(info.Err, info.ID)
	case query.StateSucceeded:
		resp.Manifest = manifest(info)
		c, data, err := a.st.ResultChunk(ctx, info, 0)
		if err != nil {
			return err
		}
		if resp.Result, err = a.result(r, info, c, data); err != nil {
			return err
		}
	}
	return WriteJSON(w, http.StatusOK, resp)
}

// statementError renders a failed statement's error as Databricks does:
// a general code and "[REASON] message".
func statementError(err error, id string) *StatementError {
	var code string
	switch errs.KindOf(err) {
	case errs.Invalid, errs.NotFound, errs.AlreadyExists, errs.FailedPrecondition:
		code = "BAD_REQUEST"
	case errs.PermissionDenied:
		code = "PERMISSION_DENIED"
	case errs.Unauthenticated:
		code = "UNAUTHENTICATED"
	case errs.Conflict:
		code = "ABORTED"
	case errs.TooLarge, errs.ResourceExhausted:
		code = "RESOURCE_EXHAUSTED"
	case errs.Unimplemented:
		code = "NOT_IMPLEMENTED"
	case errs.Unavailable:
		code = "TEMPORARILY_UNAVAILABLE"
	case errs.Canceled:
		code = "DEADLINE_EXCEEDED"
	default:
		return &StatementError{ErrorCode: "INTERNAL_ERROR", Message: "internal error; quote statement id " + id + " to your administrator"}
	}
	msg := errs.Message(err)
	if r := errs.ReasonOf(err); r != "" {
		msg = "[" + r + "] " + msg
	}
	return &StatementError{ErrorCode: code, Message: msg}
}

// typeName is the Databricks type_name of an engine type.
func typeName(t string) string {
	switch t {
	case "BIGINT":
		return "LONG"
	case "SMALLINT":
		return "SHORT"
	case "TINYINT":
		return "BYTE"
	case "VOID":
		return "NULL"
	}
	return t
}

func manifest(info query.StatementInfo) *ResultManifest {
	format := info.Format
	if format == "" {
		format = "JSON_ARRAY"
	}
	m := &ResultManifest{Format: format, Schema: ResultSchema{ColumnCount: len(info.Columns), Columns: []SQLColumn{}},
		TotalChunkCount: len(info.Chunks), TotalRowCount: int64(info.TotalRows), Chunks: []ChunkInfo{}, Truncated: info.Truncated}
	for i, c := range info.Columns {
		m.Schema.Columns = append(m.Schema.Columns, SQLColumn{Name: c.Name, TypeName: typeName(c.Type), TypeText: strings.ToUpper(c.TypeText), Position: i})
	}
	for _, c := range info.Chunks {
		m.Chunks = append(m.Chunks, ChunkInfo{ChunkIndex: c.Index, RowOffset: int64(c.RowOffset), RowCount: int64(c.RowCount), ByteCount: c.ByteCount})
		m.TotalByteCount += c.ByteCount
	}
	return m
}

// sqlString renders a value as the JSON_ARRAY format does: every value a
// string (dates as 2006-01-02, timestamps in ISO 8601 with milliseconds,
// binary in base64, arrays, maps and structs as JSON), NULL as null.
func sqlString(v any, typ string) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		s = x
	case bool:
		s = strconv.FormatBool(x)
	case float64:
		s = FormatFloat(x, 64)
	case float32:
		s = FormatFloat(float64(x), 32)
	case time.Time:
		switch typ {
		case "DATE":
			s = x.Format("2006-01-02")
		case "TIMESTAMP_NTZ":
			s = x.Format("2006-01-02T15:04:05.000")
		default:
			s = x.UTC().Format("2006-01-02T15:04:05.000Z")
		}
	case []byte:
		s = base64.StdEncoding.EncodeToString(x)
	case *big.Int:
		s = x.String()
	case []any, map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			s = fmt.Sprint(x)
		} else {
			s = string(b)
		}
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

// FormatFloat renders a float as the JSON_ARRAY format does: the shortest
// form that reads back to the same value, and NaN, Infinity, -Infinity.
func FormatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// redactSQLParams redacts the secrets a statement request may carry that
// name-based redaction misses: secret string literals in the statement
// text and the values of parameters with sensitive names.
func redactSQLParams(params map[string]string) {
	if v, ok := params["statement"]; ok {
		params["statement"] = query.RedactStatement(v, audit.Sensitive)
	}
	raw, ok := params["parameters"]
	if !ok {
		return
	}
	var ps []map[string]any
	if json.Unmarshal([]byte(raw), &ps) != nil {
		return
	}
	for _, p := range ps {
		if n, _ := p["name"].(string); audit.Sensitive(n) {
			if _, has := p["value"]; has {
				p["value"] = audit.Redacted
			}
		}
	}
	if b, err := json.Marshal(ps); err == nil {
		params["parameters"] = string(b)
	}
}
