package awsint

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/metastore"
)

// maxListPages bounds one ListMetrics or tagging listing (500 metrics or
// 100 resources a page).
const maxListPages = 400

// query is one GetMetricData query and where its datapoints go.
type query struct {
	id     string
	target *target
	ns     string
	metric string
	stat   string
	dims   map[string]string
	period time.Duration
	// latest > 0: the newest datapoint within it, stamped at the poll.
	latest time.Duration
	// name is the series' Prometheus name; its labels are built only for
	// a query that returns datapoints.
	name string
}

// listing is what ListMetrics lists of one namespace in a region, indexed
// so that a resource finds its series without scanning the namespace: by
// metric name, by metric and dimension names, and by metric, dimension
// names and one dimension's value.
type listing struct {
	byName  map[string]bool
	byNames map[string][]map[string]string
	byValue map[string][]map[string]string
}

func (l *listing) add(metric string, dims map[string]string) {
	l.byName[metric] = true
	names := dimNamesOf(dims)
	k := metric + "\x00" + names
	l.byNames[k] = append(l.byNames[k], dims)
	for d, v := range dims {
		kv := k + "\x00" + d + "=" + v
		l.byValue[kv] = append(l.byValue[kv], dims)
	}
}

// groupKey groups queries that share a window: period and mode.
type groupKey struct {
	period, latest time.Duration
}

