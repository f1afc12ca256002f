// Package anomaly is AMP's anomaly detectors
// (Create/Describe/List/Put/DeleteAnomalyDetector): a detector evaluates
// its PromQL at its interval and feeds each resulting series to a Random
// Cut Forest (internal/rcf), then writes, through the ingest path, the
// series AMP's PreviewAnomalyDetector documents — the expected value's
// lower and upper band and an anomaly score between 0 and 1 — under the
// names anomaly_detector:lower_band, anomaly_detector:upper_band and
// anomaly_detector:score, with the input series' labels, the detector's
// labels and anomaly_detector_id.
package anomaly

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/querycost"
	"github.com/kansoku/kansoku/internal/rcf"
	"github.com/kansoku/kansoku/internal/reconcile"
	"github.com/kansoku/kansoku/internal/tagging"
	"github.com/kansoku/kansoku/internal/workspace"
)

// ResourceType names anomaly detectors in errors.
const ResourceType = "AnomalyDetector"

// Defaults of AMP's model where a request leaves them out.
const (
	DefaultInterval    = 60
	DefaultShingleSize = 8
	DefaultSampleSize  = 256
)

// Limits bound what detectors may cost. They are Kansoku's: AMP
// documents no quota for them.
type Limits struct {
	// DetectorsPerWorkspace: CreateAnomalyDetector beyond it is a
	// ServiceQuotaExceededException.
	DetectorsPerWorkspace int
	// SeriesPerDetector: series of the detector's query beyond it are
	// not modeled (and a warning goes to the workspace log).
	SeriesPerDetector int
	// ForestBytesPerSeries bounds one series' forest: trees are fewer for
	// large shingle and sample sizes, and a configuration that does not
	// fit even MinTrees is refused.
	ForestBytesPerSeries int64
	// ForestBytesPerWorkspace bounds all of a workspace's forests on a
	// node: series past it are not modeled.
	ForestBytesPerWorkspace int64
	Trees, MinTrees         int
}

// DefaultLimits are the limits of a server.
func DefaultLimits() Limits {
	return Limits{DetectorsPerWorkspace: 10, SeriesPerDetector: 100, ForestBytesPerSeries: 16 << 20,
		ForestBytesPerWorkspace: 512 << 20, Trees: 20, MinTrees: 5}
}

// forestConfig is the forest of one series of a detector.
func (l Limits) forestConfig(shingle, sample int) (rcf.Config, bool) {
	c := rcf.Config{ShingleSize: shingle, SampleSize: sample, Trees: 1}
	per := c.Bytes()
	c.Trees = int(min(int64(l.Trees), l.ForestBytesPerSeries/max(per, 1)))
	return c, c.Trees >= l.MinTrees
}

// Store is the metadata the service uses.
type Store interface {
	CreateAnomalyDetector(ctx context.Context, d metastore.AnomalyDetector) error
	GetAnomalyDetector(ctx context.Context, ws, id string) (metastore.AnomalyDetector, error)
	ListAnomalyDetectors(ctx context.Context, ws string) ([]metastore.AnomalyDetector, error)
	CountAnomalyDetectors(ctx context.Context, ws string) (int, error)
	UpdateAnomalyDetector(ctx context.Context, d metastore.AnomalyDetector) error
	DeleteAnomalyDetector(ctx context.Context, ws, id string) error
	Tags(ctx context.Context, arn string) (map[string]string, error)
	SetTags(ctx context.Context, arn string, tags map[string]string) error
}

// Workspaces resolves workspaces.
type Workspaces interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
}

// MissingDataAction is AMP's AnomalyDetectorMissingDataAction (a union).
type MissingDataAction struct {
	MarkAsAnomaly *bool `json:"markAsAnomaly,omitempty"`
	Skip          *bool `json:"skip,omitempty"`
}

// IgnoreNearExpected is AMP's IgnoreNearExpected (a union).
type IgnoreNearExpected struct {
	Amount *float64 `json:"amount,omitempty"`
	Ratio  *float64 `json:"ratio,omitempty"`
}

