package snsnotify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
)

// Options are the server-wide settings shared by every SNS receiver.
type Options struct {
	// Endpoint is the SNS API URL used when a receiver sets no api_url
	// (Kansoku flag --alertmanager.sns-endpoint); empty: the SDK's regional
	// endpoint.
	Endpoint string
	// STSEndpoint is used for sigv4.role_arn AssumeRole calls; empty: the
	// SDK's regional STS endpoint.
	STSEndpoint string
	// Credentials are used when the receiver's sigv4 has no
	// access_key/secret_key (also as the source credentials for role_arn).
	// Nil: the SDK's default chain (environment, shared config, IMDS…).
	Credentials aws.CredentialsProvider
	// HTTPClient sends the SNS and STS requests. Nil: a client with a 30s
	// timeout.
	HTTPClient *http.Client
	// TenantHTTPClient sends the requests to a receiver's own api_url (a
	// destination the tenant chose: the receiver firewall's client). Nil:
	// HTTPClient.
	TenantHTTPClient *http.Client
	// Logger receives debug and error logs; nil: discarded.
	Logger *slog.Logger
	// Warn receives AMP's warning messages (see Sanitize), for the
	// workspace's log. May be nil.
	Warn func(msg string)
}

// Notifier publishes Alertmanager notifications to Amazon SNS. It is safe
// for concurrent use.
type Notifier struct {
	conf   *config.SNSConfig
	tmpl   *template.Template
	opts   Options
	logger *slog.Logger
	http   aws.HTTPClient

	mu             sync.Mutex
	creds          aws.CredentialsProvider // built on first use
	publish        publishFunc             // the client's, for clientEndpoint
	clientEndpoint string
	clientsBuilt   int // one more each time the endpoint changes
}

// publishFunc is an SNS client's Publish. The notifier holds the method,
// not the *sns.Client: a struct that becomes an interface value (as a
// Notifier does) would make the linker keep every method of every type
// it holds, as text/template looks methods up by name.
type publishFunc func(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)

