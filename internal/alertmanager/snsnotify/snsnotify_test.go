package snsnotify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/sim/awssim"
)

// ---- Sanitize ----

func TestSanitize(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name      string
		in        Message
		want      Message
		wantWarns []string
	}{
		{
			name: "clean message is untouched",
			in:   Message{Subject: "[FIRING:1] Up", Body: "all fine", Attributes: map[string]string{"severity": "page"}},
			want: Message{Subject: "[FIRING:1] Up", Body: "all fine", Attributes: map[string]string{"severity": "page"}},
		},
		{
			name: "no subject stays without one",
			in:   Message{Body: "b"},
			want: Message{Body: "b", Attributes: map[string]string{}},
		},
		{
			name: "invalid UTF-8",
			in:   Message{Body: "bad \xff\xfe byte"},
			want: Message{Body: "Error - not a valid UTF-8 encoded string.", Attributes: map[string]string{
				"truncated": "true",
				"modified":  "Message: Error - not a valid UTF-8 encoded string.",
			}},
		},
		{
			name: "empty message",
			in:   Message{Subject: "s", Body: ""},
			want: Message{Subject: "s", Body: "Error - Message should not be empty.", Attributes: map[string]string{
				"modified": "Message: Error - Message should not be empty.",
			}},
			wantWarns: []string{"Message has been modified because the content was empty."},
		},
		{
			name: "subject with non-ASCII character",
			in:   Message{Subject: "Alert ✓ fired", Body: "b"},
			want: Message{Subject: "Error - contains non printable ASCII characters.", Body: "b", Attributes: map[string]string{
				"modified": "Subject: Error - contains non-printable ASCII characters.",
			}},
			wantWarns: []string{"Subject has been modified because it contains control or non-ASCII characters."},
		},
		{
			name: "subject with control character",
			in:   Message{Subject: "line\nbreak", Body: "b"},
			want: Message{Subject: "Error - contains non printable ASCII characters.", Body: "b", Attributes: map[string]string{
				"modified": "Subject: Error - contains non-printable ASCII characters.",
			}},
			wantWarns: []string{"Subject has been modified because it contains control or non-ASCII characters."},
		},
		{
			name: "subject with DEL",
			in:   Message{Subject: "del\x7f", Body: "b"},
			want: Message{Subject: "Error - contains non printable ASCII characters.", Body: "b", Attributes: map[string]string{
				"modified": "Subject: Error - contains non-printable ASCII characters.",
			}},
			wantWarns: []string{"Subject has been modified because it contains control or non-ASCII characters."},
		},
		{
			name: "subject of 100 characters is kept",
			in:   Message{Subject: long(100), Body: "b"},
			want: Message{Subject: long(100), Body: "b", Attributes: map[string]string{}},
		},
		{
			name: "subject over 100 characters",
			in:   Message{Subject: " ~" + long(148), Body: "b"},
			want: Message{Subject: " ~" + long(98), Body: "b", Attributes: map[string]string{
				"modified": "Subject: Error - Subject has been truncated from 150 characters, because it exceeds the 100 character size limit.",
			}},
		},
		{
			name: "invalid attributes",
			in: Message{Body: "b", Attributes: map[string]string{
				"ok":                  "1",
				"a.b-c_D9":            "2",
				long(256):             "3",
				long(257):             "x",
				"":                    "x",
				"AWS.SNS.SMS.Type":    "x",
				"aws.lower":           "x",
				"Amazon.x":            "x",
				"AMAZON.upper":        "x",
				".lead":               "x",
				"trail.":              "x",
				"dou..ble":            "x",
				"sp ace":              "x",
				"ünï":                 "x",
				"slash/":              "x",
				"emptyvalue":          "",
				"badvalue":            "\xc3\x28",
				"AWSnotprefix":        "4",
				"amazonish.but.fine.": "x",
			}},
			want: Message{Body: "b", Attributes: map[string]string{
				"ok": "1", "a.b-c_D9": "2", long(256): "3", "AWSnotprefix": "4",
				"modified": "MessageAttribute: Error - 15 of the message attributes have been removed because of invalid MessageAttributeKey or MessageAttributeValue.",
			}},
			wantWarns: []string{"MessageAttributes has been removed because of invalid key/value, numberOfRemovedAttributes=15"},
		},
		{
			name: "attributes over 256 KiB are removed in descending key order",
			in: Message{Body: "b", Attributes: map[string]string{
				"a": long(100000), "b": long(100000), "c": long(100000), "d": "small",
			}},
			// d and c go (descending order) before the rest fits.
			want: Message{Body: "b", Attributes: map[string]string{
				"a": long(100000), "b": long(100000),
				"modified": "MessageAttribute: Error - 2 of the message attributes have been removed, because it exceeds the 256KB size limit.",
			}},
		},
		{
			name: "user truncated and modified attributes are kept when nothing changes",
			in:   Message{Body: "b", Attributes: map[string]string{"truncated": "no", "modified": "never"}},
			want: Message{Body: "b", Attributes: map[string]string{"truncated": "no", "modified": "never"}},
		},
		{
			name: "user truncated and modified attributes are overwritten",
			in:   Message{Body: "\xff", Attributes: map[string]string{"truncated": "no", "modified": "never"}},
			want: Message{Body: "Error - not a valid UTF-8 encoded string.", Attributes: map[string]string{
				"truncated": "true",
				"modified":  "Message: Error - not a valid UTF-8 encoded string.",
			}},
		},
		{
			name: "only modified is overwritten when nothing is truncated",
			in:   Message{Subject: "é", Body: "b", Attributes: map[string]string{"truncated": "no", "modified": "never"}},
			want: Message{Subject: "Error - contains non printable ASCII characters.", Body: "b", Attributes: map[string]string{
				"truncated": "no",
				"modified":  "Subject: Error - contains non-printable ASCII characters.",
			}},
			wantWarns: []string{"Subject has been modified because it contains control or non-ASCII characters."},
		},
		{
			name: "several modifications join in rule order",
			in: Message{Subject: "Ünicode " + long(200), Body: "\x80", Attributes: map[string]string{
				"AWS.bad": "x", "good": "1",
			}},
			want: Message{Subject: "Error - contains non printable ASCII characters.", Body: "Error - not a valid UTF-8 encoded string.", Attributes: map[string]string{
				"good":      "1",
				"truncated": "true",
				"modified": "Message: Error - not a valid UTF-8 encoded string.; " +
					"Subject: Error - contains non-printable ASCII characters.; " +
					"MessageAttribute: Error - 1 of the message attributes have been removed because of invalid MessageAttributeKey or MessageAttributeValue.",
			}},
			wantWarns: []string{
				"Subject has been modified because it contains control or non-ASCII characters.",
				"MessageAttributes has been removed because of invalid key/value, numberOfRemovedAttributes=1",
			},
		},
		{
			name: "SMS of 1600 characters is kept",
			in:   Message{Body: strings.Repeat("é", 1600), SMS: true},
			want: Message{Body: strings.Repeat("é", 1600), SMS: true, Attributes: map[string]string{}},
		},
		{
			name: "SMS over 1600 characters",
			in:   Message{Body: strings.Repeat("é", 1601), SMS: true},
			want: Message{Body: strings.Repeat("é", 1600), SMS: true, Attributes: map[string]string{
				"truncated": "true",
				"modified":  "Message: Error - Message has been truncated from 4 KB, because it exceeds the 256 KB size limit.",
			}},
			wantWarns: []string{"Message has been truncated because it exceeds size limit, originSize=4K, truncatedSize=4K"},
		},
		{
			name: "message of exactly 256 KiB without attributes is kept",
			in:   Message{Body: long(MaxMessageBytes)},
			want: Message{Body: long(MaxMessageBytes), Attributes: map[string]string{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inCopy := copyMessage(tc.in)
			got, warns := Sanitize(tc.in)
			if !reflect.DeepEqual(tc.in, inCopy) {
				t.Errorf("Sanitize changed its input")
			}
			if got.Subject != tc.want.Subject {
				t.Errorf("subject = %q, want %q", got.Subject, tc.want.Subject)
			}
			if got.Body != tc.want.Body {
				t.Errorf("body = %q (len %d), want %q (len %d)", clip(got.Body), len(got.Body), clip(tc.want.Body), len(tc.want.Body))
			}
			if got.SMS != tc.want.SMS {
				t.Errorf("SMS = %v", got.SMS)
			}
			if !reflect.DeepEqual(got.Attributes, tc.want.Attributes) {
				t.Errorf("attributes:\n got %v\nwant %v", clipMap(got.Attributes), clipMap(tc.want.Attributes))
			}
			if !reflect.DeepEqual(warns, tc.wantWarns) {
				t.Errorf("warnings:\n got %q\nwant %q", warns, tc.wantWarns)
			}
			checkAcceptable(t, got)
		})
	}
}