// RandomCutForest is AMP's RandomCutForestConfiguration.
type RandomCutForest struct {
	Query                       string              `json:"query"`
	ShingleSize                 *int                `json:"shingleSize,omitempty"`
	SampleSize                  *int                `json:"sampleSize,omitempty"`
	IgnoreNearExpectedFromAbove *IgnoreNearExpected `json:"ignoreNearExpectedFromAbove,omitempty"`
	IgnoreNearExpectedFromBelow *IgnoreNearExpected `json:"ignoreNearExpectedFromBelow,omitempty"`
}

// Configuration is AMP's AnomalyDetectorConfiguration (a union).
type Configuration struct {
	RandomCutForest *RandomCutForest `json:"randomCutForest,omitempty"`
}

// Spec is what a request sets of a detector.
type Spec struct {
	EvaluationIntervalInSeconds *int               `json:"evaluationIntervalInSeconds,omitempty"`
	MissingDataAction           *MissingDataAction `json:"missingDataAction,omitempty"`
	Configuration               *Configuration     `json:"configuration,omitempty"`
	Labels                      map[string]string  `json:"labels,omitempty"`
}

// Detector is a stored detector with its parsed configuration and tags.
type Detector struct {
	metastore.AnomalyDetector
	Missing MissingDataAction
	Config  Configuration
	Labels  map[string]string
	Tags    map[string]string
}

// Service runs the anomaly detector API.
type Service struct {
	store      Store
	workspaces Workspaces
	limits     Limits
	region     string
	account    string
	logger     *slog.Logger
	now        func() time.Time
	loop       *reconcile.Loop
	onChange   []func(ws string)
	parser     *querycost.Parser
}

// New returns the service.
func New(store Store, ws Workspaces, lim Limits, region, account string, logger *slog.Logger) *Service {
	def := limits.Defaults()
	s := &Service{store: store, workspaces: ws, limits: lim, region: region, account: account, logger: logger, now: time.Now,
		parser: querycost.NewParser(querycost.Of(&def))}
	s.loop = reconcile.New("anomalydetectors", 10*time.Second, logger, s.reconcile)
	return s
}

// OnChange registers a function called when a workspace's detectors change.
func (s *Service) OnChange(f func(ws string)) { s.onChange = append(s.onChange, f) }

// Limits returns the service's limits.
func (s *Service) Limits() Limits { return s.limits }

// ARN is a detector's ARN.
func (s *Service) ARN(ws, id string) string {
	return "arn:aws:aps:" + s.region + ":" + s.account + ":" + tagging.KindAnomalyDetector + "/" + ws + "/" + id
}

var (
	aliasRE = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)
	idRE    = regexp.MustCompile(`^ad-[0-9A-Za-z][-.0-9A-Z_a-z]*$`)
	labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// ValidateID checks a detector id as AMP's model does.
func ValidateID(id string) error {
	if len(id) < 1 || len(id) > 64 || !idRE.MatchString(id) {
		return apierr.InvalidField("anomalyDetectorId", "Member must satisfy regular expression pattern: ad-[0-9A-Za-z][-.0-9A-Z_a-z]* and have length between 1 and 64")
	}
	return nil
}

func validateAlias(alias string) error {
	if len(alias) < 1 || len(alias) > 64 || !aliasRE.MatchString(alias) {
		return apierr.InvalidField("alias", "Member must satisfy regular expression pattern: [0-9A-Za-z][-.0-9A-Z_a-z]* and have length between 1 and 64")
	}
	return nil
}

