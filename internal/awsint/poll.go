package awsint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/metastore"
)

// MaxQueriesPerCall is GetMetricData's limit of metric queries per call.
const MaxQueriesPerCall = 500

// costPerMetric is GetMetricData's price per metric requested ($0.01 per
// 1,000), and per ListMetrics request.
const costPerMetric = 0.01 / 1000

// PollReport says what one poll did.
type PollReport struct {
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// Resources discovered, the hosts they map to, those excluded by the tag
	// filter, and hosts retired because their resource was deleted.
	Resources int `json:"resources"`
	Excluded  int `json:"excluded"`
	Retired   int `json:"retired"`
	// MetricsRequested is GetMetricData's billing unit; GetMetricDataCalls
	// the calls they took (ceil(metrics/500) per region and period).
	MetricsRequested   int     `json:"metricsRequested"`
	GetMetricDataCalls int     `json:"getMetricDataCalls"`
	Datapoints         int     `json:"datapoints"`
	SamplesWritten     int     `json:"samplesWritten"`
	EstimatedCostUSD   float64 `json:"estimatedCostUSD"`
	// APICalls counts every AWS call of the poll by "Service:Action".
	APICalls map[string]int `json:"apiCalls"`
	Errors   []string       `json:"errors,omitempty"`
}

// Run polls due integrations until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	sem := make(chan struct{}, s.o.MaxConcurrentPolls)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		recs, err := s.o.Store.ListAWSIntegrations(ctx, "")
		if err != nil && ctx.Err() == nil {
			s.o.Logger.Error("list AWS integrations", "err", err)
		}
		now := s.o.Now()
		for _, rec := range recs {
			if !s.due(rec, now) || (s.o.Owns != nil && !s.o.Owns(rec.ID)) {
				continue
			}
			s.mu.Lock()
			busy := s.polling[rec.ID]
			s.mu.Unlock()
			if busy {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				defer func() { <-sem }()
				if _, err := s.Poll(ctx, id, s.o.Now()); err != nil && ctx.Err() == nil {
					s.o.Logger.Warn("AWS integration poll failed", "integration", id, "err", err)
				}
			}(rec.ID)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) due(rec metastore.AWSIntegration, now time.Time) bool {
	if rec.Status == StatusPending {
		return false
	}
	i, err := fromRecord(rec)
	if err != nil {
		return false
	}
	if i.LastPoll == nil {
		return true
	}
	return !now.Before(i.LastPoll.StartedAt.Add(time.Duration(i.Settings.PollInterval)))
}

