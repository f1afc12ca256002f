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
	// Resources discovered (live ones), those the tag filters exclude
	// (they are no hosts), and hosts retired because their resource was
	// deleted.
	Resources int `json:"resources"`
	Excluded  int `json:"excluded"`
	Retired   int `json:"retired"`
	// MetricsRequested is GetMetricData's billing unit; GetMetricDataCalls
	// the calls they took (ceil(metrics/500) per region and period group).
	MetricsRequested   int     `json:"metricsRequested"`
	GetMetricDataCalls int     `json:"getMetricDataCalls"`
	Datapoints         int     `json:"datapoints"`
	SamplesWritten     int     `json:"samplesWritten"`
	EstimatedCostUSD   float64 `json:"estimatedCostUSD"`
	// APICalls counts every AWS call of the poll by "Service:Action".
	APICalls map[string]int `json:"apiCalls"`
	Errors   []string       `json:"errors,omitempty"`
}

// Run polls due integrations until ctx ends. Each due integration is
// polled by Poll, one call per integration.
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
// check, discovery in every region (and once in the partition's global
// region for global products), the host inventory, auto-retirement, the
// values of service APIs, and CloudWatch metrics for every complete
// period since the last poll. It is the one entry point per integration
// (the scheduler and POST .../poll call it), bounded by PollTimeout.
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
	pollCtx, cancel := context.WithTimeout(withTally(ctx, t), s.o.PollTimeout)
	defer cancel()
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

	cfg, err := s.config(pollCtx, rec)
	if err != nil {
		report.Errors = append(report.Errors, err.Error())
		return finish(StatusError, err.Error())
	}
	over, err := overPrivileged(pollCtx, regional(cfg, i.Settings.Regions[0]))
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

	inv := s.discover(pollCtx, rec, i, cfg)
	report.Errors = append(report.Errors, inv.errs...)
	if err := s.fillTags(pollCtx, cfg, &inv); err != nil {
		report.Errors = append(report.Errors, err.Error())
	}
	targets, err := s.observe(pollCtx, rec, i, &inv, &report)
	if err != nil {
		report.Errors = append(report.Errors, err.Error())
	}
	if err := s.detectDeletions(pollCtx, rec, i, &inv, &report); err != nil {
		report.Errors = append(report.Errors, err.Error())
	}
	if err := s.writeValues(pollCtx, rec, i, targets, now, &report); err != nil {
		report.Errors = append(report.Errors, err.Error())
	}
	report.Errors = append(report.Errors, s.collect(pollCtx, rec, i, cfg, targets, now, &report)...)
	if pollCtx.Err() != nil && ctx.Err() == nil {
		report.Errors = append(report.Errors, fmt.Sprintf("the poll was stopped after %s (aws_integration.poll_timeout)", s.o.PollTimeout))
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

// globalScope names the discovery of global products in scopes.
const globalScope = "global"

// found is a discovered resource and the discovery that listed it.
type found struct {
	res   catalog.Resource
	scope string // a region, or globalScope
}

// inventory is what one poll's discovery found.
type inventory struct {
	found []found
	// ok are the discoveries that succeeded, by product and scope
	// ("rds|us-east-1", "s3|global"): only those may judge a host's
	// resource deleted.
	ok   map[string]bool
	errs []string
}

func scopeKey(product, scope string) string { return product + "|" + scope }

// discover lists every enabled product's resources: regional products in
// each of the integration's regions, global ones once in the partition's
// global region.
func (s *Service) discover(ctx context.Context, rec metastore.AWSIntegration, i Integration, cfg aws.Config) inventory {
	inv := inventory{ok: map[string]bool{}}
	partition := catalog.Partition(i.Settings.Regions[0])
	run := func(p *catalog.Product, fn catalog.Discover, region, scope string) {
		clients := &catalog.Clients{Config: regional(cfg, region), AccountID: rec.AWSAccountID}
		rs, err := fn(ctx, clients)
		if err != nil {
			inv.errs = append(inv.errs, fmt.Sprintf("%s: discover %s: %s", region, p.Name, apiMessage(err)))
			return
		}
		inv.ok[scopeKey(p.Key, scope)] = true
		for _, r := range p.Finish(clients, rs) {
			inv.found = append(inv.found, found{res: r, scope: scope})
		}
	}
	for _, k := range enabledProducts(i.Settings) {
		p, _ := catalog.Get(k)
		if p.Regional != nil {
			for _, region := range i.Settings.Regions {
				run(p, p.Regional, region, region)
			}
		}
		if p.Global != nil {
			run(p, p.Global, catalog.GlobalRegion(partition), globalScope)
		}
	}
	return inv
}

// fillTags reads, with one tagging-API listing per region, the tags of
// the resources whose product does not get them from its discovery call.
// A region whose tags cannot be read keeps its resources out of this poll
// (neither hosts nor metrics, and no deletion judged): without tags, tag
// filters and role tags cannot be applied.
func (s *Service) fillTags(ctx context.Context, cfg aws.Config, inv *inventory) error {
	types := map[string]map[string]bool{} // region -> resource types
	for _, f := range inv.found {
		p, _ := catalog.Get(f.res.Product)
		if len(p.TagTypes) == 0 || p.Untagged {
			continue
		}
		if types[f.res.Region] == nil {
			types[f.res.Region] = map[string]bool{}
		}
		for _, t := range p.TagTypes {
			types[f.res.Region][t] = true
		}
	}
	regions := make([]string, 0, len(types))
	for r := range types {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	tags := map[string]map[string]string{}
	failed := map[string]bool{}
	var errs []string
	for _, region := range regions {
		filters := make([]string, 0, len(types[region]))
		for t := range types[region] {
			filters = append(filters, t)
		}
		sort.Strings(filters)
		pg := tagging.NewGetResourcesPaginator(taggingGetResources(tagging.NewFromConfig(regional(cfg, region)).GetResources), &tagging.GetResourcesInput{ResourceTypeFilters: filters, ResourcesPerPage: aws.Int32(100)})
		for pages := 0; pg.HasMorePages(); pages++ {
			page, err := pg.NextPage(ctx)
			if err == nil && pages >= maxListPages {
				err = fmt.Errorf("more than %d pages", maxListPages)
			}
			if err != nil {
				errs = append(errs, region+": read tags (tag:GetResources): "+apiMessage(err))
				failed[region] = true
				break
			}
			for _, m := range page.ResourceTagMappingList {
				t := map[string]string{}
				for _, tag := range m.Tags {
					t[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
				}
				tags[aws.ToString(m.ResourceARN)] = t
			}
		}
	}
	kept := inv.found[:0]
	for _, f := range inv.found {
		p, _ := catalog.Get(f.res.Product)
		if len(p.TagTypes) > 0 && !p.Untagged {
			if failed[f.res.Region] {
				delete(inv.ok, scopeKey(f.res.Product, f.scope))
				continue
			}
			arn := f.res.TagARN
			if arn == "" {
				arn = f.res.ARN
			}
			if t, ok := tags[arn]; ok {
				f.res.Tags = t
			} else {
				f.res.Tags = map[string]string{}
			}
		}
		kept = append(kept, f)
	}
	inv.found = kept
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// target is one resource whose metrics are collected.
type target struct {
	res    catalog.Resource
	hostID string
}

// observe turns the live resources the tag filters select into hosts.
// Resources they exclude are no hosts (Mackerel registers only matching
// resources); one that already is this integration's host stays one,
// marked excluded, so that its deletion does not retire it.
func (s *Service) observe(ctx context.Context, rec metastore.AWSIntegration, i Integration, inv *inventory, report *PollReport) ([]target, error) {
	filters, err := parseFilters(i.Settings)
	if err != nil {
		return nil, err
	}
	var targets []target
	for _, f := range inv.found {
		r := f.res
		if r.Gone {
			continue
		}
		report.Resources++
		p, _ := catalog.Get(r.Product)
		if !p.Untagged && !filters.match(r.Product, r.Tags) {
			report.Excluded++
			if _, err := s.o.Hosts.MarkExcluded(ctx, i.WorkspaceID, rec.ID, r.ARN); err != nil {
				return targets, err
			}
			continue
		}
		h, err := s.o.Hosts.Observe(ctx, i.WorkspaceID, hosts.Observation{
			Integration: rec.ID, ARN: r.ARN, Name: r.Name, Kind: p.HostKind, Product: r.Product, AWSAccountID: rec.AWSAccountID,
			Region: r.Region, Status: r.Status, Identifiers: r.Identifiers, Roles: s.rolesFor(i, p, r), Tags: withExtraTags(r.Tags, i.Settings.ExtraTags),
			Metadata: r.Metadata,
		})
		if err != nil {
			return targets, err
		}
		targets = append(targets, target{res: r, hostID: h.ID})
	}
	return targets, nil
}

// withExtraTags adds the integration's tags to a resource's (the
// resource's own win).
func withExtraTags(tags, extra map[string]string) map[string]string {
	if len(extra) == 0 {
		return tags
	}
	out := make(map[string]string, len(tags)+len(extra))
	for k, v := range extra {
		out[k] = v
	}
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// rolesFor is a resource's service:roles: those of its role tag when it has
// one (overriding the default role), else the product's default role.
func (s *Service) rolesFor(i Integration, p *catalog.Product, r catalog.Resource) []string {
	if !p.Untagged {
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
	}
	if d := i.Settings.Services[r.Product].DefaultRole; d != "" {
		if sr, err := ParseServiceRole(d); err == nil {
			return []string{sr.String()}
		}
	}
	return []string{}
}

// detectDeletions judges the hosts this integration linked whose resource
// is gone, only where every discovery that could list the resource
// succeeded in this poll: a disabled product, a region no longer polled,
// or a discovery that failed never retires a host.
func (s *Service) detectDeletions(ctx context.Context, rec metastore.AWSIntegration, i Integration, inv *inventory, report *PollReport) error {
	present := map[string]bool{}
	for _, f := range inv.found {
		if !f.res.Gone {
			present[f.res.ARN] = true
		}
	}
	hs, err := s.o.Hosts.List(ctx, hosts.Filter{Workspace: i.WorkspaceID, Integration: rec.ID})
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.AWSAccountID != rec.AWSAccountID || present[h.ARN] {
			continue
		}
		p, ok := catalog.Get(h.Product)
		if !ok || !i.Settings.Services[h.Product].Enabled {
			continue
		}
		if p.Regional != nil && !inv.ok[scopeKey(p.Key, h.Region)] || p.Global != nil && !inv.ok[scopeKey(p.Key, globalScope)] {
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

// writeValues writes the values the products' APIs gave (Batch job
// counts, SES quotas, budgets), stamped at the poll.
func (s *Service) writeValues(ctx context.Context, rec metastore.AWSIntegration, i Integration, targets []target, now time.Time, report *PollReport) error {
	batch := &prompb.WriteRequest{}
	for ti := range targets {
		tg := &targets[ti]
		ss := i.Settings.Services[tg.res.Product]
		for _, v := range tg.res.Values {
			if !wanted(ss, v.Name) {
				continue
			}
			ls := seriesLabels(v.Name, tg, nil, rec.AWSAccountID, i.Settings.ExtraTags)
			for k, x := range v.Labels {
				ls = append(ls, prompb.Label{Name: k, Value: x})
			}
			sort.Slice(ls, func(a, b int) bool { return ls[a].Name < ls[b].Name })
			batch.Timeseries = append(batch.Timeseries, prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Timestamp: now.UnixMilli(), Value: v.Value}}})
		}
	}
	if len(batch.Timeseries) == 0 {
		return nil
	}
	if err := s.o.Pusher.Push(ctx, i.WorkspaceID, batch); err != nil {
		return fmt.Errorf("write into workspace %s: %w", i.WorkspaceID, err)
	}
	report.SamplesWritten += len(batch.Timeseries)
	return nil
}

// wanted reports whether a product's settings select a series family by
// its key.
func wanted(ss ServiceSettings, key string) bool {
	if ss.AutoAddNewMetrics {
		for _, n := range ss.ExcludedMetrics {
			if n == key {
				return false
			}
		}
		return true
	}
	for _, n := range ss.IncludedMetrics {
		if n == key {
			return true
		}
	}
	return false
}

// seriesLabels are YACE's labels plus host_id and the integration's tags,
// sorted.
func seriesLabels(name string, tg *target, dims map[string]string, account string, extra map[string]string) []prompb.Label {
	ls := []prompb.Label{{Name: "__name__", Value: name}, {Name: "account_id", Value: account}, {Name: "host_id", Value: tg.hostID},
		{Name: "name", Value: tg.res.ARN}, {Name: "region", Value: tg.res.Region}}
	for k, v := range dims {
		ls = append(ls, prompb.Label{Name: catalog.DimensionLabel(k), Value: v})
	}
	for k, v := range extra {
		ls = append(ls, prompb.Label{Name: k, Value: v})
	}
	sort.Slice(ls, func(a, b int) bool { return ls[a].Name < ls[b].Name })
	return ls
}
