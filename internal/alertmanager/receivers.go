package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/config/receiver"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/notify/email"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"golang.org/x/time/rate"

	"github.com/kansoku/kansoku/internal/alertmanager/snsnotify"
	"github.com/kansoku/kansoku/internal/egress"
)

// buildIntegrations builds a receiver's notifiers: Alertmanager's own for
// every type but SNS, AMP's SNS notifier for sns_configs. Every connection
// they open to a tenant's destination goes through the receiver firewall
// (one connection per notification, capped in size); every notifier sits
// behind the workspace's notification rate limit and the dry run of its
// templates (guard), and what its failures say reaches the workspace log
// without the destination's response body.
func (in *instance) buildIntegrations(rcv config.Receiver, tmpl *template.Template, guard *templateGuard) ([]notify.Integration, error) {
	fw := in.m.o.Firewall
	logger := in.logger.With("subsystem", "notify", "receiver", rcv.Name)
	httpOpts := []commoncfg.HTTPClientOption{commoncfg.WithDialContextFunc(fw.DialContext), commoncfg.WithKeepAlivesDisabled()}
	others := rcv
	others.SNSConfigs, others.EmailConfigs = nil, nil
	integrations, err := receiver.BuildReceiverIntegrations(others, tmpl, logger, httpOpts...)
	if err != nil {
		return nil, err
	}
	for i, c := range rcv.EmailConfigs {
		integrations = append(integrations, notify.NewIntegration(&pinnedEmail{conf: c, tmpl: tmpl, fw: fw, logger: logger.With("integration", "email")}, c, "email", i, rcv.Name))
	}
	for i, c := range rcv.SNSConfigs {
		o := in.m.o.SNS
		o.Logger = logger.With("integration", "sns")
		warnLog := o.Logger
		o.Warn = func(msg string) { warnLog.Warn(msg) }
		o.TenantHTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: fw.DialContext, DisableKeepAlives: true,
			TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 30 * time.Second}}
		n, err := snsnotify.New(c, tmpl, o)
		if err != nil {
			return nil, fmt.Errorf("sns_configs[%d]: %w", i, err)
		}
		integrations = append(integrations, notify.NewIntegration(n, c, "sns", i, rcv.Name))
	}
	limiter := in.notificationLimiter()
	serverLog := in.m.o.Logger.With("workspace", in.ws, "receiver", rcv.Name)
	out := make([]notify.Integration, len(integrations))
	for i := range integrations {
		orig := integrations[i]
		g := &guarded{inner: &orig, limiter: limiter, throttled: in.throttled, serverLog: serverLog.With("integration", orig.Name()),
			guard: guard, fields: guard.fields(integrationConfig(rcv, orig.Name(), orig.Index())), logger: logger}
		out[i] = notify.NewIntegration(g, &orig, orig.Name(), orig.Index(), rcv.Name)
	}
	return out, nil
}

// notificationLimiter is shared by all of a workspace's integrations.
func (in *instance) notificationLimiter() *rate.Limiter {
	lim := in.m.o.Limits.For(in.ws)
	if lim.NotificationRate <= 0 {
		return nil
	}
	burst := lim.NotificationBurstSize
	if burst < 1 {
		burst = 1
	}
	return rate.NewLimiter(rate.Limit(lim.NotificationRate), burst)
}

// guarded wraps one integration: the workspace's notification rate limit
// (a refused notification is retried at the group's next group_interval,
// as nothing reaches the notification log), the dry run of the templates
// of its configuration (a notification whose templates reach a bound is
// not sent, and not retried), and the error it reports, which the
// notification pipeline logs to the workspace log: the full error goes to
// the server's log only.
type guarded struct {
	inner     *notify.Integration
	limiter   *rate.Limiter
	throttled prometheus.Counter
	serverLog *slog.Logger
	guard     *templateGuard
	fields    []string // instrumented sources of the configuration's templates
	logger    *slog.Logger
}

var errThrottled = errors.New("notification rate limit reached for this workspace")

func (g *guarded) Notify(ctx context.Context, alerts ...*alert.Alert) (bool, error) {
	if g.limiter != nil && !g.limiter.Allow() {
		g.throttled.Inc()
		return false, notify.NewErrorWithReason(notify.ClientErrorReason, errThrottled)
	}
	if len(g.fields) > 0 {
		if err := g.guard.dryRun(ctx, g.fields, alerts, g.logger); err != nil {
			g.serverLog.Warn("notification refused by its templates' dry run", "err", err)
			return false, notify.NewErrorWithReason(notify.ClientErrorReason, err)
		}
	}
	retry, err := g.inner.Notify(ctx, alerts...)
	if err == nil {
		return retry, nil
	}
	g.serverLog.Warn("notification failed", "err", err)
	return retry, tenantError(err)
}

var statusCode = regexp.MustCompile(`^(.*?status code:? ?\d{3})`)

// tenantError is what a tenant may read of a failed notification: the
// receiver's HTTP status but not its response body (an internal service
// the operator opened must not answer into a tenant's log), one line of at
// most 300 bytes.
func tenantError(err error) error {
	msg := err.Error()
	if !egress.IsRefused(err) {
		if m := statusCode.FindStringSubmatch(msg); m != nil {
			msg = m[1] + " (response body not shown)"
		}
	}
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	out := errors.New(msg)
	var re *notify.ErrorWithReason
	if errors.As(err, &re) {
		return notify.NewErrorWithReason(re.Reason, out)
	}
	return out
}

// pinnedEmail sends through Alertmanager's email notifier, which dials the
// smarthost itself: the host is resolved here, checked by the firewall,
// and the checked address is what the notifier dials (TLS still verifies
// the host name), so DNS cannot point it elsewhere between check and dial.
type pinnedEmail struct {
	conf   *config.EmailConfig
	tmpl   *template.Template
	fw     *egress.Firewall
	logger *slog.Logger
}

func (p *pinnedEmail) Notify(ctx context.Context, alerts ...*alert.Alert) (bool, error) {
	host, port := p.conf.Smarthost.Host, p.conf.Smarthost.Port
	if err := p.fw.CheckSMTP(port); err != nil {
		return false, notify.NewErrorWithReason(notify.ClientErrorReason, err)
	}
	ip, err := p.fw.Resolve(ctx, host)
	if err != nil {
		return !egress.IsRefused(err), notify.NewErrorWithReason(notify.ClientErrorReason, err)
	}
	conf := *p.conf
	conf.Smarthost = config.HostPort{Host: ip.String(), Port: port}
	tlsConf := conf.TLSConfig
	if tlsConf == nil {
		tlsConf = &commoncfg.TLSConfig{}
	} else {
		cp := *tlsConf
		tlsConf = &cp
	}
	if tlsConf.ServerName == "" && net.ParseIP(host) == nil {
		tlsConf.ServerName = host
	}
	conf.TLSConfig = tlsConf
	if conf.Hello == "" {
		conf.Hello = "localhost"
	}
	return email.New(&conf, p.tmpl, p.logger).Notify(ctx, alerts...)
}
