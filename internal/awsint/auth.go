package awsint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/metastore"
)

// cachedConfig is an integration's SDK configuration (credentials with
// their cache), rebuilt when the integration changes.
type cachedConfig struct {
	version int
	cfg     aws.Config
}

func (s *Service) forgetConfig(id string) {
	s.mu.Lock()
	delete(s.configs, id)
	s.mu.Unlock()
}

// baseConfig is the SDK configuration with Kansoku's own credentials.
func (s *Service) baseConfig(ctx context.Context, region string) (aws.Config, error) {
	// Every AWS call is bounded: 60 s per HTTP attempt, 3 attempts.
	httpClient := awshttp.NewBuildableClient().WithTimeout(60 * time.Second)
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region), awsconfig.WithRetryMaxAttempts(3), awsconfig.WithHTTPClient(httpClient)}
	if s.o.BaseCredentials != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(s.o.BaseCredentials))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load Kansoku's AWS configuration: %w", err)
	}
	// Wrapped after loading: the loader adds a CA bundle to a buildable client.
	cfg.HTTPClient = bufferedBodies{next: cfg.HTTPClient}
	if s.o.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(s.o.EndpointURL)
	}
	return cfg, nil
}

// config returns the SDK configuration an integration's calls use: its
// role (assumed with Kansoku's credentials and the External ID) or its
// access key; every call is counted (apicalls.go).
func (s *Service) config(ctx context.Context, rec metastore.AWSIntegration) (aws.Config, error) {
	s.mu.Lock()
	c, ok := s.configs[rec.ID]
	s.mu.Unlock()
	if ok && c.version == rec.Version {
		return c.cfg, nil
	}
	cfg, err := s.baseConfig(ctx, s.o.BaseRegion)
	if err != nil {
		return aws.Config{}, err
	}
	s.metrics.instrument(&cfg, rec.ID)
	switch rec.AuthMode {
	case AuthKeys:
		secret, err := s.o.Sealer.Open(rec.SecretSealed, []byte(rec.ID))
		if err != nil {
			return aws.Config{}, fmt.Errorf("unseal the integration's secret access key: %w", err)
		}
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(rec.AccessKeyID, string(secret), ""))
	case AuthRole:
		if rec.RoleARN == "" {
			return aws.Config{}, errors.New("no role ARN set yet")
		}
		stsClient := sts.NewFromConfig(cfg)
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, rec.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.ExternalID = aws.String(rec.ExternalID)
			o.RoleSessionName = "kansoku-" + rec.ID
			o.Duration = time.Hour
		}))
	default:
		return aws.Config{}, fmt.Errorf("unknown auth mode %q", rec.AuthMode)
	}
	s.mu.Lock()
	s.configs[rec.ID] = cachedConfig{version: rec.Version, cfg: cfg}
	s.mu.Unlock()
	return cfg, nil
}

// bufferedBodies sends each request with its body read into memory first
// (Kansoku's requests to AWS are small: a GetMetricData call of 500
// queries is about 100 KB). The SDK closes a request's body once the
// response has come, which can race with net/http's last read of it (the
// check for bytes beyond Content-Length); losing that race closes the
// connection under the response being read ("use of closed network
// connection"), which an endpoint that answers fast (the simulator, a
// nearby endpoint) makes likely.
type bufferedBodies struct{ next aws.HTTPClient }

func (b bufferedBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read the request body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return b.next.Do(r)
}

// regional returns a copy of cfg for region.
func regional(cfg aws.Config, region string) aws.Config {
	c := cfg.Copy()
	c.Region = region
	return c
}

// KansokuAccount returns the AWS account of Kansoku's own credentials (the
// principal roles must trust).
func (s *Service) KansokuAccount(ctx context.Context) (string, error) {
	s.baseMu.Lock()
	defer s.baseMu.Unlock()
	if s.baseAccount != "" {
		return s.baseAccount, nil
	}
	cfg, err := s.baseConfig(ctx, s.o.BaseRegion)
	if err != nil {
		return "", err
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("no usable AWS credentials of Kansoku's own (the standard AWS credential chain: AWS_ACCESS_KEY_ID ..., shared config, instance role): %w", err)
	}
	s.baseAccount = aws.ToString(out.Account)
	return s.baseAccount, nil
}

