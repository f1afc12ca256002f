package awssim

import (
	"hash/fnv"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// This file is the simulated CloudWatch's data: which metrics exist for
// the scenario's resources (what AWS publishes, published.go, for the
// entities kinds.go describes) and their deterministic values, exported so
// that tests of the integration can compute what they should have
// collected.

// DefaultMetricDelay is CloudWatch's reporting delay when the scenario sets
// no MetricDelay: a period's datapoint is published this long after the
// period ends.
const DefaultMetricDelay = 2 * time.Minute

// metricDelay returns the scenario's reporting delay.
func (sc *Scenario) metricDelay() time.Duration {
	if sc.MetricDelay <= 0 {
		return DefaultMetricDelay
	}
	return sc.MetricDelay
}

// NativeResolution is how often CloudWatch records a metric
// (published.go): 300 s for AWS/EC2's basic monitoring, a day for S3's
// storage metrics, 60 s for most. A GetMetricData period shorter than
// this acts as this. Metrics the table does not know (a scenario's extra
// metrics) are recorded every minute.
func NativeResolution(namespace, metric string) time.Duration {
	if pm, ok := LookupPublished(namespace, metric); ok {
		return pm.Resolution
	}
	return time.Minute
}

// EffectivePeriod is the period GetMetricData aggregates over for a
// requested period: the requested one, or the native resolution when that
// is longer.
func EffectivePeriod(namespace, metric string, requested time.Duration) time.Duration {
	if n := NativeResolution(namespace, metric); requested < n {
		return n
	}
	return requested
}

// metricBase is the deterministic base level of a metric: (FNV-64a of
// namespace, NUL, metric, NUL, then name=value NUL for each dimension
// sorted by name) mod 1000 / 10, so 0 to 99.9.
func metricBase(namespace, metric string, dims map[string]string) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(namespace + "\x00" + metric + "\x00"))
	names := make([]string, 0, len(dims))
	for n := range dims {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		_, _ = h.Write([]byte(n + "=" + dims[n] + "\x00"))
	}
	return float64(h.Sum64()%1000) / 10
}

// NativeValue is a metric's value at native point t (a multiple of its
// NativeResolution): base + 10·sin(2π·m/60) where m is t in
// whole minutes since the epoch (a one-hour wave) and base is derived from
// the namespace, metric name and dimensions (0 to 99.9).
func NativeValue(namespace, metric string, dims map[string]string, t time.Time) float64 {
	return nativeValue(metricBase(namespace, metric, dims), t)
}

func nativeValue(base float64, t time.Time) float64 {
	m := float64(t.Unix() / 60)
	return base + 10*math.Sin(2*math.Pi*m/60)
}

var percentileStat = regexp.MustCompile(`^p(\d{1,2}(\.\d+)?|100)$`)

// supportedStat reports whether MetricValue computes stat.
func supportedStat(stat string) bool {
	switch stat {
	case "Average", "Sum", "Minimum", "Maximum", "SampleCount":
		return true
	}
	return percentileStat.MatchString(stat)
}

// MetricValue is the value GetMetricData returns for a metric's statistic
// over the period [start, start+period): the statistic of the native
// points (NativeValue at every multiple of the metric's
// NativeResolution) in it. stat is Average, Sum, Minimum, Maximum,
// SampleCount (the number of native points) or a percentile pNN / pNN.N
// (which returns the Maximum); anything else, or a period holding no
// native point, gives NaN. period must be the effective period
// (EffectivePeriod of the requested one).
func MetricValue(namespace, metric string, dims map[string]string, stat string, start time.Time, period time.Duration) float64 {
	return metricValue(metricBase(namespace, metric, dims), NativeResolution(namespace, metric), stat, start, period)
}

func metricValue(base float64, native time.Duration, stat string, start time.Time, period time.Duration) float64 {
	if !supportedStat(stat) {
		return math.NaN()
	}
	step := int64(native / time.Second)
	from := start.Unix()
	if start.Nanosecond() > 0 {
		from++
	}
	if r := from % step; r != 0 { // first multiple of step at or after start
		if r < 0 {
			r += step
		}
		from += step - r
	}
	end := start.Add(period)
	var n, sum float64
	min, max := math.Inf(1), math.Inf(-1)
	for t := from; time.Unix(t, 0).Before(end); t += step {
		v := nativeValue(base, time.Unix(t, 0))
		n++
		sum += v
		min = math.Min(min, v)
		max = math.Max(max, v)
	}
	if n == 0 {
		return math.NaN()
	}
	switch stat {
	case "Average":
		return sum / n
	case "Sum":
		return sum
	case "Minimum":
		return min
	case "SampleCount":
		return n
	}
	return max // Maximum and percentiles
}