// Poll runs one poll of an integration as of now: the over-privilege
// check, discovery and host inventory, auto-retirement, and CloudWatch
// metrics for every complete period since the last poll.
func (s *Service) Poll(ctx context.Context, id string, now time.Time) (PollReport, error) {
	s.mu.Lock()
	if s.polling[id] {
		s.mu.Unlock()
		return PollReport{}, fmt.Errorf("integration %s is being polled", id)
	}
	s.polling[id] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.polling, id)
		s.mu.Unlock()
	}()

	rec, err := s.get(ctx, id)
	if err != nil {
		return PollReport{}, err
	}
	i, err := fromRecord(rec)
	if err != nil {
		return PollReport{}, err
	}
	if rec.Status == StatusPending {
		return PollReport{}, fmt.Errorf("integration %s waits for its role ARN", id)
	}
	started := time.Now()
	t := &tally{calls: map[string]int{}}
	ctx = withTally(ctx, t)
	report := PollReport{StartedAt: now.UTC()}
	finish := func(status, reason string) (PollReport, error) {
		report.FinishedAt = s.o.Now().UTC()
		report.APICalls = t.snapshot()
		report.EstimatedCostUSD = math.Round((float64(report.MetricsRequested)+float64(report.APICalls["CloudWatch:ListMetrics"]))*costPerMetric*1e6) / 1e6
		s.metrics.pollDuration.WithLabelValues(id).Observe(time.Since(started).Seconds())
		s.metrics.lastPollTimestamp.WithLabelValues(id).Set(float64(report.FinishedAt.Unix()))
		if status != StatusActive {
			s.metrics.pollFailures.WithLabelValues(id).Inc()
		}
		err := s.setStatus(ctx, id, status, reason, &report)
		return report, err
	}

	cfg, err := s.config(ctx, rec)
	if err != nil {
		report.Errors = append(report.Errors, err.Error())
		return finish(StatusError, err.Error())
	}
	over, err := overPrivileged(ctx, regional(cfg, i.Settings.Regions[0]))
	switch {
	case err != nil && isCredentialError(err):
		report.Errors = append(report.Errors, err.Error())
		return finish(StatusError, "the credentials no longer work: "+err.Error())
	case err != nil:
		report.Errors = append(report.Errors, err.Error())
	case over:
		s.log(i.WorkspaceID, "ERROR", "AWS integration stopped: over-privileged credentials", map[string]string{"integration": id, "reason": overPrivilegedReason})
		return finish(StatusOverPrivileged, overPrivilegedReason)
	}
	filter, _ := ParseTagFilter(i.Settings.TagFilter)
	for _, region := range i.Settings.Regions {
		if err := s.pollRegion(ctx, rec, i, filter, regional(cfg, region), now, &report); err != nil {
			report.Errors = append(report.Errors, region+": "+err.Error())
		}
	}
	s.metrics.metricsRequested.WithLabelValues(id).Add(float64(report.MetricsRequested))
	s.metrics.samplesWritten.WithLabelValues(id).Add(float64(report.SamplesWritten))
	if len(report.Errors) > 0 {
		s.log(i.WorkspaceID, "ERROR", "AWS integration poll failed", map[string]string{"integration": id, "errors": strings.Join(report.Errors, "; ")})
		return finish(StatusError, strings.Join(report.Errors, "; "))
	}
	return finish(StatusActive, "")
}

func (s *Service) log(ws, level, msg string, fields map[string]string) {
	if s.o.Logs != nil {
		s.o.Logs.Log(context.Background(), ws, "aws", level, msg, fields)
	}
}

func isCredentialError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "AssumeRole") || strings.Contains(msg, "InvalidClientTokenId") || strings.Contains(msg, "SignatureDoesNotMatch") ||
		strings.Contains(msg, "ExpiredToken")
}

// target is one resource whose metrics are collected.
type target struct {
	res    catalog.Resource
	hostID string
}