func TestSanitizeTruncatesOversizedMessage(t *testing.T) {
	body := strings.Repeat("x", 300000)
	got, warns := Sanitize(Message{Subject: "s", Body: body, Attributes: map[string]string{"severity": "critical"}})
	wantAttrs := map[string]string{
		"severity":  "critical",
		"truncated": "true",
		"modified":  "Message: Error - Message has been truncated from 293 KB, because it exceeds the 256 KB size limit.",
	}
	if !reflect.DeepEqual(got.Attributes, wantAttrs) {
		t.Fatalf("attributes = %v, want %v", got.Attributes, wantAttrs)
	}
	// The body takes what the attributes leave of SNS's 256 KiB.
	wantLen := MaxMessageBytes - attributeBytes(wantAttrs)
	if len(got.Body) != wantLen || got.Body != body[:wantLen] {
		t.Fatalf("body length %d, want the first %d bytes", len(got.Body), wantLen)
	}
	want := []string{"Message has been truncated because it exceeds size limit, originSize=293K, truncatedSize=256K"}
	if !reflect.DeepEqual(warns, want) {
		t.Fatalf("warnings = %q, want %q", warns, want)
	}
	checkAcceptable(t, got)
}

func TestSanitizeTruncatesAtUTF8Boundary(t *testing.T) {
	for _, r := range []string{"é", "€", "😀"} {
		for shift := 0; shift < 4; shift++ {
			t.Run(fmt.Sprintf("%s+%d", r, shift), func(t *testing.T) {
				// shift ASCII bytes move the cut to every position inside a character.
				body := strings.Repeat("a", shift) + strings.Repeat(r, MaxMessageBytes/len(r)+10)
				got, _ := Sanitize(Message{Body: body})
				budget := MaxMessageBytes - attributeBytes(got.Attributes)
				if !utf8.ValidString(got.Body) {
					t.Fatalf("truncated body is not valid UTF-8 (ends % x)", got.Body[len(got.Body)-4:])
				}
				if !strings.HasPrefix(body, got.Body) {
					t.Fatalf("truncated body is not a prefix of the original")
				}
				if len(got.Body) > budget || len(got.Body) <= budget-len(r) {
					t.Fatalf("body length %d, want in (%d, %d]", len(got.Body), budget-len(r), budget)
				}
				if got.Attributes["truncated"] != "true" {
					t.Fatalf("no truncated attribute: %v", got.Attributes)
				}
				checkAcceptable(t, got)
			})
		}
	}
}

