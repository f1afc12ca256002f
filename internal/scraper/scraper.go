// Package scraper is AMP's managed collectors: scrapers that Kansoku runs
// on a tenant's behalf. It owns the scraper API (Create/Describe/List/
// Update/DeleteScraper, GetDefaultScraperConfiguration and the scraper
// logging configuration), validates a scraper's Prometheus configuration
// against AMP's rules (validate.go), moves scrapers through their
// statuses (CREATING -> ACTIVE, UPDATING -> ACTIVE, DELETING -> gone) and
// runs each ACTIVE scraper with Prometheus' own scrape and discovery
// managers, writing into the destination workspace through the validated
// ingest path (run.go), with Kansoku's own EC2 discovery for ec2_sd_configs
// going through the role of an AWS integration of the destination
// workspace (ec2sd.go).
package scraper

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/reconcile"
	"github.com/kansoku/kansoku/internal/tagging"
	"github.com/kansoku/kansoku/internal/workspace"
	"github.com/kansoku/kansoku/internal/wslog"
)

// ResourceType names scrapers in errors.
const ResourceType = "Scraper"

var (
	idRE      = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)
	aliasRE   = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)
	sgRE      = regexp.MustCompile(`^sg-[0-9a-z]+$`)
	subnetRE  = regexp.MustCompile(`^subnet-[0-9a-z]+$`)
	clusterRE = regexp.MustCompile(`^arn:aws[-a-z]*:eks:[-a-z0-9]+:[0-9]{12}:cluster/.+$`)
	roleRE    = regexp.MustCompile(`^arn:aws[-a-z]*:iam::([0-9]{12}):role/.+$`)
)

// Store is the metadata this service uses.
type Store interface {
	GetScraper(ctx context.Context, id string) (metastore.Scraper, error)
	GetScraperByClientToken(ctx context.Context, token string) (metastore.Scraper, error)
	ListScrapers(ctx context.Context, f metastore.ScraperFilter) ([]metastore.Scraper, string, error)
	UpdateScraper(ctx context.Context, s metastore.Scraper, from ...string) error
	SetScraperStatus(ctx context.Context, id, status, reason string, at time.Time, from ...string) error
	SetScraperLogging(ctx context.Context, id, logging string, at time.Time) error
	DeleteScraper(ctx context.Context, id, arn string) error
	Tags(ctx context.Context, arn string) (map[string]string, error)
	InTx(ctx context.Context, fn func(q *metastore.Queries) error) error
}

// Workspaces resolves destination workspaces.
type Workspaces interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
}

// Options configure the service.
type Options struct {
	AccountID, Region string
	MaxScrapers       int
	Logger            *slog.Logger
	// Box, when set, seals the scrape configurations at rest.
	Box Sealer
	// Integrations are the AWS integrations EC2 discovery and EKS
	// sources go through; nil: ec2_sd_configs and eksConfiguration
	// sources are refused.
	Integrations Integrations
	// ResyncInterval is how often statuses are reconciled without a kick
	// (other nodes' changes).
	ResyncInterval time.Duration
}

// Service is the scraper lifecycle.
type Service struct {
	opts       Options
	store      Store
	workspaces Workspaces
	now        func() time.Time
	loop       *reconcile.Loop

	mu        sync.Mutex
	listeners []func(ctx context.Context)
}

// New returns the service; Run must be running for scrapers to change
// status.
func New(opts Options, store Store, ws Workspaces) *Service {
	if opts.MaxScrapers == 0 {
		opts.MaxScrapers = 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ResyncInterval == 0 {
		opts.ResyncInterval = 30 * time.Second
	}
	if opts.Box != nil {
		store = sealedStore{Store: store, box: opts.Box}
	}
	s := &Service{opts: opts, store: store, workspaces: ws, now: time.Now}
	s.loop = reconcile.New("scrapers", opts.ResyncInterval, opts.Logger, s.reconcile)
	return s
}

// OnChange registers a function called after each reconcile pass that
// changed a scraper (the runner re-reads what to run).
func (s *Service) OnChange(f func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, f)
}

// Run reconciles statuses until ctx ends.
func (s *Service) Run(ctx context.Context) error { return s.loop.Run(ctx) }

