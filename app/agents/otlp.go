package agents

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Batch is what one OTLP export said, read into reports.
type Batch struct {
	Reports []app.Report
	// Records counts the export's log records, metric data points or spans;
	// Unrecognised those that no adapter knew. Both are shown on the token's
	// page, so that a misconfigured exporter is noticed.
	Records      int
	Unrecognised int
}

// resource is what a resource's attributes say about every record under it.
type resource struct {
	service string
	attrs   pcommon.Map
	// Set through OTEL_RESOURCE_ATTRIBUTES: the agentdeck run the agent runs
	// under, and whether its sessions are ambient runs and from where.
	runID   string
	ambient bool
	source  app.Source
}

func readResource(attrs pcommon.Map) resource {
	r := resource{service: str(attrs, "service.name"), attrs: attrs, runID: str(attrs, "agentdeck.run_id")}
	r.ambient = strings.EqualFold(str(attrs, "agentdeck.kind"), string(app.KindAmbient))
	r.source = app.Source(strings.ToLower(str(attrs, "agentdeck.source")))
	if r.source != "" {
		r.ambient = true
	}
	return r
}

// report starts a report of the resource's agent.
func (r resource) report(agent, session string, at time.Time) app.Report {
	return app.Report{
		Agent: agent, Session: session, RunID: r.runID, Channel: app.ChannelOTLP, At: at,
		Ambient: r.ambient, Source: r.source,
	}
}

// otlpAdapter reads the records of one agent family. Each reader returns
// the reports a record makes and whether it recognised the record at all.
type otlpAdapter struct {
	name string
	// claims decides by the resource alone; an adapter without it is asked
	// about every record a claiming adapter left.
	claims func(r resource) bool
	log    func(r resource, rec plog.LogRecord) ([]app.Report, bool)
	point  func(r resource, metric pmetric.Metric, attrs pcommon.Map) ([]app.Report, bool)
	span   func(r resource, span ptrace.Span) ([]app.Report, bool)
}

// otlpAdapters is the one table that decides who reads a record: first the
// adapter that claims the resource's service.name, then the GenAI semantic
// conventions, which any instrumented agent may follow, record by record.
var otlpAdapters = []otlpAdapter{claudeCodeOTLP, codexOTLP, geminiCLIOTLP, genAIOTLP}

// adapterFor picks the adapter that claims a resource, or the record-level
// fallbacks when none does.
func adapterFor(r resource) []otlpAdapter {
	for _, a := range otlpAdapters {
		if a.claims != nil && a.claims(r) {
			return []otlpAdapter{a}
		}
	}
	var rest []otlpAdapter
	for _, a := range otlpAdapters {
		if a.claims == nil {
			rest = append(rest, a)
		}
	}
	return rest
}

// FromLogs reads an OTLP logs export.
func FromLogs(ld plog.Logs) Batch {
	var b Batch
	for _, rl := range ld.ResourceLogs().All() {
		r := readResource(rl.Resource().Attributes())
		adapters := adapterFor(r)
		for _, sl := range rl.ScopeLogs().All() {
			for _, rec := range sl.LogRecords().All() {
				b.Records++
				if !b.read(adapters, func(a otlpAdapter) ([]app.Report, bool) {
					if a.log == nil {
						return nil, false
					}
					return a.log(r, rec)
				}) {
					b.Unrecognised++
				}
			}
		}
	}
	return b
}

// FromMetrics reads an OTLP metrics export, one report per data point that
// names a session.
func FromMetrics(md pmetric.Metrics) Batch {
	var b Batch
	for _, rm := range md.ResourceMetrics().All() {
		r := readResource(rm.Resource().Attributes())
		adapters := adapterFor(r)
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				for _, attrs := range pointAttributes(m) {
					b.Records++
					if !b.read(adapters, func(a otlpAdapter) ([]app.Report, bool) {
						if a.point == nil {
							return nil, false
						}
						return a.point(r, m, attrs)
					}) {
						b.Unrecognised++
					}
				}
			}
		}
	}
	return b
}