func (s *Service) pollRegion(ctx context.Context, rec metastore.AWSIntegration, i Integration, filter TagFilter, cfg aws.Config, now time.Time, report *PollReport) error {
	region := cfg.Region
	clients := &catalog.Clients{Config: cfg, AccountID: rec.AWSAccountID}
	products := enabledProducts(i.Settings)

	// Discovery: each product's own Describe/List call.
	var resources []catalog.Resource
	discovered := map[string]bool{} // products whose discovery succeeded
	var errs []string
	for _, k := range products {
		p, _ := catalog.Get(k)
		res, err := p.Discover(ctx, clients)
		if err != nil {
			errs = append(errs, fmt.Sprintf("discover %s: %s", p.Name, apiMessage(err)))
			continue
		}
		discovered[k] = true
		resources = append(resources, res...)
	}
	// Tags of products whose Describe call does not return them: one
	// tagging-API listing for all of them.
	if err := s.fillTags(ctx, cfg, products, resources); err != nil {
		errs = append(errs, "read tags (tag:GetResources): "+apiMessage(err))
		// Without tags the tag filter and role tags cannot be judged: keep
		// the inventory as it is and collect nothing for these products.
		for _, k := range products {
			if p, _ := catalog.Get(k); len(p.TagTypes) > 0 {
				discovered[k] = false
			}
		}
	}

	// Inventory: every live resource is observed; deleted ones judged.
	present := map[string]bool{}
	var targets []target
	for _, r := range resources {
		if !discovered[r.Product] || r.Gone {
			continue
		}
		present[r.ARN] = true
		p, _ := catalog.Get(r.Product)
		excluded := !filter.Match(r.Tags)
		h, err := s.o.Hosts.Observe(ctx, i.WorkspaceID, hosts.Observation{
			Integration: rec.ID, ARN: r.ARN, Name: r.Name, Kind: p.HostKind, Product: r.Product, AWSAccountID: rec.AWSAccountID,
			Region: region, Status: r.Status, Identifiers: r.Identifiers, Roles: s.rolesFor(i, r), Tags: r.Tags, Metadata: r.Metadata,
			Excluded: excluded,
		})
		if err != nil {
			return err
		}
		report.Resources++
		if excluded {
			report.Excluded++
			continue
		}
		targets = append(targets, target{res: r, hostID: h.ID})
	}
	if err := s.detectDeletions(ctx, rec, i, region, discovered, present, report); err != nil {
		errs = append(errs, err.Error())
	}

	// Metrics.
	if err := s.collect(ctx, rec, i, cfg, targets, now, report); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// rolesFor is a resource's service:roles: those of its role tag when it has
// one (overriding the default role), else the product's default role.
func (s *Service) rolesFor(i Integration, r catalog.Resource) []string {
	roles, bad, ok := RolesFromTags(r.Tags)
	if len(bad) > 0 {
		s.o.Logger.Warn("invalid service:role in a resource's role tag; it is ignored", "integration", i.ID, "arn", r.ARN, "invalid", strings.Join(bad, ", "))
		s.log(i.WorkspaceID, "WARN", "invalid service:role in the resource's kansoku-integration tag is ignored (names: 2-63 letters, digits, '-' or '_')",
			map[string]string{"integration": i.ID, "arn": r.ARN, "invalid": strings.Join(bad, ", ")})
	}
	if ok {
		out := make([]string, 0, len(roles))
		for _, sr := range roles {
			out = append(out, sr.String())
		}
		return out
	}
	if d := i.Settings.Services[r.Product].DefaultRole; d != "" {
		if sr, err := ParseServiceRole(d); err == nil {
			return []string{sr.String()}
		}
	}
	return []string{}
}

// fillTags reads the tags of the resources whose product reads them from
// the Resource Groups Tagging API.
func (s *Service) fillTags(ctx context.Context, cfg aws.Config, products []string, resources []catalog.Resource) error {
	types := map[string]bool{}
	for _, k := range products {
		p, _ := catalog.Get(k)
		for _, t := range p.TagTypes {
			types[t] = true
		}
	}
	if len(types) == 0 {
		return nil
	}
	filters := make([]string, 0, len(types))
	for t := range types {
		filters = append(filters, t)
	}
	sort.Strings(filters)
	tags := map[string]map[string]string{}
	pg := tagging.NewGetResourcesPaginator(tagging.NewFromConfig(cfg), &tagging.GetResourcesInput{ResourceTypeFilters: filters, ResourcesPerPage: aws.Int32(100)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, m := range page.ResourceTagMappingList {
			t := map[string]string{}
			for _, tag := range m.Tags {
				t[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			tags[aws.ToString(m.ResourceARN)] = t
		}
	}
	for idx := range resources {
		r := &resources[idx]
		p, _ := catalog.Get(r.Product)
		if len(p.TagTypes) == 0 {
			continue
		}
		if t, ok := tags[r.ARN]; ok {
			r.Tags = t
		} else {
			r.Tags = map[string]string{}
		}
	}
	return nil
}

// detectDeletions judges the hosts this integration linked in this region
// whose resource is gone (only for products discovered in this poll: a
// disabled product, or one whose discovery failed, never retires).
func (s *Service) detectDeletions(ctx context.Context, rec metastore.AWSIntegration, i Integration, region string, discovered, present map[string]bool, report *PollReport) error {
	hs, err := s.o.Hosts.List(ctx, hosts.Filter{Workspace: i.WorkspaceID, Integration: rec.ID})
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.Region != region || h.AWSAccountID != rec.AWSAccountID || !discovered[h.Product] || present[h.ARN] {
			continue
		}
		retired, err := s.o.Hosts.DeletionDetected(ctx, h.ID, rec.ID, i.Settings.Services[h.Product].AutoRetire)
		if err != nil {
			return err
		}
		if retired {
			report.Retired++
			s.metrics.hostsRetired.WithLabelValues(rec.ID).Inc()
		}
	}
	return nil
}

// query is one GetMetricData query and where its datapoints go.
type query struct {
	id     string
	target *target
	ns     string
	metric string
	stat   string
	period time.Duration
	labels []prompb.Label
}

// collect pulls the metrics of targets for every complete period since
// the integration's cursor and writes them into the workspace. A period's
// datapoint is read only once it is final (period end + Delay ≤ now), and
// the cursor moves past it only when everything up to it was written: no
// point is lost, none is written twice.
func (s *Service) collect(ctx context.Context, rec metastore.AWSIntegration, i Integration, cfg aws.Config, targets []target, now time.Time, report *PollReport) error {
	region := cfg.Region
	cw := cloudwatch.NewFromConfig(cfg)
	extra, err := s.newMetrics(ctx, cw, i, targets)
	if err != nil {
		return err
	}
	// Queries grouped by period: each group has its own cursor.
	byPeriod := map[time.Duration][]*query{}
	// What to collect depends only on the product and metric set: work it
	// out once per set, not once per resource.
	selections := map[[2]string][]catalog.Selectable{}
	for ti := range targets {
		tg := &targets[ti]
		p, _ := catalog.Get(tg.res.Product)
		set := p.MetricSets[tg.res.MetricSet]
		key := [2]string{tg.res.Product, tg.res.MetricSet}
		sels, ok := selections[key]
		if !ok {
			sels = selected(p, tg.res.MetricSet, i.Settings.Services[tg.res.Product], extra[set.Namespace])
			selections[key] = sels
		}
		for _, sel := range sels {
			byPeriod[set.Period] = append(byPeriod[set.Period], &query{target: tg, ns: set.Namespace, metric: sel.Metric, stat: sel.Stat,
				period: set.Period, labels: seriesLabels(sel.Name, tg, region, rec.AWSAccountID)})
		}
	}
	periods := make([]time.Duration, 0, len(byPeriod))
	for p := range byPeriod {
		periods = append(periods, p)
	}
	sort.Slice(periods, func(a, b int) bool { return periods[a] < periods[b] })
	var errs []string
	for _, period := range periods {
		if err := s.collectPeriod(ctx, cw, rec, i, region, period, byPeriod[period], now, report); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func (s *Service) collectPeriod(ctx context.Context, cw *cloudwatch.Client, rec metastore.AWSIntegration, i Integration, region string,
	period time.Duration, qs []*query, now time.Time, report *PollReport) error {
	end := now.Add(-s.o.Delay).Truncate(period)
	psec := int(period / time.Second)
	start, ok, err := s.o.Store.GetAWSCursor(ctx, rec.ID, region, psec)
	if err != nil {
		return err
	}
	if !ok {
		back := s.o.Backfill
		if back < period {
			back = period
		}
		start = end.Add(-back).Truncate(period)
	}
	oldest := end.Add(-s.o.MaxWindow).Truncate(period)
	if oldest.Before(end.Add(-s.o.MaxWindow)) {
		oldest = oldest.Add(period)
	}
	if start.Before(oldest) {
		if ok {
			report.Errors = append(report.Errors, fmt.Sprintf("%s: datapoints from %s to %s were not collected (more than %s behind; older samples would be refused)",
				region, start.Format(time.RFC3339), oldest.Format(time.RFC3339), s.o.MaxWindow))
		}
		start = oldest
	}
	if !start.Before(end) {
		return nil // nothing complete since the last poll
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
	per := s.o.QueriesPerCall
	for lo := 0; lo < len(qs); lo += per {
		hi := min(lo+per, len(qs))
		chunk := qs[lo:hi]
		byID := make(map[string]*query, len(chunk))
		in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), ScanBy: cwtypes.ScanByTimestampAscending}
		for _, q := range chunk {
			byID[q.id] = q
			dims := make([]cwtypes.Dimension, 0, len(q.target.res.Dimensions))
			for k, v := range q.target.res.Dimensions {
				dims = append(dims, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
			}
			sort.Slice(dims, func(a, b int) bool { return aws.ToString(dims[a].Name) < aws.ToString(dims[b].Name) })
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{Id: aws.String(q.id), ReturnData: aws.Bool(true),
				MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(q.ns), MetricName: aws.String(q.metric), Dimensions: dims},
					Period: aws.Int32(int32(period / time.Second)), Stat: aws.String(q.stat)}})
		}
		report.MetricsRequested += len(chunk)
		points := map[string]*prompb.TimeSeries{}
		pg := cloudwatch.NewGetMetricDataPaginator(cw, in)
		for pg.HasMorePages() {
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
					ts = &prompb.TimeSeries{Labels: q.labels}
					points[q.id] = ts
				}
				for k := range r.Timestamps {
					if t := r.Timestamps[k]; !t.Before(start) && t.Before(end) {
						ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: t.UnixMilli(), Value: r.Values[k]})
					}
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
	return s.o.Store.SetAWSCursor(ctx, rec.ID, region, psec, end)
}

// newMetrics lists, for products with "add new metrics automatically", the
// metrics CloudWatch has for their namespaces beyond the catalog's.
func (s *Service) newMetrics(ctx context.Context, cw *cloudwatch.Client, i Integration, targets []target) (map[string][]string, error) {
	namespaces := map[string]map[string]bool{} // namespace -> known metric names
	for _, tg := range targets {
		if !i.Settings.Services[tg.res.Product].AutoAddNewMetrics {
			continue
		}
		p, _ := catalog.Get(tg.res.Product)
		set := p.MetricSets[tg.res.MetricSet]
		if namespaces[set.Namespace] == nil {
			namespaces[set.Namespace] = map[string]bool{}
		}
		for _, s := range p.MetricSets {
			if s.Namespace == set.Namespace {
				for _, m := range s.Metrics {
					namespaces[set.Namespace][m.Name] = true
				}
			}
		}
	}
	out := map[string][]string{}
	for ns, known := range namespaces {
		seen := map[string]bool{}
		pg := cloudwatch.NewListMetricsPaginator(cw, &cloudwatch.ListMetricsInput{Namespace: aws.String(ns), RecentlyActive: cwtypes.RecentlyActivePt3h})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("ListMetrics %s: %s", ns, apiMessage(err))
			}
			for _, m := range page.Metrics {
				n := aws.ToString(m.MetricName)
				if !known[n] && !seen[n] {
					seen[n] = true
					out[ns] = append(out[ns], n)
				}
			}
		}
		sort.Strings(out[ns])
	}
	return out, nil
}