// Kick asks for a reconcile pass now.
func (s *Service) Kick() { s.loop.Kick() }

// ARN is a scraper's ARN.
func (s *Service) ARN(id string) string {
	return "arn:aws:aps:" + s.opts.Region + ":" + s.opts.AccountID + ":scraper/" + id
}

// RoleARN is the service-linked role AMP names in a scraper's description.
func (s *Service) RoleARN(id string) string {
	suffix := strings.TrimPrefix(id, "s-")
	if len(suffix) > 13 {
		suffix = suffix[:13]
	}
	return "arn:aws:iam::" + s.opts.AccountID + ":role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_" + suffix
}

// Source is a scraper's source: one of its members.
type Source struct {
	EKS *EKSConfiguration `json:"eksConfiguration,omitempty"`
	VPC *VPCConfiguration `json:"vpcConfiguration,omitempty"`
}

// EKSConfiguration is an EKS cluster source.
type EKSConfiguration struct {
	ClusterARN       string   `json:"clusterArn"`
	SecurityGroupIDs []string `json:"securityGroupIds,omitempty"`
	SubnetIDs        []string `json:"subnetIds"`
}

// VPCConfiguration is a source reached over the network: the targets the
// configuration names (static_configs) or EC2 discovery finds in the
// subnets (ec2_sd_configs).
type VPCConfiguration struct {
	SecurityGroupIDs []string `json:"securityGroupIds"`
	SubnetIDs        []string `json:"subnetIds"`
}

// RoleConfiguration names the roles of a cross-account scraper.
type RoleConfiguration struct {
	SourceRoleARN string `json:"sourceRoleArn,omitempty"`
	TargetRoleARN string `json:"targetRoleArn,omitempty"`
}

// Scraper is a scraper as the API describes it.
type Scraper struct {
	metastore.Scraper
	Source      Source
	Role        *RoleConfiguration
	WorkspaceID string
	RoleARN     string
	Tags        map[string]string
}

// CreateInput is CreateScraper's input.
type CreateInput struct {
	Alias         *string
	Configuration []byte
	Source        *Source
	Destination   string // the workspace ARN
	Role          *RoleConfiguration
	ClientToken   string
	Tags          map[string]string
}

// ValidateID checks a scraper id from a URI.
func ValidateID(id string) error {
	if id == "" || len(id) > 64 || !idRE.MatchString(id) {
		return apierr.InvalidField("scraperId", "Member must have length between 1 and 64 and satisfy regular expression pattern: [0-9A-Za-z][-.0-9A-Z_a-z]*")
	}
	return nil
}

func validAlias(a *string) (string, error) {
	if a == nil {
		return "", nil
	}
	if len(*a) < 1 || len(*a) > 100 || !aliasRE.MatchString(*a) {
		return "", apierr.InvalidField("alias", "Member must have length between 1 and 100 and satisfy regular expression pattern: [0-9A-Za-z][-.0-9A-Z_a-z]*")
	}
	return *a, nil
}