// New returns a Notifier for one sns_configs entry.
func New(conf *config.SNSConfig, tmpl *template.Template, o Options) (*Notifier, error) {
	if conf == nil {
		return nil, errors.New("sns: no configuration")
	}
	if tmpl == nil {
		return nil, errors.New("sns: no template")
	}
	sv4 := conf.Sigv4
	if sv4.Region == "" {
		return nil, errors.New("sns: sigv4.region is required")
	}
	if sv4.Profile != "" {
		return nil, errors.New("sns: sigv4.profile is not supported: give access_key/secret_key or role_arn instead")
	}
	if (sv4.AccessKey == "") != (sv4.SecretKey == "") {
		return nil, errors.New("sns: sigv4.access_key and sigv4.secret_key must be given together")
	}
	if sv4.ExternalID != "" && sv4.RoleARN == "" {
		return nil, errors.New("sns: sigv4.external_id requires sigv4.role_arn")
	}
	n := &Notifier{conf: conf, tmpl: tmpl, opts: o, logger: o.Logger}
	if n.logger == nil {
		n.logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient != nil {
		n.http = o.HTTPClient
	} else {
		// The SDK's buildable client honours AWS_CA_BUNDLE.
		n.http = awshttp.NewBuildableClient().WithTimeout(30 * time.Second)
	}
	return n, nil
}

// Notify publishes one notification for alerts. ctx must carry what
// notify.GetTemplateData reads (receiver name, group labels, notification
// reason) and, for FIFO topics, the group key. The bool says whether a
// failure is worth retrying.
func (n *Notifier) Notify(ctx context.Context, alerts ...*alert.Alert) (bool, error) {
	var (
		tmplErr error
		data    = notify.GetTemplateData(ctx, n.tmpl, alerts, n.logger)
		tmpl    = notify.TmplText(n.tmpl, data, &tmplErr)
	)
	render := func(field, text string) (string, error) {
		s := tmpl(text)
		if tmplErr != nil {
			return "", notify.NewErrorWithReason(notify.ClientErrorReason, fmt.Errorf("execute '%s' template: %w", field, tmplErr))
		}
		return s, nil
	}

	endpoint := n.opts.Endpoint
	if n.conf.APIUrl != "" {
		u, err := render("api_url", n.conf.APIUrl)
		if err != nil {
			return false, err
		}
		if err := checkEndpoint(u); err != nil {
			return false, notify.NewErrorWithReason(notify.ClientErrorReason, err)
		}
		endpoint = u
	}

	in := &sns.PublishInput{}
	sms := false
	if n.conf.TopicARN != "" {
		topic, err := render("topic_arn", n.conf.TopicARN)
		if err != nil {
			return false, err
		}
		in.TopicArn = aws.String(topic)
		// A FIFO topic needs a group and a deduplication id; the group key
		// keeps one alert group's notifications in order.
		if strings.HasSuffix(topic, ".fifo") {
			key, err := notify.ExtractGroupKey(ctx)
			if err != nil {
				return false, notify.NewErrorWithReason(notify.ClientErrorReason, err)
			}
			in.MessageGroupId = aws.String(key.Hash())
			in.MessageDeduplicationId = aws.String(key.Hash())
		}
	}
	if n.conf.PhoneNumber != "" {
		phone, err := render("phone_number", n.conf.PhoneNumber)
		if err != nil {
			return false, err
		}
		in.PhoneNumber = aws.String(phone)
		sms = true
	}
	if n.conf.TargetARN != "" {
		target, err := render("target_arn", n.conf.TargetARN)
		if err != nil {
			return false, err
		}
		in.TargetArn = aws.String(target)
	}

	msg := Message{SMS: sms}
	var err error
	if n.conf.Subject != "" {
		if msg.Subject, err = render("subject", n.conf.Subject); err != nil {
			return false, err
		}
	}
	if msg.Body, err = render("message", n.conf.Message); err != nil {
		return false, err
	}
	if len(n.conf.Attributes) > 0 {
		keys := make([]string, 0, len(n.conf.Attributes))
		for k := range n.conf.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		msg.Attributes = make(map[string]string, len(keys))
		for _, k := range keys {
			name, err := render("attributes", k)
			if err != nil {
				return false, err
			}
			value, err := render("attributes", n.conf.Attributes[k])
			if err != nil {
				return false, err
			}
			msg.Attributes[name] = value
		}
	}

	out, warnings := Sanitize(msg)
	for _, w := range warnings {
		n.logger.Debug("SNS message modified", "warning", w)
		if n.opts.Warn != nil {
			n.opts.Warn(w)
		}
	}
	in.Message = aws.String(out.Body)
	if out.Subject != "" {
		in.Subject = aws.String(out.Subject)
	}
	if len(out.Attributes) > 0 {
		in.MessageAttributes = make(map[string]snstypes.MessageAttributeValue, len(out.Attributes))
		for k, v := range out.Attributes {
			in.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}

	publish, err := n.snsClient(ctx, endpoint)
	if err != nil {
		return true, fmt.Errorf("sns: %w", err)
	}
	res, err := publish(ctx, in)
	if err != nil {
		return classify(ctx, err)
	}
	n.logger.Debug("SNS message published", "message_id", aws.ToString(res.MessageId),
		"sequence_number", aws.ToString(res.SequenceNumber))
	return false, nil
}

// checkEndpoint accepts absolute http(s) URLs without credentials in them.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("sns: api_url must be an absolute http or https URL")
	}
	if u.User != nil {
		return errors.New("sns: api_url must not contain user information")
	}
	return nil
}

// throttleCodes are AWS error codes that mean "slow down" whatever the
// HTTP status (Query-protocol services often say it with a 400).
var throttleCodes = func() map[string]bool {
	m := map[string]bool{"Throttled": true, "KMSThrottling": true}
	for c := range retry.DefaultThrottleErrorCodes {
		m[c] = true
	}
	for c := range retry.DefaultRetryableErrorCodes {
		m[c] = true
	}
	return m
}()