func TestSanitizeMessageThatFitsOnlyWithoutAttributes(t *testing.T) {
	body := strings.Repeat("m", MaxMessageBytes-10)
	got, warns := Sanitize(Message{Body: body, Attributes: map[string]string{"key": "value"}})
	wantAttrs := map[string]string{
		"key":       "value",
		"truncated": "true",
		"modified":  "Message: Error - Message has been truncated from 256 KB, because it exceeds the 256 KB size limit.",
	}
	if !reflect.DeepEqual(got.Attributes, wantAttrs) {
		t.Fatalf("attributes = %v", got.Attributes)
	}
	if len(got.Body) != MaxMessageBytes-attributeBytes(wantAttrs) {
		t.Fatalf("body length %d", len(got.Body))
	}
	if len(warns) != 1 || !strings.HasPrefix(warns[0], "Message has been truncated because it exceeds size limit, originSize=256K, truncatedSize=") {
		t.Fatalf("warnings = %q", warns)
	}
	checkAcceptable(t, got)
}

func TestSanitizeAttributeSizeWithTruncation(t *testing.T) {
	// Huge attributes and a huge body: the attributes are cut first, the
	// body then gets what is left.
	in := Message{Body: strings.Repeat("b", 400000), Attributes: map[string]string{
		"z": strings.Repeat("z", 200000), "y": strings.Repeat("y", 200000), "x": "keep",
	}}
	got, _ := Sanitize(in)
	want := "Message: Error - Message has been truncated from 391 KB, because it exceeds the 256 KB size limit.; " +
		"MessageAttribute: Error - 1 of the message attributes have been removed, because it exceeds the 256KB size limit."
	if got.Attributes["modified"] != want {
		t.Fatalf("modified = %q, want %q", got.Attributes["modified"], want)
	}
	if _, ok := got.Attributes["z"]; ok {
		t.Fatalf("attribute z (first in descending order) was kept")
	}
	if got.Attributes["y"] == "" || got.Attributes["x"] != "keep" {
		t.Fatalf("attributes y and x should stay: %v", clipMap(got.Attributes))
	}
	checkAcceptable(t, got)
}