// Policies are what the operator pastes into IAM for an integration.
type Policies struct {
	ExternalID string `json:"externalId,omitempty"`
	// KansokuAccountID is the account the trust policy names.
	KansokuAccountID string `json:"kansokuAccountId,omitempty"`
	// Partition is the integration's AWS partition (aws, aws-cn,
	// aws-us-gov), which every ARN names.
	Partition   string         `json:"partition"`
	TrustPolicy catalog.Policy `json:"trustPolicy"`
	// PermissionPolicy is the least-privilege policy for the chosen
	// services; FullPolicy covers every product Mackerel supports.
	PermissionPolicy catalog.Policy `json:"permissionPolicy"`
	FullPolicy       catalog.Policy `json:"fullPolicy"`
	// KansokuPolicy is what Kansoku's own identity needs in its account:
	// sts:AssumeRole on the role (seed 003's "A side").
	KansokuPolicy *catalog.Policy `json:"kansokuPolicy,omitempty"`
}

// Policies returns an integration's trust and permission policies.
func (s *Service) Policies(ctx context.Context, id string) (Policies, error) {
	i, err := s.Get(ctx, id)
	if err != nil {
		return Policies{}, err
	}
	var keys []string
	for k, ss := range i.Settings.Services {
		if ss.Enabled {
			keys = append(keys, k)
		}
	}
	perm, err := catalog.PermissionPolicy(keys)
	if err != nil {
		return Policies{}, err
	}
	partition := catalog.Partition(i.Settings.Regions[0])
	p := Policies{PermissionPolicy: perm, FullPolicy: catalog.FullPolicy(), Partition: partition}
	if i.AuthMode == AuthRole {
		acct, err := s.KansokuAccount(ctx)
		if err != nil {
			return Policies{}, err
		}
		p.ExternalID, p.KansokuAccountID = i.ExternalID, acct
		p.TrustPolicy = catalog.TrustPolicy(partition, acct, i.ExternalID)
		assume := catalog.AssumePolicy(partition, i.RoleARN, i.AWSAccountID)
		p.KansokuPolicy = &assume
	}
	return p, nil
}

// ValidationStep is one check of Validate.
type ValidationStep struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Validate checks an integration's credentials now: AssumeRole with the
// External ID (and that the role cannot be assumed without one),
// GetCallerIdentity in the right account, every permission the chosen
// services need, and that the credentials cannot do more (over-privilege
// check). The integration's status and reason say what is wrong.
func (s *Service) Validate(ctx context.Context, id string) (Integration, error) {
	rec, err := s.get(ctx, id)
	if err != nil {
		return Integration{}, err
	}
	status, reason := s.validate(ctx, rec)
	if err := s.setStatus(ctx, id, status, reason, nil); err != nil {
		return Integration{}, err
	}
	return s.Get(ctx, id)
}