// classify turns a Publish error into Alertmanager's (retry, error).
func classify(ctx context.Context, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		reason := notify.ContextCanceledReason
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			reason = notify.ContextDeadlineExceededReason
		}
		return true, notify.NewErrorWithReason(reason, fmt.Errorf("sns: %w", err))
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.HTTPStatusCode() != 0 {
		status := re.HTTPStatusCode()
		code, message := "", ""
		var ae smithy.APIError
		if errors.As(err, &ae) {
			code, message = ae.ErrorCode(), ae.ErrorMessage()
		}
		retryable := status/100 == 5 || status == http.StatusTooManyRequests || throttleCodes[code]
		reason := notify.GetFailureReasonFromStatusCode(status)
		if throttleCodes[code] {
			reason = notify.RateLimitedReason
		}
		e := fmt.Errorf("sns: unexpected status code %d", status)
		if code != "" {
			e = fmt.Errorf("sns: unexpected status code %d: %s: %s", status, code, message)
		}
		return retryable, notify.NewErrorWithReason(reason, e)
	}
	// Network errors, credential errors without an HTTP response…
	return true, fmt.Errorf("sns: %w", notify.RedactURL(err))
}

// snsClient returns the Publish of the SNS client for endpoint ("" for
// the SDK's), reusing the last one built while the endpoint stays the same.
func (n *Notifier) snsClient(ctx context.Context, endpoint string) (publishFunc, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.publish != nil && n.clientEndpoint == endpoint {
		return n.publish, nil
	}
	creds, err := n.credentialsLocked(ctx)
	if err != nil {
		return nil, err
	}
	hc := n.http
	if n.conf.APIUrl != "" && n.opts.TenantHTTPClient != nil {
		hc = n.opts.TenantHTTPClient
	}
	o := sns.Options{
		Region:      n.conf.Sigv4.Region,
		Credentials: creds,
		HTTPClient:  hc,
		// Alertmanager's retry stage retries, with its own backoff.
		Retryer: aws.NopRetryer{},
	}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
	}
	n.publish, n.clientEndpoint = sns.New(o).Publish, endpoint
	n.clientsBuilt++
	return n.publish, nil
}

// credentialsLocked returns the receiver's credentials provider, building
// it on first use. n.mu must be held.
func (n *Notifier) credentialsLocked(ctx context.Context) (aws.CredentialsProvider, error) {
	if n.creds != nil {
		return n.creds, nil
	}
	sv4 := n.conf.Sigv4
	var src aws.CredentialsProvider
	switch {
	case sv4.AccessKey != "":
		src = credentials.NewStaticCredentialsProvider(sv4.AccessKey, string(sv4.SecretKey), "")
	case n.opts.Credentials != nil:
		src = n.opts.Credentials
	default:
		cfg, err := awsconfig.LoadDefaultConfig(ctx,
			awsconfig.WithRegion(sv4.Region),
			awsconfig.WithHTTPClient(n.http))
		if err != nil {
			return nil, fmt.Errorf("load the default AWS credentials: %w", err)
		}
		if cfg.Credentials == nil {
			return nil, errors.New("no AWS credentials: configure sigv4.access_key/secret_key or server credentials")
		}
		src = cfg.Credentials
	}
	if sv4.RoleARN != "" {
		so := sts.Options{
			Region:      sv4.Region,
			Credentials: src,
			HTTPClient:  n.http,
		}
		if n.opts.STSEndpoint != "" {
			so.BaseEndpoint = aws.String(n.opts.STSEndpoint)
		}
		if sv4.UseFIPSSTSEndpoint {
			so.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
		}
		provider := stscreds.NewAssumeRoleProvider(sts.New(so), sv4.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			if sv4.ExternalID != "" {
				o.ExternalID = aws.String(sv4.ExternalID)
			}
			if sv4.SessionName != "" {
				o.RoleSessionName = sv4.SessionName
			}
			keys := make([]string, 0, len(sv4.Tags))
			for k := range sv4.Tags {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				o.Tags = append(o.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(sv4.Tags[k])})
			}
		})
		src = aws.NewCredentialsCache(provider)
	}
	n.creds = src
	return src, nil
}

