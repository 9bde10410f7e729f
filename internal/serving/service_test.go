package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

// memStore is an in-memory Store (the SQL one is tested through the app).
type memStore struct {
	mu     sync.Mutex
	eps    map[string]*Endpoint
	events map[string][]Event
}

func newMemStore() *memStore {
	return &memStore{eps: map[string]*Endpoint{}, events: map[string][]Event{}}
}

func (m *memStore) CreateEndpoint(_ context.Context, e *Endpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.eps[e.Name] != nil {
		return errs.E(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", "exists")
	}
	c := *e
	m.eps[e.Name] = &c
	return nil
}
func (m *memStore) GetEndpoint(_ context.Context, n string) (*Endpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.eps[n]; e != nil {
		c := *e
		return &c, nil
	}
	return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "no")
}
func (m *memStore) ListEndpoints(context.Context) ([]*Endpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Endpoint
	for _, e := range m.eps {
		c := *e
		out = append(out, &c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
func (m *memStore) UpdateEndpoint(_ context.Context, e *Endpoint, prev int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.eps[e.Name] == nil || m.eps[e.Name].ConfigVersion != prev {
		return errs.E(errs.Conflict, "RESOURCE_CONFLICT", "conflict")
	}
	c := *e
	m.eps[e.Name] = &c
	return nil
}
func (m *memStore) DeleteEndpoint(_ context.Context, n string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.eps, n)
	return nil
}
func (m *memStore) AddEvent(_ context.Context, n string, ev Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events[n] = append(m.events[n], ev)
	return nil
}
func (m *memStore) Events(_ context.Context, n string, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events[n]...), nil
}

type captured struct {
	mu   sync.Mutex
	recs []*CaptureRecord
}

func (c *captured) Capture(r *CaptureRecord) { c.mu.Lock(); c.recs = append(c.recs, r); c.mu.Unlock() }

func newTestService(t *testing.T, src *DirSource, po PoolOptions) (*Service, *captured) {
	cap := &captured{}
	s := New(Options{Store: newMemStore(), Source: src, Capturer: cap,
		Runtime:   RuntimeOptions{ONNXRuntimeLib: onnxLib(t), Python: pythonPath(), WorkerDir: t.TempDir()},
		AliasPoll: time.Hour, SyncInterval: time.Hour, Pool: po})
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, cap
}

func waitReady(t *testing.T, s *Service, name string) *EndpointView {
	t.Helper()
	var v *EndpointView
	require.Eventually(t, func() bool {
		var err error
		v, err = s.Get(context.Background(), name)
		require.NoError(t, err)
		require.NotEqual(t, UpdateFailed, v.State.ConfigUpdate, "rollout failed")
		return v.State.Ready == StateReady && v.State.ConfigUpdate == UpdateNotUpdating
	}, 60*time.Second, 20*time.Millisecond)
	return v
}

func rowsBody(e *expectedSet, n int) []byte {
	b, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": e.Columns, "data": e.X[:n]}})
	return b
}

func mustCreate(t *testing.T, s *Service, body string) {
	t.Helper()
	var req CreateRequest
	require.NoError(t, json.Unmarshal([]byte(body), &req))
	_, err := s.Create(context.Background(), &req)
	require.NoError(t, err)
}

func TestTrafficSplit(t *testing.T) {
	e := loadExpected(t)
	src := newModelTree(t)
	s, cap := newTestService(t, src, PoolOptions{})
	mustCreate(t, s, `{"name":"split","config":{"served_entities":[
		{"name":"a","entity_name":"main.default.xgb_bin","entity_version":"1"},
		{"name":"b","entity_name":"main.default.xgb_reg","entity_version":"1"}],
		"traffic_config":{"routes":[{"served_entity_name":"a","traffic_percentage":90},{"served_entity_name":"b","traffic_percentage":10}]},
		"auto_capture_config":{"catalog_name":"main","schema_name":"default"}}}`)
	waitReady(t, s, "split")
	body := rowsBody(e, 1)
	counts := map[string]int{}
	const n = 10000
	for i := range n {
		r, err := s.Invoke(context.Background(), &InvokeRequest{Endpoint: "split", ContentType: "application/json", Body: body, RequestID: fmt.Sprint(i)})
		require.NoError(t, err)
		counts[r.ServedName]++
	}
	require.InDelta(t, 0.9, float64(counts["a"])/n, 0.02, "counts %v", counts)
	require.InDelta(t, 0.1, float64(counts["b"])/n, 0.02, "counts %v", counts)
	require.Len(t, cap.recs, n)
	require.Equal(t, "main.default.split_payload", cap.recs[0].Table)

	t.Run("ErrInvalidSplit", func(t *testing.T) {
		var req CreateRequest
		require.NoError(t, json.Unmarshal([]byte(`{"name":"bad","config":{"served_entities":[
			{"name":"a","entity_name":"main.default.xgb_bin","entity_version":"1"},
			{"name":"b","entity_name":"main.default.xgb_reg","entity_version":"1"}],
			"traffic_config":{"routes":[{"served_entity_name":"a","traffic_percentage":90},{"served_entity_name":"b","traffic_percentage":20}]}}}`), &req))
		_, err := s.Create(context.Background(), &req)
		require.ErrorContains(t, err, "sum to 110")
		require.True(t, errs.Is(err, errs.Invalid))
	})
	t.Run("ServedEntityRoute", func(t *testing.T) {
		for range 20 {
			r, err := s.Invoke(context.Background(), &InvokeRequest{Endpoint: "split", Served: "b", ContentType: "application/json", Body: body})
			require.NoError(t, err)
			require.Equal(t, "b", r.ServedName)
		}
	})
}

func TestBadPayloads(t *testing.T) {
	e := loadExpected(t)
	src := newModelTree(t)
	s, _ := newTestService(t, src, PoolOptions{})
	mustCreate(t, s, `{"name":"x","config":{"served_entities":[{"entity_name":"main.default.xgb_bin","entity_version":"1"}]}}`)
	waitReady(t, s, "x")
	cols := strings.Join(e.Columns[:3], `","`)
	rec := map[string]any{}
	for _, c := range e.Columns {
		rec[c] = 1.5
	}
	rec["f7"] = "x"
	recJSON, _ := json.Marshal(map[string]any{"dataframe_records": []any{rec}})
	for _, tc := range []struct {
		name, ct, body, want string
		status               int
	}{
		{"NotJSON", "application/json", `{"dataframe_split":`, "not a JSON object", 400},
		{"NoDataKey", "application/json", `{"data":[[1]]}`, "exactly one of", 400},
		{"TwoDataKeys", "application/json", `{"instances":[[1]],"inputs":[[1]]}`, "both", 400},
		{"MissingColumn", "application/json", `{"dataframe_split":{"columns":["` + cols + `"],"data":[[1,2,3]]}}`, `"f3"`, 400},
		{"StringInDouble", "application/json", string(recJSON), `column "f7"`, 400},
		{"WrongWidth", "application/json", `{"instances":[[1,2]]}`, "signature has 20 columns", 400},
		{"BadContentType", "text/plain", `x`, "not supported", 415},
		{"PandasSplitParam", "application/json; format=pandas-split", `{}`, "not supported", 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Invoke(context.Background(), &InvokeRequest{Endpoint: "x", ContentType: tc.ct, Body: []byte(tc.body)})
			require.Error(t, err)
			require.Contains(t, errs.Message(err), tc.want)
			require.Equal(t, tc.status, StatusOf(err))
		})
	}
	t.Run("CSV", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(strings.Join(e.Columns, ",") + "\n")
		for _, r := range e.X[:3] {
			var parts []string
			for _, v := range r {
				parts = append(parts, fmt.Sprint(v))
			}
			b.WriteString(strings.Join(parts, ",") + "\n")
		}
		r, err := s.Invoke(context.Background(), &InvokeRequest{Endpoint: "x", ContentType: "text/csv; charset=utf-8", Body: []byte(b.String())})
		require.NoError(t, err)
		var out struct{ Predictions []float64 }
		require.NoError(t, json.Unmarshal(r.Body, &out))
		require.Len(t, out.Predictions, 3)
	})
}