func (s *Service) validate(ctx context.Context, rec metastore.AWSIntegration) (status, reason string) {
	i, err := fromRecord(rec)
	if err != nil {
		return StatusError, err.Error()
	}
	if rec.AuthMode == AuthRole && rec.RoleARN == "" {
		return StatusPending, rec.StatusReason
	}
	s.forgetConfig(rec.ID)
	cfg, err := s.config(ctx, rec)
	if err != nil {
		return StatusError, err.Error()
	}
	region := i.Settings.Regions[0]
	rcfg := regional(cfg, region)

	// 1. Credentials work and belong to the account.
	ident, err := sts.NewFromConfig(rcfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if rec.AuthMode == AuthRole {
			acct, aerr := s.KansokuAccount(ctx)
			if aerr != nil {
				return StatusError, aerr.Error()
			}
			return StatusError, fmt.Sprintf("AssumeRole on %s was denied (%s). The role's trust policy must allow arn:%s:iam::%s:root to call sts:AssumeRole "+
				"with the condition sts:ExternalId = %q: either the role does not trust Kansoku's account or its External ID differs, "+
				"or Kansoku's own identity may not call sts:AssumeRole on the role "+
				"(kansoku aws policy %s prints the trust policy and Kansoku's own)", rec.RoleARN, apiCode(err), catalog.Partition(region), acct, rec.ExternalID, rec.ID)
		}
		return StatusError, fmt.Sprintf("the access key %s was refused by STS GetCallerIdentity: %s", rec.AccessKeyID, apiMessage(err))
	}
	if got := aws.ToString(ident.Account); got != rec.AWSAccountID {
		return StatusError, fmt.Sprintf("the credentials belong to account %s, not to the integration's account %s", got, rec.AWSAccountID)
	}
	// 2. A role must require the External ID (confused-deputy protection).
	if rec.AuthMode == AuthRole {
		base, err := s.baseConfig(ctx, s.o.BaseRegion)
		if err == nil {
			s.metrics.instrument(&base, rec.ID)
			_, err = sts.NewFromConfig(base).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(rec.RoleARN), RoleSessionName: aws.String("kansoku-external-id-check")})
			if err == nil {
				return StatusError, fmt.Sprintf("the role %s can be assumed without the External ID: add the condition \"StringEquals\": {\"sts:ExternalId\": %q} to its trust policy", rec.RoleARN, rec.ExternalID)
			}
		}
	}
	// 3. The over-privilege check.
	if over, err := overPrivileged(ctx, rcfg); err != nil {
		return StatusError, err.Error()
	} else if over {
		return StatusOverPrivileged, overPrivilegedReason
	}
	// 4. Every permission the chosen services need.
	var missing []string
	check := func(action string, call func() error) {
		if err := call(); err != nil {
			if isAccessDenied(err) {
				missing = append(missing, action)
				return
			}
			missing = append(missing, action+" ("+apiMessage(err)+")")
		}
	}
	cw := cloudwatch.NewFromConfig(rcfg)
	check("cloudwatch:GetMetricData", func() error {
		now := s.o.Now()
		_, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-10 * time.Minute)), EndTime: aws.Time(now),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("check"), MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization")}, Period: aws.Int32(300), Stat: aws.String("Average")}}}})
		return err
	})
	check("cloudwatch:ListMetrics", func() error {
		_, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization")})
		return err
	})
	check("tag:GetResources", func() error {
		_, err := tagging.NewFromConfig(rcfg).GetResources(ctx, &tagging.GetResourcesInput{ResourcesPerPage: aws.Int32(1)})
		return err
	})
	global := regional(cfg, catalog.GlobalRegion(catalog.Partition(region)))
	for _, k := range enabledProducts(i.Settings) {
		p, _ := catalog.Get(k)
		var err error
		if p.Regional != nil {
			_, err = p.Regional(ctx, &catalog.Clients{Config: rcfg, AccountID: rec.AWSAccountID})
		}
		if err == nil && p.Global != nil {
			_, err = p.Global(ctx, &catalog.Clients{Config: global, AccountID: rec.AWSAccountID})
		}
		if err != nil {
			action := strings.Join(p.Actions, ", ")
			if isAccessDenied(err) {
				missing = append(missing, action+" (for "+p.Name+")")
			} else {
				missing = append(missing, action+" (for "+p.Name+": "+apiMessage(err)+")")
			}
		}
	}
	if len(missing) > 0 {
		return StatusError, "missing permission: " + strings.Join(missing, "; ") + " — attach the permission policy (kansoku aws policy " + rec.ID + ")"
	}
	return StatusActive, ""
}

const overPrivilegedReason = "the credentials are allowed ec2:CreateInternetGateway (checked with a dry run): they can change the account, " +
	"so nothing is collected until only read permissions remain (attach the permission policy instead of broad ones such as AdministratorAccess or PowerUserAccess)"

// overPrivileged runs Mackerel's check of over-privileged credentials (its
// FAQ on CreateInternetGateway, https://mackerel.io/docs/entry/integrations/aws): a dry-run
// CreateInternetGateway that read-only credentials must be refused.
func overPrivileged(ctx context.Context, cfg aws.Config) (bool, error) {
	_, err := ec2.NewFromConfig(cfg).CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{DryRun: aws.Bool(true)})
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "DryRunOperation":
			return true, nil
		case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
			return false, nil
		}
	}
	if err == nil {
		return true, nil
	}
	return false, fmt.Errorf("the over-privilege check (dry-run ec2:CreateInternetGateway) failed: %s", apiMessage(err))
}

