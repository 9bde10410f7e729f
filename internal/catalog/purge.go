package catalog

import (
	"context"
	"io"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
)

var timeZero time.Time

// Remover is an optional upgrade of Storage for stores with real
// directories (local disk): RemoveAll deletes what is left at u once its
// objects are gone (empty directories, staging files).
type Remover interface {
	RemoveAll(ctx context.Context, u string) error
}

func closeBucket(b blob.Bucket) {
	if c, ok := b.(io.Closer); ok {
		c.Close()
	}
}

// removeData deletes every object under a storage URL (best effort; failures
// are logged and retried by the next purge of the same record).
func (s *Service) removeData(ctx context.Context, loc string) error {
	if s.storage == nil || loc == "" {
		return nil
	}
	b, err := s.storage.Open(ctx, loc)
	if err != nil {
		s.log.Warn("open storage to purge", "location", loc, "err", err.Error())
		return err
	}
	defer closeBucket(b)
	after := ""
	for {
		objs, err := b.List(ctx, blob.ListOptions{StartAfter: after, Limit: 1000})
		if err != nil {
			s.log.Warn("list storage to purge", "location", loc, "err", err.Error())
			return err
		}
		for _, o := range objs {
			if err := b.Delete(ctx, o.Key); err != nil {
				s.log.Warn("delete object", "location", loc, "key", o.Key, "err", err.Error())
				return err
			}
		}
		if len(objs) < 1000 {
			if rm, ok := s.storage.(Remover); ok {
				return rm.RemoveAll(ctx, loc)
			}
			return nil
		}
		after = objs[len(objs)-1].Key
	}
}

// Purge deletes the records (and, for managed ones, the data) of
// securables dropped more than the retention window ago. It returns how
// many records it removed.
func (s *Service) Purge(ctx context.Context) (int, error) {
	n := 0
	for {
		recs, err := s.store.Expired(ctx, s.o.Now().Add(-s.o.Retention), 100)
		if err != nil {
			return n, err
		}
		if len(recs) == 0 {
			return n, nil
		}
		var ids []string
		for _, r := range recs {
			if r.Managed && r.Type != typeStaging || r.Type == typeStaging {
				if err := s.removeData(ctx, r.Location); err != nil {
					continue // keep the record: retried next time
				}
			}
			if r.Type == TypeRegisteredModel {
				vs, _ := s.store.ListModelVersions(ctx, r.ID, 0, 1<<20)
				for _, v := range vs {
					s.removeData(ctx, v.Location)
				}
			}
			ids = append(ids, r.ID)
		}
		if len(ids) == 0 {
			return n, nil
		}
		if err := s.store.Delete(ctx, ids); err != nil {
			return n, err
		}
		n += len(ids)
		if len(recs) < 100 {
			return n, nil
		}
	}
}

// Start runs Purge every interval (default 1 hour) until the returned stop
// function is called.
func (s *Service) Start(interval time.Duration) (stop func() error) {
	if interval <= 0 {
		interval = time.Hour
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if n, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("purge dropped securables", "err", err.Error())
			} else if n > 0 {
				s.log.Info("purged dropped securables", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() error {
		cancel()
		<-done
		return nil
	}
}
