// Package awsint is the AWS integration, as Mackerel and Datadog offer it:
// an operator registers an AWS account (a role Kansoku assumes with an
// External ID it generated, or — discouraged — an access key); Kansoku
// discovers the account's resources per region and product (package
// catalog), keeps them as hosts (package hosts), and pulls their CloudWatch
// metrics with GetMetricData into a workspace through the same validated
// ingest path as remote_write. Every AWS call goes through aws-sdk-go-v2,
// with a configurable endpoint (the AWS simulator in tests and demo mode).
package awsint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Statuses of an integration.
const (
	// StatusPending: waiting for the role ARN (the operator creates the role
	// with the External ID Kansoku generated, then sets it).
	StatusPending = "PENDING"
	// StatusActive: collecting.
	StatusActive = "ACTIVE"
	// StatusError: the last validation or poll failed; polls go on and
	// return to ACTIVE once the problem is fixed.
	StatusError = "ERROR"
	// StatusOverPrivileged: the credentials may do more than read (the
	// dry-run ec2:CreateInternetGateway would succeed): nothing is
	// collected until that is fixed.
	StatusOverPrivileged = "OVER_PRIVILEGED"
)

// Auth modes.
const (
	AuthRole = "role"
	AuthKeys = "keys"
)

// ResourceType names integrations in errors.
const ResourceType = "AWSIntegration"

// Integration is one registered AWS account, as the API shows it.
type Integration struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	AWSAccountID string      `json:"awsAccountId"`
	WorkspaceID  string      `json:"workspaceId"`
	AuthMode     string      `json:"authMode"`
	RoleARN      string      `json:"roleArn,omitempty"`
	ExternalID   string      `json:"externalId,omitempty"`
	AccessKeyID  string      `json:"accessKeyId,omitempty"`
	Settings     Settings    `json:"settings"`
	Status       string      `json:"status"`
	StatusReason string      `json:"statusReason,omitempty"`
	LastPoll     *PollReport `json:"lastPoll,omitempty"`
	CreatedAt    time.Time   `json:"createdAt"`
	UpdatedAt    time.Time   `json:"updatedAt"`
}

// Settings are an integration's choices, those of Mackerel's AWS
// integration (https://mackerel.io/docs/entry/integrations/aws).
type Settings struct {
	Regions []string `json:"regions"`
	// Services are the products collected, by catalog key.
	Services map[string]ServiceSettings `json:"services"`
	// TagFilter selects resources by tag (Mackerel's "Filter by tag"
	// syntax, see TagFilter): only matching resources become hosts and
	// have metrics requested. Empty: every resource. Products without tags
	// (SES, Batch, WAF, Route 53, Billing, Connect) are not filtered, as
	// in Mackerel.
	TagFilter string `json:"tagFilter,omitempty"`
	// ExtraTags are added to every host and every metric of the
	// integration (Datadog's "tags added to all hosts and metrics"): as
	// host tags, and as labels of the series.
	ExtraTags map[string]string `json:"extraTags,omitempty"`
	// PollInterval is how often metrics are pulled (default 5m).
	PollInterval Duration `json:"pollInterval"`
}

// ServiceSettings are the options of one product.
type ServiceSettings struct {
	Enabled bool `json:"enabled"`
	// DefaultRole ("Service:Role") is given to the product's hosts that have
	// no kansoku-integration / mackerel-integration tag.
	DefaultRole string `json:"defaultRole,omitempty"`
	// AutoAddNewMetrics: collect every metric the catalog has and every new
	// metric CloudWatch lists for the namespace, except ExcludedMetrics.
	// Off: collect exactly IncludedMetrics.
	AutoAddNewMetrics bool     `json:"autoAddNewMetrics"`
	IncludedMetrics   []string `json:"includedMetrics,omitempty"`
	ExcludedMetrics   []string `json:"excludedMetrics,omitempty"`
	// AutoRetire retires a host when its resource is deleted (Mackerel
	// offers it for EC2, RDS and ElastiCache, on by default; Kansoku for
	// every product, off by default for the others).
	AutoRetire bool `json:"autoRetire"`
	// TagFilter restricts this product's resources beyond the
	// integration's filter, same syntax (Datadog's "to hosts with tag" for
	// EC2, "to Lambdas with tag").
	TagFilter string `json:"tagFilter,omitempty"`
}