// FromTraces reads an OTLP traces export.
func FromTraces(td ptrace.Traces) Batch {
	var b Batch
	for _, rs := range td.ResourceSpans().All() {
		r := readResource(rs.Resource().Attributes())
		adapters := adapterFor(r)
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				b.Records++
				if !b.read(adapters, func(a otlpAdapter) ([]app.Report, bool) {
					if a.span == nil {
						return nil, false
					}
					return a.span(r, span)
				}) {
					b.Unrecognised++
				}
			}
		}
	}
	return b
}

// read asks the adapters in turn until one recognises the record.
func (b *Batch) read(adapters []otlpAdapter, ask func(otlpAdapter) ([]app.Report, bool)) bool {
	for _, a := range adapters {
		if reports, ok := ask(a); ok {
			b.Reports = append(b.Reports, reports...)
			return true
		}
	}
	return false
}

// pointAttributes lists the attributes of each of a metric's data points.
func pointAttributes(m pmetric.Metric) []pcommon.Map {
	var out []pcommon.Map
	switch m.Type() {
	case pmetric.MetricTypeSum:
		for _, dp := range m.Sum().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	case pmetric.MetricTypeGauge:
		for _, dp := range m.Gauge().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range m.ExponentialHistogram().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	case pmetric.MetricTypeSummary:
		for _, dp := range m.Summary().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	}
	return out
}

// str reads an attribute as text; "" when absent.
func str(m pcommon.Map, key string) string {
	v, ok := m.Get(key)
	if !ok {
		return ""
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return v.AsString()
}

// count reads a non-negative whole number that an agent may send as an int,
// a double or a decimal string ("14").
func count(m pcommon.Map, key string) int64 {
	v, ok := m.Get(key)
	if !ok {
		return 0
	}
	var f float64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return max(v.Int(), 0)
	case pcommon.ValueTypeDouble:
		f = v.Double()
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseFloat(strings.TrimSpace(v.Str()), 64)
		if err != nil {
			return 0
		}
		f = n
	default:
		return 0
	}
	if !(f >= 0 && f < math.MaxInt64/2) {
		return 0
	}
	return int64(f)
}

// number reads an attribute that an agent sends as a number or a decimal
// string; false when absent or not a finite number.
func number(m pcommon.Map, key string) (float64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return 0, false
	}
	var f float64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		f = float64(v.Int())
	case pcommon.ValueTypeDouble:
		f = v.Double()
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseFloat(strings.TrimSpace(v.Str()), 64)
		if err != nil {
			return 0, false
		}
		f = n
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// flag reads a boolean that an agent may send as a bool or as "true".
func flag(m pcommon.Map, key string) (value, present bool) {
	v, ok := m.Get(key)
	if !ok {
		return false, false
	}
	if v.Type() == pcommon.ValueTypeBool {
		return v.Bool(), true
	}
	b, err := strconv.ParseBool(v.AsString())
	return b && err == nil, err == nil
}

// recordTime is when a record happened: its own timestamp, else the time it
// was observed, else the event.timestamp attribute some agents add.
func recordTime(ts, observed pcommon.Timestamp, attrs pcommon.Map) time.Time {
	for _, t := range []pcommon.Timestamp{ts, observed} {
		if t != 0 {
			return t.AsTime().UTC()
		}
	}
	if s := str(attrs, "event.timestamp"); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// recordKey identifies a record by its content, so that an exporter's
// retry of it is recognised: the same time and the same attributes.
func recordKey(prefix string, ts pcommon.Timestamp, attrs pcommon.Map) string {
	parts := make([]string, 0, attrs.Len())
	for k, v := range attrs.All() {
		parts = append(parts, k+"="+v.AsString())
	}
	slices.Sort(parts)
	h := sha256.New()
	h.Write([]byte(strconv.FormatUint(uint64(ts), 10)))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return prefix + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// redacted reports whether an agent left a text out (Claude Code without
// OTEL_LOG_USER_PROMPTS, Codex without log_user_prompt).
func redacted(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.EqualFold(strings.Trim(s, "<>[]"), "REDACTED")
}
