// Package demo is `kansoku server --demo`: a simulated AWS account served
// by the AWS API simulator in the same process, a workspace whose AWS
// integration collects from it, and a rule and an Alertmanager so that an
// alert fires and can be silenced. Everything goes through the real code
// paths (AWS SDK, ingest, ruler, Alertmanager); only AWS is simulated.
package demo

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/rulegroups"
	"github.com/kansoku/kansoku/internal/workspace"
	"github.com/kansoku/kansoku/sim/awssim"
)

//go:embed scenario.yaml
var scenarioYAML []byte

// Account is the simulated customer account; Role the role Kansoku assumes.
const (
	Account       = "123456789012"
	Role          = "arn:aws:iam::123456789012:role/KansokuIntegration"
	WorkspaceName = "demo"
)

// Simulator is the running simulated AWS.
type Simulator struct {
	Sim    *awssim.Server
	URL    string
	server *http.Server
}

// Start runs the AWS API simulator with the demo world on a free local port
// and points the configuration's AWS integration at it with fresh
// credentials for Kansoku's own (simulated) identity.
func Start(cfg *config.Config) (*Simulator, error) {
	sc, err := awssim.ParseScenario(scenarioYAML)
	if err != nil {
		return nil, err
	}
	keyID, secret := auth.NewAccessKeyID(), auth.NewSecretAccessKey()
	sc.Callers[0].AccessKeyID, sc.Callers[0].SecretAccessKey = keyID, secret
	sim := awssim.New(awssim.Options{})
	if err := sim.SetScenario(sc); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: listen for the AWS simulator: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s := &Simulator{Sim: sim, URL: "http://" + ln.Addr().String(), server: srv}
	cfg.AWS.EndpointURL, cfg.AWS.AccessKeyID, cfg.AWS.SecretAccessKey = s.URL, keyID, secret
	cfg.AWS.Backfill = model.Duration(45 * time.Minute) // graphs with history from the first minute
	return s, nil
}

// Close stops the simulator.
func (s *Simulator) Close() error { return s.server.Close() }

// Result is what Setup made.
type Result struct {
	WorkspaceID   string
	IntegrationID string
}

// Setup waits until the server is ready, then creates (or finds) the demo
// workspace, its AWS integration (writing the generated External ID into
// the simulated role's trust policy, as the operator would), a rule group
// and an Alertmanager definition.
func Setup(ctx context.Context, a *app.App, sim *Simulator, logger *slog.Logger) (Result, error) {
	for !a.Ready() {
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	ws, err := demoWorkspace(ctx, a)
	if err != nil {
		return Result{}, err
	}
	integ, err := integration(ctx, a, sim, ws)
	if err != nil {
		return Result{}, err
	}
	if err := alerting(ctx, a, ws); err != nil {
		return Result{}, err
	}
	logger.Info("demo ready", "workspace", ws, "integration", integ)
	return Result{WorkspaceID: ws, IntegrationID: integ}, nil
}

func demoWorkspace(ctx context.Context, a *app.App) (string, error) {
	list, _, err := a.Workspaces().List(ctx, workspace.ListInput{AliasPrefix: WorkspaceName})
	if err != nil {
		return "", err
	}
	for _, w := range list {
		if w.Alias == WorkspaceName && w.Status == metastore.WorkspaceActive {
			return w.ID, nil
		}
	}
	alias := WorkspaceName
	w, err := a.Workspaces().Create(ctx, workspace.CreateInput{Alias: &alias, Tags: map[string]string{"kansoku:demo": "true"}})
	if err != nil {
		return "", err
	}
	for i := 0; i < 300; i++ {
		got, err := a.Workspaces().Get(ctx, w.ID)
		if err == nil && got.Status == metastore.WorkspaceActive {
			return w.ID, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", errors.New("demo: the workspace did not become active")
}

func integration(ctx context.Context, a *app.App, sim *Simulator, ws string) (string, error) {
	list, err := a.AWS().List(ctx, ws)
	if err != nil {
		return "", err
	}
	var i awsint.Integration
	for _, x := range list {
		if x.Name == "demo" {
			i = x
		}
	}
	if i.ID == "" {
		services := map[string]awsint.ServiceSettings{}
		for _, k := range catalog.Keys() {
			ss := awsint.DefaultServiceSettings(k)
			if k == "ec2" {
				ss.DefaultRole = "infra:ec2"
			}
			services[k] = ss
		}
		i, err = a.AWS().Create(ctx, awsint.CreateInput{Name: "demo", AWSAccountID: Account, WorkspaceID: ws, Settings: &awsint.Settings{
			Regions: []string{"ap-northeast-1", "us-east-1"}, Services: services, PollInterval: awsint.Duration(time.Minute)}})
		if err != nil {
			return "", err
		}
	}
	// The operator's part: the role trusts Kansoku with this External ID.
	if err := sim.Sim.Update(func(sc *awssim.Scenario) { sc.Accounts[0].Roles[0].ExternalID = i.ExternalID }); err != nil {
		return "", err
	}
	role := Role
	if _, err := a.AWS().Update(ctx, i.ID, awsint.UpdateInput{RoleARN: &role}); err != nil {
		return "", err
	}
	// A first poll now, so that hosts and graphs are there when the demo
	// says it is ready (the scheduler takes over from here).
	if _, err := a.AWS().Poll(ctx, i.ID, time.Now()); err != nil {
		if !strings.Contains(err.Error(), "is being polled") {
			return "", fmt.Errorf("demo: first poll: %w", err)
		}
		// The scheduler got there first: wait for its report.
		for k := 0; k < 600; k++ {
			if got, err := a.AWS().Get(ctx, i.ID); err == nil && got.LastPoll != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return i.ID, nil
}

const demoRules = `groups:
- name: ec2
  interval: 30s
  rules:
  # CloudWatch's datapoints arrive minutes late: rules look back 15 minutes.
  - record: instance:cpu:last
    expr: last_over_time(aws_ec2_cpuutilization_average[15m])
  - alert: EC2BusierThanAverage
    expr: instance:cpu:last > scalar(avg(instance:cpu:last))
    for: 30s
    labels:
      severity: warning
    annotations:
      summary: 'EC2 instance {{ $labels.dimension_InstanceId }} runs at {{ $value | printf "%.1f" }}% CPU, above the fleet average'
`

const demoAlertmanager = `alertmanager_config: |
  route:
    receiver: console
    group_by: [alertname]
    group_wait: 10s
  receivers:
  - name: console
`

func alerting(ctx context.Context, a *app.App, ws string) error {
	if _, err := a.RuleGroups().Describe(ctx, ws, "demo"); err != nil {
		if _, err := a.RuleGroups().Create(ctx, rulegroups.CreateInput{WorkspaceID: ws, Name: "demo", Data: []byte(demoRules)}); err != nil {
			return fmt.Errorf("demo rules: %w", err)
		}
	}
	if _, err := a.AMConfig().Describe(ctx, ws); err != nil {
		if _, err := a.AMConfig().Create(ctx, ws, []byte(demoAlertmanager), ""); err != nil {
			return fmt.Errorf("demo alertmanager definition: %w", err)
		}
	}
	return nil
}
