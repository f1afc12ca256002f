package amconfig

import (
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/config"
	amcommon "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/notify/discord"
	"github.com/prometheus/alertmanager/notify/incidentio"
	"github.com/prometheus/alertmanager/notify/jira"
	"github.com/prometheus/alertmanager/notify/mattermost"
	"github.com/prometheus/alertmanager/notify/msteams"
	"github.com/prometheus/alertmanager/notify/msteamsv2"
	"github.com/prometheus/alertmanager/notify/opsgenie"
	"github.com/prometheus/alertmanager/notify/pagerduty"
	"github.com/prometheus/alertmanager/notify/telegram"
	"github.com/prometheus/alertmanager/notify/webhook"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/alertmanager/tracing"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/sigv4"

	"github.com/kansoku/kansoku/internal/egress"
)

// A tenant's Alertmanager configuration runs inside the server, so what a
// field *does* decides whether a tenant may set it, whatever it is called.
// Every struct type reachable from config.Config is reviewed below, field
// by field: fields that read a file on the server (a header's `files`, a
// TLS `ca_file` ...) and fields that reach the server's own environment
// (secret-manager refs, proxies, AWS profiles, tracing, the event recorder)
// are refused when set; destinations the notifiers connect to are allowed
// and checked by the receiver firewall (package egress) at connect time.
// A type missing from the review is refused as a whole, and
// TestEveryReachableTypeIsReviewed fails when a new Alertmanager or
// prometheus/common release adds a type or a field, so an upgrade cannot
// open a hole silently.

