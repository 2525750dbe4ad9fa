package pipeline

import "github.com/prometheus/client_golang/prometheus"

// keyError is the slog key for errors; log keys are stable snake_case constants.
const keyError = "error"

type metrics struct {
	accepted    prometheus.Counter
	rejected    *prometheus.CounterVec
	storeErrors prometheus.Counter
	stage       *prometheus.HistogramVec
	places      prometheus.Gauge
	backfilled  prometheus.Counter
	compliance  *prometheus.CounterVec
	removed     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_pipeline_posts_accepted_total", Help: "Posts that passed the gate and were stored.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_pipeline_posts_rejected_total", Help: "Posts rejected, by reason (private_account, invalid_coordinates, …).",
		}, []string{"reason"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_pipeline_store_errors_total", Help: "Batches the store failed to write.",
		}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "geopulse_pipeline_stage_seconds", Help: "Time a batch spends in each stage.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"stage"}),
		places: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "geopulse_pipeline_places", Help: "Places in the match index.",
		}),
		backfilled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_pipeline_backfill_matches_total", Help: "Matches written by place backfills.",
		}),
		compliance: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_compliance_events_total", Help: "Compliance events applied, by kind (delete, user_delete, user_protect, user_unprotect, scrub_geo).",
		}, []string{"kind"}),
		removed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_compliance_posts_removed_total", Help: "Posts removed by compliance events.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.accepted, m.rejected, m.storeErrors, m.stage, m.places, m.backfilled, m.compliance, m.removed)
	}
	return m
}
