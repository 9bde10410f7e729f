package registry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/registry"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// TestWebhookRetriesSurviveRestart drives the dispatcher with a fake clock
// against a receiver that fails three times, closing and reopening the
// metastore between attempts: the queued delivery is neither lost nor sent
// twice, and backoff doubles.
func TestWebhookRetriesSurviveRestart(t *testing.T) {
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "meta.db")
	clock := time.UnixMilli(1_000_000)
	now := func() time.Time { return clock }
	var fails, calls atomic.Int32
	fails.Store(3)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("X-MLflow-Signature") == "" {
			w.WriteHeader(400)
			return
		}
		if fails.Add(-1) >= 0 {
			w.WriteHeader(503)
		}
	}))
	defer recv.Close()

	open := func() (*sqldb.DB, *registry.Service, *sqldb.RegistryStore) {
		db, err := sqldb.Open(ctx, url)
		require.NoError(t, err)
		st := sqldb.NewRegistryStore(db)
		return db, registry.NewService(nil, nil, st, registry.Options{Now: now, Dispatcher: registry.DispatcherOptions{MaxAttempts: 5, BaseBackoff: time.Second}}), st
	}
	db, svc, st := open()
	admin := auth.WithIdentity(ctx, &auth.Identity{Admin: true, Principal: auth.Principal{Name: "admin"}})
	w, err := svc.CreateWebhook(admin, registry.Webhook{Name: "w", URL: recv.URL, Secret: "k",
		Events: []registry.WebhookEvent{{Entity: "model_version", Action: "created"}}})
	require.NoError(t, err)
	require.NoError(t, st.Enqueue(ctx, []registry.Delivery{{ID: "d1", WebhookID: w.ID, Event: registry.EventVersionCreated, Payload: `{"x":1}`,
		Status: "PENDING", NextAttemptAt: clock.UnixMilli(), CreatedAt: clock.UnixMilli()}}))

	svc.Dispatcher().RunOnce(ctx) // attempt 1: 503
	svc.Dispatcher().RunOnce(ctx) // not due yet
	require.Equal(t, int32(1), calls.Load())
	ds, err := st.Deliveries(ctx, w.ID, 10)
	require.NoError(t, err)
	require.Equal(t, "PENDING", ds[0].Status)
	require.Equal(t, clock.Add(time.Second).UnixMilli(), ds[0].NextAttemptAt)

	// restart
	require.NoError(t, db.Close())
	db, svc, st = open()
	defer db.Close()
	for _, step := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		clock = clock.Add(step)
		svc.Dispatcher().RunOnce(ctx)
	}
	require.Equal(t, int32(4), calls.Load())
	ds, err = st.Deliveries(ctx, w.ID, 10)
	require.NoError(t, err)
	require.Equal(t, "DELIVERED", ds[0].Status)
	require.Equal(t, 4, ds[0].Attempts)
	clock = clock.Add(time.Hour)
	svc.Dispatcher().RunOnce(ctx)
	require.Equal(t, int32(4), calls.Load(), "a delivered event is not sent again")

	// a receiver that never answers 2xx: FAILED after MaxAttempts
	fails.Store(1000)
	require.NoError(t, st.Enqueue(ctx, []registry.Delivery{{ID: "d2", WebhookID: w.ID, Event: registry.EventVersionCreated, Payload: `{}`,
		Status: "PENDING", NextAttemptAt: clock.UnixMilli(), CreatedAt: clock.UnixMilli() + 1}}))
	for i := 0; i < 10; i++ {
		svc.Dispatcher().RunOnce(ctx)
		clock = clock.Add(time.Hour)
	}
	ds, err = st.Deliveries(ctx, w.ID, 10)
	require.NoError(t, err)
	require.Equal(t, "d2", ds[0].ID)
	require.Equal(t, "FAILED", ds[0].Status)
	require.Equal(t, 5, ds[0].Attempts)
	require.Contains(t, ds[0].LastError, "503")
}

func TestSign(t *testing.T) {
	// HMAC-SHA256("k", "d1.1700000000.{}") in base64
	require.Equal(t, "v1,DKye34hxfBNOE3kX51AhFcTl35WhINTslX9BB4vUMqQ=", registry.Sign("k", "d1", 1700000000, []byte("{}")))
}