// review is what the fields of one struct type do. Fields not named are
// plain data for the receiver.
type review struct {
	files  []string // name a file on the server, read when notifying
	server []string // reach the server's environment
	dials  []string // a destination: checked by the receiver firewall
	// check inspects the whole value for rules that span fields.
	check func(v reflect.Value, path string) error
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// reviewed lists every struct type a tenant's configuration can hold.
var reviewed = map[reflect.Type]review{
	typeOf[config.Config](): {server: []string{"TracingConfig", "EventRecorder"}},
	typeOf[config.GlobalConfig](): {
		files: []string{"SMTPAuthPasswordFile", "SMTPAuthSecretFile", "SlackAPIURLFile", "SlackAppTokenFile", "OpsGenieAPIKeyFile",
			"WeChatAPISecretFile", "VictorOpsAPIKeyFile", "TelegramBotTokenFile", "RocketchatTokenFile", "RocketchatTokenIDFile", "MattermostWebhookURLFile"},
		dials: []string{"JiraAPIURL", "SMTPSmarthost", "SlackAPIURL", "SlackAppURL", "PagerdutyURL", "OpsGenieAPIURL", "WeChatAPIURL", "VictorOpsAPIURL",
			"TelegramAPIUrl", "WebexAPIURL", "RocketchatAPIURL", "MattermostWebhookURL"},
	},
	typeOf[config.Route]():                      {check: checkRouteLabels},
	typeOf[config.Receiver]():                   {},
	typeOf[config.MuteTimeInterval]():           {},
	typeOf[config.TimeInterval]():               {},
	typeOf[config.HostPort]():                   {},
	typeOf[config.ThreadingConfig]():            {},
	typeOf[config.EmailConfig]():                {files: []string{"AuthPasswordFile", "AuthSecretFile"}, dials: []string{"Smarthost"}},
	typeOf[config.PushoverConfig]():             {files: []string{"UserKeyFile", "TokenFile"}},
	typeOf[config.RocketchatConfig]():           {files: []string{"TokenIDFile", "TokenFile"}, dials: []string{"APIURL"}},
	typeOf[config.RocketchatAttachmentAction](): {},
	typeOf[config.RocketchatAttachmentField]():  {},
	typeOf[config.SNSConfig]():                  {dials: []string{"APIUrl"}, check: checkSNS},
	typeOf[config.SlackConfig]():                {files: []string{"APIURLFile", "AppTokenFile"}, dials: []string{"APIURL", "AppURL"}},
	typeOf[config.SlackAction]():                {},
	typeOf[config.SlackConfirmationField]():     {},
	typeOf[config.SlackField]():                 {},
	typeOf[config.VictorOpsConfig]():            {files: []string{"APIKeyFile"}, dials: []string{"APIURL"}},
	typeOf[config.WebexConfig]():                {dials: []string{"APIURL"}},
	typeOf[config.WechatConfig]():               {files: []string{"APISecretFile"}, dials: []string{"APIURL"}},
	typeOf[amcommon.InhibitRule]():              {},
	typeOf[amcommon.NotifierConfig]():           {},
	typeOf[discord.DiscordConfig]():             {files: []string{"WebhookURLFile"}, dials: []string{"WebhookURL"}},
	typeOf[incidentio.IncidentioConfig]():       {files: []string{"URLFile", "AlertSourceTokenFile"}, dials: []string{"URL"}},
	typeOf[jira.JiraConfig]():                   {dials: []string{"APIURL"}},
	typeOf[jira.JiraFieldConfig]():              {},
	typeOf[mattermost.MattermostConfig]():       {files: []string{"WebhookURLFile"}, dials: []string{"WebhookURL"}},
	typeOf[mattermost.MattermostAttachment]():   {},
	typeOf[mattermost.MattermostField]():        {},
	typeOf[mattermost.MattermostPriority]():     {},
	typeOf[mattermost.MattermostProps]():        {},
	typeOf[msteams.MSTeamsConfig]():             {files: []string{"WebhookURLFile"}, dials: []string{"WebhookURL"}},
	typeOf[msteamsv2.MSTeamsV2Config]():         {files: []string{"WebhookURLFile"}, dials: []string{"WebhookURL"}},
	typeOf[opsgenie.OpsGenieConfig]():           {files: []string{"APIKeyFile"}, dials: []string{"APIURL"}},
	typeOf[opsgenie.OpsGenieConfigResponder]():  {},
	typeOf[pagerduty.PagerdutyConfig]():         {files: []string{"ServiceKeyFile", "RoutingKeyFile"}, dials: []string{"URL"}},
	typeOf[pagerduty.PagerdutyImage]():          {},
	typeOf[pagerduty.PagerdutyLink]():           {},
	typeOf[telegram.TelegramConfig]():           {files: []string{"BotTokenFile", "ChatIDFile"}, dials: []string{"APIUrl"}},
	typeOf[webhook.WebhookConfig]():             {files: []string{"URLFile"}, dials: []string{"URL"}},
	typeOf[amlabels.Matcher]():                  {},
	typeOf[timeinterval.TimeInterval]():         {},
	typeOf[timeinterval.TimeRange]():            {},
	typeOf[timeinterval.InclusiveRange]():       {},
	typeOf[timeinterval.DayOfMonthRange]():      {},
	typeOf[timeinterval.MonthRange]():           {},
	typeOf[timeinterval.WeekdayRange]():         {},
	typeOf[timeinterval.YearRange]():            {},
	typeOf[commoncfg.HTTPClientConfig]():        {files: []string{"BearerTokenFile"}},
	typeOf[commoncfg.Authorization]():           {files: []string{"CredentialsFile"}, server: []string{"CredentialsRef"}},
	typeOf[commoncfg.BasicAuth]():               {files: []string{"UsernameFile", "PasswordFile"}, server: []string{"UsernameRef", "PasswordRef"}},
	typeOf[commoncfg.OAuth2](): {files: []string{"ClientSecretFile", "ClientCertificateKeyFile"},
		server: []string{"ClientSecretRef", "ClientCertificateKeyRef"}, dials: []string{"TokenURL"}},
	typeOf[commoncfg.TLSConfig]():   {files: []string{"CAFile", "CertFile", "KeyFile"}, server: []string{"CARef", "CertRef", "KeyRef"}},
	typeOf[commoncfg.ProxyConfig](): {server: []string{"ProxyURL", "NoProxy", "ProxyFromEnvironment", "ProxyConnectHeader"}},
	typeOf[commoncfg.Headers]():     {},
	typeOf[commoncfg.Header]():      {files: []string{"Files"}},
	typeOf[sigv4.SigV4Config]():     {server: []string{"Profile"}},

	// Reachable only under the refused server sections above.
	typeOf[tracing.TracingConfig]():             {},
	typeOf[eventrecorder.Config]():              {},
	typeOf[eventrecorder.FileOutputConfig]():    {},
	typeOf[eventrecorder.KafkaOutputConfig]():   {},
	typeOf[eventrecorder.StdoutOutputConfig]():  {},
	typeOf[eventrecorder.WebhookOutputConfig](): {},
}

// leaves are values taken as a whole (URLs, regular expressions, time
// zones), never walked into.
var leaves = map[reflect.Type]bool{
	typeOf[amcommon.Regexp]():       true,
	typeOf[amcommon.URL]():          true,
	typeOf[amcommon.SecretURL]():    true,
	typeOf[commoncfg.URL]():         true,
	typeOf[timeinterval.Location](): true,
}

// checkTenantSafe refuses what a tenant's configuration must not do: read
// server files, reach the server's environment, or (with a firewall) name
// a destination the receiver firewall refuses.
func checkTenantSafe(cfg *config.Config, fw *egress.Firewall) error {
	w := walker{fw: fw, seen: map[uintptr]bool{}}
	return w.walk(reflect.ValueOf(cfg).Elem(), "")
}

type walker struct {
	fw   *egress.Firewall
	seen map[uintptr]bool
}

func (w *walker) walk(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return nil
		}
		w.seen[v.Pointer()] = true
		return w.walk(v.Elem(), path)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return w.walk(v.Elem(), path)
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := w.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if err := w.walk(iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key())); err != nil {
				return err
			}
		}
	case reflect.Struct:
		return w.walkStruct(v, path)
	}
	return nil
}