// Duration is a time.Duration written as "5m" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as Go writes it ("5m0s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string ("5m").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration such as \"5m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Store is the metadata the integration keeps.
type Store interface {
	CreateAWSIntegration(ctx context.Context, i metastore.AWSIntegration) error
	GetAWSIntegration(ctx context.Context, id string) (metastore.AWSIntegration, error)
	ListAWSIntegrations(ctx context.Context, ws string) ([]metastore.AWSIntegration, error)
	UpdateAWSIntegration(ctx context.Context, i metastore.AWSIntegration, expectVersion int) error
	DeleteAWSIntegration(ctx context.Context, id string) error
	GetAWSCursor(ctx context.Context, id, region string, period int) (time.Time, bool, error)
	SetAWSCursor(ctx context.Context, id, region string, period int, end time.Time) error
}

// Workspaces resolves target workspaces.
type Workspaces interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
}

// Pusher writes samples into a workspace (ingest.Distributor).
type Pusher interface {
	Push(ctx context.Context, ws string, req *prompb.WriteRequest) error
}

// Sealer encrypts stored secret access keys (secrets.Box).
type Sealer interface {
	Seal(plain, associated []byte) ([]byte, error)
	Open(sealed, associated []byte) ([]byte, error)
}

// LogSink is the workspace log (wslog.Service).
type LogSink interface {
	Log(ctx context.Context, ws, component, level, msg string, fields map[string]string)
}

// Options configure the service.
type Options struct {
	// Owns, when set, says whether this node polls an integration (a
	// cluster node polls those it holds the lease of); nil: all.
	Owns       func(integrationID string) bool
	Logger     *slog.Logger
	Store      Store
	Workspaces Workspaces
	Hosts      *hosts.Service
	Pusher     Pusher
	Sealer     Sealer
	Registerer prometheus.Registerer
	// Logs receives integration problems (invalid role tags, poll errors)
	// in the target workspace's log.
	Logs LogSink
	// EndpointURL, when set, is used for every AWS service (the simulator).
	EndpointURL string
	// BaseCredentials are Kansoku's own AWS credentials; nil: the standard
	// AWS credential chain.
	BaseCredentials aws.CredentialsProvider
	// BaseRegion is where Kansoku's own STS calls go (default us-east-1).
	BaseRegion string
	// Delay is how long after a period ends CloudWatch's datapoint is taken
	// as final (CloudWatch's reporting delay); default 3m.
	Delay time.Duration
	// Backfill is how far back the first poll of an integration reads
	// (default 10m).
	Backfill time.Duration
	// MaxWindow bounds how far back a poll reads after an outage (default
	// 50m: samples older than an hour are refused by ingest).
	MaxWindow time.Duration
	// MaxConcurrentPolls bounds parallel polls (default 2).
	MaxConcurrentPolls int
	// DefaultPollInterval for new integrations (default 5m).
	DefaultPollInterval time.Duration
	// PollTimeout bounds one poll of an integration (default 4m): its AWS
	// calls are cancelled when it is reached.
	PollTimeout time.Duration
	// QueriesPerCall is how many metrics one GetMetricData call asks for
	// (default and maximum: MaxQueriesPerCall). Only the benchmark lowers it,
	// to measure the one-call-per-metric approach side by side.
	QueriesPerCall int
	Now            func() time.Time
}

// Service manages integrations and runs their polls.
type Service struct {
	o       Options
	metrics *metrics

	mu      sync.Mutex
	polling map[string]bool
	configs map[string]cachedConfig // by integration id

	baseMu      sync.Mutex
	baseAccount string
}

// New returns the service; Run polls.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BaseRegion == "" {
		o.BaseRegion = "us-east-1"
	}
	if o.Delay == 0 {
		o.Delay = 3 * time.Minute
	}
	if o.Backfill == 0 {
		o.Backfill = 10 * time.Minute
	}
	if o.MaxWindow == 0 {
		o.MaxWindow = 50 * time.Minute
	}
	if o.MaxConcurrentPolls == 0 {
		o.MaxConcurrentPolls = 2
	}
	if o.DefaultPollInterval == 0 {
		o.DefaultPollInterval = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 4 * time.Minute
	}
	if o.QueriesPerCall <= 0 || o.QueriesPerCall > MaxQueriesPerCall {
		o.QueriesPerCall = MaxQueriesPerCall
	}
	return &Service{o: o, metrics: newMetrics(o.Registerer), polling: map[string]bool{}, configs: map[string]cachedConfig{}}
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	// roleARNRE: the role's path and name, 1–512 characters, are checked
	// for length apart (a counted repetition of 512 compiles into a
	// program of a thousand instructions).
	roleARNRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):role/([\w+=,.@/-]+)$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	nameRE2   = regexp.MustCompile(`^[\w .:/=+@-]{1,128}$`)
)

