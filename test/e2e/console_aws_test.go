package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/sim/awssim"
)

// TestConsoleAWS drives the AWS integration pages, the hosts and the audit
// trail in a real Chromium, with the AWS API simulator (in this process)
// standing in for AWS: the wizard shows the External ID and the policies,
// a validation fails until the operator puts the External ID into the
// role and then succeeds, a poll shows its report, EC2 hosts are listed
// with their metadata and graphs, a host is retired, the audit trail lists
// the integration's creation; a read-only user sees no button that would
// change anything.
func TestConsoleAWS(t *testing.T) {
	sim, simURL := startDemoAWS(t)
	s := startServer(t, "", "--aws.endpoint-url="+simURL, "--no-aws.poll") // polls only on "Poll now"
	ws := createWorkspace(t, s.Admin, "aws-console")

	b := startBrowser(t)
	b.SignIn(s, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"])

	// The wizard, step 1: account, workspace, region, services, a role.
	b.Go(s.URL + "/console/#/aws")
	b.WaitText("#integrations", "No AWS integration yet", 10*time.Second)
	b.Click("#new-integration")
	b.Wait("#wizard-step1", 10*time.Second)
	b.Type("#wizard-step1 input[name=name]", "demo-console")
	b.Type("#wizard-step1 input[name=account]", "123456789012")
	b.Select("#wizard-step1 select[name=workspace]", ws)
	b.Click("#wizard-step1 input[name=region][value=us-east-1]")
	b.Click("#wizard-step1 input[name=service][value=ec2]")
	b.Click("#wizard-step1 input[name=service][value=rds]")
	b.Click("#wizard-step1 input[name=auth][value=role]")
	b.Click("#create-integration")

	// Step 2: the External ID and the policies to paste into IAM.
	b.Wait("#external-id", 10*time.Second)
	ext := strings.TrimSpace(b.Text("#external-id"))
	if !regexp.MustCompile(`^kansoku-[0-9a-f]{32}$`).MatchString(ext) {
		t.Fatalf("External ID %q", ext)
	}
	if acct := b.Text("#kansoku-account"); acct != "111111111111" {
		t.Errorf("Kansoku's account shown: %q", acct)
	}
	trust := b.Text("#trust-policy")
	for _, want := range []string{`"sts:ExternalId": "` + ext + `"`, `"arn:aws:iam::111111111111:root"`, `"sts:AssumeRole"`} {
		if !strings.Contains(trust, want) {
			t.Errorf("trust policy lacks %s:\n%s", want, trust)
		}
	}
	perm := b.Text("#permission-policy")
	for _, want := range []string{`"ec2:DescribeInstances"`, `"rds:DescribeDBInstances"`, `"cloudwatch:GetMetricData"`} {
		if !strings.Contains(perm, want) {
			t.Errorf("permission policy lacks %s:\n%s", want, perm)
		}
	}
	if strings.Contains(perm, "lambda:") {
		t.Errorf("the least-privilege policy names a service not chosen:\n%s", perm)
	}
	if b.find("details.full-policy[open]") != "" {
		t.Error("the full policy is not collapsed")
	}
	// The "A side": what Kansoku's own identity needs to assume the role.
	if kp := b.Text("#kansoku-policy"); !strings.Contains(kp, `"sts:AssumeRole"`) || !strings.Contains(kp, "arn:aws:iam::123456789012:role/") {
		t.Errorf("Kansoku's own policy:\n%s", kp)
	}
	b.Screenshot("aws-wizard")

	// Step 3: validating before the role trusts the External ID fails, with
	// the reason explained; after the operator fixes the role, Retry works.
	// Record what #validation-result shows, to see the progress state.
	b.Exec(`window.__validation = [];
		new MutationObserver(() => { const e = document.querySelector('#validation-result'); if (e) window.__validation.push(e.innerText); })
			.observe(document.body, {subtree: true, childList: true, characterData: true});`)
	b.Type("#role-arn", demoRole)
	b.Click("#validate-integration")
	b.WaitText("#validation-result", "ERROR", 30*time.Second)
	b.WaitText("#validation-result", "AssumeRole", time.Second)
	b.WaitText("#validation-result", ext, time.Second) // the tip names the External ID to use
	if err := sim.Update(func(sc *awssim.Scenario) { sc.Accounts[0].Roles[0].ExternalID = ext }); err != nil {
		t.Fatal(err)
	}
	b.Click("#retry-validation")
	b.WaitText("#validation-result", "ACTIVE", 30*time.Second)
	if seen := fmt.Sprint(b.Exec(`return window.__validation.join('\n')`)); !strings.Contains(seen, "Validating…") {
		t.Errorf("no progress state while validating; #validation-result showed:\n%s", seen)
	}

	// The integration's page: status, Poll now, the report.
	b.Click("#open-integration")
	b.WaitText("#integration-status", "ACTIVE", 10*time.Second)
	b.Wait("#settings-form", 5*time.Second)
	b.Wait("#save-settings", 5*time.Second)
	b.Click("#poll-now")
	waitFor(t, 60*time.Second, "a poll report with resources and API calls", func() bool {
		done, _ := b.Exec(`const btn = document.querySelector('#poll-now');
			const r = document.querySelector('#poll-report [data-key=resources]');
			return !!btn && !btn.disabled && !!r && parseInt(r.innerText, 10) > 0 && !!document.querySelector('#api-calls tr[data-action="CloudWatch:GetMetricData"]');`).(bool)
		return done
	})
	if n, _ := strconv.Atoi(b.Text("#poll-report [data-key=samplesWritten]")); n == 0 {
		// The server polls only on "Poll now" (--no-aws.poll), so its first
		// poll reads the backfill window's datapoints.
		t.Errorf("Poll now wrote no samples: %s", b.Text("#poll-report"))
	}
	if txt := b.Text("#poll-report"); !strings.Contains(txt, "$") || !strings.Contains(txt, "GetMetricData calls") {
		t.Errorf("the report lacks the cost or the calls:\n%s", txt)
	}
	b.Screenshot("aws-integration")

	// Settings: a bad tag filter is refused inline, by the server.
	b.Type("#settings-form input[name=tagFilter]", `"service:web`)
	b.Click("#save-settings")
	b.WaitText("#settings-form .field-error", "never closed", 10*time.Second)
	b.Type("#settings-form input[name=tagFilter]", "")
	// Metrics are grouped as Mackerel groups them: a group's box checks
	// its metrics; EC2 has a tag filter of its own; tags for every host
	// and metric are label names (Kansoku's own labels are refused).
	ec2 := `#settings-form fieldset[data-service="ec2"]`
	b.Wait(ec2+` .metric-group[data-group="cpu_credit"]`, 5*time.Second)
	b.Click(ec2 + ` .metric-group[data-group="cpu_credit"] input[name=metric-group]`)
	if on := b.Exec(`return [...document.querySelectorAll('` + ec2 + ` input[name=metric][data-group="cpu_credit"]')].filter(x => x.checked).length`); fmt.Sprint(on) != "0" {
		t.Errorf("unchecking the cpu_credit group left %v of its metrics checked", on)
	}
	b.Type(ec2+" input[name=tagFilter]", "env:prod")
	b.Type("#settings-form input[name=extraTags]", "host_id=x")
	b.Click("#save-settings")
	b.WaitText("#settings-form .field-error", "host_id", 10*time.Second)
	b.Type("#settings-form input[name=extraTags]", "team=shop")
	b.Click("#save-settings")
	b.WaitText("#integration-extra-tags", "team=shop", 10*time.Second)
	var saved struct {
		Integration struct {
			Settings struct {
				ExtraTags map[string]string `json:"extraTags"`
				Services  map[string]struct {
					TagFilter       string   `json:"tagFilter"`
					ExcludedMetrics []string `json:"excludedMetrics"`
				} `json:"services"`
			} `json:"settings"`
		} `json:"integration"`
	}
	id := strings.TrimPrefix(b.Exec(`return location.hash`).(string), "#/aws/")
	if err := s.Admin.JSON(context.Background(), "GET", "/admin/v1/aws/integrations/"+id, nil, nil, &saved); err != nil {
		t.Fatal(err)
	}
	if st := saved.Integration.Settings; st.ExtraTags["team"] != "shop" || st.Services["ec2"].TagFilter != "env:prod" ||
		!strings.Contains(strings.Join(st.Services["ec2"].ExcludedMetrics, ","), "aws_ec2_cpucredit_balance_average") {
		t.Errorf("saved settings: %+v", st)
	}

	// Hosts: filter EC2, open web-1.
	b.Go(s.URL + "/console/#/hosts")
	b.Wait("#hosts tr.host", 10*time.Second)
	b.Select("#host-filters select[name=product]", "ec2")
	b.Wait(`#hosts tr.host[data-name="web-1"]`, 10*time.Second)
	waitFor(t, 10*time.Second, "only EC2 hosts", func() bool {
		v, _ := b.Exec(`return [...document.querySelectorAll('#hosts tr.host')].map(r => r.dataset.product).join(',');`).(string)
		for _, p := range strings.Split(v, ",") {
			if p != "ec2" {
				return false
			}
		}
		return true
	})
	if k := b.Exec(`return document.querySelector('#hosts tr.host[data-name="web-1"]').dataset.kind`); k != "standard" {
		t.Errorf("web-1 is a %v host", k)
	}
	// Each product by its name, with what tells its hosts apart.
	if row := b.Text(`#hosts tr.host[data-name="web-1"]`); !strings.Contains(row, "EC2") || !strings.Contains(row, "m5.large") {
		t.Errorf("web-1's row: %s", row)
	}
	if strings.Contains(b.Text("#hosts"), "old-bastion") {
		t.Error("a terminated instance is listed")
	}
	b.Screenshot("hosts")
	b.Click(`#hosts tr.host[data-name="web-1"] a.host-link`)
	b.WaitText("#host-metadata", "m5.large", 10*time.Second)
	b.Wait(`.host-graph[data-metric="aws_ec2_cpuutilization_average"]`, 20*time.Second)
	b.Wait(".host-graph canvas", 20*time.Second)
	b.Screenshot("host")

	// Retire it: it leaves the list.
	b.Click("#retire-host")
	b.Click("#confirm-retire")
	b.Wait("#hosts tr.host", 10*time.Second)
	waitFor(t, 10*time.Second, "web-1 gone from the list", func() bool {
		v, _ := b.Exec(`return !!document.querySelector('#hosts tr.host[data-name="web-2"]') && !document.querySelector('#hosts tr.host[data-name="web-1"]');`).(bool)
		return v
	})
	b.Click("#host-filters input[name=retired]")
	b.Wait(`#hosts tr.host.retired[data-name="web-1"]`, 10*time.Second)

	// The audit trail lists the integration's creation.
	b.Go(s.URL + "/console/#/audit")
	b.Wait("#audit-events tr.audit-event", 10*time.Second)
	b.Screenshot("audit")
	b.Type("#audit-filters input[name=eventName]", "CreateAWSIntegration")
	waitFor(t, 10*time.Second, "only CreateAWSIntegration events", func() bool {
		v, _ := b.Exec(`const rows = [...document.querySelectorAll('#audit-events tr.audit-event')];
			return rows.length > 0 && rows.every(r => r.dataset.eventName === 'CreateAWSIntegration');`).(bool)
		return v
	})
	b.Click("#audit-events tr.audit-event")
	b.WaitText("#audit-event-json", `"eventName": "CreateAWSIntegration"`, 5*time.Second)
	b.Click("#close-event")

	// An over-privileged role (made through the API) is flagged prominently;
	// deleting the integration takes its typed name.
	var created struct {
		Integration struct{ ID, ExternalID string } `json:"integration"`
	}
	if err := s.Admin.JSON(context.Background(), "POST", "/admin/v1/aws/integrations", nil, map[string]any{"name": "too-broad", "awsAccountId": "123456789012",
		"workspaceId": ws, "regions": []string{"us-east-1"}, "services": []string{"ec2"}}, &created); err != nil {
		t.Fatal(err)
	}
	if err := sim.Update(func(sc *awssim.Scenario) {
		for i, r := range sc.Accounts[0].Roles {
			if r.Name == "KansokuPowerUser" {
				sc.Accounts[0].Roles[i].ExternalID = created.Integration.ExternalID
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	b.Go(s.URL + "/console/#/aws/" + created.Integration.ID)
	b.Type("#role-arn", "arn:aws:iam::123456789012:role/KansokuPowerUser")
	b.Click("#save-role")
	b.WaitText("#integration-status #over-privileged", "nothing is collected", 30*time.Second)
	b.Click("#delete-integration")
	b.Type("#delete-integration-form input[name=confirm]", "nope")
	b.Click("#delete-integration-form button[type=submit]")
	b.WaitText("#delete-integration-form .error", "too-broad", 5*time.Second)
	b.Type("#delete-integration-form input[name=confirm]", "too-broad")
	b.Click("#delete-integration-form button[type=submit]")
	b.WaitText("#integrations", "demo-console", 10*time.Second)
	if strings.Contains(b.Text("#integrations"), "too-broad") {
		t.Error("the deleted integration is listed")
	}

	// A read-only user sees the integrations and hosts, and no button that
	// would change them.
	out, code := s.kansoku(t, "keys", "create", "--name", "viewer", "--policy", "KansokuReadOnlyAccess", "--policy", "AmazonPrometheusQueryAccess")
	kid := regexp.MustCompile(`AWS_ACCESS_KEY_ID=(\S+)`).FindStringSubmatch(out)
	secret := regexp.MustCompile(`AWS_SECRET_ACCESS_KEY=(\S+)`).FindStringSubmatch(out)
	if code != 0 || kid == nil || secret == nil {
		t.Fatalf("keys create: %d\n%s", code, out)
	}
	b.Click("#sign-out")
	b.Wait("#login-key", 10*time.Second)
	b.SignIn(s, kid[1], secret[1])
	b.Go(s.URL + "/console/#/aws")
	b.WaitText("#integrations", "demo-console", 10*time.Second)
	if b.find("#new-integration") != "" {
		t.Error("a read-only user sees New integration")
	}
	b.ClickText("#integrations a", "demo-console")
	b.WaitText("#integration-status", "ACTIVE", 10*time.Second)
	b.Wait("#settings-form", 5*time.Second)
	b.Wait("#api-calls", 5*time.Second)
	for _, css := range []string{"#poll-now", "#validate-now", "#delete-integration", "#save-settings", "#save-role"} {
		if b.find(css) != "" {
			t.Errorf("a read-only user sees %s", css)
		}
	}
	b.Go(s.URL + "/console/#/hosts")
	b.Wait(`#hosts tr.host[data-name="web-2"]`, 10*time.Second)
	b.Click(`#hosts tr.host[data-name="web-2"] a.host-link`)
	b.WaitText("#host-metadata", "m5.large", 10*time.Second)
	if b.find("#retire-host") != "" {
		t.Error("a read-only user sees Retire")
	}
	for _, o := range b.ResourceOrigins() {
		if o != s.URL {
			t.Errorf("the console loaded a resource from %s", o)
		}
	}
}