// collect pulls the metrics of the targets, region by region (a
// resource's metrics are where the resource is: a bucket's region,
// us-east-1 for global products), and writes them into the workspace.
func (s *Service) collect(ctx context.Context, rec metastore.AWSIntegration, i Integration, cfg aws.Config, targets []target, now time.Time, report *PollReport) []string {
	byRegion := map[string][]*target{}
	for ti := range targets {
		// A stopped resource (an EC2 instance, an RDS instance) publishes
		// nothing: asking would be billed for no data.
		if targets[ti].res.Status == catalog.StatusPoweroff {
			continue
		}
		byRegion[targets[ti].res.Region] = append(byRegion[targets[ti].res.Region], &targets[ti])
	}
	regions := make([]string, 0, len(byRegion))
	for r := range byRegion {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	var errs []string
	for _, region := range regions {
		if ctx.Err() != nil {
			break
		}
		if err := s.collectRegion(ctx, rec, i, regional(cfg, region), byRegion[region], now, report); err != nil {
			errs = append(errs, region+": "+err.Error())
		}
	}
	return errs
}

// applicable are a target's metric sets.
func applicable(p *catalog.Product, r *catalog.Resource) []*catalog.MetricSet {
	var out []*catalog.MetricSet
	for k := range p.MetricSets {
		s := &p.MetricSets[k]
		if s.Kind == r.Kind && r.HasTraits(s.Requires) {
			out = append(out, s)
		}
	}
	return out
}

// needsListing reports whether a set's series must come from ListMetrics
// for a resource: a sub-resource dimension nobody knows the values of, or
// metrics that exist only where a feature is on.
func needsListing(s *catalog.MetricSet, r *catalog.Resource) bool {
	return s.Listed || len(s.Free(r.Dimensions, r.Families)) > 0
}

func (s *Service) collectRegion(ctx context.Context, rec metastore.AWSIntegration, i Integration, cfg aws.Config, targets []*target, now time.Time, report *PollReport) error {
	region := cfg.Region
	cw := cloudwatch.NewFromConfig(cfg)

	// ListMetrics, once per namespace, where sub-resources, optional
	// metrics or "add new metrics automatically" need it. Slow (Latest)
	// sets read listings without RecentlyActive: a day's metric has had
	// no datapoint for hours.
	type listKey struct {
		ns     string
		recent bool
	}
	need := map[listKey]bool{}
	for _, tg := range targets {
		p, _ := catalog.Get(tg.res.Product)
		ss := i.Settings.Services[tg.res.Product]
		for _, set := range applicable(p, &tg.res) {
			if needsListing(set, &tg.res) || ss.AutoAddNewMetrics && set.Name == "" && set.Latest == 0 {
				need[listKey{set.Namespace, set.Latest == 0}] = true
			}
		}
	}
	keys := make([]listKey, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a].ns < keys[b].ns || keys[a].ns == keys[b].ns && keys[a].recent })
	listings := map[listKey]*listing{}
	var errs []string
	for _, k := range keys {
		l, err := listMetrics(ctx, cw, k.ns, k.recent)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		listings[k] = l
	}

	// The queries, by period and mode.
	groups := map[groupKey][]*query{}
	known := knownMetrics()
	selections := map[string][]catalog.Selectable{}
	for _, tg := range targets {
		p, _ := catalog.Get(tg.res.Product)
		ss := i.Settings.Services[tg.res.Product]
		sels, ok := selections[p.Key]
		if !ok {
			for _, sel := range p.Selectables() {
				if !sel.API && wanted(ss, sel.Key) {
					sels = append(sels, sel)
				}
			}
			selections[p.Key] = sels
		}
		own := p.OwnDimensions(tg.res.Kind)
		for _, set := range applicable(p, &tg.res) {
			l, listed := listings[listKey{set.Namespace, set.Latest == 0}]
			if needsListing(set, &tg.res) && !listed {
				continue // its listing failed: reported above
			}
			for _, m := range set.Metrics {
				if !tg.res.HasTraits(m.Requires) {
					continue
				}
				for _, st := range m.Stats {
					name := catalog.MetricName(set.Namespace, m.Name, st)
					if !selectedKey(sels, catalog.SelectionKey(name, set, own)) {
						continue
					}
					for _, dims := range seriesOf(set, &tg.res, m.Name, l) {
						q := &query{target: tg, ns: set.Namespace, metric: m.Name, stat: st, dims: dims, period: set.PeriodOf(m), latest: set.Latest, name: name}
						groups[groupKey{q.period, q.latest}] = append(groups[groupKey{q.period, q.latest}], q)
					}
				}
			}
			// New metrics CloudWatch lists with exactly the resource's own
			// dimensions ("add new metrics automatically"; its own set,
			// named "", is where they go), with a statistic that suits
			// their name.
			if ss.AutoAddNewMetrics && set.Name == "" && set.Latest == 0 && !set.HasSubResources(own) && listed {
				for _, m := range unknownMetrics(l, known[set.Namespace]) {
					st := catalog.NewMetricStat(m)
					name := catalog.MetricName(set.Namespace, m, st)
					if !wanted(ss, name) {
						continue
					}
					for _, dims := range listedSeries(set, &tg.res, m, l) {
						q := &query{target: tg, ns: set.Namespace, metric: m, stat: st, dims: dims, period: set.Period, name: name}
						groups[groupKey{q.period, 0}] = append(groups[groupKey{q.period, 0}], q)
					}
				}
			}
		}
	}
	gks := make([]groupKey, 0, len(groups))
	for k := range groups {
		gks = append(gks, k)
	}
	sort.Slice(gks, func(a, b int) bool {
		return gks[a].period < gks[b].period || gks[a].period == gks[b].period && gks[a].latest < gks[b].latest
	})
	for _, k := range gks {
		if ctx.Err() != nil {
			break
		}
		if err := s.collectGroup(ctx, cw, rec, i, region, k, groups[k], now, report); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func selectedKey(sels []catalog.Selectable, key string) bool {
	for _, s := range sels {
		if s.Key == key {
			return true
		}
	}
	return false
}

// knownMetrics are the metric names the catalog has, by namespace: what
// "add new metrics automatically" does not count as new.
func knownMetrics() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, p := range catalog.All() {
		for _, s := range p.MetricSets {
			if out[s.Namespace] == nil {
				out[s.Namespace] = map[string]bool{}
			}
			for _, m := range s.Metrics {
				out[s.Namespace][m.Name] = true
			}
		}
	}
	return out
}