// CreateInput creates an integration.
type CreateInput struct {
	Name         string   `json:"name"`
	AWSAccountID string   `json:"awsAccountId"`
	WorkspaceID  string   `json:"workspaceId"`
	Regions      []string `json:"regions"`
	// Services to enable with their defaults (DefaultServiceSettings);
	// Settings.Services may refine them.
	Services []string `json:"services"`
	// Settings optionally gives every option at once.
	Settings *Settings `json:"settings,omitempty"`
	// RoleARN of the role to assume; empty: the integration waits (PENDING)
	// until it is set, since the role must first trust the External ID
	// generated now.
	RoleARN string `json:"roleArn,omitempty"`
	// AccessKeyID and SecretAccessKey: the discouraged alternative to a role.
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
}

// DefaultServiceSettings are the settings of a newly enabled product:
// every metric, new ones added automatically, and automatic retirement
// where Mackerel offers it (EC2, RDS, ElastiCache).
func DefaultServiceSettings(product string) ServiceSettings {
	p, _ := catalog.Get(product)
	return ServiceSettings{Enabled: true, AutoAddNewMetrics: true, AutoRetire: p != nil && p.MackerelRetires}
}

// Create registers an integration. With keys it is validated at once;
// with a role it waits for SetRole (the External ID must be in the role's
// trust policy first).
func (s *Service) Create(ctx context.Context, in CreateInput) (Integration, error) {
	if !nameRE2.MatchString(in.Name) {
		return Integration{}, apierr.InvalidField("name", "1 to 128 letters, digits, spaces and ._:/=+@- are allowed")
	}
	if !accountRE.MatchString(in.AWSAccountID) {
		return Integration{}, apierr.InvalidField("awsAccountId", "an AWS account id is 12 digits")
	}
	if w, err := s.o.Workspaces.Get(ctx, in.WorkspaceID); err != nil {
		return Integration{}, err
	} else if w.Status != metastore.WorkspaceActive {
		return Integration{}, apierr.Conflict("Workspace", in.WorkspaceID, "workspace %s is %s", in.WorkspaceID, w.Status)
	}
	st := Settings{Services: map[string]ServiceSettings{}, PollInterval: Duration(s.o.DefaultPollInterval)}
	if in.Settings != nil {
		st = *in.Settings
		if st.Services == nil {
			st.Services = map[string]ServiceSettings{}
		}
		if st.PollInterval == 0 {
			st.PollInterval = Duration(s.o.DefaultPollInterval)
		}
	}
	if len(in.Regions) > 0 {
		st.Regions = in.Regions
	}
	if len(in.Services) > len(catalog.Keys()) {
		return Integration{}, apierr.InvalidField("services", "at most %d services", len(catalog.Keys()))
	}
	for _, k := range in.Services {
		if _, ok := st.Services[k]; !ok {
			st.Services[k] = DefaultServiceSettings(k)
		}
	}
	if err := validateSettings(&st); err != nil {
		return Integration{}, err
	}
	now := s.o.Now().UTC()
	rec := metastore.AWSIntegration{
		ID: "awsi-" + randomHex(8), Name: in.Name, AWSAccountID: in.AWSAccountID, WorkspaceID: in.WorkspaceID,
		LastPoll: "null", CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	switch {
	case in.AccessKeyID != "" || in.SecretAccessKey != "":
		if in.AccessKeyID == "" || in.SecretAccessKey == "" || in.RoleARN != "" {
			return Integration{}, apierr.Validation("fieldValidationFailed", "give either roleArn, or accessKeyId with secretAccessKey")
		}
		sealed, err := s.o.Sealer.Seal([]byte(in.SecretAccessKey), []byte(rec.ID))
		if err != nil {
			return Integration{}, err
		}
		rec.AuthMode, rec.AccessKeyID, rec.SecretSealed = AuthKeys, in.AccessKeyID, sealed
	default:
		rec.AuthMode, rec.ExternalID = AuthRole, "kansoku-"+randomHex(16)
		if in.RoleARN != "" {
			if err := checkRoleARN(in.RoleARN, in.AWSAccountID, st.Regions); err != nil {
				return Integration{}, err
			}
			rec.RoleARN = in.RoleARN
		}
	}
	rec.Status = StatusPending
	rec.StatusReason = "waiting for the role ARN: create the role with the trust policy (External ID " + rec.ExternalID + ") and the permission policy, then set it"
	rec.Settings = mustJSON(st)
	if rec.AuthMode == AuthKeys || rec.RoleARN != "" {
		rec.Status, rec.StatusReason = StatusError, "not validated yet"
	}
	if err := s.o.Store.CreateAWSIntegration(ctx, rec); err != nil {
		return Integration{}, err
	}
	if rec.Status != StatusPending {
		return s.Validate(ctx, rec.ID)
	}
	return fromRecord(rec)
}

func checkRoleARN(arn, account string, regions []string) error {
	m := roleARNRE.FindStringSubmatch(arn)
	if m == nil || len(m[3]) > 512 {
		return apierr.InvalidField("roleArn", "%q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", arn)
	}
	if m[2] != account {
		return apierr.InvalidField("roleArn", "the role %s is in account %s, not in the integration's account %s", arn, m[2], account)
	}
	if len(regions) > 0 && m[1] != catalog.Partition(regions[0]) {
		return apierr.InvalidField("roleArn", "the role %s is in partition %s, the integration's regions in %s", arn, m[1], catalog.Partition(regions[0]))
	}
	return nil
}

// Bounds of an integration's settings, tenant input.
const (
	maxRegions        = 40
	maxMetricNames    = 5000
	maxMetricNameLen  = 256
	maxExtraTags      = 20
	maxExtraTagValue  = 256
	maxDefaultRoleLen = 130
)

// extraTagKeyRE: an extra tag becomes a series label, so its key is a
// Prometheus label name (and no more than 63 characters).
var extraTagKeyRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,62}$`)

// reservedLabels are the labels Kansoku's AWS series carry already.
func reservedLabel(k string) bool {
	switch k {
	case "account_id", "host_id", "name", "region", "custom_identifier", "job", "instance":
		return true
	}
	return strings.HasPrefix(k, "__") || strings.HasPrefix(k, "dimension_")
}

func validateSettings(st *Settings) error {
	if len(st.Regions) == 0 {
		return apierr.InvalidField("regions", "name at least one region")
	}
	if len(st.Regions) > maxRegions {
		return apierr.InvalidField("regions", "at most %d regions", maxRegions)
	}
	seen := map[string]bool{}
	for _, r := range st.Regions {
		if !regionRE.MatchString(r) {
			return apierr.InvalidField("regions", "%q is not an AWS region name (us-east-1 ...)", r)
		}
		if seen[r] {
			return apierr.InvalidField("regions", "%q is listed twice", r)
		}
		if p := catalog.Partition(st.Regions[0]); catalog.Partition(r) != p {
			return apierr.InvalidField("regions", "%q is not in partition %s as %s is: an integration is in one partition", r, p, st.Regions[0])
		}
		seen[r] = true
	}
	sort.Strings(st.Regions)
	if len(st.Services) > len(catalog.Keys()) {
		return apierr.InvalidField("services", "at most %d services", len(catalog.Keys()))
	}
	enabled := 0
	for k, ss := range st.Services {
		p, ok := catalog.Get(k)
		if !ok {
			return apierr.InvalidField("services", "unknown service %q (known: %s)", k, strings.Join(catalog.Keys(), ", "))
		}
		if ss.DefaultRole != "" {
			if len(ss.DefaultRole) > maxDefaultRoleLen {
				return apierr.InvalidField("services."+k+".defaultRole", "at most %d characters", maxDefaultRoleLen)
			}
			if _, err := ParseServiceRole(ss.DefaultRole); err != nil {
				return apierr.InvalidField("services."+k+".defaultRole", "%v", err)
			}
		}
		if _, err := checkTagFilter(ss.TagFilter); err != nil {
			return apierr.InvalidField("services."+k+".tagFilter", "%v", err)
		}
		if ss.TagFilter != "" && p.Untagged {
			return apierr.InvalidField("services."+k+".tagFilter", "%s resources have no tags to filter on", p.Name)
		}
		for field, names := range map[string][]string{"includedMetrics": ss.IncludedMetrics, "excludedMetrics": ss.ExcludedMetrics} {
			if len(names) > maxMetricNames {
				return apierr.InvalidField("services."+k+"."+field, "at most %d metrics", maxMetricNames)
			}
			for _, n := range names {
				if len(n) == 0 || len(n) > maxMetricNameLen {
					return apierr.InvalidField("services."+k+"."+field, "metric names are 1 to %d characters", maxMetricNameLen)
				}
			}
		}
		known := map[string]bool{}
		for _, sel := range p.Selectables() {
			known[sel.Key] = true
		}
		if !ss.AutoAddNewMetrics && len(ss.IncludedMetrics) == 0 {
			// Off without a list: today's metrics, and none that come later.
			for _, sel := range p.Selectables() {
				ss.IncludedMetrics = append(ss.IncludedMetrics, sel.Key)
			}
		}
		for _, n := range ss.IncludedMetrics {
			if !known[n] {
				return apierr.InvalidField("services."+k+".includedMetrics", "%q is not a metric of %s (see kansoku aws services)", n, p.Name)
			}
		}
		if ss.AutoAddNewMetrics {
			ss.IncludedMetrics = nil
		} else {
			ss.ExcludedMetrics = nil
		}
		sort.Strings(ss.IncludedMetrics)
		sort.Strings(ss.ExcludedMetrics)
		st.Services[k] = ss
		if ss.Enabled {
			enabled++
		}
	}
	if enabled == 0 {
		return apierr.InvalidField("services", "enable at least one service (%s)", strings.Join(catalog.Keys(), ", "))
	}
	if _, err := checkTagFilter(st.TagFilter); err != nil {
		return apierr.InvalidField("tagFilter", "%v", err)
	}
	if len(st.ExtraTags) > maxExtraTags {
		return apierr.InvalidField("extraTags", "at most %d tags", maxExtraTags)
	}
	for k, v := range st.ExtraTags {
		if !extraTagKeyRE.MatchString(k) {
			return apierr.InvalidField("extraTags", "%q: a tag key is a label name: a letter or '_', then up to 62 letters, digits or '_'", k)
		}
		if reservedLabel(k) {
			return apierr.InvalidField("extraTags", "%q is a label Kansoku sets itself", k)
		}
		if len(v) > maxExtraTagValue || !utf8.ValidString(v) {
			return apierr.InvalidField("extraTags", "the value of %q is at most %d bytes of UTF-8", k, maxExtraTagValue)
		}
	}
	if time.Duration(st.PollInterval) < time.Minute || time.Duration(st.PollInterval) > 24*time.Hour {
		return apierr.InvalidField("pollInterval", "between 1m (CloudWatch's finest period for most metrics) and 24h; 5m is the default")
	}
	return nil
}

// Get returns one integration.
func (s *Service) Get(ctx context.Context, id string) (Integration, error) {
	rec, err := s.get(ctx, id)
	if err != nil {
		return Integration{}, err
	}
	return fromRecord(rec)
}

func (s *Service) get(ctx context.Context, id string) (metastore.AWSIntegration, error) {
	rec, err := s.o.Store.GetAWSIntegration(ctx, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return rec, apierr.NotFound(ResourceType, id, "AWS integration %s does not exist", id)
	}
	return rec, err
}

// List returns the integrations of a workspace, or all ("").
func (s *Service) List(ctx context.Context, ws string) ([]Integration, error) {
	recs, err := s.o.Store.ListAWSIntegrations(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]Integration, 0, len(recs))
	for _, r := range recs {
		i, err := fromRecord(r)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, nil
}

// UpdateInput changes an integration; nil fields stay.
type UpdateInput struct {
	Name            *string   `json:"name,omitempty"`
	RoleARN         *string   `json:"roleArn,omitempty"`
	AccessKeyID     *string   `json:"accessKeyId,omitempty"`
	SecretAccessKey *string   `json:"secretAccessKey,omitempty"`
	Settings        *Settings `json:"settings,omitempty"`
}

// Update changes an integration; a credential change is validated at once.
func (s *Service) Update(ctx context.Context, id string, in UpdateInput) (Integration, error) {
	for attempt := 0; ; attempt++ {
		rec, err := s.get(ctx, id)
		if err != nil {
			return Integration{}, err
		}
		next := rec
		revalidate := false
		if in.Name != nil {
			if !nameRE2.MatchString(*in.Name) {
				return Integration{}, apierr.InvalidField("name", "1 to 128 letters, digits, spaces and ._:/=+@- are allowed")
			}
			next.Name = *in.Name
		}
		if in.RoleARN != nil {
			if rec.AuthMode != AuthRole {
				return Integration{}, apierr.Validation("fieldValidationFailed", "this integration uses access keys; create a new integration to use a role")
			}
			cur, err := fromRecord(rec)
			if err != nil {
				return Integration{}, err
			}
			if err := checkRoleARN(*in.RoleARN, rec.AWSAccountID, cur.Settings.Regions); err != nil {
				return Integration{}, err
			}
			next.RoleARN, revalidate = *in.RoleARN, true
		}
		if in.AccessKeyID != nil || in.SecretAccessKey != nil {
			if rec.AuthMode != AuthKeys || in.AccessKeyID == nil || in.SecretAccessKey == nil {
				return Integration{}, apierr.Validation("fieldValidationFailed", "give accessKeyId and secretAccessKey together, for an integration that uses access keys")
			}
			sealed, err := s.o.Sealer.Seal([]byte(*in.SecretAccessKey), []byte(rec.ID))
			if err != nil {
				return Integration{}, err
			}
			next.AccessKeyID, next.SecretSealed, revalidate = *in.AccessKeyID, sealed, true
		}
		if in.Settings != nil {
			st := *in.Settings
			if st.Services == nil {
				st.Services = map[string]ServiceSettings{}
			}
			if st.PollInterval == 0 {
				st.PollInterval = Duration(s.o.DefaultPollInterval)
			}
			if err := validateSettings(&st); err != nil {
				return Integration{}, err
			}
			next.Settings, revalidate = mustJSON(st), revalidate || rec.Status != StatusPending
		}
		next.UpdatedAt, next.Version = s.o.Now().UTC(), rec.Version+1
		if revalidate && next.Status == StatusPending && next.RoleARN != "" {
			next.Status, next.StatusReason = StatusError, "not validated yet"
		}
		err = s.o.Store.UpdateAWSIntegration(ctx, next, rec.Version)
		if errors.Is(err, metastore.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return Integration{}, err
		}
		s.forgetConfig(id)
		if revalidate && next.Status != StatusPending {
			return s.Validate(ctx, id)
		}
		return fromRecord(next)
	}
}

// Delete removes an integration. Its hosts stay: as in Mackerel, hosts an
// integration linked are retired only automatically or by hand ("FAQ",
// https://mackerel.io/docs/entry/integrations/aws).
func (s *Service) Delete(ctx context.Context, id string) error {
	if _, err := s.get(ctx, id); err != nil {
		return err
	}
	s.forgetConfig(id)
	s.metrics.forget(id)
	return s.o.Store.DeleteAWSIntegration(ctx, id)
}

// setStatus records a status and reason (and optionally a poll report).
func (s *Service) setStatus(ctx context.Context, id, status, reason string, report *PollReport) error {
	for attempt := 0; attempt < 5; attempt++ {
		rec, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		rec.Status, rec.StatusReason = status, reason
		if report != nil {
			rec.LastPoll = mustJSON(report)
		}
		rec.UpdatedAt, rec.Version = s.o.Now().UTC(), rec.Version+1
		err = s.o.Store.UpdateAWSIntegration(ctx, rec, rec.Version-1)
		if !errors.Is(err, metastore.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("integration %s: concurrent updates", id)
}

func fromRecord(r metastore.AWSIntegration) (Integration, error) {
	i := Integration{ID: r.ID, Name: r.Name, AWSAccountID: r.AWSAccountID, WorkspaceID: r.WorkspaceID, AuthMode: r.AuthMode,
		RoleARN: r.RoleARN, ExternalID: r.ExternalID, AccessKeyID: r.AccessKeyID, Status: r.Status, StatusReason: r.StatusReason,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal([]byte(r.Settings), &i.Settings); err != nil {
		return Integration{}, fmt.Errorf("integration %s: corrupt settings: %w", r.ID, err)
	}
	if r.LastPoll != "" && r.LastPoll != "null" {
		var p PollReport
		if err := json.Unmarshal([]byte(r.LastPoll), &p); err == nil {
			i.LastPoll = &p
		}
	}
	return i, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
