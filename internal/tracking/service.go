package tracking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
)

// DefaultArtifactRoot is the artifact location prefix of new experiments.
const DefaultArtifactRoot = "mlflow-artifacts:/"

// Service applies MLflow's tracking rules on a Store.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
	newID func() string
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock sets the clock.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIDs sets the run/model id generator (32 hex characters).
func WithIDs(f func() string) Option { return func(s *Service) { s.newID = f } }

// NewService returns a tracking service on store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, newID: randomID}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Service) nowMS() int64 { return s.now().UnixMilli() }

// Store returns the service's store (for the artifact and registry rooms).
func (s *Service) Store() Store { return s.store }

func userOf(ctx context.Context) string {
	if id := auth.IdentityFrom(ctx); id != nil {
		return id.Principal.Name
	}
	return ""
}

// ---- experiments ----

// CreateExperiment creates an experiment and returns its id.
func (s *Service) CreateExperiment(ctx context.Context, name, artifactLocation string, tags []Tag) (string, error) {
	if name == "" {
		return "", Missing("name")
	}
	if err := ValidateExperimentName(name); err != nil {
		return "", err
	}
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return "", err
		}
	}
	if artifactLocation == "" {
		artifactLocation = DefaultArtifactRoot + "{id}"
	} else if err := validateArtifactLocation(artifactLocation); err != nil {
		return "", err
	}
	now := s.nowMS()
	return s.store.CreateExperiment(ctx, Experiment{
		Name: name, ArtifactLocation: strings.TrimRight(artifactLocation, "/"), LifecycleStage: StageActive,
		CreationTime: now, LastUpdateTime: now, Tags: tags,
	})
}

func validateArtifactLocation(loc string) error {
	if strings.Contains(loc, "..") {
		return Invalid("Invalid artifact_location '%s': it must not contain '..'", loc)
	}
	if rest, ok := strings.CutPrefix(loc, DefaultArtifactRoot); ok {
		rest = strings.Trim(rest, "/")
		if rest == "" || strings.Contains(rest, "//") {
			return Invalid("Invalid artifact_location '%s': use mlflow-artifacts:/<path>", loc)
		}
	}
	return nil
}

// GetExperiment returns an experiment by id.
func (s *Service) GetExperiment(ctx context.Context, id string) (Experiment, error) {
	n, err := ParseExperimentID(id)
	if err != nil {
		return Experiment{}, err
	}
	return s.store.GetExperiment(ctx, n)
}

// GetExperimentByName returns an experiment by name.
func (s *Service) GetExperimentByName(ctx context.Context, name string) (Experiment, error) {
	if name == "" {
		return Experiment{}, Missing("experiment_name")
	}
	return s.store.GetExperimentByName(ctx, name)
}

func parseViewType(v string) (string, error) {
	switch v {
	case "", ViewActiveOnly, "1":
		return ViewActiveOnly, nil
	case ViewDeletedOnly, "2":
		return ViewDeletedOnly, nil
	case ViewAll, "3":
		return ViewAll, nil
	}
	return "", Invalid("Invalid view type '%s': use ACTIVE_ONLY, DELETED_ONLY or ALL", v)
}