func (w *walker) walkStruct(v reflect.Value, path string) error {
	t := v.Type()
	if leaves[t] {
		return nil
	}
	rv, ok := reviewed[t]
	if !ok {
		if v.IsZero() {
			return nil
		}
		return fmt.Errorf("alertmanager_config: %s: %s settings are not supported in a workspace definition", orTop(path), t)
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		p := join(path, yamlName(f))
		switch {
		case slices.Contains(rv.files, f.Name) && !fv.IsZero():
			return fmt.Errorf("alertmanager_config: %s: settings that read files on the server are not allowed in a workspace definition; put the value itself in the definition", p)
		case slices.Contains(rv.server, f.Name) && !fv.IsZero():
			return fmt.Errorf("alertmanager_config: %s: this setting reaches the server's own environment and cannot be set in a workspace definition", p)
		case slices.Contains(rv.dials, f.Name) && w.fw != nil:
			if err := w.checkDestination(fv, p); err != nil {
				return err
			}
		}
		if err := w.walk(fv, p); err != nil {
			return err
		}
	}
	if rv.check != nil {
		return rv.check(v, path)
	}
	return nil
}

// checkDestination refuses, at upload, a destination whose host is a
// literal address the firewall refuses, and SMTP ports outside the
// operator's list; names are checked when connecting.
func (w *walker) checkDestination(v reflect.Value, path string) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	var host, port string
	switch x := v.Interface().(type) {
	case config.HostPort:
		host, port = x.Host, x.Port
		if host == "" && port == "" {
			return nil
		}
		if err := w.fw.CheckSMTP(port); err != nil {
			return fmt.Errorf("alertmanager_config: %s: %w", path, err)
		}
	case amcommon.URL:
		host = hostOf(x.URL)
	case amcommon.SecretURL:
		host = hostOf(x.URL)
	case commoncfg.URL:
		host = hostOf(x.URL)
	case string:
		if x == "" || strings.Contains(x, "{{") {
			return nil
		}
		u, err := url.Parse(x)
		if err != nil {
			return nil // the loader reports malformed URLs
		}
		host = u.Hostname()
	default:
		if v.Kind() != reflect.String {
			return nil
		}
		s := v.String()
		if s == "" || strings.Contains(s, "{{") {
			return nil
		}
		if u, err := url.Parse(s); err == nil {
			host = u.Hostname()
		}
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return nil // a name: checked when connecting
	}
	if err := w.fw.Check(ip); err != nil {
		return fmt.Errorf("alertmanager_config: %s: %w", path, err)
	}
	return nil
}

func hostOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Hostname()
}

// checkRouteLabels refuses templates in route labels: the dispatcher
// renders them for every alert group, outside any notification, where the
// bounds on notification templates (max_template_output_bytes,
// max_template_steps) do not apply.
func checkRouteLabels(v reflect.Value, path string) error {
	r := v.Interface().(config.Route)
	names := make([]string, 0, len(r.Labels))
	for n := range r.Labels {
		names = append(names, string(n))
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.Contains(string(r.Labels[model.LabelName(n)]), "{{") {
			return fmt.Errorf("alertmanager_config: %s.labels[%s]: route label values cannot be templates in a workspace definition; use a notification template instead", orTop(path), n)
		}
	}
	return nil
}

// checkSNS refuses role assumption with the server's credentials: a
// tenant may assume a role only with its own access key, or the server
// would lend its identity (and another tenant's External ID) to it.
func checkSNS(v reflect.Value, path string) error {
	c := v.Interface().(config.SNSConfig)
	if c.Sigv4.RoleARN != "" && c.Sigv4.AccessKey == "" {
		return fmt.Errorf("alertmanager_config: %s.sigv4.role_arn: a role is assumed only with the receiver's own credentials (sigv4.access_key and secret_key), never the server's", path)
	}
	// The server's own AWS credentials only ever sign requests to the
	// server's SNS endpoint.
	if c.APIUrl != "" && c.Sigv4.AccessKey == "" {
		return fmt.Errorf("alertmanager_config: %s: api_url needs the receiver's own credentials (sigv4.access_key and secret_key)", path)
	}
	return nil
}

func yamlName(f reflect.StructField) string {
	name := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if name == "" || name == "-" {
		return "" // inlined
	}
	return name
}

func join(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "":
		return name
	}
	return path + "." + name
}

func orTop(path string) string {
	if path == "" {
		return "the configuration"
	}
	return path
}
