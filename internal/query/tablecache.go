package query

import (
	"context"
	"strings"
	"sync"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// maxCachedTables bounds the storage locations whose delta.Table (and open
// bucket) the engine keeps between statements.
const maxCachedTables = 256

// tableCache keeps one delta.Table per storage location across
// statements, so that a statement finds the latest snapshot by reading
// only the commits since the previous one (Table.Latest updates its cached
// snapshot) instead of loading the log afresh (~5 ms for a 100-commit
// table). Entries in use by a statement are never closed; idle ones are
// evicted least recently used first.
type tableCache struct {
	mu   sync.Mutex
	m    map[string]*cachedTable
	tick int64
}

type cachedTable struct {
	t      *delta.Table
	b      blob.Bucket
	dir    string
	remote bool
	refs   int
	used   int64
}

// acquire returns the cached table at location, opening it with open when
// absent; release must be called when the statement is done with it.
func (c *tableCache) acquire(location string, open func() (*cachedTable, error)) (*cachedTable, func(), error) {
	c.mu.Lock()
	e := c.m[location]
	if e == nil {
		c.mu.Unlock()
		fresh, err := open()
		if err != nil {
			return nil, nil, err
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*cachedTable{}
		}
		if e = c.m[location]; e != nil {
			closeAll([]blob.Bucket{fresh.b}) // another statement opened it meanwhile
		} else {
			e = fresh
			c.m[location] = e
		}
	}
	// Taken before evicting, so that the entry being returned is in use.
	e.refs++
	c.tick++
	e.used = c.tick
	c.evictLocked()
	c.mu.Unlock()
	var once sync.Once
	return e, func() {
		once.Do(func() {
			c.mu.Lock()
			e.refs--
			c.mu.Unlock()
		})
	}, nil
}

// evictLocked closes idle entries, oldest first, while over the bound.
func (c *tableCache) evictLocked() {
	for len(c.m) > maxCachedTables {
		var oldest string
		for loc, e := range c.m {
			if e.refs == 0 && (oldest == "" || e.used < c.m[oldest].used) {
				oldest = loc
			}
		}
		if oldest == "" {
			return // all in use: exceed the bound until some are released
		}
		closeAll([]blob.Bucket{c.m[oldest].b})
		delete(c.m, oldest)
	}
}

// close closes every cached bucket (the engine is closing).
func (c *tableCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for loc, e := range c.m {
		closeAll([]blob.Bucket{e.b})
		delete(c.m, loc)
	}
}

// openTable opens the Delta table at a storage location (from the engine's
// table cache) and returns it with the local directory DuckDB reads.
func (st *stmt) openTable(ctx context.Context, location string) (*delta.Table, string, error) {
	if location == "" {
		return nil, "", errs.E(errs.FailedPrecondition, "TABLE_HAS_NO_LOCATION", "the table has no storage location")
	}
	e, release, err := st.e.tables.acquire(location, func() (*cachedTable, error) {
		b, err := st.e.storage.Open(ctx, location)
		if err != nil {
			return nil, err
		}
		if ld, ok := b.(LocalDir); ok {
			return &cachedTable{t: delta.NewTable(b, ""), b: b, dir: strings.TrimRight(ld.Dir(), "/")}, nil
		}
		if st.e.cache == nil {
			closeAll([]blob.Bucket{b})
			return nil, errs.E(errs.Unimplemented, "UNSUPPORTED_STORAGE", "the SQL engine reads tables on local disk only (file:// warehouse); %s is not", location)
		}
		dir, err := st.e.cache.dirFor(location)
		if err != nil {
			closeAll([]blob.Bucket{b})
			return nil, err
		}
		return &cachedTable{t: delta.NewTable(b, ""), b: b, dir: dir, remote: true}, nil
	})
	if err != nil {
		return nil, "", err
	}
	st.release = append(st.release, release)
	if e.remote {
		if st.remote == nil {
			st.remote = map[string]blob.Bucket{}
		}
		st.remote[e.dir] = e.b
	}
	return e.t, e.dir, nil
}