func TestScaleToZeroAndColdStart(t *testing.T) {
	e := loadExpected(t)
	src := newModelTree(t)
	s, _ := newTestService(t, src, PoolOptions{Tick: 10 * time.Millisecond})
	mustCreate(t, s, `{"name":"z","config":{"served_entities":[{"entity_name":"main.default.lr","entity_version":"1",
		"scale_to_zero_enabled":true,"scale_to_zero_idle_seconds":1}]}}`)
	v := waitReady(t, s, "z")
	name := v.Config.ServedEntities[0].Name
	pool := func() *Pool { return s.eps["z"].cur.Load().entities[name].pool }
	require.Eventually(t, func() bool { return pool().Replicas() == 0 }, 10*time.Second, 20*time.Millisecond, "scale to zero")
	v, _ = s.Get(context.Background(), "z")
	require.Contains(t, v.Config.ServedEntities[0].State.DeploymentStateMessage, "scaled to zero")
	t0 := time.Now()
	r, err := s.Invoke(context.Background(), &InvokeRequest{Endpoint: "z", ContentType: "application/json", Body: rowsBody(e, 2)})
	require.NoError(t, err, "the cold-start request waits and succeeds")
	t.Logf("cold start answered in %s", time.Since(t0))
	require.Contains(t, string(r.Body), "predictions")
	require.Equal(t, 1, pool().Replicas())
	logs, err := s.Logs(context.Background(), "z", name)
	require.NoError(t, err)
	require.Contains(t, logs, "scaled to zero")
}

