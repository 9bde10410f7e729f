package serving

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the serving metrics, per endpoint and served entity.
type metrics struct {
	requests   *prometheus.CounterVec
	errors     *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	replicas   *prometheus.GaugeVec
	queue      *prometheus.GaugeVec
	coldStarts *prometheus.CounterVec
	restarts   *prometheus.CounterVec
	captured   *prometheus.CounterVec
	batchRows  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	l := []string{"endpoint", "served_entity"}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lakebox_serving_requests_total",
			Help: "Invocations by endpoint, served entity and HTTP status code."}, append(l, "code")),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lakebox_serving_errors_total",
			Help: "Failed invocations by endpoint, served entity and error kind."}, append(l, "kind")),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lakebox_serving_request_duration_seconds",
			Help:    "Invocation latency (parse, queue, model, encode) by endpoint and served entity.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, l),
		replicas: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lakebox_serving_replicas",
			Help: "Running replicas by endpoint and served entity."}, l),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lakebox_serving_queue_depth",
			Help: "Requests waiting for a replica."}, l),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lakebox_serving_cold_starts_total",
			Help: "Replica starts from zero replicas, with a request waiting."}, l),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lakebox_serving_replica_restarts_total",
			Help: "Replicas replaced after dying or failing a health check."}, l),
		captured: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lakebox_serving_captured_total",
			Help: "Requests handed to inference-table capture."}, []string{"endpoint"}),
		batchRows: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lakebox_serving_batch_rows",
			Help:    "Rows per model call (concurrent requests merged into one call) by endpoint and served entity.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}}, l),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.errors, m.latency, m.replicas, m.queue, m.coldStarts, m.restarts, m.captured, m.batchRows)
	}
	return m
}

// poolObserver feeds one pool's metrics.
type poolObserver struct {
	m        *metrics
	endpoint string
	entity   string
}

func (o poolObserver) Replicas(n int) {
	o.m.replicas.WithLabelValues(o.endpoint, o.entity).Set(float64(n))
}
func (o poolObserver) QueueDepth(n int) {
	o.m.queue.WithLabelValues(o.endpoint, o.entity).Set(float64(n))
}
func (o poolObserver) ColdStart() { o.m.coldStarts.WithLabelValues(o.endpoint, o.entity).Inc() }
func (o poolObserver) Restart()   { o.m.restarts.WithLabelValues(o.endpoint, o.entity).Inc() }
func (o poolObserver) BatchRows(n int) {
	o.m.batchRows.WithLabelValues(o.endpoint, o.entity).Observe(float64(n))
}