// TestSanitizeAlwaysAcceptable feeds random messages and checks that SNS
// would take every result.
func TestSanitizeAlwaysAcceptable(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"a", "é", "€", "😀", "\xff", "\n", " ", ".", "AWS.", "truncated", "modified"}
	gen := func(max int) string {
		n := rng.Intn(max + 1)
		var b strings.Builder
		for b.Len() < n {
			if rng.Intn(4) == 0 {
				b.WriteString(strings.Repeat("q", rng.Intn(n-b.Len()+1)))
				continue
			}
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		return b.String()
	}
	sizes := []int{0, 10, 200, 300000}
	for i := 0; i < 300; i++ {
		in := Message{
			Subject:    gen(sizes[rng.Intn(3)]),
			Body:       gen(sizes[rng.Intn(len(sizes))]),
			Attributes: map[string]string{},
			SMS:        rng.Intn(4) == 0,
		}
		for j := rng.Intn(5); j > 0; j-- {
			in.Attributes[gen(12)] = gen(sizes[rng.Intn(len(sizes))])
		}
		got, _ := Sanitize(in)
		checkAcceptable(t, got)
		if t.Failed() {
			t.Fatalf("input %d: subject %q, body %q, %d attributes", i, clip(in.Subject), clip(in.Body), len(in.Attributes))
		}
	}
}

// checkAcceptable asserts what SNS requires of a Publish.
func checkAcceptable(t *testing.T, m Message) {
	t.Helper()
	if m.Body == "" || !utf8.ValidString(m.Body) {
		t.Errorf("body empty or not UTF-8")
	}
	if len(m.Body)+attributeBytes(m.Attributes) > MaxMessageBytes {
		t.Errorf("body (%d) + attributes (%d) exceed %d bytes", len(m.Body), attributeBytes(m.Attributes), MaxMessageBytes)
	}
	if m.SMS && utf8.RuneCountInString(m.Body) > MaxSMSRunes {
		t.Errorf("SMS of %d characters", utf8.RuneCountInString(m.Body))
	}
	if len(m.Subject) > MaxSubjectLength || !printableASCII(m.Subject) {
		t.Errorf("subject %q not acceptable", clip(m.Subject))
	}
	for k, v := range m.Attributes {
		if !ValidAttributeName(k) || v == "" || !utf8.ValidString(v) {
			t.Errorf("attribute %q=%q not acceptable", clip(k), clip(v))
		}
	}
}

func copyMessage(m Message) Message {
	c := m
	if m.Attributes != nil {
		c.Attributes = make(map[string]string, len(m.Attributes))
		for k, v := range m.Attributes {
			c.Attributes[k] = v
		}
	}
	return c
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

func clipMap(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[clip(k)] = clip(v)
	}
	return out
}

// ---- Notifier, end to end against awssim ----

const (
	keyID    = "AKIASNSNOTIFYTEST001"
	secret   = "c25zbm90aWZ5LXRlc3Qtc2VjcmV0LWtleS0wMDE="
	region   = "eu-west-1"
	topic    = "arn:aws:sns:eu-west-1:123456789012:alerts"
	groupKey = `{}:{alertname="HighLatency"}`
)

type env struct {
	sim   *awssim.Server
	url   string
	mu    sync.Mutex
	warns []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sim := awssim.New(awssim.Options{Region: region, Credentials: map[string]string{keyID: secret}})
	sim.AddTopic(topic)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return &env{sim: sim, url: ts.URL}
}

func (e *env) warn(msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.warns = append(e.warns, msg)
}

func (e *env) warnings() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.warns...)
}

// loadSNSConfig parses a full Alertmanager configuration whose only
// receiver has the given sns_configs entry (indented YAML), so that
// Alertmanager's defaults apply.
func loadSNSConfig(t *testing.T, entry string) *config.SNSConfig {
	t.Helper()
	yml := "route:\n  receiver: sns\nreceivers:\n- name: sns\n  sns_configs:\n  - " +
		strings.ReplaceAll(strings.TrimSpace(entry), "\n", "\n    ") + "\n"
	cfg, err := config.Load(yml)
	if err != nil {
		t.Fatalf("config.Load: %v\n%s", err, yml)
	}
	return cfg.Receivers[0].SNSConfigs[0]
}

func newTemplate(t *testing.T) *template.Template {
	t.Helper()
	tmpl, err := template.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL, _ = url.Parse("http://kansoku.example/alertmanager")
	return tmpl
}