func unknownMetrics(l *listing, known map[string]bool) []string {
	var out []string
	for m := range l.byName {
		if !known[m] {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// seriesOf returns the dimension sets a set's metric is asked with for a
// resource: from ListMetrics where needed, else the resource's own
// dimensions with each combination of its sub-resources' values.
func seriesOf(set *catalog.MetricSet, r *catalog.Resource, metric string, l *listing) []map[string]string {
	if needsListing(set, r) {
		return listedSeries(set, r, metric, l)
	}
	out := []map[string]string{{}}
	for _, d := range set.Dimensions {
		var vs []string
		switch {
		case set.Fixed[d] != "":
			vs = []string{set.Fixed[d]}
		case r.Dimensions[d] != "":
			vs = []string{r.Dimensions[d]}
		default:
			vs = r.Families[d]
		}
		next := make([]map[string]string, 0, len(out)*len(vs))
		for _, m := range out {
			for _, v := range vs {
				c := make(map[string]string, len(m)+1)
				for k, x := range m {
					c[k] = x
				}
				c[d] = v
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

// listedSeries are the dimension sets ListMetrics lists for a metric with
// exactly the set's dimension names, agreeing with the resource's own
// dimensions, the fixed ones and the sub-resources discovery knows.
func listedSeries(set *catalog.MetricSet, r *catalog.Resource, metric string, l *listing) []map[string]string {
	if l == nil {
		return nil
	}
	k := metric + "\x00" + dimNames(set.Dimensions)
	candidates := l.byNames[k]
	for _, d := range set.Dimensions { // narrowed by a value the resource knows
		v := set.Fixed[d]
		if v == "" {
			v = r.Dimensions[d]
		}
		if v != "" {
			candidates = l.byValue[k+"\x00"+d+"="+v]
			break
		}
	}
	var out []map[string]string
	for _, dims := range candidates {
		ok := true
		for _, d := range set.Dimensions {
			v := dims[d]
			switch {
			case set.Fixed[d] != "":
				ok = v == set.Fixed[d]
			case r.Dimensions[d] != "":
				ok = v == r.Dimensions[d]
			case len(r.Families[d]) > 0:
				ok = contains(r.Families[d], v)
			}
			if !ok {
				break
			}
		}
		if ok {
			out = append(out, dims)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func dimNames(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

func dimNamesOf(dims map[string]string) string {
	s := make([]string, 0, len(dims))
	for k := range dims {
		s = append(s, k)
	}
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

// periodWindow is the window a period group reads: from its cursor (or,
// the first time, backfill before the end) to the last period that is
// final (now − delay, truncated to the period), but never from before
// maxWindow ago: ingest refuses samples older than that. lost is the
// cursor when that cut off periods the cursor had not reached.
func periodWindow(now time.Time, period, delay, backfill, maxWindow time.Duration, cursor time.Time, hasCursor bool) (start, end, lost time.Time) {
	end = now.Add(-delay).Truncate(period)
	start = cursor
	if !hasCursor {
		start = end.Add(-max(backfill, period)).Truncate(period)
	}
	// The oldest period start whose samples are at most maxWindow old now:
	// counted from now, not from end, which lies a period and the delay
	// earlier.
	limit := now.Add(-maxWindow)
	oldest := limit.Truncate(period)
	if oldest.Before(limit) {
		oldest = oldest.Add(period)
	}
	if start.Before(oldest) {
		if hasCursor {
			lost = start
		}
		start = oldest
	}
	return start, end, lost
}

// listMetrics lists a namespace's metrics (recently active ones only, or
// all), bounded by maxListPages.
func listMetrics(ctx context.Context, cw *cloudwatch.Client, ns string, recent bool) (*listing, error) {
	in := &cloudwatch.ListMetricsInput{Namespace: aws.String(ns)}
	if recent {
		in.RecentlyActive = cwtypes.RecentlyActivePt3h
	}
	out := &listing{byName: map[string]bool{}, byNames: map[string][]map[string]string{}, byValue: map[string][]map[string]string{}}
	pg := cloudwatch.NewListMetricsPaginator(cloudwatchListMetrics(cw.ListMetrics), in)
	for pages := 0; pg.HasMorePages(); pages++ {
		if pages >= maxListPages {
			return out, fmt.Errorf("ListMetrics %s: more than %d pages; stopped", ns, maxListPages)
		}
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListMetrics %s: %s", ns, apiMessage(err))
		}
		for _, m := range page.Metrics {
			dims := make(map[string]string, len(m.Dimensions))
			for _, d := range m.Dimensions {
				dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
			}
			out.add(aws.ToString(m.MetricName), dims)
		}
	}
	return out, nil
}

// collectGroup reads one group's queries with GetMetricData, up to
// QueriesPerCall a call, and writes the datapoints. A period group reads
// every complete period since its cursor (period end + Delay ≤ now) and
// moves the cursor only when everything up to it was written: no point
// is lost, none is written twice. A latest group reads its look-back
// window and writes each query's newest datapoint stamped at the poll.
func (s *Service) collectGroup(ctx context.Context, cw *cloudwatch.Client, rec metastore.AWSIntegration, i Integration, region string,
	k groupKey, qs []*query, now time.Time, report *PollReport) error {
	period := k.period
	psec := int(period / time.Second)
	var start, end time.Time
	if k.latest > 0 {
		end = now.Truncate(time.Minute)
		start = end.Add(-k.latest).Truncate(period)
	} else {
		cursor, ok, err := s.o.Store.GetAWSCursor(ctx, rec.ID, region, psec)
		if err != nil {
			return err
		}
		var lost time.Time
		start, end, lost = periodWindow(now, period, s.o.Delay, s.o.Backfill, s.o.MaxWindow, cursor, ok)
		if !lost.IsZero() {
			report.Errors = append(report.Errors, fmt.Sprintf("%s: datapoints from %s to %s were not collected (more than %s behind; older samples would be refused)",
				region, lost.Format(time.RFC3339), start.Format(time.RFC3339), s.o.MaxWindow))
		}
		if !start.Before(end) {
			return nil // nothing complete since the last poll
		}
	}
	for n := range qs {
		qs[n].id = fmt.Sprintf("q%d", n)
	}
	batch := &prompb.WriteRequest{}
	flush := func() error {
		if len(batch.Timeseries) == 0 {
			return nil
		}
		n := 0
		for _, ts := range batch.Timeseries {
			n += len(ts.Samples)
		}
		if err := s.o.Pusher.Push(ctx, i.WorkspaceID, batch); err != nil {
			return fmt.Errorf("write into workspace %s: %w", i.WorkspaceID, err)
		}
		report.SamplesWritten += n
		batch = &prompb.WriteRequest{}
		return nil
	}
	scan := cwtypes.ScanByTimestampAscending
	if k.latest > 0 {
		scan = cwtypes.ScanByTimestampDescending
	}
	per := s.o.QueriesPerCall
	for lo := 0; lo < len(qs); lo += per {
		chunk := qs[lo:min(lo+per, len(qs))]
		byID := make(map[string]*query, len(chunk))
		in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), ScanBy: scan}
		for _, q := range chunk {
			byID[q.id] = q
			dims := make([]cwtypes.Dimension, 0, len(q.dims))
			for k, v := range q.dims {
				dims = append(dims, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
			}
			sort.Slice(dims, func(a, b int) bool { return aws.ToString(dims[a].Name) < aws.ToString(dims[b].Name) })
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{Id: aws.String(q.id), ReturnData: aws.Bool(true),
				MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(q.ns), MetricName: aws.String(q.metric), Dimensions: dims},
					Period: aws.Int32(int32(psec)), Stat: aws.String(q.stat)}})
		}
		report.MetricsRequested += len(chunk)
		points := map[string]*prompb.TimeSeries{}
		pg := cloudwatch.NewGetMetricDataPaginator(cloudwatchGetMetricData(cw.GetMetricData), in)
		for pages := 0; pg.HasMorePages(); pages++ {
			if pages >= maxListPages {
				return fmt.Errorf("GetMetricData: more than %d pages; stopped", maxListPages)
			}
			page, err := pg.NextPage(ctx)
			report.GetMetricDataCalls++
			if err != nil {
				return fmt.Errorf("GetMetricData: %s", apiMessage(err))
			}
			for _, r := range page.MetricDataResults {
				q := byID[aws.ToString(r.Id)]
				if q == nil || len(r.Timestamps) != len(r.Values) {
					continue
				}
				ts := points[q.id]
				if ts == nil {
					ts = &prompb.TimeSeries{Labels: seriesLabels(q.name, q.target, q.dims, rec.AWSAccountID, i.Settings.ExtraTags)}
					points[q.id] = ts
				}
				for n := range r.Timestamps {
					t := r.Timestamps[n]
					if t.Before(start) || !t.Before(end) {
						continue
					}
					if k.latest > 0 { // the newest one, stamped at the poll
						if len(ts.Samples) == 0 {
							ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: now.UnixMilli(), Value: r.Values[n]})
						}
						continue
					}
					ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: t.UnixMilli(), Value: r.Values[n]})
				}
			}
		}
		for _, q := range chunk {
			ts := points[q.id]
			if ts == nil || len(ts.Samples) == 0 {
				continue
			}
			sort.Slice(ts.Samples, func(a, b int) bool { return ts.Samples[a].Timestamp < ts.Samples[b].Timestamp })
			report.Datapoints += len(ts.Samples)
			batch.Timeseries = append(batch.Timeseries, *ts)
			if len(batch.Timeseries) >= 2000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if k.latest > 0 {
		return nil
	}
	return s.o.Store.SetAWSCursor(ctx, rec.ID, region, psec, end)
}
