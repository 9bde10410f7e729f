package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// Filter selects audit events for Events.
type Filter struct {
	// Since and Until bound event_time (zero: unbounded).
	Since, Until time.Time
	// Principal matches the subject name, email or principal id.
	Principal string
	// Action matches "<service>.<action>", the action name alone, or a
	// service name followed by ".*" (e.g. "accounts.*").
	Action string
	// Limit is the page size (default 100, at most 1000).
	Limit int
	// PageToken continues a previous listing.
	PageToken string
}

// MaxLimit is the largest page Events returns.
const MaxLimit = 1000

func (f *Filter) matches(e *Event) bool {
	if !f.Since.IsZero() && e.EventTime.Before(f.Since) || !f.Until.IsZero() && !e.EventTime.Before(f.Until) {
		return false
	}
	if f.Principal != "" && f.Principal != e.Identity.SubjectName && f.Principal != e.Identity.Email && f.Principal != e.Identity.PrincipalID {
		return false
	}
	if f.Action != "" {
		switch {
		case strings.HasSuffix(f.Action, ".*"):
			if e.ServiceName != strings.TrimSuffix(f.Action, ".*") {
				return false
			}
		case strings.Contains(f.Action, "."):
			if e.Action() != f.Action {
				return false
			}
		default:
			if e.ActionName != f.Action {
				return false
			}
		}
	}
	return true
}

type cursor struct {
	T  int64  `json:"t"`
	ID string `json:"i"`
}

// before reports whether e sorts after the cursor (newest first).
func (c *cursor) admits(e *Event) bool {
	t := e.EventTime.UnixNano()
	return t < c.T || t == c.T && e.EventID < c.ID
}

// Events returns events matching f, newest first, from the audit table and
// the spool (events not flushed yet), with a token for the next page ("" at
// the end). Errors: errs.Invalid for a bad page token; table read errors.
func (r *Recorder) Events(ctx context.Context, f Filter) ([]Event, string, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	var cur *cursor
	if f.PageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.PageToken)
		cur = &cursor{}
		if err != nil || json.Unmarshal(b, cur) != nil {
			return nil, "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid page_token: pass the next_page_token of a previous response")
		}
	}
	seen := map[string]bool{}
	var out []Event
	add := func(e Event) {
		if seen[e.EventID] || !f.matches(&e) || cur != nil && !cur.admits(&e) {
			return
		}
		seen[e.EventID] = true
		out = append(out, e)
	}
	for _, rec := range r.spool.Pending(0) {
		var e Event
		if json.Unmarshal(rec.Payload, &e) == nil {
			add(e)
		}
	}
	snap, err := r.table.Latest(ctx)
	switch {
	case errs.Is(err, errs.NotFound):
	case err != nil:
		return nil, "", err
	default:
		var preds []delta.Predicate
		if !f.Since.IsZero() {
			preds = append(preds, &delta.Comparison{Column: "event_time", Op: delta.OpGe, Value: f.Since.UTC()},
				&delta.Comparison{Column: "event_date", Op: delta.OpGe, Value: dateOf(f.Since)})
		}
		if cur != nil {
			preds = append(preds, &delta.Comparison{Column: "event_time", Op: delta.OpLe, Value: time.Unix(0, cur.T).UTC()})
		}
		var filter delta.Predicate
		if len(preds) > 0 {
			filter = &delta.And{Preds: preds}
		}
		sc, err := snap.Scan(delta.ScanOptions{Filter: filter})
		if err != nil {
			return nil, "", fmt.Errorf("scan audit table: %w", err)
		}
		schema := sc.Schema()
		if err := sc.Rows(ctx, func(row delta.Row) error {
			add(RowEvent(schema, row))
			return nil
		}); err != nil {
			return nil, "", fmt.Errorf("read audit table: %w", err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].EventTime.Equal(out[j].EventTime) {
			return out[i].EventTime.After(out[j].EventTime)
		}
		return out[i].EventID > out[j].EventID
	})
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		b, _ := json.Marshal(cursor{T: last.EventTime.UnixNano(), ID: last.EventID})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return out, next, nil
}

func dateOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ParseSince accepts a Go duration ("90m", "1h"), a days suffix ("7d") or
// an RFC 3339 time, relative to now. Errors: errs.Invalid.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid since %q: use a duration such as 1h, 30m or 7d, or an RFC 3339 time", s)
}