func parseOrder(orderBy []string, g *Grammar) ([]OrderKey, error) {
	var out []OrderKey
	for _, o := range orderBy {
		if strings.TrimSpace(o) == "" {
			continue
		}
		k, err := ParseOrderBy(o, g)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// SearchExperiments searches experiments.
func (s *Service) SearchExperiments(ctx context.Context, filter string, orderBy []string, viewType string, maxResults int64, pageToken string) ([]Experiment, string, error) {
	q := ExperimentQuery{}
	var err error
	if q.MaxResults, err = clampMax(maxResults, DefaultSearchRuns, MaxSearchExperiments, "experiments"); err != nil {
		return nil, "", err
	}
	if q.ViewType, err = parseViewType(viewType); err != nil {
		return nil, "", err
	}
	if q.Filter, err = ParseFilter(filter, ExperimentGrammar); err != nil {
		return nil, "", err
	}
	if q.OrderBy, err = parseOrder(orderBy, ExperimentGrammar); err != nil {
		return nil, "", err
	}
	if q.Offset, err = DecodePageToken(pageToken); err != nil {
		return nil, "", err
	}
	exps, more, err := s.store.SearchExperiments(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = EncodePageToken(q.Offset + q.MaxResults)
	}
	return exps, next, nil
}

// RenameExperiment renames an experiment.
func (s *Service) RenameExperiment(ctx context.Context, id, newName string) error {
	n, err := ParseExperimentID(id)
	if err != nil {
		return err
	}
	if newName == "" {
		return Missing("new_name")
	}
	if err := ValidateExperimentName(newName); err != nil {
		return err
	}
	e, err := s.store.GetExperiment(ctx, n)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return Invalid("Cannot rename a non-active experiment.")
	}
	return s.store.UpdateExperiment(ctx, n, newName, "", s.nowMS())
}

// DeleteExperiment marks an experiment (and its runs) deleted.
func (s *Service) DeleteExperiment(ctx context.Context, id string) error {
	n, err := ParseExperimentID(id)
	if err != nil {
		return err
	}
	if n == 0 {
		return Invalid("Cannot delete the default experiment '0'. This is an internally reserved experiment.")
	}
	if _, err := s.store.GetExperiment(ctx, n); err != nil {
		return err
	}
	return s.store.UpdateExperiment(ctx, n, "", StageDeleted, s.nowMS())
}

// RestoreExperiment restores a deleted experiment (and its runs).
func (s *Service) RestoreExperiment(ctx context.Context, id string) error {
	n, err := ParseExperimentID(id)
	if err != nil {
		return err
	}
	e, err := s.store.GetExperiment(ctx, n)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageDeleted {
		return Invalid("Cannot restore an experiment that is not deleted: experiment '%s' is %s.", id, e.LifecycleStage)
	}
	return s.store.UpdateExperiment(ctx, n, "", StageActive, s.nowMS())
}

// SetExperimentTag sets (value != nil) or deletes a tag of an experiment.
func (s *Service) SetExperimentTag(ctx context.Context, id, key string, value *string) error {
	n, err := ParseExperimentID(id)
	if err != nil {
		return err
	}
	t := Tag{Key: key}
	if value != nil {
		t.Value = *value
	}
	if err := ValidateTag(t); err != nil {
		return err
	}
	e, err := s.store.GetExperiment(ctx, n)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return Invalid("The experiment %s must be in the 'active' state. Current state is %s.", id, e.LifecycleStage)
	}
	return s.store.SetExperimentTag(ctx, n, key, value)
}

// ---- runs ----

// CreateRunRequest is the input of CreateRun.
type CreateRunRequest struct {
	ExperimentID string
	UserID       string
	RunName      string
	StartTime    int64
	Tags         []Tag
}