func isAccessDenied(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "AuthorizationError":
		return true
	}
	return false
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

func enabledProducts(st Settings) []string {
	var out []string
	for _, k := range catalog.Keys() {
		if ss, ok := st.Services[k]; ok && ss.Enabled {
			out = append(out, k)
		}
	}
	return out
}

// ErrNoRoleIntegration is returned when no integration of the workspace
// assumes the role.
var ErrNoRoleIntegration = errors.New("no AWS integration of the workspace uses this role")

// RoleIntegration returns the id of the integration of workspace ws that
// assumes roleARN, for a managed scraper's EC2 discovery.
func (s *Service) RoleIntegration(ctx context.Context, ws, roleARN string) (string, error) {
	return s.scraperIntegration(ctx, ws, func(r metastore.AWSIntegration) bool { return r.RoleARN == roleARN },
		func() error { return ErrNoRoleIntegration })
}

// AccountIntegration returns the id of the integration of workspace ws
// with AWS account acct, for a managed scraper's EKS cluster in that
// account: CreateScraper authorizes the caller on it.
func (s *Service) AccountIntegration(ctx context.Context, ws, acct string) (string, error) {
	return s.scraperIntegration(ctx, ws, func(r metastore.AWSIntegration) bool { return r.AWSAccountID == acct },
		func() error { return fmt.Errorf("workspace %s has no AWS integration with account %s", ws, acct) })
}

// scraperIntegration is the one way a managed scraper finds the AWS
// integration it reaches AWS through: an integration of workspace ws
// itself (a scraper never borrows another workspace's), that matches,
// with a role (never a stored access key); of several, the first by id.
// RoleConfig then refuses it while it is OVER_PRIVILEGED.
func (s *Service) scraperIntegration(ctx context.Context, ws string, match func(metastore.AWSIntegration) bool, missing func() error) (string, error) {
	if ws == "" {
		return "", errors.New("no workspace")
	}
	recs, err := s.o.Store.ListAWSIntegrations(ctx, ws)
	if err != nil {
		return "", fmt.Errorf("list the AWS integrations of workspace %s: %w", ws, err)
	}
	best, roleless, keys := "", "", ""
	for _, r := range recs {
		if r.WorkspaceID != ws || !match(r) {
			continue
		}
		switch {
		case r.AuthMode != AuthRole:
			keys = r.ID
		case r.RoleARN == "":
			roleless = r.ID
		case best == "" || r.ID < best:
			best = r.ID
		}
	}
	// One with a role wins over those still waiting for theirs, whatever
	// the order they are listed in.
	switch {
	case best != "":
		return best, nil
	case roleless != "":
		return "", fmt.Errorf("the AWS integration %s has no role ARN yet", roleless)
	case keys != "":
		return "", fmt.Errorf("the AWS integration %s uses access keys: managed scrapers reach AWS through a role only", keys)
	}
	return "", missing()
}

// RoleConfig returns the SDK configuration of a role integration for
// region ("": the integration's first region): its role assumed with
// Kansoku's credentials and the integration's External ID, every call
// counted as the integration's. Access-key integrations are refused (a
// scraper uses a role, never a stored key), and so are OVER_PRIVILEGED
// ones, as their polls are.
func (s *Service) RoleConfig(ctx context.Context, id, region string) (aws.Config, error) {
	rec, err := s.get(ctx, id)
	if err != nil {
		return aws.Config{}, err
	}
	if rec.AuthMode != AuthRole {
		return aws.Config{}, fmt.Errorf("integration %s uses access keys, not a role", id)
	}
	if rec.Status == StatusOverPrivileged {
		// As for polls: nothing is done with credentials that can change
		// the account.
		return aws.Config{}, fmt.Errorf("integration %s is %s: %s", id, StatusOverPrivileged, overPrivilegedReason)
	}
	if region == "" {
		i, err := fromRecord(rec)
		if err != nil {
			return aws.Config{}, err
		}
		region = i.Settings.Regions[0]
	}
	cfg, err := s.config(ctx, rec)
	if err != nil {
		return aws.Config{}, fmt.Errorf("integration %s: %w", id, err)
	}
	return regional(cfg, region), nil
}