func (e *env) notifier(t *testing.T, conf *config.SNSConfig, o Options) *Notifier {
	t.Helper()
	if o.Endpoint == "" {
		o.Endpoint = e.url
	}
	o.Warn = e.warn
	n, err := New(conf, newTemplate(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// notifyContext carries what the dispatcher puts in a notification's context.
func notifyContext() context.Context {
	ctx := context.Background()
	ctx = notify.WithGroupKey(ctx, groupKey)
	ctx = notify.WithReceiverName(ctx, "sns")
	ctx = notify.WithGroupLabels(ctx, model.LabelSet{"alertname": "HighLatency"})
	ctx = notify.WithNotificationReason(ctx, notify.ReasonFirstNotification)
	return ctx
}

func firingAlert(annotations model.LabelSet) *alert.Alert {
	return &alert.Alert{Alert: model.Alert{
		Labels:       model.LabelSet{"alertname": "HighLatency", "severity": "critical", "service": "api"},
		Annotations:  annotations,
		StartsAt:     time.Now().Add(-5 * time.Minute),
		GeneratorURL: "http://kansoku.example/graph",
	}}
}

const staticSigv4 = `
sigv4:
  region: eu-west-1
  access_key: ` + keyID + `
  secret_key: ` + secret

func TestNotifyPublishes(t *testing.T) {
	e := newEnv(t)
	conf := loadSNSConfig(t, `topic_arn: `+topic+staticSigv4+`
attributes:
  severity: '{{ .CommonLabels.severity }}'
  team: ops`)
	n := e.notifier(t, conf, Options{})

	retry, err := n.Notify(notifyContext(), firingAlert(model.LabelSet{"summary": "p99 latency above 2s"}))
	if err != nil || retry {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	got := e.sim.Published(topic)
	if len(got) != 1 {
		t.Fatalf("published %d messages, want 1", len(got))
	}
	m := got[0]
	if m.TopicARN != topic || m.AccessKeyID != keyID {
		t.Errorf("topic %q, key %q", m.TopicARN, m.AccessKeyID)
	}
	// The default subject and message templates applied.
	if m.Subject != "[FIRING:1] HighLatency (api critical)" {
		t.Errorf("subject = %q", m.Subject)
	}
	for _, want := range []string{"p99 latency above 2s", "Alerts Firing:", " - severity = critical", " - summary = p99 latency above 2s", "Source: http://kansoku.example/graph"} {
		if !strings.Contains(m.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Message)
		}
	}
	wantAttrs := map[string]awssim.MessageAttribute{
		"severity": {DataType: "String", StringValue: "critical"},
		"team":     {DataType: "String", StringValue: "ops"},
	}
	if !reflect.DeepEqual(m.Attributes, wantAttrs) {
		t.Errorf("attributes = %+v, want %+v", m.Attributes, wantAttrs)
	}
	if m.MessageGroupID != "" || m.MessageDeduplicationID != "" {
		t.Errorf("standard topic got FIFO ids")
	}
	if w := e.warnings(); len(w) != 0 {
		t.Errorf("warnings for a clean message: %q", w)
	}

	// The client is built once and reused.
	if _, err := n.Notify(notifyContext(), firingAlert(nil)); err != nil {
		t.Fatal(err)
	}
	if n.clientsBuilt != 1 {
		t.Errorf("%d SNS clients built for an unchanged endpoint, want 1", n.clientsBuilt)
	}
}

func TestNotifyOversizedMessageAndNonASCIISubject(t *testing.T) {
	e := newEnv(t)
	conf := loadSNSConfig(t, `topic_arn: `+topic+staticSigv4+`
subject: 'Alert ✓ {{ .GroupLabels.alertname }}'
message: '{{ .CommonAnnotations.details }}'
attributes:
  modified: 'from the user'
  severity: '{{ .CommonLabels.severity }}'`)
	n := e.notifier(t, conf, Options{})

	details := strings.Repeat("données ", 40000) // 360000 bytes
	retry, err := n.Notify(notifyContext(), firingAlert(model.LabelSet{"details": model.LabelValue(details)}))
	if err != nil || retry {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	got := e.sim.Published(topic)
	if len(got) != 1 {
		t.Fatalf("published %d messages, want 1", len(got))
	}
	m := got[0]
	if m.Subject != "Error - contains non printable ASCII characters." {
		t.Errorf("subject = %q", m.Subject)
	}
	wantModified := "Message: Error - Message has been truncated from 352 KB, because it exceeds the 256 KB size limit.; " +
		"Subject: Error - contains non-printable ASCII characters."
	wantAttrs := map[string]awssim.MessageAttribute{
		"severity":  {DataType: "String", StringValue: "critical"},
		"truncated": {DataType: "String", StringValue: "true"},
		"modified":  {DataType: "String", StringValue: wantModified},
	}
	if !reflect.DeepEqual(m.Attributes, wantAttrs) {
		t.Errorf("attributes = %+v, want %+v", m.Attributes, wantAttrs)
	}
	size := len(m.Message)
	for k, a := range m.Attributes {
		size += len(k) + len(a.DataType) + len(a.StringValue)
	}
	if !strings.HasPrefix(details, m.Message) || size != MaxMessageBytes && size < MaxMessageBytes-3 {
		t.Errorf("message is not the largest prefix that fits: %d bytes of message, %d in all", len(m.Message), size)
	}
	wantWarns := []string{
		"Message has been truncated because it exceeds size limit, originSize=352K, truncatedSize=256K",
		"Subject has been modified because it contains control or non-ASCII characters.",
	}
	if w := e.warnings(); !reflect.DeepEqual(w, wantWarns) {
		t.Errorf("warnings = %q, want %q", w, wantWarns)
	}
}

func TestNotifyEmptyMessageAndInvalidAttribute(t *testing.T) {
	e := newEnv(t)
	conf := loadSNSConfig(t, `topic_arn: `+topic+staticSigv4+`
message: '{{ .CommonAnnotations.missing }}'
attributes:
  AWS.SNS.SMS.SenderID: kansoku
  ok: 'yes'`)
	n := e.notifier(t, conf, Options{})
	if _, err := n.Notify(notifyContext(), firingAlert(nil)); err != nil {
		t.Fatal(err)
	}
	m := e.sim.Published(topic)[0]
	if m.Message != "Error - Message should not be empty." {
		t.Errorf("message = %q", m.Message)
	}
	want := "Message: Error - Message should not be empty.; MessageAttribute: Error - 1 of the message attributes have been removed because of invalid MessageAttributeKey or MessageAttributeValue."
	if m.Attributes["modified"].StringValue != want || m.Attributes["ok"].StringValue != "yes" || len(m.Attributes) != 2 {
		t.Errorf("attributes = %+v", m.Attributes)
	}
	wantWarns := []string{
		"Message has been modified because the content was empty.",
		"MessageAttributes has been removed because of invalid key/value, numberOfRemovedAttributes=1",
	}
	if w := e.warnings(); !reflect.DeepEqual(w, wantWarns) {
		t.Errorf("warnings = %q, want %q", w, wantWarns)
	}
}

func wantReason(t *testing.T, err error, reason notify.Reason) {
	t.Helper()
	var ewr *notify.ErrorWithReason
	if !errors.As(err, &ewr) {
		t.Fatalf("error %v (%T) has no reason, want %s", err, err, reason)
	}
	if ewr.Reason != reason {
		t.Fatalf("reason %s, want %s (error %v)", ewr.Reason, reason, err)
	}
}

func TestNotifyErrors(t *testing.T) {
	e := newEnv(t)
	ctx := notifyContext()
	alert := firingAlert(nil)

	t.Run("wrong secret is not retried", func(t *testing.T) {
		conf := loadSNSConfig(t, `topic_arn: `+topic+`
sigv4:
  region: eu-west-1
  access_key: `+keyID+`
  secret_key: not-the-secret`)
		retry, err := e.notifier(t, conf, Options{}).Notify(ctx, alert)
		if err == nil || retry {
			t.Fatalf("Notify = %v, %v; want a non-retryable error", retry, err)
		}
		wantReason(t, err, notify.AuthErrorReason)
		if !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
			t.Errorf("error does not say what failed: %v", err)
		}
		if strings.Contains(err.Error(), "not-the-secret") {
			t.Errorf("error reveals the secret: %v", err)
		}
	})
	t.Run("server error is retried", func(t *testing.T) {
		n := e.notifier(t, loadSNSConfig(t, `topic_arn: `+topic+staticSigv4), Options{})
		e.sim.FailNext(1, http.StatusInternalServerError, "InternalError")
		retry, err := n.Notify(ctx, alert)
		if err == nil || !retry {
			t.Fatalf("Notify = %v, %v; want a retryable error", retry, err)
		}
		wantReason(t, err, notify.ServerErrorReason)
		before := len(e.sim.Published(topic))
		if retry, err := n.Notify(ctx, alert); err != nil || retry {
			t.Fatalf("retry: Notify = %v, %v", retry, err)
		}
		if len(e.sim.Published(topic)) != before+1 {
			t.Fatalf("the retry was not published")
		}
	})
	t.Run("throttling is retried", func(t *testing.T) {
		n := e.notifier(t, loadSNSConfig(t, `topic_arn: `+topic+staticSigv4), Options{})
		e.sim.FailNext(1, http.StatusTooManyRequests, "Throttled")
		retry, err := n.Notify(ctx, alert)
		if err == nil || !retry {
			t.Fatalf("Notify = %v, %v; want a retryable error", retry, err)
		}
		wantReason(t, err, notify.RateLimitedReason)
		e.sim.FailNext(1, http.StatusBadRequest, "Throttling")
		if retry, err := n.Notify(ctx, alert); err == nil || !retry {
			t.Fatalf("400 Throttling: Notify = %v, %v; want a retryable error", retry, err)
		}
	})
	t.Run("unknown topic is not retried", func(t *testing.T) {
		conf := loadSNSConfig(t, `topic_arn: arn:aws:sns:eu-west-1:123456789012:missing`+staticSigv4)
		retry, err := e.notifier(t, conf, Options{}).Notify(ctx, alert)
		if err == nil || retry {
			t.Fatalf("Notify = %v, %v; want a non-retryable error", retry, err)
		}
		wantReason(t, err, notify.ClientErrorReason)
		if !strings.Contains(err.Error(), "NotFound") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("template error is not retried", func(t *testing.T) {
		before := len(e.sim.Published(topic))
		conf := loadSNSConfig(t, `topic_arn: `+topic+staticSigv4+`
subject: '{{ template "no.such.template" . }}'`)
		retry, err := e.notifier(t, conf, Options{}).Notify(ctx, alert)
		if err == nil || retry {
			t.Fatalf("Notify = %v, %v; want a non-retryable error", retry, err)
		}
		wantReason(t, err, notify.ClientErrorReason)
		if !strings.Contains(err.Error(), "execute 'subject' template") {
			t.Errorf("error = %v", err)
		}
		if len(e.sim.Published(topic)) != before {
			t.Errorf("a message was published despite the template error")
		}
	})
	t.Run("unreachable endpoint is retried", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		n := e.notifier(t, loadSNSConfig(t, `topic_arn: `+topic+staticSigv4), Options{Endpoint: dead.URL})
		retry, err := n.Notify(ctx, alert)
		if err == nil || !retry {
			t.Fatalf("Notify = %v, %v; want a retryable error", retry, err)
		}
	})
	t.Run("bad api_url is not retried", func(t *testing.T) {
		conf := loadSNSConfig(t, `api_url: 'ftp://{{ .Receiver }}'
topic_arn: `+topic+staticSigv4)
		retry, err := e.notifier(t, conf, Options{}).Notify(ctx, alert)
		if err == nil || retry {
			t.Fatalf("Notify = %v, %v; want a non-retryable error", retry, err)
		}
		wantReason(t, err, notify.ClientErrorReason)
	})
}

func TestNotifyFIFO(t *testing.T) {
	e := newEnv(t)
	const fifo = "arn:aws:sns:eu-west-1:123456789012:alerts.fifo"
	e.sim.AddTopic(fifo)
	n := e.notifier(t, loadSNSConfig(t, `topic_arn: `+fifo+staticSigv4), Options{})
	if retry, err := n.Notify(notifyContext(), firingAlert(nil)); err != nil {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	got := e.sim.Published(fifo)
	want := notify.Key(groupKey).Hash()
	if len(got) != 1 || got[0].MessageGroupID != want || got[0].MessageDeduplicationID != want {
		t.Fatalf("published %+v, want group and dedup id %s", got, want)
	}

	// Without a group key in the context there is nothing to use.
	ctx := notify.WithReceiverName(context.Background(), "sns")
	ctx = notify.WithGroupLabels(ctx, model.LabelSet{})
	retry, err := n.Notify(ctx, firingAlert(nil))
	if err == nil || retry {
		t.Fatalf("Notify without group key = %v, %v", retry, err)
	}
}

func TestNotifyTemplatedAPIURLAndSMS(t *testing.T) {
	e := newEnv(t)
	// api_url wins over Options.Endpoint (which points nowhere here).
	conf := loadSNSConfig(t, `api_url: '`+e.url+`/{{ .Receiver }}'
phone_number: '+15555550100'`+staticSigv4+`
message: '{{ .CommonAnnotations.text }}'`)
	n := e.notifier(t, conf, Options{Endpoint: "http://127.0.0.1:1"})
	text := strings.Repeat("ü", 2000)
	if retry, err := n.Notify(notifyContext(), firingAlert(model.LabelSet{"text": model.LabelValue(text)})); err != nil {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	got := e.sim.Published("+15555550100")
	if len(got) != 1 {
		t.Fatalf("published %d SMS, want 1", len(got))
	}
	if got[0].Message != strings.Repeat("ü", 1600) || got[0].Subject == "" {
		t.Errorf("SMS = %d characters, subject %q", utf8.RuneCountInString(got[0].Message), got[0].Subject)
	}
	if got[0].Attributes["modified"].StringValue != "Message: Error - Message has been truncated from 4 KB, because it exceeds the 256 KB size limit." {
		t.Errorf("attributes = %+v", got[0].Attributes)
	}
}

func TestNotifyServerCredentials(t *testing.T) {
	e := newEnv(t)
	conf := loadSNSConfig(t, `topic_arn: `+topic+`
sigv4:
  region: eu-west-1`)
	n := e.notifier(t, conf, Options{Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, "")})
	if retry, err := n.Notify(notifyContext(), firingAlert(nil)); err != nil {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	if got := e.sim.Published(topic); len(got) != 1 || got[0].AccessKeyID != keyID {
		t.Fatalf("published %+v", got)
	}
}

// fakeSTS answers AssumeRole with fixed temporary credentials.
type fakeSTS struct {
	mu    sync.Mutex
	calls []url.Values
	auth  []string
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.calls = append(f.calls, r.PostForm)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAASSUMEDROLEKEY01</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>
<SessionToken>session-token</SessionToken><Expiration>%s</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/sns/kansoku</Arn><AssumedRoleId>AROAEXAMPLE:kansoku</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
}

func TestNotifyAssumeRole(t *testing.T) {
	e := newEnv(t)
	e.sim.AddCredentials("ASIAASSUMEDROLEKEY01", "assumed-secret")
	sts := &fakeSTS{}
	stsServer := httptest.NewServer(sts)
	t.Cleanup(stsServer.Close)

	conf := loadSNSConfig(t, `topic_arn: `+topic+staticSigv4+`
  role_arn: arn:aws:iam::123456789012:role/sns
  external_id: ext-42`)
	n := e.notifier(t, conf, Options{STSEndpoint: stsServer.URL})
	for i := 0; i < 2; i++ {
		if retry, err := n.Notify(notifyContext(), firingAlert(nil)); err != nil {
			t.Fatalf("Notify = %v, %v", retry, err)
		}
	}
	got := e.sim.Published(topic)
	if len(got) != 2 || got[0].AccessKeyID != "ASIAASSUMEDROLEKEY01" {
		t.Fatalf("published %+v, want two messages signed with the assumed role's key", got)
	}
	sts.mu.Lock()
	defer sts.mu.Unlock()
	if len(sts.calls) != 1 {
		t.Fatalf("%d AssumeRole calls, want 1 (credentials are cached)", len(sts.calls))
	}
	c := sts.calls[0]
	if c.Get("Action") != "AssumeRole" || c.Get("RoleArn") != "arn:aws:iam::123456789012:role/sns" || c.Get("ExternalId") != "ext-42" {
		t.Errorf("AssumeRole call = %v", c)
	}
	if !strings.Contains(sts.auth[0], "Credential="+keyID+"/") {
		t.Errorf("AssumeRole not signed with the source key: %s", sts.auth[0])
	}
}

func TestNewRejects(t *testing.T) {
	tmpl := newTemplate(t)
	for name, entry := range map[string]string{
		"profile":   "topic_arn: " + topic + "\nsigv4:\n  region: eu-west-1\n  profile: default",
		"no region": "topic_arn: " + topic + "\nsigv4:\n  access_key: " + keyID + "\n  secret_key: " + secret,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(loadSNSConfig(t, entry), tmpl, Options{}); err == nil {
				t.Fatalf("New accepted %s", name)
			}
		})
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	conf := loadSNSConfig(t, `topic_arn: `+topic+staticSigv4+`
subject: 'é'`)
	n := e.notifier(t, conf, Options{Logger: logger})
	if _, err := n.Notify(notifyContext(), firingAlert(nil)); err != nil {
		t.Fatal(err)
	}
	e.sim.FailNext(1, 500, "InternalError")
	_, _ = n.Notify(notifyContext(), firingAlert(nil))
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "SNS message published") {
		t.Fatalf("nothing logged at debug level: %s", buf.String())
	}
	if strings.Contains(buf.String(), secret) {
		t.Fatalf("the secret key was logged: %s", buf.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestConcurrentNotify(t *testing.T) {
	e := newEnv(t)
	n := e.notifier(t, loadSNSConfig(t, `topic_arn: `+topic+staticSigv4), Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := n.Notify(notifyContext(), firingAlert(nil)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(e.sim.Published(topic)); got != 8 {
		t.Fatalf("published %d, want 8", got)
	}
}