// validate checks a spec and fills in AMP's defaults.
func (s *Service) validate(sp *Spec) error {
	if sp.EvaluationIntervalInSeconds == nil {
		sp.EvaluationIntervalInSeconds = ptr(DefaultInterval)
	}
	if i := *sp.EvaluationIntervalInSeconds; i < 30 || i > 86400 {
		return apierr.InvalidField("evaluationIntervalInSeconds", "Member must have value between 30 and 86400")
	}
	if m := sp.MissingDataAction; m != nil {
		if (m.MarkAsAnomaly == nil) == (m.Skip == nil) {
			return apierr.InvalidField("missingDataAction", "exactly one of markAsAnomaly and skip must be set")
		}
	} else {
		sp.MissingDataAction = &MissingDataAction{Skip: ptr(true)}
	}
	if sp.Configuration == nil || sp.Configuration.RandomCutForest == nil {
		return apierr.InvalidField("configuration", "Member must not be null: set configuration.randomCutForest")
	}
	c := sp.Configuration.RandomCutForest
	if n := utf8.RuneCountInString(c.Query); n < 1 || n > 8192 {
		return apierr.InvalidField("configuration.randomCutForest.query", "Member must have length between 1 and 8192")
	}
	expr, err := s.parser.ParseExpr(c.Query)
	if err != nil {
		return apierr.InvalidField("configuration.randomCutForest.query", "invalid PromQL: %v", err)
	}
	if expr.Type() != parser.ValueTypeVector && expr.Type() != parser.ValueTypeScalar {
		return apierr.InvalidField("configuration.randomCutForest.query", "the query must return an instant vector or a scalar, not a %s", expr.Type())
	}
	if c.ShingleSize == nil {
		c.ShingleSize = ptr(DefaultShingleSize)
	}
	if *c.ShingleSize < 2 || *c.ShingleSize > 1024 {
		return apierr.InvalidField("configuration.randomCutForest.shingleSize", "Member must have value between 2 and 1024")
	}
	if c.SampleSize == nil {
		c.SampleSize = ptr(DefaultSampleSize)
	}
	if *c.SampleSize < 256 || *c.SampleSize > 1024 {
		return apierr.InvalidField("configuration.randomCutForest.sampleSize", "Member must have value between 256 and 1024")
	}
	if _, ok := s.limits.forestConfig(*c.ShingleSize, *c.SampleSize); !ok {
		return apierr.InvalidField("configuration.randomCutForest", "shingleSize %d with sampleSize %d needs more memory per series than this server allows (%d MiB for %d trees); use a smaller shingle or sample",
			*c.ShingleSize, *c.SampleSize, s.limits.ForestBytesPerSeries>>20, s.limits.MinTrees)
	}
	for name, ig := range map[string]*IgnoreNearExpected{"ignoreNearExpectedFromAbove": c.IgnoreNearExpectedFromAbove, "ignoreNearExpectedFromBelow": c.IgnoreNearExpectedFromBelow} {
		if ig == nil {
			continue
		}
		if (ig.Amount == nil) == (ig.Ratio == nil) {
			return apierr.InvalidField("configuration.randomCutForest."+name, "exactly one of amount and ratio must be set")
		}
		for _, v := range []*float64{ig.Amount, ig.Ratio} {
			if v != nil && (*v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0)) {
				return apierr.InvalidField("configuration.randomCutForest."+name, "Member must have value greater than or equal to 0")
			}
		}
	}
	if len(sp.Labels) > 140 {
		return apierr.InvalidField("labels", "Member must have length less than or equal to 140")
	}
	for k, v := range sp.Labels {
		if len(k) < 1 || len(k) > 7168 || !labelRE.MatchString(k) || strings.HasPrefix(k, "__") {
			return apierr.InvalidField("labels", "label name %q must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __", truncate(k))
		}
		if k == LabelDetectorID {
			return apierr.InvalidField("labels", "label name %s is set by the detector itself", LabelDetectorID)
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > 7168 {
			return apierr.InvalidField("labels", "the value of label %q must have length between 1 and 7168", truncate(k))
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func (s *Service) notFound(ws, id string) error {
	return apierr.NotFound(ResourceType, id, "Anomaly detector %s not found in workspace %s", id, ws)
}

func encode(sp Spec) (missing, config, labels string) {
	m, _ := json.Marshal(sp.MissingDataAction)
	c, _ := json.Marshal(sp.Configuration)
	l := sp.Labels
	if l == nil {
		l = map[string]string{}
	}
	lb, _ := json.Marshal(l)
	return string(m), string(c), string(lb)
}

// Parse reads a stored detector's JSON members.
func Parse(d metastore.AnomalyDetector) Detector {
	out := Detector{AnomalyDetector: d}
	_ = json.Unmarshal([]byte(d.MissingData), &out.Missing)
	_ = json.Unmarshal([]byte(d.Configuration), &out.Config)
	_ = json.Unmarshal([]byte(d.Labels), &out.Labels)
	return out
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return "ad-" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Create makes a detector (status CREATING until the next reconcile).
func (s *Service) Create(ctx context.Context, ws, alias string, sp Spec, tags map[string]string, clientToken string) (Detector, error) {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return Detector{}, err
	}
	if err := validateAlias(alias); err != nil {
		return Detector{}, err
	}
	if err := s.validate(&sp); err != nil {
		return Detector{}, err
	}
	if err := tagging.Validate(tags, nil); err != nil {
		return Detector{}, err
	}
	if err := workspace.RequireActive(ctx, s.workspaces, ws); err != nil {
		return Detector{}, err
	}
	missing, config, labels := encode(sp)
	if clientToken != "" {
		// A retry of the same creation answers the detector it made.
		all, err := s.store.ListAnomalyDetectors(ctx, ws)
		if err != nil {
			return Detector{}, err
		}
		for _, d := range all {
			if d.ClientToken == clientToken && d.Alias == alias && d.Configuration == config && d.MissingData == missing && d.Labels == labels {
				return s.withTags(ctx, Parse(d))
			}
		}
	}
	return s.create(ctx, ws, newID(), alias, sp, tags, clientToken)
}

// create stores a new, validated detector within the workspace's quota.
func (s *Service) create(ctx context.Context, ws, id, alias string, sp Spec, tags map[string]string, clientToken string) (Detector, error) {
	if err := workspace.RequireActive(ctx, s.workspaces, ws); err != nil {
		return Detector{}, err
	}
	missing, config, labels := encode(sp)
	n, err := s.store.CountAnomalyDetectors(ctx, ws)
	if err != nil {
		return Detector{}, err
	}
	if n >= s.limits.DetectorsPerWorkspace {
		return Detector{}, apierr.QuotaExceeded(ResourceType, ws, "anomaly-detectors-per-workspace",
			"Workspace %s already has %d anomaly detectors, the most it may have", ws, n)
	}
	now := s.now().UTC()
	d := metastore.AnomalyDetector{WorkspaceID: ws, ID: id, Alias: alias, ARN: s.ARN(ws, id), IntervalSeconds: *sp.EvaluationIntervalInSeconds,
		MissingData: missing, Configuration: config, Labels: labels, Status: metastore.StatusCreating, ClientToken: clientToken,
		CreatedAt: now, ModifiedAt: now}
	if err := s.store.CreateAnomalyDetector(ctx, d); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			return Detector{}, apierr.Conflict(ResourceType, id, "Anomaly detector %s was just created; retry", id)
		}
		return Detector{}, err
	}
	if len(tags) > 0 {
		if err := s.store.SetTags(ctx, d.ARN, tags); err != nil {
			return Detector{}, err
		}
	}
	s.loop.Kick()
	out := Parse(d)
	out.Tags = tags
	return out, nil
}

func (s *Service) withTags(ctx context.Context, d Detector) (Detector, error) {
	t, err := s.store.Tags(ctx, d.ARN)
	d.Tags = t
	return d, err
}

func (s *Service) get(ctx context.Context, ws, id string) (Detector, error) {
	if err := ValidateID(id); err != nil {
		return Detector{}, err
	}
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return Detector{}, err
	}
	d, err := s.store.GetAnomalyDetector(ctx, ws, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return Detector{}, s.notFound(ws, id)
	}
	if err != nil {
		return Detector{}, err
	}
	return s.withTags(ctx, Parse(d))
}

