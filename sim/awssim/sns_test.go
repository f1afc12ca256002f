package awssim

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func newSNSClient(url, keyID, secret string) *sns.Client {
	return sns.New(sns.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

func strAttr(v string) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// apiErr asserts that err is an AWS API error with the given HTTP status and code.
func apiErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %d %s, got success", status, code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP status %d, got %v", status, err)
	}
}

func TestPublishWithSDK(t *testing.T) {
	sim, ts := newTestServer(t, Options{})
	sim.AddTopic(testTopic)
	c := newSNSClient(ts.URL, testKeyID, testSecret)
	ctx := context.Background()

	out, err := c.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(testTopic),
		Subject:  aws.String("[FIRING:1] HighLatency"),
		Message:  aws.String("latency is high — päge someone & <now>"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"severity":    strAttr("critical"),
			"team.name":   strAttr("sre & ops"),
			"retry-count": {DataType: aws.String("Number"), StringValue: aws.String("3")},
			"blob":        {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := sim.Published(testTopic)
	if len(got) != 1 {
		t.Fatalf("Published = %d messages, want 1", len(got))
	}
	m := got[0]
	if m.MessageID != aws.ToString(out.MessageId) || m.MessageID == "" {
		t.Errorf("MessageID %q, SDK saw %q", m.MessageID, aws.ToString(out.MessageId))
	}
	if m.Subject != "[FIRING:1] HighLatency" || m.Message != "latency is high — päge someone & <now>" || m.TopicARN != testTopic {
		t.Errorf("published %+v", m)
	}
	want := map[string]MessageAttribute{
		"severity":    {DataType: "String", StringValue: "critical"},
		"team.name":   {DataType: "String", StringValue: "sre & ops"},
		"retry-count": {DataType: "Number", StringValue: "3"},
		"blob":        {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
	}
	if len(m.Attributes) != len(want) {
		t.Fatalf("attributes %+v, want %+v", m.Attributes, want)
	}
	for k, w := range want {
		g := m.Attributes[k]
		if g.DataType != w.DataType || g.StringValue != w.StringValue || string(g.BinaryValue) != string(w.BinaryValue) {
			t.Errorf("attribute %s = %+v, want %+v", k, g, w)
		}
	}
	// Published hands out copies.
	got[0].Attributes["severity"] = MessageAttribute{DataType: "String", StringValue: "changed"}
	if sim.Published(testTopic)[0].Attributes["severity"].StringValue != "critical" {
		t.Errorf("Published shares its maps with the simulator")
	}

	// TargetArn naming a topic reaches it too.
	if _, err := c.Publish(ctx, &sns.PublishInput{TargetArn: aws.String(testTopic), Message: aws.String("via target")}); err != nil {
		t.Fatal(err)
	}
	if got := sim.Published(testTopic); len(got) != 2 || got[1].TargetARN != testTopic || got[1].TopicARN != "" {
		t.Fatalf("Published after TargetArn = %+v", got)
	}
}

func TestPublishErrors(t *testing.T) {
	sim, ts := newTestServer(t, Options{})
	sim.AddTopic(testTopic)
	c := newSNSClient(ts.URL, testKeyID, testSecret)
	ctx := context.Background()
	pub := func(in *sns.PublishInput) error {
		if in.TopicArn == nil && in.TargetArn == nil && in.PhoneNumber == nil {
			in.TopicArn = aws.String(testTopic)
		}
		if in.Message == nil {
			in.Message = aws.String("m")
		}
		_, err := c.Publish(ctx, in)
		return err
	}

	t.Run("unknown topic", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{TopicArn: aws.String("arn:aws:sns:eu-west-1:123456789012:nope")}), 404, "NotFound")
	})
	t.Run("unknown target", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{TargetArn: aws.String("arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/app/x")}), 404, "NotFound")
	})
	t.Run("malformed arn", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{TopicArn: aws.String("alerts")}), 400, "InvalidParameter")
	})
	t.Run("two destinations", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{TopicArn: aws.String(testTopic), PhoneNumber: aws.String("+15555550100")}), 400, "InvalidParameter")
	})
	t.Run("empty message", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{Message: aws.String("")}), 400, "InvalidParameter")
	})
	t.Run("message at the limit", func(t *testing.T) {
		if err := pub(&sns.PublishInput{Message: aws.String(strings.Repeat("a", 262144))}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("message over the limit", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{Message: aws.String(strings.Repeat("a", 262145))}), 400, "InvalidParameter")
	})
	t.Run("message plus attributes over the limit", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{
			Message:           aws.String(strings.Repeat("a", 262144-len("kString")-1)),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"k": strAttr("vv")},
		}), 400, "InvalidParameter")
	})
	t.Run("subject too long", func(t *testing.T) {
		if err := pub(&sns.PublishInput{Subject: aws.String(strings.Repeat("s", 100))}); err != nil {
			t.Fatal(err)
		}
		apiErr(t, pub(&sns.PublishInput{Subject: aws.String(strings.Repeat("s", 101))}), 400, "InvalidParameter")
	})
	t.Run("subject not printable ASCII", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{Subject: aws.String("line\nbreak")}), 400, "InvalidParameter")
		apiErr(t, pub(&sns.PublishInput{Subject: aws.String("café")}), 400, "InvalidParameter")
	})
	t.Run("attribute names", func(t *testing.T) {
		for _, name := range []string{"AWS.SNS.x", "amazon.x", ".lead", "trail.", "dou..ble", "sp ace", strings.Repeat("n", 257)} {
			err := pub(&sns.PublishInput{MessageAttributes: map[string]snstypes.MessageAttributeValue{name: strAttr("v")}})
			apiErr(t, err, 400, "InvalidParameter")
		}
		if err := pub(&sns.PublishInput{MessageAttributes: map[string]snstypes.MessageAttributeValue{strings.Repeat("n", 256): strAttr("v")}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("attribute values", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{MessageAttributes: map[string]snstypes.MessageAttributeValue{"k": strAttr("")}}), 400, "InvalidParameter")
		apiErr(t, pub(&sns.PublishInput{MessageAttributes: map[string]snstypes.MessageAttributeValue{"k": {DataType: aws.String("Blob"), StringValue: aws.String("v")}}}), 400, "InvalidParameter")
	})
	t.Run("SMS length", func(t *testing.T) {
		if err := pub(&sns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String(strings.Repeat("é", 1600))}); err != nil {
			t.Fatal(err)
		}
		apiErr(t, pub(&sns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String(strings.Repeat("é", 1601))}), 400, "InvalidParameter")
		if got := sim.Published("+15555550100"); len(got) != 1 {
			t.Fatalf("Published(phone) = %d messages, want 1", len(got))
		}
	})
	t.Run("bad phone number", func(t *testing.T) {
		apiErr(t, pub(&sns.PublishInput{PhoneNumber: aws.String("call me")}), 400, "InvalidParameter")
	})
}