// Limits applied by Sanitize.
const (
	// MaxMessageBytes is SNS's limit for a message, which also counts the
	// message attributes' names, data types and values.
	MaxMessageBytes = 256 * 1024
	// MaxSMSRunes is the limit for a message to a phone number.
	MaxSMSRunes = 1600
	// MaxSubjectLength is the limit for a subject, in (ASCII) characters.
	MaxSubjectLength = 100
	// MaxAttributeBytes is the limit for the message attributes' names,
	// data types and values together.
	MaxAttributeBytes = 256 * 1024
	// minMessageRoom is the part of a message that attributes never crowd
	// out (less when the message is shorter).
	minMessageRoom = 1024
)

// Attributes Sanitize adds to report its changes.
const (
	AttrTruncated = "truncated"
	AttrModified  = "modified"
)

// AMP's replacement texts and messages.
const (
	notUTF8Text       = "Error - not a valid UTF-8 encoded string."
	emptyText         = "Error - Message should not be empty."
	subjectNotASCII   = "Error - contains non printable ASCII characters."
	modSubjectASCII   = "Subject: Error - contains non-printable ASCII characters."
	modSubjectTrunc   = "Subject: Error - Subject has been truncated from %d characters, because it exceeds the 100 character size limit."
	modMessageTrunc   = "Message: Error - Message has been truncated from %d KB, because it exceeds the 256 KB size limit."
	modAttrsInvalid   = "MessageAttribute: Error - %d of the message attributes have been removed because of invalid MessageAttributeKey or MessageAttributeValue."
	modAttrsSize      = "MessageAttribute: Error - %d of the message attributes have been removed, because it exceeds the 256KB size limit."
	warnEmpty         = "Message has been modified because the content was empty."
	warnTruncated     = "Message has been truncated because it exceeds size limit, originSize=%dK, truncatedSize=%dK"
	warnSubjectASCII  = "Subject has been modified because it contains control or non-ASCII characters."
	warnAttrsInvalid  = "MessageAttributes has been removed because of invalid key/value, numberOfRemovedAttributes=%d"
	attributeDataType = "String"
)

// Message is what a notification publishes: the rendered subject (empty:
// none), message body and string attributes, and whether it goes to a phone
// number (SMS).
type Message struct {
	Subject    string
	Body       string
	Attributes map[string]string
	SMS        bool
}