// Describe returns a detector.
func (s *Service) Describe(ctx context.Context, ws, id string) (Detector, error) {
	return s.get(ctx, ws, id)
}

// Exists says whether a detector exists (tagging).
func (s *Service) Exists(ctx context.Context, ws, id string) error {
	_, err := s.get(ctx, ws, id)
	return err
}

// List returns a workspace's detectors, by id, optionally only those with
// an alias, a page at a time (the token is the last id returned).
func (s *Service) List(ctx context.Context, ws, alias string, maxResults int, next string) ([]Detector, string, error) {
	if maxResults == 0 {
		maxResults = 100
	}
	if maxResults < 1 || maxResults > 1000 {
		return nil, "", apierr.InvalidField("maxResults", "Member must have value between 1 and 1000")
	}
	if alias != "" {
		if err := validateAlias(alias); err != nil {
			return nil, "", err
		}
	}
	if next != "" && ValidateID(next) != nil {
		return nil, "", apierr.Validation(apierr.ReasonFieldValidation, "Invalid nextToken: pass the nextToken of the previous response unchanged")
	}
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return nil, "", err
	}
	all, err := s.store.ListAnomalyDetectors(ctx, ws)
	if err != nil {
		return nil, "", err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	var out []Detector
	for _, d := range all {
		if (alias != "" && d.Alias != alias) || (next != "" && d.ID <= next) {
			continue
		}
		if len(out) == maxResults {
			return out, out[len(out)-1].ID, nil
		}
		p, err := s.withTags(ctx, Parse(d))
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	return out, "", nil
}

// Put replaces a detector's configuration (UPDATING, and retrained, until
// the next reconcile). As AMP's PutAnomalyDetector, it creates the
// detector when there is none with that id (its alias is then the id).
func (s *Service) Put(ctx context.Context, ws, id string, sp Spec, clientToken string) (Detector, error) {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return Detector{}, err
	}
	if err := ValidateID(id); err != nil {
		return Detector{}, err
	}
	if err := s.validate(&sp); err != nil {
		return Detector{}, err
	}
	d, err := s.get(ctx, ws, id)
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Type == "ResourceNotFoundException" && ae.ResourceType == ResourceType {
		return s.create(ctx, ws, id, id, sp, nil, clientToken)
	}
	if err != nil {
		return d, err
	}
	missing, config, labels := encode(sp)
	if clientToken != "" && d.ClientToken == clientToken && d.Configuration == config && d.MissingData == missing && d.AnomalyDetector.Labels == labels &&
		d.IntervalSeconds == *sp.EvaluationIntervalInSeconds {
		return d, nil // a retry of the same put
	}
	switch d.Status {
	case metastore.StatusCreating, metastore.StatusUpdating, metastore.StatusDeleting:
		return d, apierr.Conflict(ResourceType, id, "Anomaly detector %s is %s; retry shortly", id, d.Status)
	}
	m := d.AnomalyDetector
	m.IntervalSeconds, m.MissingData, m.Configuration, m.Labels = *sp.EvaluationIntervalInSeconds, missing, config, labels
	m.Status, m.StatusReason, m.ClientToken, m.ModifiedAt = metastore.StatusUpdating, "", clientToken, s.now().UTC()
	if err := s.store.UpdateAnomalyDetector(ctx, m); err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return d, s.notFound(ws, id)
		}
		return d, err
	}
	s.loop.Kick()
	out := Parse(m)
	out.Tags = d.Tags
	return out, nil
}