// CreateRun starts a run.
func (s *Service) CreateRun(ctx context.Context, req CreateRunRequest) (Run, error) {
	if req.ExperimentID == "" {
		req.ExperimentID = DefaultExperimentID
	}
	n, err := ParseExperimentID(req.ExperimentID)
	if err != nil {
		return Run{}, err
	}
	exp, err := s.store.GetExperiment(ctx, n)
	if err != nil {
		return Run{}, err
	}
	if exp.LifecycleStage != StageActive {
		return Run{}, Invalid("The experiment %s must be in the 'active' state. Current state is %s.", req.ExperimentID, exp.LifecycleStage)
	}
	tags := make([]Tag, 0, len(req.Tags)+1)
	for _, t := range req.Tags {
		if err := ValidateTag(t); err != nil {
			return Run{}, err
		}
		if t.Key == TagRunName {
			if req.RunName != "" && t.Value != req.RunName {
				return Run{}, Invalid("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='%s', mlflow.runName='%s').", req.RunName, t.Value)
			}
			req.RunName = t.Value
			continue
		}
		tags = append(tags, t)
	}
	if req.RunName == "" {
		req.RunName = s.runName()
	}
	tags = append(tags, Tag{Key: TagRunName, Value: req.RunName})
	if req.UserID == "" {
		req.UserID = userOf(ctx)
	}
	if req.StartTime == 0 {
		req.StartTime = s.nowMS()
	}
	id := s.newID()
	info := RunInfo{
		RunID: id, RunUUID: id, RunName: req.RunName, ExperimentID: exp.ExperimentID, UserID: req.UserID,
		Status: StatusRunning, StartTime: req.StartTime, ArtifactURI: exp.ArtifactLocation + "/" + id + "/artifacts",
		LifecycleStage: StageActive,
	}
	if err := s.store.CreateRun(ctx, info, tags); err != nil {
		return Run{}, err
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return Run{Info: info, Data: RunData{Tags: tags}}, nil
}

var (
	adjectives = []string{"amazing", "bold", "brave", "bright", "calm", "clever", "crisp", "daring", "eager", "fast", "gentle", "glad", "grand", "happy", "honest", "keen", "kind", "lively", "lucid", "merry", "neat", "nimble", "polite", "proud", "quick", "quiet", "rare", "sharp", "shy", "smooth", "sunny", "swift", "tidy", "vivid", "warm", "wise", "witty", "zesty"}
	nouns      = []string{"ant", "bass", "bat", "bear", "bee", "carp", "cat", "colt", "crab", "crow", "deer", "doe", "dove", "duck", "eel", "elk", "finch", "fox", "frog", "gnu", "goat", "hare", "hawk", "hen", "jay", "lark", "lynx", "mole", "moth", "newt", "owl", "ox", "ram", "seal", "shrew", "slug", "snail", "stag", "swan", "toad", "trout", "wasp", "whale", "wolf", "wren", "yak"}
)

func pick(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

func (s *Service) runName() string {
	return fmt.Sprintf("%s-%s-%d", adjectives[pick(len(adjectives))], nouns[pick(len(nouns))], pick(1000))
}

// GetRun returns a run with its data, inputs and outputs.
func (s *Service) GetRun(ctx context.Context, runID string) (Run, error) {
	if err := ValidateRunID(runID); err != nil {
		return Run{}, err
	}
	runs, err := s.store.GetRuns(ctx, []string{runID})
	if err != nil {
		return Run{}, err
	}
	if len(runs) == 0 {
		return Run{}, runNotFound(runID)
	}
	return runs[0], nil
}

func runNotFound(id string) error { return NotFound("Run with id=%s not found", id) }

// GetRunInfo returns a run's metadata.
func (s *Service) GetRunInfo(ctx context.Context, runID string) (RunInfo, error) {
	if err := ValidateRunID(runID); err != nil {
		return RunInfo{}, err
	}
	return s.store.GetRunInfo(ctx, runID)
}

func (s *Service) activeRun(ctx context.Context, runID string) (RunInfo, error) {
	info, err := s.GetRunInfo(ctx, runID)
	if err != nil {
		return info, err
	}
	if info.LifecycleStage != StageActive {
		return info, Invalid("The run %s must be in the 'active' state. Current state is %s.", runID, info.LifecycleStage)
	}
	return info, nil
}

// UpdateRun changes status, end time and name.
func (s *Service) UpdateRun(ctx context.Context, runID string, status string, endTime int64, runName string) (RunInfo, error) {
	if _, err := s.activeRun(ctx, runID); err != nil {
		return RunInfo{}, err
	}
	var u RunUpdate
	if status != "" {
		if !ValidRunStatus(status) {
			return RunInfo{}, Invalid("Invalid run status '%s': use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED", status)
		}
		u.Status = &status
	}
	if endTime != 0 {
		u.EndTime = &endTime
	}
	if runName != "" {
		u.RunName = &runName
	}
	if err := s.store.UpdateRun(ctx, runID, u); err != nil {
		return RunInfo{}, err
	}
	return s.store.GetRunInfo(ctx, runID)
}

// DeleteRun marks a run deleted.
func (s *Service) DeleteRun(ctx context.Context, runID string) error {
	if _, err := s.GetRunInfo(ctx, runID); err != nil {
		return err
	}
	return s.store.SetRunLifecycle(ctx, runID, StageDeleted, s.nowMS())
}

// RestoreRun restores a deleted run.
func (s *Service) RestoreRun(ctx context.Context, runID string) error {
	if _, err := s.GetRunInfo(ctx, runID); err != nil {
		return err
	}
	return s.store.SetRunLifecycle(ctx, runID, StageActive, 0)
}

// LogBatch logs metrics, params and tags on an active run.
func (s *Service) LogBatch(ctx context.Context, runID string, metrics []Metric, params []Param, tags []Tag) error {
	if err := ValidateRunID(runID); err != nil {
		return err
	}
	if err := ValidateBatch(metrics, params, tags); err != nil {
		return err
	}
	if _, err := s.activeRun(ctx, runID); err != nil {
		return err
	}
	if len(metrics)+len(params)+len(tags) == 0 {
		return nil
	}
	now := s.nowMS()
	for i := range metrics {
		if metrics[i].Timestamp == 0 {
			metrics[i].Timestamp = now
		}
	}
	return s.store.LogBatch(ctx, runID, metrics, params, tags)
}

// LogMetric logs one metric point.
func (s *Service) LogMetric(ctx context.Context, runID string, m Metric) error {
	if m.Key == "" {
		return Missing("key")
	}
	return s.LogBatch(ctx, runID, []Metric{m}, nil, nil)
}

// LogParam logs one param.
func (s *Service) LogParam(ctx context.Context, runID string, p Param) error {
	if p.Key == "" {
		return Missing("key")
	}
	return s.LogBatch(ctx, runID, nil, []Param{p}, nil)
}

// SetTag sets a run tag.
func (s *Service) SetTag(ctx context.Context, runID string, t Tag) error {
	if t.Key == "" {
		return Missing("key")
	}
	return s.LogBatch(ctx, runID, nil, nil, []Tag{t})
}

// DeleteTag deletes a run tag.
func (s *Service) DeleteTag(ctx context.Context, runID, key string) error {
	if key == "" {
		return Missing("key")
	}
	if _, err := s.activeRun(ctx, runID); err != nil {
		return err
	}
	return s.store.DeleteRunTag(ctx, runID, key)
}

// MetricHistory returns a page of a metric's history.
func (s *Service) MetricHistory(ctx context.Context, runID, key string, maxResults int64, pageToken string) ([]Metric, string, error) {
	if key == "" {
		return nil, "", Missing("metric_key")
	}
	if _, err := s.GetRunInfo(ctx, runID); err != nil {
		return nil, "", err
	}
	q := HistoryQuery{RunID: runID, Key: key}
	var err error
	if maxResults < 0 {
		return nil, "", Invalid("Invalid value %d for parameter 'max_results': it must be positive", maxResults)
	}
	q.MaxResults = int(maxResults) // 0 = everything
	if q.Offset, err = DecodePageToken(pageToken); err != nil {
		return nil, "", err
	}
	ms, more, err := s.store.MetricHistory(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = EncodePageToken(q.Offset + q.MaxResults)
	}
	return ms, next, nil
}

// Limits of get-history-bulk-interval.
const (
	MaxBulkIntervalRuns    = 100
	DefaultBulkIntervalMax = 320
	MaxBulkIntervalResults = 2500
)

// MetricHistoryBulkInterval returns, for each run, up to maxResults points of
// key sampled evenly over the steps in [start, end] (the first and last
// step always included), as MLflow's get-history-bulk-interval does.
func (s *Service) MetricHistoryBulkInterval(ctx context.Context, runIDs []string, key string, start, end *int64, maxResults int64) ([]Metric, error) {
	if len(runIDs) == 0 {
		return nil, Missing("run_ids")
	}
	if len(runIDs) > MaxBulkIntervalRuns {
		return nil, Invalid("GetMetricHistoryBulkInterval request must specify at most %d run_ids. Received %d run_ids.", MaxBulkIntervalRuns, len(runIDs))
	}
	if key == "" {
		return nil, Missing("metric_key")
	}
	if maxResults == 0 {
		maxResults = DefaultBulkIntervalMax
	}
	if maxResults < 0 || maxResults > MaxBulkIntervalResults {
		return nil, Invalid("max_results must be between 1 and %d, got %d", MaxBulkIntervalResults, maxResults)
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if start != nil {
		lo = *start
	}
	if end != nil {
		hi = *end
	}
	if lo > hi {
		return nil, Invalid("end_step must be greater than start_step. Found start_step=%d and end_step=%d.", lo, hi)
	}
	for _, id := range runIDs {
		if _, err := s.GetRunInfo(ctx, id); err != nil {
			return nil, err
		}
	}
	pts, err := s.store.MetricHistoryRange(ctx, runIDs, key, lo, hi)
	if err != nil {
		return nil, err
	}
	byRun := map[string][]Metric{}
	for _, m := range pts {
		byRun[m.RunID] = append(byRun[m.RunID], m)
	}
	var out []Metric
	for _, id := range runIDs {
		ms := byRun[id]
		var steps []int64
		for i, m := range ms {
			if i == 0 || m.Step != ms[i-1].Step {
				steps = append(steps, m.Step)
			}
		}
		keep := sampleSteps(steps, int(maxResults))
		for _, m := range ms {
			if keep[m.Step] {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func sampleSteps(steps []int64, n int) map[int64]bool {
	keep := map[int64]bool{}
	if len(steps) <= n {
		for _, s := range steps {
			keep[s] = true
		}
		return keep
	}
	for i := 0; i < n; i++ {
		idx := int(math.Round(float64(i) * float64(len(steps)-1) / float64(n-1)))
		keep[steps[idx]] = true
	}
	return keep
}

// LogInputs records datasets and model inputs of a run.
func (s *Service) LogInputs(ctx context.Context, runID string, datasets []DatasetInput, models []ModelInput) error {
	info, err := s.activeRun(ctx, runID)
	if err != nil {
		return err
	}
	if len(datasets) > MaxDatasetsPerInput {
		return Invalid("A log-inputs request can contain at most %d datasets, got %d", MaxDatasetsPerInput, len(datasets))
	}
	refs := make([][]TableRef, len(datasets))
	for i, d := range datasets {
		if d.Dataset.Name == "" {
			return Missing("dataset.name")
		}
		if d.Dataset.Digest == "" {
			return Missing("dataset.digest")
		}
		if d.Dataset.SourceType == "" {
			return Missing("dataset.source_type")
		}
		if d.Dataset.Source == "" {
			return Missing("dataset.source")
		}
		if len(d.Dataset.Name) > 500 || len(d.Dataset.Digest) > 36 {
			return Invalid("Dataset name may be at most 500 characters and digest at most 36; got %d and %d", len(d.Dataset.Name), len(d.Dataset.Digest))
		}
		for _, t := range d.Tags {
			if err := ValidateTag(t); err != nil {
				return err
			}
		}
		refs[i] = TableRefs(d)
	}
	for _, m := range models {
		if m.ModelID == "" {
			return Missing("model_id")
		}
	}
	return s.store.LogInputs(ctx, runID, info.ExperimentID, datasets, refs, models)
}

// LogOutputs records logged models produced by a run.
func (s *Service) LogOutputs(ctx context.Context, runID string, models []ModelOutput) error {
	if _, err := s.activeRun(ctx, runID); err != nil {
		return err
	}
	for _, m := range models {
		if m.ModelID == "" {
			return Missing("models.model_id")
		}
		if _, err := s.store.GetLoggedModel(ctx, m.ModelID); err != nil {
			return err
		}
	}
	return s.store.LogOutputs(ctx, runID, models)
}

// RunTables returns the table versions a run's datasets came from.
func (s *Service) RunTables(ctx context.Context, runID string) ([]TableRef, error) {
	if _, err := s.GetRunInfo(ctx, runID); err != nil {
		return nil, err
	}
	return s.store.RunTables(ctx, runID)
}

// SearchRunsRequest is the input of SearchRuns.
type SearchRunsRequest struct {
	ExperimentIDs []string
	Filter        string
	ViewType      string
	MaxResults    int64
	OrderBy       []string
	PageToken     string
}

// SearchRuns searches runs in experiments.
func (s *Service) SearchRuns(ctx context.Context, req SearchRunsRequest) ([]Run, string, error) {
	q := RunQuery{}
	var err error
	for _, id := range req.ExperimentIDs {
		n, err := ParseExperimentID(id)
		if err != nil {
			return nil, "", err
		}
		q.ExperimentIDs = append(q.ExperimentIDs, n)
	}
	if q.MaxResults, err = clampMax(req.MaxResults, DefaultSearchRuns, MaxSearchRuns, "runs"); err != nil {
		return nil, "", err
	}
	if q.ViewType, err = parseViewType(req.ViewType); err != nil {
		return nil, "", err
	}
	if q.Filter, err = ParseFilter(req.Filter, RunGrammar); err != nil {
		return nil, "", err
	}
	if q.OrderBy, err = parseOrder(req.OrderBy, RunGrammar); err != nil {
		return nil, "", err
	}
	if q.Offset, err = DecodePageToken(req.PageToken); err != nil {
		return nil, "", err
	}
	if len(q.ExperimentIDs) == 0 {
		return nil, "", nil
	}
	ids, more, err := s.store.SearchRuns(ctx, q)
	if err != nil {
		return nil, "", err
	}
	runs, err := s.store.GetRuns(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = EncodePageToken(q.Offset + q.MaxResults)
	}
	return runs, next, nil
}

// ---- logged models ----

// CreateLoggedModelRequest is the input of CreateLoggedModel.
type CreateLoggedModelRequest struct {
	ExperimentID string
	Name         string
	ModelType    string
	SourceRunID  string
	Params       []Param
	Tags         []Tag
}

// CreateLoggedModel starts a logged model (status LOGGED_MODEL_PENDING).
func (s *Service) CreateLoggedModel(ctx context.Context, req CreateLoggedModelRequest) (LoggedModel, error) {
	n, err := ParseExperimentID(req.ExperimentID)
	if err != nil {
		return LoggedModel{}, err
	}
	exp, err := s.store.GetExperiment(ctx, n)
	if err != nil {
		return LoggedModel{}, err
	}
	if exp.LifecycleStage != StageActive {
		return LoggedModel{}, Invalid("The experiment %s must be in the 'active' state. Current state is %s.", req.ExperimentID, exp.LifecycleStage)
	}
	if req.SourceRunID != "" {
		if _, err := s.GetRunInfo(ctx, req.SourceRunID); err != nil {
			return LoggedModel{}, err
		}
	}
	if req.Name == "" {
		req.Name = s.runName()
	}
	if err := ValidateKey("Model", req.Name); err != nil {
		return LoggedModel{}, err
	}
	for _, p := range req.Params {
		if err := ValidateParam(p); err != nil {
			return LoggedModel{}, err
		}
	}
	for _, t := range req.Tags {
		if err := ValidateTag(t); err != nil {
			return LoggedModel{}, err
		}
	}
	now := s.nowMS()
	id := "m-" + s.newID()
	m := LoggedModel{
		Info: LoggedModelInfo{
			ModelID: id, ExperimentID: exp.ExperimentID, Name: req.Name, CreationTimestampMS: now, LastUpdatedTimestampMS: now,
			ArtifactURI: exp.ArtifactLocation + "/models/" + id + "/artifacts", Status: ModelPending, Creator: userOf(ctx),
			ModelType: req.ModelType, SourceRunID: req.SourceRunID, Tags: req.Tags, LifecycleStage: StageActive,
		},
		Data: LoggedModelData{Params: req.Params},
	}
	if err := s.store.CreateLoggedModel(ctx, m); err != nil {
		return LoggedModel{}, err
	}
	return s.store.GetLoggedModel(ctx, id)
}

// GetLoggedModel returns a logged model.
func (s *Service) GetLoggedModel(ctx context.Context, id string) (LoggedModel, error) {
	if id == "" {
		return LoggedModel{}, Missing("model_id")
	}
	m, err := s.store.GetLoggedModel(ctx, id)
	if err != nil {
		return m, err
	}
	if m.Info.LifecycleStage == StageDeleted {
		return LoggedModel{}, NotFound("Logged model with ID '%s' not found.", id)
	}
	return m, nil
}

// FinalizeLoggedModel sets a logged model's status (READY or UPLOAD_FAILED).
func (s *Service) FinalizeLoggedModel(ctx context.Context, id, status string) (LoggedModel, error) {
	if _, err := s.GetLoggedModel(ctx, id); err != nil {
		return LoggedModel{}, err
	}
	switch status {
	case ModelReady, ModelFailed, ModelPending:
	case "":
		return LoggedModel{}, Missing("status")
	default:
		return LoggedModel{}, Invalid("Invalid logged model status '%s': use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED", status)
	}
	if err := s.store.UpdateLoggedModel(ctx, id, status, "", s.nowMS()); err != nil {
		return LoggedModel{}, err
	}
	return s.store.GetLoggedModel(ctx, id)
}

// DeleteLoggedModel marks a logged model deleted.
func (s *Service) DeleteLoggedModel(ctx context.Context, id string) error {
	if _, err := s.GetLoggedModel(ctx, id); err != nil {
		return err
	}
	return s.store.UpdateLoggedModel(ctx, id, "", StageDeleted, s.nowMS())
}

// SetLoggedModelTags sets tags on a logged model.
func (s *Service) SetLoggedModelTags(ctx context.Context, id string, tags []Tag) error {
	if _, err := s.GetLoggedModel(ctx, id); err != nil {
		return err
	}
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return err
		}
	}
	return s.store.SetLoggedModelTags(ctx, id, tags, s.nowMS())
}

// DeleteLoggedModelTag deletes a tag of a logged model.
func (s *Service) DeleteLoggedModelTag(ctx context.Context, id, key string) error {
	if _, err := s.GetLoggedModel(ctx, id); err != nil {
		return err
	}
	return s.store.DeleteLoggedModelTag(ctx, id, key)
}

// LogLoggedModelParams logs params on a logged model.
func (s *Service) LogLoggedModelParams(ctx context.Context, id string, params []Param) error {
	if _, err := s.GetLoggedModel(ctx, id); err != nil {
		return err
	}
	for _, p := range params {
		if err := ValidateParam(p); err != nil {
			return err
		}
	}
	return s.store.LogLoggedModelParams(ctx, id, params)
}

// SearchLoggedModels searches logged models.
func (s *Service) SearchLoggedModels(ctx context.Context, experimentIDs []string, filter string, orderBy []string, maxResults int64, pageToken string) ([]LoggedModel, string, error) {
	q := LoggedModelQuery{}
	for _, id := range experimentIDs {
		n, err := ParseExperimentID(id)
		if err != nil {
			return nil, "", err
		}
		q.ExperimentIDs = append(q.ExperimentIDs, n)
	}
	var err error
	if q.MaxResults, err = clampMax(maxResults, 100, MaxSearchRuns, "logged models"); err != nil {
		return nil, "", err
	}
	if q.Filter, err = ParseFilter(filter, LoggedModelGrammar); err != nil {
		return nil, "", err
	}
	if q.OrderBy, err = parseOrder(orderBy, LoggedModelGrammar); err != nil {
		return nil, "", err
	}
	if q.Offset, err = DecodePageToken(pageToken); err != nil {
		return nil, "", err
	}
	ms, more, err := s.store.SearchLoggedModels(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = EncodePageToken(q.Offset + q.MaxResults)
	}
	return ms, next, nil
}

// RunArtifactURI returns a run's artifact_uri (artifact.Owners).
func (s *Service) RunArtifactURI(ctx context.Context, runID string) (string, error) {
	info, err := s.GetRunInfo(ctx, runID)
	return info.ArtifactURI, err
}

// LoggedModelArtifactURI returns a logged model's artifact_uri (artifact.Owners).
func (s *Service) LoggedModelArtifactURI(ctx context.Context, modelID string) (string, error) {
	m, err := s.store.GetLoggedModel(ctx, modelID)
	return m.Info.ArtifactURI, err
}