func TestAliasMoveZeroFailures(t *testing.T) {
	e := loadExpected(t)
	src := newModelTree(t)
	s, _ := newTestService(t, src, PoolOptions{})
	mustCreate(t, s, `{"name":"champ","config":{"served_entities":[{"name":"m","entity_name":"main.default.lr@champion"}]}}`)
	waitReady(t, s, "champ")
	body := rowsBody(e, 25)
	var failures, total atomic.Int64
	var mu sync.Mutex
	seen := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.Invoke(context.Background(), &InvokeRequest{Endpoint: "champ", ContentType: "application/json", Body: body})
				total.Add(1)
				if err != nil {
					failures.Add(1)
					t.Errorf("request failed during the alias move: %v", err)
					continue
				}
				mu.Lock()
				seen[string(r.Body)] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, src.SetAlias("main.default.lr", "champion", "2"))
	s.PollAliases(context.Background())
	require.Eventually(t, func() bool {
		v, _ := s.Get(context.Background(), "champ")
		return v.Config.ServedEntities[0].ResolvedVersion == "2" && v.State.ConfigUpdate == UpdateNotUpdating
	}, 60*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	require.Zero(t, failures.Load(), "of %d requests", total.Load())
	require.Len(t, seen, 2, "answers of version 1 then version 2")
	evs, _ := s.Events(context.Background(), "champ")
	var msgs []string
	for _, ev := range evs {
		msgs = append(msgs, ev.Message)
	}
	require.Contains(t, strings.Join(msgs, "\n"), "alias main.default.lr@champion moved from version 1 to 2")
}

func TestWorkerKilledMidRequest(t *testing.T) {
	e := loadExpected(t)
	src := newModelTree(t)
	s, _ := newTestService(t, src, PoolOptions{RestartBackoff: 50 * time.Millisecond})
	mustCreate(t, s, `{"name":"k","config":{"served_entities":[{"name":"m","entity_name":"main.default.rf","entity_version":"1"}]}}`)
	waitReady(t, s, "k")
	pool := s.eps["k"].cur.Load().entities["m"].pool
	pool.mu.Lock()
	pid := pool.replicas[0].r.(*pyWorker).Pid()
	pool.mu.Unlock()
	body := rowsBody(e, 25)
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				if _, err := s.Invoke(context.Background(), &InvokeRequest{Endpoint: "k", ContentType: "application/json", Body: body}); err != nil {
					errc <- err
				}
			}
		}()
	}
	time.Sleep(30 * time.Millisecond)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	wg.Wait()
	close(errc)
	for err := range errc {
		// A request is retried once on a fresh replica; one that still
		// fails must fail cleanly (503), never hang or 500.
		require.Equal(t, 503, StatusOf(err), "%v", err)
	}
	require.Eventually(t, func() bool {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		return len(pool.replicas) == 1 && pool.replicas[0].r.(*pyWorker).Pid() != pid
	}, 30*time.Second, 20*time.Millisecond, "the dead worker is replaced")
	_, err := s.Invoke(context.Background(), &InvokeRequest{Endpoint: "k", ContentType: "application/json", Body: body})
	require.NoError(t, err)
}