// MetricResource is a scenario resource as CloudWatch and the tagging API
// see it.
type MetricResource struct {
	ARN string
	// Service and ResourceType as the tagging API's ResourceTypeFilters
	// name them (ec2 instance, rds db, sqs "" ...); Service empty: the
	// tagging API does not list the resource.
	Service      string
	ResourceType string
	// Namespace and Dimensions are the resource's own (the namespace of
	// its first entity and the dimensions that identify it).
	Namespace  string
	Dimensions map[string]string
	// Metrics are the metric names published with exactly Dimensions.
	Metrics []string
	Tags    Tags
	// Reporting is false for resources whose metrics get no datapoints
	// (EC2 instances not in state running ...).
	Reporting bool

	entities []entity
}

// Dimensions returns the instance's CloudWatch dimensions (AWS/EC2).
func (in Instance) Dimensions() map[string]string { return map[string]string{"InstanceId": in.ID} }

// Dimensions returns the load balancer's CloudWatch dimensions (AWS/ELB).
func (lb ClassicELB) Dimensions() map[string]string {
	return map[string]string{"LoadBalancerName": lb.Name}
}

// Dimensions returns the load balancer's CloudWatch dimensions
// (AWS/ApplicationELB or AWS/NetworkELB): LoadBalancer = app|net/<name>/<id>.
func (lb LoadBalancerV2) Dimensions() map[string]string {
	return map[string]string{"LoadBalancer": lbV2Dimension(lb.Type, lb.Name, lb.ID)}
}

// Namespace returns AWS/NetworkELB for Network and AWS/ApplicationELB for
// Application Load Balancers.
func (lb LoadBalancerV2) Namespace() string {
	if lbV2Prefix(lb.Type) == "net" {
		return "AWS/NetworkELB"
	}
	return "AWS/ApplicationELB"
}

// Dimensions returns the DB instance's CloudWatch dimensions (AWS/RDS).
func (db DBInstance) Dimensions() map[string]string {
	return map[string]string{"DBInstanceIdentifier": db.ID}
}

// Aurora reports whether the DB instance is an Aurora cluster member.
func (db DBInstance) Aurora() bool {
	return db.Cluster != "" || strings.HasPrefix(db.Engine, "aurora")
}

// Dimensions returns the DB cluster's CloudWatch dimensions (AWS/RDS).
func (c DBCluster) Dimensions() map[string]string {
	return map[string]string{"DBClusterIdentifier": c.ID}
}

// Dimensions returns the function's CloudWatch dimensions (AWS/Lambda).
func (f LambdaFunction) Dimensions() map[string]string {
	return map[string]string{"FunctionName": f.Name}
}

// Dimensions returns the queue's CloudWatch dimensions (AWS/SQS).
func (q Queue) Dimensions() map[string]string { return map[string]string{"QueueName": q.Name} }

// Dimensions returns the table's CloudWatch dimensions (AWS/DynamoDB).
func (t Table) Dimensions() map[string]string { return map[string]string{"TableName": t.Name} }

// ResourcesOf returns every resource of account in region, in a fixed
// order (EC2, CLB, ALB/NLB, DB instances, DB clusters, Lambda, SQS,
// DynamoDB, then the generic resources; each in scenario order). The
// scenario must not change meanwhile (use Server.MetricResources on a
// live simulator).
func ResourcesOf(sc *Scenario, accountID, region string) []MetricResource {
	a := sc.account(accountID)
	if a == nil || a.Regions == nil || a.Regions[region] == nil {
		return nil
	}
	rg := a.Regions[region]
	out := regionResources(region, accountID, rg)
	index := publishedIndexOnce()
	for i := range out {
		r := &out[i]
		if len(r.entities) == 0 {
			continue
		}
		e := r.entities[0]
		r.Namespace = e.namespace
		r.Dimensions = map[string]string{}
		for _, n := range e.primary {
			if vs := e.dims[n]; len(vs) > 0 {
				r.Dimensions[n] = vs[0]
			}
		}
		for _, s := range entitySeries(index, e, rg.ExtraMetrics) {
			if dimsKey(s.dims) == dimsKey(r.Dimensions) && !contains(r.Metrics, s.metric) {
				r.Metrics = append(r.Metrics, s.metric)
			}
		}
	}
	return out
}