func validIDs(field string, ids []string, re *regexp.Regexp, required bool) error {
	if len(ids) == 0 && !required {
		return nil
	}
	if len(ids) < 1 || len(ids) > 5 {
		return apierr.InvalidField(field, "Member must have between 1 and 5 items")
	}
	for _, id := range ids {
		if len(id) > 255 || !re.MatchString(id) {
			return apierr.InvalidField(field, "%q must satisfy regular expression pattern: %s", truncate(id), strings.Trim(re.String(), "^$"))
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// validSource checks a source: an EKS cluster (eks.go) or a VPC.
func validSource(src *Source) error {
	if src == nil || (src.EKS == nil && src.VPC == nil) {
		return apierr.InvalidField("source", "Member must not be null: give eksConfiguration or vpcConfiguration")
	}
	if src.EKS != nil && src.VPC != nil {
		return apierr.InvalidField("source", "source is a union: give exactly one of eksConfiguration and vpcConfiguration")
	}
	if e := src.EKS; e != nil {
		if _, ok := parseClusterARN(e.ClusterARN); !ok {
			return apierr.InvalidField("source.eksConfiguration.clusterArn", "Member must satisfy regular expression pattern: arn:aws[-a-z]*:eks:[-a-z0-9]+:[0-9]{12}:cluster/[0-9A-Za-z][A-Za-z0-9\\-_]*")
		}
		if err := validIDs("source.eksConfiguration.securityGroupIds", e.SecurityGroupIDs, sgRE, false); err != nil {
			return err
		}
		return validIDs("source.eksConfiguration.subnetIds", e.SubnetIDs, subnetRE, true)
	}
	v := src.VPC
	if err := validIDs("source.vpcConfiguration.securityGroupIds", v.SecurityGroupIDs, sgRE, true); err != nil {
		return err
	}
	return validIDs("source.vpcConfiguration.subnetIds", v.SubnetIDs, subnetRE, true)
}

// destination resolves a destination workspace ARN of this account and
// region to the workspace id.
func (s *Service) destination(arn string) (string, error) {
	prefix := "arn:aws:aps:" + s.opts.Region + ":" + s.opts.AccountID + ":workspace/"
	id, ok := strings.CutPrefix(arn, prefix)
	if arn == "" {
		return "", apierr.InvalidField("destination", "Member must not be null: give ampConfiguration.workspaceArn")
	}
	if !ok || workspace.ValidateID(id) != nil {
		return "", apierr.InvalidField("destination.ampConfiguration.workspaceArn",
			"%q is not a workspace of this account and region (%s...): a scraper writes to a workspace of its own account and region", truncate(arn), prefix)
	}
	return id, nil
}

func (s *Service) validRole(rc *RoleConfiguration) error {
	if rc == nil {
		return nil
	}
	for field, a := range map[string]string{"roleConfiguration.sourceRoleArn": rc.SourceRoleARN, "roleConfiguration.targetRoleArn": rc.TargetRoleARN} {
		if a == "" {
			continue
		}
		m := roleRE.FindStringSubmatch(a)
		if m == nil {
			return apierr.InvalidField(field, "Member must satisfy regular expression pattern: arn:aws[-a-z]*:iam::[0-9]{12}:role/.+")
		}
		if m[1] != s.opts.AccountID {
			return apierr.InvalidField(field, "cross-account scrapers are not supported: the role must be in this installation's account %s", s.opts.AccountID)
		}
	}
	return nil
}

// RoleIntegrations resolves the role ARNs of a configuration's EC2
// discovery to the AWS integrations of workspace ws that assume them (by
// role ARN); a role no integration of the workspace uses is a
// ValidationException: a scraper never goes through another workspace's
// integration.
func (s *Service) RoleIntegrations(ctx context.Context, p *Parsed, ws string) (map[string]string, error) {
	roles := p.RoleARNs()
	if len(roles) == 0 {
		return nil, nil
	}
	if s.opts.Integrations == nil {
		return nil, apierr.InvalidField("scrapeConfiguration", "ec2_sd_configs: this installation runs no AWS integrations")
	}
	out := map[string]string{}
	for _, role := range roles {
		id, err := s.opts.Integrations.RoleIntegration(ctx, ws, role)
		if errors.Is(err, awsint.ErrNoRoleIntegration) {
			return nil, apierr.InvalidField("scrapeConfiguration",
				"ec2_sd_configs: role_arn %s is not the role of an AWS integration of workspace %s: EC2 discovery goes through a role integration of the destination workspace (register the account with kansoku aws, or name its role)", truncate(role), ws)
		}
		if err != nil {
			return nil, fmt.Errorf("resolve role %s: %w", role, err)
		}
		out[role] = id
	}
	return out, nil
}

// UpdatedRoleIntegrations is RoleIntegrations for a stored (or updated)
// scraper: its configuration and destination.
func (s *Service) UpdatedRoleIntegrations(ctx context.Context, rec metastore.Scraper) (map[string]string, error) {
	p, err := Validate(rec.Configuration)
	if err != nil {
		return nil, err
	}
	ws, err := s.destination(rec.DestinationARN)
	if err != nil {
		return nil, err
	}
	return s.RoleIntegrations(ctx, p, ws)
}

// requestHash identifies a create request's parameters for its client
// token.
func requestHash(parts ...any) string {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Create stores a scraper in CREATING; the reconciler activates it. The
// configuration is validated now: a configuration AMP would refuse is a
// ValidationException, not a scraper.
func (s *Service) Create(ctx context.Context, in CreateInput) (Scraper, error) {
	alias, err := validAlias(in.Alias)
	if err != nil {
		return Scraper{}, err
	}
	if err := workspace.ValidateClientToken(in.ClientToken); err != nil {
		return Scraper{}, err
	}
	if err := tagging.Validate(in.Tags, nil); err != nil {
		return Scraper{}, err
	}
	if err := validSource(in.Source); err != nil {
		return Scraper{}, err
	}
	if err := s.validRole(in.Role); err != nil {
		return Scraper{}, err
	}
	wsID, err := s.destination(in.Destination)
	if err != nil {
		return Scraper{}, err
	}
	p, err := Validate(in.Configuration)
	if err != nil {
		return Scraper{}, err
	}
	if err := checkSourceFits(p, in.Source); err != nil {
		return Scraper{}, err
	}
	if _, err := s.workspaces.Get(ctx, wsID); err != nil {
		return Scraper{}, err
	}
	if err := s.checkCluster(ctx, in.Source, wsID); err != nil {
		return Scraper{}, err
	}
	if _, err := s.RoleIntegrations(ctx, p, wsID); err != nil {
		return Scraper{}, err
	}
	src, _ := json.Marshal(in.Source)
	role := []byte("{}")
	if in.Role != nil {
		role, _ = json.Marshal(in.Role)
	}
	hash := requestHash(alias, in.Configuration, in.Source, in.Destination, in.Role, in.Tags)
	if in.ClientToken != "" {
		if sc, ok, err := s.replay(ctx, in.ClientToken, hash); ok || err != nil {
			return sc, err
		}
	}
	now := s.now().UTC()
	id := "s-" + uuid.NewString()
	rec := metastore.Scraper{ID: id, Alias: alias, ARN: s.ARN(id), Status: metastore.ScraperCreating, ClientToken: in.ClientToken,
		RequestHash: hash, Configuration: in.Configuration, Source: string(src), DestinationARN: in.Destination,
		RoleConfiguration: string(role), CreatedAt: now, UpdatedAt: now}
	stored := rec
	if ss, ok := s.store.(sealedStore); ok {
		if stored, err = ss.seal(rec); err != nil {
			return Scraper{}, err
		}
	}
	err = s.store.InTx(ctx, func(q *metastore.Queries) error {
		n, err := q.CountScrapers(ctx)
		if err != nil {
			return err
		}
		if n >= s.opts.MaxScrapers {
			return apierr.QuotaExceeded(ResourceType, id, "scrapers-per-account",
				"Limit exceeded. Maximum scrapers per account (%d) reached; delete a scraper or raise scraper.max_per_account", s.opts.MaxScrapers)
		}
		if err := q.CreateScraper(ctx, stored); err != nil {
			return err
		}
		return q.SetTags(ctx, rec.ARN, in.Tags)
	})
	if errors.Is(err, metastore.ErrConflict) && in.ClientToken != "" {
		if sc, ok, err := s.replay(ctx, in.ClientToken, hash); ok || err != nil {
			return sc, err
		}
	}
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return Scraper{}, err
		}
		return Scraper{}, fmt.Errorf("create scraper: %w", err)
	}
	s.opts.Logger.Info("scraper created", "scraper", id, "workspace", wsID)
	s.Kick()
	return s.describe(rec, in.Tags), nil
}

// replay answers a CreateScraper retried with the same client token.
func (s *Service) replay(ctx context.Context, token, hash string) (Scraper, bool, error) {
	rec, err := s.store.GetScraperByClientToken(ctx, token)
	if errors.Is(err, metastore.ErrNotFound) {
		return Scraper{}, false, nil
	}
	if err != nil {
		return Scraper{}, false, err
	}
	if rec.RequestHash != hash {
		return Scraper{}, false, apierr.Conflict(ResourceType, rec.ID,
			"clientToken %q was already used to create scraper %s with different parameters", token, rec.ID)
	}
	tags, err := s.store.Tags(ctx, rec.ARN)
	if err != nil {
		return Scraper{}, false, err
	}
	return s.describe(rec, tags), true, nil
}

func (s *Service) describe(rec metastore.Scraper, tags map[string]string) Scraper {
	if tags == nil {
		tags = map[string]string{}
	}
	sc := Scraper{Scraper: rec, Tags: tags, RoleARN: s.RoleARN(rec.ID)}
	_ = json.Unmarshal([]byte(rec.Source), &sc.Source)
	var rc RoleConfiguration
	if json.Unmarshal([]byte(rec.RoleConfiguration), &rc) == nil && (rc.SourceRoleARN != "" || rc.TargetRoleARN != "") {
		sc.Role = &rc
	}
	sc.WorkspaceID, _ = s.destination(rec.DestinationARN)
	return sc
}

// Get returns a scraper, or ResourceNotFoundException.
func (s *Service) Get(ctx context.Context, id string) (metastore.Scraper, error) {
	if err := ValidateID(id); err != nil {
		return metastore.Scraper{}, err
	}
	rec, err := s.store.GetScraper(ctx, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return rec, apierr.NotFound(ResourceType, id, "Scraper %s not found", id)
	}
	if err != nil {
		return rec, fmt.Errorf("read scraper %s: %w", id, err)
	}
	return rec, nil
}

// Exists returns nil when scraper id exists (tagging).
func (s *Service) Exists(ctx context.Context, id string) error {
	_, err := s.Get(ctx, id)
	return err
}

// Describe returns a scraper with its tags.
func (s *Service) Describe(ctx context.Context, id string) (Scraper, error) {
	rec, err := s.Get(ctx, id)
	if err != nil {
		return Scraper{}, err
	}
	tags, err := s.store.Tags(ctx, rec.ARN)
	if err != nil {
		return Scraper{}, fmt.Errorf("read tags of %s: %w", id, err)
	}
	return s.describe(rec, tags), nil
}

// Filter keys of ListScrapers.
var filterKeys = map[string]bool{"status": true, "sourceArn": true, "destinationArn": true, "alias": true}

// ListInput is ListScrapers' input.
type ListInput struct {
	Filters    map[string][]string
	MaxResults int // 0: default 100
	NextToken  string
}

// List returns one page of scrapers.
func (s *Service) List(ctx context.Context, in ListInput) ([]Scraper, string, error) {
	limit := in.MaxResults
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 1000 {
		return nil, "", apierr.InvalidField("maxResults", "Member must have value between 1 and 1000")
	}
	if len(in.NextToken) > 1000 {
		return nil, "", apierr.InvalidField("nextToken", "Member must have length less than or equal to 1000")
	}
	if len(in.Filters) > 4 {
		return nil, "", apierr.InvalidField("filters", "Member must have at most 4 keys")
	}
	f := metastore.ScraperFilter{Limit: limit, After: in.NextToken}
	for k, vs := range in.Filters {
		if !filterKeys[k] {
			return nil, "", apierr.InvalidField("filters", "unknown filter key %q: the filter keys are status, sourceArn, destinationArn and alias", truncate(k))
		}
		if len(vs) < 1 || len(vs) > 20 {
			return nil, "", apierr.InvalidField("filters", "filter %s must have between 1 and 20 values", k)
		}
		for _, v := range vs {
			if len(v) < 1 || len(v) > 256 {
				return nil, "", apierr.InvalidField("filters", "values of filter %s must have length between 1 and 256", k)
			}
		}
		switch k {
		case "status":
			f.Statuses = vs
		case "sourceArn":
			f.SourceARNs = vs
		case "destinationArn":
			f.DestinationARNs = vs
		case "alias":
			f.Aliases = vs
		}
	}
	recs, next, err := s.store.ListScrapers(ctx, f)
	if errors.Is(err, metastore.ErrBadPageToken) {
		return nil, "", apierr.Validation(apierr.ReasonFieldValidation, "Invalid nextToken: pass the nextToken of the previous response unchanged")
	}
	if err != nil {
		return nil, "", fmt.Errorf("list scrapers: %w", err)
	}
	out := make([]Scraper, 0, len(recs))
	for _, rec := range recs {
		tags, err := s.store.Tags(ctx, rec.ARN)
		if err != nil {
			return nil, "", err
		}
		out = append(out, s.describe(rec, tags))
	}
	return out, next, nil
}

// UpdateInput is UpdateScraper's input: nil members are unchanged.
type UpdateInput struct {
	Alias         *string
	Configuration []byte
	Destination   *string
	Role          *RoleConfiguration
	ClientToken   string
}

// Update changes a scraper's alias, configuration, destination or roles;
// it goes UPDATING and the reconciler makes it ACTIVE again.
func (s *Service) Update(ctx context.Context, id string, in UpdateInput) (Scraper, error) {
	if err := workspace.ValidateClientToken(in.ClientToken); err != nil {
		return Scraper{}, err
	}
	rec, err := s.Get(ctx, id)
	if err != nil {
		return Scraper{}, err
	}
	if in.Alias != nil {
		if rec.Alias, err = validAlias(in.Alias); err != nil {
			return Scraper{}, err
		}
	}
	var src Source
	_ = json.Unmarshal([]byte(rec.Source), &src)
	if in.Configuration != nil {
		p, err := Validate(in.Configuration)
		if err != nil {
			return Scraper{}, err
		}
		if err := checkSourceFits(p, &src); err != nil {
			return Scraper{}, err
		}
		rec.Configuration = in.Configuration
	}
	if in.Destination != nil {
		wsID, err := s.destination(*in.Destination)
		if err != nil {
			return Scraper{}, err
		}
		if _, err := s.workspaces.Get(ctx, wsID); err != nil {
			return Scraper{}, err
		}
		if err := s.checkCluster(ctx, &src, wsID); err != nil {
			return Scraper{}, err
		}
		rec.DestinationARN = *in.Destination
	}
	if in.Configuration != nil || in.Destination != nil {
		// EC2 discovery's roles must be integrations of the (new)
		// destination.
		if _, err := s.UpdatedRoleIntegrations(ctx, rec); err != nil {
			return Scraper{}, err
		}
	}
	if in.Role != nil {
		if err := s.validRole(in.Role); err != nil {
			return Scraper{}, err
		}
		b, _ := json.Marshal(in.Role)
		rec.RoleConfiguration = string(b)
	}
	switch rec.Status {
	case metastore.ScraperActive, metastore.ScraperUpdateFailed:
	default:
		return Scraper{}, apierr.Conflict(ResourceType, id, "Scraper %s is %s; it can be updated only when ACTIVE", id, rec.Status)
	}
	rec.Status, rec.StatusReason, rec.UpdatedAt = metastore.ScraperUpdating, "", s.now().UTC()
	err = s.store.UpdateScraper(ctx, rec, metastore.ScraperActive, metastore.ScraperUpdateFailed)
	if errors.Is(err, metastore.ErrNotFound) {
		return Scraper{}, apierr.Conflict(ResourceType, id, "Scraper %s changed state concurrently; retry", id)
	}
	if err != nil {
		return Scraper{}, fmt.Errorf("update scraper %s: %w", id, err)
	}
	s.Kick()
	tags, err := s.store.Tags(ctx, rec.ARN)
	if err != nil {
		return Scraper{}, err
	}
	return s.describe(rec, tags), nil
}

// Delete marks a scraper DELETING; the reconciler stops it and removes it.
func (s *Service) Delete(ctx context.Context, id, clientToken string) (metastore.Scraper, error) {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return metastore.Scraper{}, err
	}
	rec, err := s.Get(ctx, id)
	if err != nil {
		return rec, err
	}
	if rec.Status == metastore.ScraperDeleting {
		return rec, nil
	}
	if rec.Status == metastore.ScraperCreating || rec.Status == metastore.ScraperUpdating {
		return rec, apierr.Conflict(ResourceType, id, "Scraper %s is %s; delete it once it is ACTIVE", id, rec.Status)
	}
	err = s.store.SetScraperStatus(ctx, id, metastore.ScraperDeleting, "", s.now().UTC(),
		metastore.ScraperActive, metastore.ScraperCreationFailed, metastore.ScraperUpdateFailed)
	if errors.Is(err, metastore.ErrNotFound) {
		return rec, apierr.Conflict(ResourceType, id, "Scraper %s changed state concurrently; retry", id)
	}
	if err != nil {
		return rec, fmt.Errorf("delete scraper %s: %w", id, err)
	}
	rec.Status = metastore.ScraperDeleting
	s.opts.Logger.Info("scraper deleting", "scraper", id)
	s.Kick()
	return rec, nil
}

// Running lists the scrapers that should scrape: ACTIVE ones.
func (s *Service) Running(ctx context.Context) ([]Scraper, error) {
	recs, _, err := s.store.ListScrapers(ctx, metastore.ScraperFilter{Statuses: []string{metastore.ScraperActive}})
	if err != nil {
		return nil, err
	}
	out := make([]Scraper, 0, len(recs))
	for _, r := range recs {
		out = append(out, s.describe(r, nil))
	}
	return out, nil
}

// IDs lists every scraper's id (cluster leases).
func (s *Service) IDs(ctx context.Context) ([]string, error) {
	recs, _, err := s.store.ListScrapers(ctx, metastore.ScraperFilter{Statuses: []string{metastore.ScraperActive}})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids, nil
}

// reconcile moves CREATING and UPDATING scrapers to ACTIVE when their
// destination workspace is ACTIVE (CREATION_FAILED / UPDATE_FAILED with the
// reason when it is gone), and removes DELETING ones.
func (s *Service) reconcile(ctx context.Context) error {
	recs, _, err := s.store.ListScrapers(ctx, metastore.ScraperFilter{
		Statuses: []string{metastore.ScraperCreating, metastore.ScraperUpdating, metastore.ScraperDeleting}})
	if err != nil {
		return fmt.Errorf("list scrapers: %w", err)
	}
	changed := false
	now := s.now().UTC()
	for _, rec := range recs {
		switch rec.Status {
		case metastore.ScraperDeleting:
			if err := s.store.DeleteScraper(context.WithoutCancel(ctx), rec.ID, rec.ARN); err != nil && !errors.Is(err, metastore.ErrNotFound) {
				s.opts.Logger.Error("delete scraper", "scraper", rec.ID, "err", err)
				continue
			}
			s.opts.Logger.Info("scraper deleted", "scraper", rec.ID)
			changed = true
		case metastore.ScraperCreating, metastore.ScraperUpdating:
			failed := metastore.ScraperCreationFailed
			if rec.Status == metastore.ScraperUpdating {
				failed = metastore.ScraperUpdateFailed
			}
			to, reason := metastore.ScraperActive, ""
			wsID, err := s.destination(rec.DestinationARN)
			if err == nil {
				var w metastore.Workspace
				w, err = s.workspaces.Get(ctx, wsID)
				if err == nil && w.Status == metastore.WorkspaceCreating {
					continue // wait for it
				}
				if err == nil && w.Status != metastore.WorkspaceActive {
					err = fmt.Errorf("workspace %s is %s", wsID, w.Status)
				}
			}
			if err == nil {
				_, err = Validate(rec.Configuration)
			}
			if err != nil {
				to, reason = failed, statusReason("destination or configuration refused: "+err.Error())
			}
			if err := s.store.SetScraperStatus(ctx, rec.ID, to, reason, now, rec.Status); err != nil {
				if !errors.Is(err, metastore.ErrNotFound) {
					s.opts.Logger.Error("scraper status", "scraper", rec.ID, "err", err)
				}
				continue
			}
			s.opts.Logger.Info("scraper "+strings.ToLower(to), "scraper", rec.ID, "reason", reason)
			changed = true
		}
	}
	if changed {
		s.notify(ctx)
	}
	return nil
}

// statusReason fits AMP's 256-character statusReason.
func statusReason(s string) string {
	if len(s) > 256 {
		return s[:253] + "..."
	}
	return s
}

// ARNs is how the middleware names a scraper for authorization.
func (s *Service) ARNs() httpapi.ARNs {
	return httpapi.ARNs{Region: s.opts.Region, AccountID: s.opts.AccountID}
}

// Logging is a scraper's logging configuration: where its components'
// events go (kept in the destination workspace's log, under the log group
// named) and which components log.
type Logging struct {
	LogGroupARN string      `json:"logGroupArn"`
	Components  []Component `json:"scraperComponents"`
	Status      string      `json:"status"`
}

// Component is one scraper component whose events are logged.
type Component struct {
	Type   string `json:"type"`
	Config *struct {
		Options map[string]string `json:"options,omitempty"`
	} `json:"config,omitempty"`
}

var componentTypes = map[string]bool{"SERVICE_DISCOVERY": true, "COLLECTOR": true, "EXPORTER": true}

// Logs is where a scraper's events are written: the destination
// workspace's log store (wslog).
type Logs interface {
	LogTo(ctx context.Context, ws, group, component, level, msg string, fields map[string]string)
}

// LoggingOf returns a scraper's logging configuration (ok false when none).
func LoggingOf(rec metastore.Scraper) (Logging, bool) {
	var l Logging
	if rec.Logging == "" || json.Unmarshal([]byte(rec.Logging), &l) != nil {
		return Logging{}, false
	}
	return l, true
}

// DescribeLogging returns a scraper's logging configuration.
func (s *Service) DescribeLogging(ctx context.Context, id string) (Logging, metastore.Scraper, error) {
	rec, err := s.Get(ctx, id)
	if err != nil {
		return Logging{}, rec, err
	}
	l, ok := LoggingOf(rec)
	if !ok {
		return l, rec, apierr.NotFound("ScraperLoggingConfiguration", id, "Scraper %s has no logging configuration", id)
	}
	return l, rec, nil
}

// UpdateLogging sets a scraper's logging configuration; it applies at once.
func (s *Service) UpdateLogging(ctx context.Context, id, logGroupARN string, comps []Component) (Logging, error) {
	if err := wslog.ValidateLogGroupARN("loggingDestination.cloudWatchLogs.logGroupArn", logGroupARN); err != nil {
		return Logging{}, err
	}
	if comps == nil {
		comps = []Component{{Type: "SERVICE_DISCOVERY"}, {Type: "COLLECTOR"}, {Type: "EXPORTER"}}
	}
	if len(comps) == 0 {
		return Logging{}, apierr.InvalidField("scraperComponents", "Member must have at least 1 item")
	}
	seen := map[string]bool{}
	for _, c := range comps {
		if !componentTypes[c.Type] {
			return Logging{}, apierr.InvalidField("scraperComponents", "type %q: Member must satisfy enum value set: [SERVICE_DISCOVERY, COLLECTOR, EXPORTER]", truncate(c.Type))
		}
		if seen[c.Type] {
			return Logging{}, apierr.InvalidField("scraperComponents", "type %s is listed twice", c.Type)
		}
		seen[c.Type] = true
		if c.Config != nil && len(c.Config.Options) > 20 {
			return Logging{}, apierr.InvalidField("scraperComponents", "type %s: at most 20 options", c.Type)
		}
	}
	rec, err := s.Get(ctx, id)
	if err != nil {
		return Logging{}, err
	}
	if rec.Status == metastore.ScraperDeleting {
		return Logging{}, apierr.Conflict(ResourceType, id, "Scraper %s is DELETING", id)
	}
	l := Logging{LogGroupARN: logGroupARN, Components: comps, Status: metastore.ScraperActive}
	b, _ := json.Marshal(l)
	if len(b) > 16<<10 {
		return Logging{}, apierr.InvalidField("scraperComponents", "the logging configuration is larger than 16 KiB")
	}
	if err := s.store.SetScraperLogging(ctx, id, string(b), s.now().UTC()); err != nil {
		return Logging{}, fmt.Errorf("set logging of scraper %s: %w", id, err)
	}
	s.notify(ctx)
	return l, nil
}

// DeleteLogging removes a scraper's logging configuration.
func (s *Service) DeleteLogging(ctx context.Context, id, clientToken string) error {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return err
	}
	if _, _, err := s.DescribeLogging(ctx, id); err != nil {
		return err
	}
	if err := s.store.SetScraperLogging(ctx, id, "", s.now().UTC()); err != nil {
		return fmt.Errorf("delete logging of scraper %s: %w", id, err)
	}
	s.notify(ctx)
	return nil
}

func (s *Service) notify(ctx context.Context) {
	s.mu.Lock()
	ls := append([]func(context.Context){}, s.listeners...)
	s.mu.Unlock()
	for _, l := range ls {
		l(ctx)
	}
}