// Delete marks a detector DELETING; the next reconcile removes it and its
// models stop.
func (s *Service) Delete(ctx context.Context, ws, id, clientToken string) error {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return err
	}
	d, err := s.get(ctx, ws, id)
	if err != nil {
		return err
	}
	if d.Status == metastore.StatusDeleting {
		return nil
	}
	m := d.AnomalyDetector
	m.Status, m.ModifiedAt = metastore.StatusDeleting, s.now().UTC()
	if err := s.store.UpdateAnomalyDetector(ctx, m); err != nil && !errors.Is(err, metastore.ErrNotFound) {
		return err
	}
	s.loop.Kick()
	return nil
}

// Run reconciles until ctx ends.
func (s *Service) Run(ctx context.Context) error { return s.loop.Run(ctx) }

// Kick runs a reconcile pass soon.
func (s *Service) Kick() { s.loop.Kick() }

// reconcile makes CREATING and UPDATING detectors ACTIVE and removes
// DELETING ones.
func (s *Service) reconcile(ctx context.Context) error {
	all, err := s.store.ListAnomalyDetectors(ctx, "")
	if err != nil {
		return err
	}
	changed := map[string]bool{}
	for _, d := range all {
		switch d.Status {
		case metastore.StatusCreating, metastore.StatusUpdating:
			d.Status = metastore.StatusActive
			if err := s.store.UpdateAnomalyDetector(ctx, d); err != nil && !errors.Is(err, metastore.ErrNotFound) {
				return err
			}
			changed[d.WorkspaceID] = true
		case metastore.StatusDeleting:
			if err := s.store.DeleteAnomalyDetector(ctx, d.WorkspaceID, d.ID); err != nil && !errors.Is(err, metastore.ErrNotFound) {
				return err
			}
			changed[d.WorkspaceID] = true
		}
	}
	for ws := range changed {
		for _, f := range s.onChange {
			f(ws)
		}
	}
	return nil
}