// MetricResources is ResourcesOf on the simulator's current scenario.
func (s *Server) MetricResources(accountID, region string) []MetricResource {
	var out []MetricResource
	s.read(func(sc *Scenario) { out = ResourcesOf(sc, accountID, region) })
	return out
}

func regionResources(region, account string, rg *Region) []MetricResource {
	var out []MetricResource
	// Tags are copied: callers use them after releasing the scenario lock.
	for _, in := range rg.Instances {
		out = append(out, MetricResource{ARN: instanceARN(region, account, in.ID), Service: "ec2", ResourceType: "instance",
			Tags: in.Tags.clone(), Reporting: in.state() == "running", entities: in.entities()})
	}
	for _, lb := range rg.ClassicELBs {
		out = append(out, MetricResource{ARN: classicELBARN(region, account, lb.Name), Service: "elasticloadbalancing",
			ResourceType: "loadbalancer", Tags: lb.Tags.clone(), Reporting: true, entities: lb.entities(region)})
	}
	for _, lb := range rg.LoadBalancers {
		out = append(out, MetricResource{ARN: loadBalancerV2ARN(region, account, lb.Type, lb.Name, lb.ID),
			Service: "elasticloadbalancing", ResourceType: "loadbalancer", Tags: lb.Tags.clone(), Reporting: true, entities: lb.entities(region)})
	}
	for _, db := range rg.DBInstances {
		out = append(out, MetricResource{ARN: dbInstanceARN(region, account, db.ID), Service: "rds", ResourceType: "db",
			Tags: db.Tags.clone(), Reporting: db.Status == "" || db.Status == "available", entities: db.entities(rg)})
	}
	for _, c := range rg.DBClusters {
		out = append(out, MetricResource{ARN: dbClusterARN(region, account, c.ID), Service: "rds", ResourceType: "cluster",
			Tags: c.Tags.clone(), Reporting: true, entities: c.entities()})
	}
	for _, f := range rg.LambdaFunctions {
		out = append(out, MetricResource{ARN: lambdaARN(region, account, f.Name), Service: "lambda", ResourceType: "function",
			Tags: f.Tags.clone(), Reporting: true, entities: f.entities()})
	}
	for _, q := range rg.Queues {
		out = append(out, MetricResource{ARN: queueARN(region, account, q.Name), Service: "sqs", Tags: q.Tags.clone(), Reporting: true,
			entities: q.entities()})
	}
	for _, t := range rg.Tables {
		out = append(out, MetricResource{ARN: tableARN(region, account, t.Name), Service: "dynamodb", ResourceType: "table",
			Tags: t.Tags.clone(), Reporting: true, entities: t.entities()})
	}
	return append(out, genericResources(region, account, rg)...)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// series is one metric CloudWatch has: a namespace, a name and a
// dimension set, how often it is recorded, how late it is published, and
// whether its resource reports datapoints.
type series struct {
	namespace, metric string
	dims              map[string]string
	key               string
	resolution, delay time.Duration
	reporting         bool
}

// seriesKey is the canonical key of a namespace's metric with dimensions.
func seriesKey(namespace, metric string, dims map[string]string) string {
	return namespace + "\x00" + metric + "\x00" + dimsKey(dims)
}

// entitySeries expands what the table publishes for an entity: each form
// whose required traits the entity has, with every combination of the
// values its dimensions take; plus the region's extra metrics.
func entitySeries(idx *publishedTable, e entity, extra []ExtraMetric) []series {
	var out []series
	n, ok := idx.byName[e.namespace]
	if ok {
		for _, pm := range n.Metrics {
			for _, f := range pm.Forms {
				if !hasTraits(e.traits, f.Requires) {
					continue
				}
				for _, dm := range expandForm(f.Dimensions, f.Fixed, f.Allowed, e.dims) {
					out = append(out, series{namespace: e.namespace, metric: pm.Name, dims: dm, resolution: pm.Resolution, delay: pm.Delay})
				}
			}
		}
	}
	for _, em := range extra {
		if em.Namespace != e.namespace {
			continue
		}
		names := em.Dimensions
		if len(names) == 0 {
			names = e.primary
		}
		res := time.Minute
		if ok {
			res = n.Resolution
		}
		for _, dm := range expandForm(names, nil, nil, e.dims) {
			out = append(out, series{namespace: e.namespace, metric: em.Name, dims: dm, resolution: res})
		}
	}
	return out
}

func hasTraits(traits map[string]bool, required []string) bool {
	for _, t := range required {
		if !traits[t] {
			return false
		}
	}
	return true
}

// expandForm returns every dimension map of a form: fixed dimensions take
// their value, the others each value the entity has (restricted to the
// allowed ones); none when a dimension has no value.
func expandForm(names []string, fixed map[string]string, allowed map[string][]string, values map[string][]string) []map[string]string {
	out := []map[string]string{{}}
	for _, n := range names {
		var vs []string
		if v, ok := fixed[n]; ok {
			vs = []string{v}
		} else {
			for _, v := range values[n] {
				if a, restricted := allowed[n]; !restricted || contains(a, v) {
					vs = append(vs, v)
				}
			}
		}
		if len(vs) == 0 {
			return nil
		}
		next := make([]map[string]string, 0, len(out)*len(vs))
		for _, m := range out {
			for _, v := range vs {
				c := make(map[string]string, len(m)+1)
				for k, x := range m {
					c[k] = x
				}
				c[n] = v
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

// seriesIndex is every metric of an account's region.
type seriesIndex struct {
	byKey  map[string]*series
	sorted []*series // by key, for ListMetrics
}

func buildSeriesIndex(region, account string, rg *Region) *seriesIndex {
	idx := &seriesIndex{byKey: map[string]*series{}}
	table := publishedIndexOnce()
	for _, r := range regionResources(region, account, rg) {
		for _, e := range r.entities {
			for _, s := range entitySeries(table, e, rg.ExtraMetrics) {
				s.key = seriesKey(s.namespace, s.metric, s.dims)
				if have, ok := idx.byKey[s.key]; ok {
					have.reporting = have.reporting || r.Reporting
					continue
				}
				s.reporting = r.Reporting
				sc := s
				idx.byKey[s.key] = &sc
				idx.sorted = append(idx.sorted, &sc)
			}
		}
	}
	sort.Slice(idx.sorted, func(i, j int) bool { return idx.sorted[i].key < idx.sorted[j].key })
	return idx
}

// seriesCache keeps each account's region's series until the scenario
// changes.
type seriesCache struct {
	mu      sync.Mutex
	gen     uint64
	indexes map[string]*seriesIndex
}

// invalidate forgets every index (the scenario changed).
func (c *seriesCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.indexes = nil
	c.mu.Unlock()
}

// seriesOf returns the series of req's account in req's region and the
// scenario's reporting delay.
func (s *Server) seriesOf(req *request) (*seriesIndex, time.Duration) {
	var idx *seriesIndex
	var delay time.Duration
	s.read(func(sc *Scenario) {
		delay = sc.metricDelay()
		a := req.account(sc)
		if a == nil {
			idx = &seriesIndex{byKey: map[string]*series{}}
			return
		}
		key := a.ID + "/" + req.region
		s.series.mu.Lock()
		defer s.series.mu.Unlock()
		if idx = s.series.indexes[key]; idx != nil {
			return
		}
		idx = buildSeriesIndex(req.region, a.ID, req.regionData(sc))
		if s.series.indexes == nil {
			s.series.indexes = map[string]*seriesIndex{}
		}
		s.series.indexes[key] = idx
	})
	return idx, delay
}

// publishedTable is the table of published.go, indexed.
type publishedTable struct {
	byName map[string]Namespace
}

// publishedOnce builds the table's index once; it is never changed.
var publishedOnce = sync.OnceValue(func() *publishedTable { return &publishedTable{byName: newPublishedIndex()} })

// publishedIndexOnce returns the table, indexed once (it never changes).
func publishedIndexOnce() *publishedTable { return publishedOnce() }

// clone copies the tags (nil stays nil).
func (t Tags) clone() Tags {
	if t == nil {
		return nil
	}
	out := make(Tags, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// dimsKey is a canonical string of a dimension set.
func dimsKey(dims map[string]string) string {
	names := make([]string, 0, len(dims))
	for n := range dims {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(dims[n])
		b.WriteByte(0)
	}
	return b.String()
}

// Publishes reports whether CloudWatch has datapoints for the query in
// the account's region: its metric exists with exactly its dimensions
// for a resource that reports (what a query needs to return data).
func (s *Server) Publishes(account, region string, q MetricQuery) bool {
	idx, _ := s.seriesOf(&request{region: region, principal: &principal{AccountID: account, inAccount: true}})
	sr := idx.byKey[seriesKey(q.Namespace, q.MetricName, q.Dimensions)]
	return sr != nil && sr.reporting
}
