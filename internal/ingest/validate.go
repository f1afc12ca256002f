package ingest

import (
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/limits"
)

// seriesString renders labels for error messages, cut to a readable size.
func seriesString(ls []prompb.Label) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(l.Value)
		b.WriteByte('"')
		if b.Len() > 200 {
			break
		}
	}
	b.WriteByte('}')
	s := b.String()
	if len(s) > 200 {
		s = s[:200] + "...}"
	}
	return s
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// validateSeries checks one series' labels and builds its sorted label set
// into into, leaving out labels with empty values (they mean "absent" in
// PromQL) and the HA replica label when dropLabel is set. The label set
// built aliases b's buffer: it is valid until b's next use, and must be
// copied to be kept (stable does).
func validateSeries(b *labels.ScratchBuilder, into *labels.Labels, ls []prompb.Label, l *limits.Limits, dropLabel string) *Error {
	scheme := model.LegacyValidation
	if l.AllowUTF8Names {
		scheme = model.UTF8Validation
	}
	b.Reset()
	var metric string
	size, n := 0, 0
	for _, lp := range ls {
		if lp.Value == "" || (dropLabel != "" && lp.Name == dropLabel) {
			continue
		}
		n++
		size += len(lp.Name) + len(lp.Value)
		if lp.Name == model.MetricNameLabel {
			metric = lp.Value
		} else {
			if !scheme.IsValidLabelName(lp.Name) {
				return badData(ReasonLabelInvalid, "received series with an invalid label: '%s' series: '%s'", trunc(lp.Name, 200), seriesString(ls))
			}
			if l.MaxLabelNameLength > 0 && len(lp.Name) > l.MaxLabelNameLength {
				return badData(ReasonLabelNameTooLong, "received series with label name length exceeding the limit (%d), label: '%s' series: '%s'", l.MaxLabelNameLength, trunc(lp.Name, 200), seriesString(ls))
			}
		}
		if !utf8.ValidString(lp.Value) {
			return badData(ReasonLabelInvalid, "received series with an invalid label value (not UTF-8) for label '%s' series: '%s'", trunc(lp.Name, 200), seriesString(ls))
		}
		if l.MaxLabelValueLength > 0 && len(lp.Value) > l.MaxLabelValueLength {
			return badData(ReasonLabelValueTooLong, "received series with label value length exceeding the limit (%d), value: '%s' (truncated) series: '%s'", l.MaxLabelValueLength, trunc(lp.Value, 200), seriesString(ls))
		}
		b.Add(lp.Name, lp.Value)
	}
	if metric == "" {
		return badData(ReasonMissingMetricName, "received series has no metric name: '%s'", seriesString(ls))
	}
	if !scheme.IsValidMetricName(metric) {
		return badData(ReasonMetricNameInvalid, "received series with invalid metric name: '%s'", trunc(metric, 200))
	}
	if l.MaxLabelNamesPerSeries > 0 && n > l.MaxLabelNamesPerSeries {
		return badData(ReasonMaxLabelNames, "series has too many labels (actual: %d, limit: %d) series: '%s'", n, l.MaxLabelNamesPerSeries, seriesString(ls))
	}
	if l.MaxLabelsSizeBytes > 0 && size > l.MaxLabelsSizeBytes {
		return badData(ReasonLabelsTooLarge, "series labels are too large (actual: %d bytes, limit: %d bytes) series: '%s'", size, l.MaxLabelsSizeBytes, seriesString(ls))
	}
	b.Sort()
	b.Overwrite(into)
	if name, dup := into.HasDuplicateLabelNames(); dup {
		return badData(ReasonDuplicateLabels, "received series with duplicate label name, label: '%s' series: '%s'", name, seriesString(ls))
	}
	return nil
}