func TestPublishFIFO(t *testing.T) {
	const fifo = "arn:aws:sns:eu-west-1:123456789012:alerts.fifo"
	sim, ts := newTestServer(t, Options{})
	sim.AddTopic(fifo)
	c := newSNSClient(ts.URL, testKeyID, testSecret)
	ctx := context.Background()

	_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(fifo), Message: aws.String("m")})
	apiErr(t, err, 400, "InvalidParameter")
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(fifo), Message: aws.String("m"), MessageGroupId: aws.String("g")})
	apiErr(t, err, 400, "InvalidParameter")
	out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(fifo), Message: aws.String("m"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SequenceNumber) == "" {
		t.Errorf("FIFO publish returned no SequenceNumber")
	}
	got := sim.Published(fifo)
	if len(got) != 1 || got[0].MessageGroupID != "g" || got[0].MessageDeduplicationID != "d" {
		t.Fatalf("Published = %+v", got)
	}
}

func TestFailNext(t *testing.T) {
	sim, ts := newTestServer(t, Options{})
	sim.AddTopic(testTopic)
	c := newSNSClient(ts.URL, testKeyID, testSecret)
	ctx := context.Background()
	in := &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String("m")}

	sim.FailNext(2, 500, "InternalError")
	sim.FailNextAction("sns", "Subscribe", 5, 400, "Throttling") // another action: no effect on Publish
	for i := 0; i < 2; i++ {
		_, err := c.Publish(ctx, in)
		apiErr(t, err, 500, "InternalError")
		if !strings.Contains(err.Error(), "injected") {
			t.Errorf("error does not say it was injected: %v", err)
		}
	}
	if _, err := c.Publish(ctx, in); err != nil {
		t.Fatalf("third publish: %v", err)
	}
	if got := sim.Published(testTopic); len(got) != 1 {
		t.Fatalf("Published = %d messages, want only the one that was not failed", len(got))
	}
	// Failures are injected after authentication: a bad signature is still reported as such.
	sim.FailNext(1, 429, "Throttled")
	_, err := newSNSClient(ts.URL, testKeyID, "wrong").Publish(ctx, in)
	apiErr(t, err, 403, "SignatureDoesNotMatch")
	_, err = c.Publish(ctx, in)
	apiErr(t, err, 429, "Throttled")
}