// selected returns what to collect of a resource's metric set: with
// auto-add, the catalog's and the new metrics (statistic Average) except
// the excluded ones; without, exactly the included ones.
func selected(p *catalog.Product, set string, ss ServiceSettings, newMetrics []string) []catalog.Selectable {
	all := []catalog.Selectable{}
	for _, sel := range p.Selectables() {
		if sel.Set == set {
			all = append(all, sel)
		}
	}
	ns := p.MetricSets[set].Namespace
	if !ss.AutoAddNewMetrics {
		in := map[string]bool{}
		for _, n := range ss.IncludedMetrics {
			in[n] = true
		}
		var out []catalog.Selectable
		for _, sel := range all {
			if in[sel.Name] {
				out = append(out, sel)
			}
		}
		return out
	}
	for _, m := range newMetrics {
		all = append(all, catalog.Selectable{Set: set, Metric: m, Stat: "Average", Name: catalog.MetricName(ns, m, "Average")})
	}
	ex := map[string]bool{}
	for _, n := range ss.ExcludedMetrics {
		ex[n] = true
	}
	var out []catalog.Selectable
	for _, sel := range all {
		if !ex[sel.Name] {
			out = append(out, sel)
		}
	}
	return out
}

// seriesLabels are YACE's labels plus host_id, sorted.
func seriesLabels(name string, tg *target, region, account string) []prompb.Label {
	ls := []prompb.Label{{Name: "__name__", Value: name}, {Name: "account_id", Value: account}, {Name: "host_id", Value: tg.hostID},
		{Name: "name", Value: tg.res.ARN}, {Name: "region", Value: region}}
	for k, v := range tg.res.Dimensions {
		ls = append(ls, prompb.Label{Name: catalog.DimensionLabel(k), Value: v})
	}
	sort.Slice(ls, func(a, b int) bool { return ls[a].Name < ls[b].Name })
	return ls
}