// Sanitize applies Amazon Managed Service for Prometheus's SNS message
// validation and truncation rules, in this order:
//
//  1. A body that is not valid UTF-8 becomes "Error - not a valid UTF-8
//     encoded string." (attributes truncated=true and modified).
//  2. An empty body becomes "Error - Message should not be empty."
//     (modified, and a warning).
//  3. A body over the limit (256 KiB, 1600 runes for SMS) is truncated at a
//     UTF-8 boundary (truncated=true, modified, a warning). Because SNS
//     counts attribute bytes in the same 256 KiB, the body is also truncated
//     when it does not fit together with the final attributes, and then
//     only to what fits.
//  4. A subject with a byte outside printable ASCII becomes "Error -
//     contains non printable ASCII characters." (modified, a warning).
//  5. A subject over 100 characters is truncated (modified).
//  6. Attributes with an invalid name or an empty or non-UTF-8 value are
//     removed (modified, a warning).
//  7. While the attributes (name + "String" + value bytes, including the
//     truncated/modified ones) exceed 256 KiB (less the part of the body
//     they must leave, at most 1 KiB), attributes are removed in descending
//     name order (modified).
//
// The modified attribute joins the descriptions of all changes with "; " in
// rule order and replaces a user attribute of that name, as truncated does.
// The input is not changed.
func Sanitize(in Message) (Message, []string) {
	var (
		msgMods, subjMods, attrMods []string
		msgWarns, subjWarns         []string
		attrWarns                   []string
		replacedInvalid             bool // rule 1 sets truncated=true
	)

	body := in.Body
	switch {
	case !utf8.ValidString(body):
		body = notUTF8Text
		replacedInvalid = true
		msgMods = append(msgMods, "Message: "+notUTF8Text)
	case body == "":
		body = emptyText
		msgMods = append(msgMods, "Message: "+emptyText)
		msgWarns = append(msgWarns, warnEmpty)
	}

	subject := in.Subject
	if subject != "" && !printableASCII(subject) {
		subject = subjectNotASCII
		subjMods = append(subjMods, modSubjectASCII)
		subjWarns = append(subjWarns, warnSubjectASCII)
	}
	if len(subject) > MaxSubjectLength {
		subjMods = append(subjMods, fmt.Sprintf(modSubjectTrunc, len(subject)))
		subject = subject[:MaxSubjectLength]
	}

	attrs := make(map[string]string, len(in.Attributes))
	invalid := 0
	for k, v := range in.Attributes {
		if !ValidAttributeName(k) || v == "" || !utf8.ValidString(v) {
			invalid++
			continue
		}
		attrs[k] = v
	}
	if invalid > 0 {
		attrMods = append(attrMods, fmt.Sprintf(modAttrsInvalid, invalid))
		attrWarns = append(attrWarns, fmt.Sprintf(warnAttrsInvalid, invalid))
	}

	overLimit := len(body) > MaxMessageBytes || (in.SMS && utf8.RuneCountInString(body) > MaxSMSRunes)
	truncMod := fmt.Sprintf(modMessageTrunc, ceilKB(len(body)))
	removed := 0
	// final builds the attributes to send, given whether the body will be
	// truncated and how many attributes rule 7 removed.
	final := func(truncate bool) map[string]string {
		mods := append([]string(nil), msgMods...)
		if truncate {
			mods = append(mods, truncMod)
		}
		mods = append(mods, subjMods...)
		mods = append(mods, attrMods...)
		if removed > 0 {
			mods = append(mods, fmt.Sprintf(modAttrsSize, removed))
		}
		out := make(map[string]string, len(attrs)+2)
		for k, v := range attrs {
			out[k] = v
		}
		if replacedInvalid || truncate {
			out[AttrTruncated] = "true"
		}
		if len(mods) > 0 {
			out[AttrModified] = strings.Join(mods, "; ")
		}
		return out
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	attrBudget := MaxAttributeBytes - min(len(body), minMessageRoom)

	var (
		truncate bool
		out      map[string]string
	)
	for {
		truncate = overLimit
		out = final(truncate)
		if !truncate && len(body)+attributeBytes(out) > MaxMessageBytes {
			truncate = true
			out = final(truncate)
		}
		if attributeBytes(out) <= attrBudget {
			break
		}
		// Remove the user attribute that comes first in descending order
		// and is not replaced by one of ours (a user's "modified" always
		// is once an attribute has been removed).
		victim := ""
		for _, k := range names {
			if _, ok := attrs[k]; !ok || k == AttrModified || (k == AttrTruncated && (replacedInvalid || truncate)) {
				continue
			}
			victim = k
			break
		}
		if victim == "" {
			break
		}
		delete(attrs, victim)
		removed++
	}

	if truncate {
		origSize := len(body)
		budget := min(MaxMessageBytes, MaxMessageBytes-attributeBytes(out))
		body = truncateBytes(body, budget)
		if in.SMS {
			body = truncateRunes(body, MaxSMSRunes)
		}
		msgWarns = append(msgWarns, fmt.Sprintf(warnTruncated, ceilKB(origSize), ceilKB(len(body))))
	}

	var warnings []string
	warnings = append(warnings, msgWarns...)
	warnings = append(warnings, subjWarns...)
	warnings = append(warnings, attrWarns...)
	return Message{Subject: subject, Body: body, Attributes: out, SMS: in.SMS}, warnings
}

// ValidAttributeName reports whether SNS accepts name as a message
// attribute name: 1 to 256 characters of A-Z a-z 0-9 _ - ., not starting
// with "AWS." or "Amazon." (in any case), not starting or ending with a
// period, and without two periods in a row.
func ValidAttributeName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	lower := strings.ToLower(name)
	return !strings.HasPrefix(lower, "aws.") && !strings.HasPrefix(lower, "amazon.") &&
		name[0] != '.' && name[len(name)-1] != '.' && !strings.Contains(name, "..")
}

// attributeBytes is what attributes count toward SNS's size limit.
func attributeBytes(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(attributeDataType) + len(v)
	}
	return n
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func ceilKB(n int) int { return (n + 1023) / 1024 }

// truncateBytes cuts the valid UTF-8 string s to at most n bytes without
// splitting a character.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
