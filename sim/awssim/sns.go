package awssim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

const (
	snsSigningName = "sns"
	// snsXMLNS is the namespace of SNS's Query-protocol responses.
	snsXMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"
)

// SNS limits, as documented for Publish.
const (
	// snsMaxMessageBytes bounds the message plus all its attributes' names,
	// data types and values.
	snsMaxMessageBytes = 262144
	// snsMaxSMSRunes bounds an SMS message (a Publish to a PhoneNumber).
	snsMaxSMSRunes = 1600
	// snsMaxSubject bounds the subject, which must be printable ASCII.
	snsMaxSubject = 100
	// snsMaxAttributeName bounds a message attribute's name.
	snsMaxAttributeName = 256
	// snsMaxGroupID bounds MessageGroupId and MessageDeduplicationId.
	snsMaxGroupID = 128
)

// PublishedMessage is a message the SNS simulator accepted.
type PublishedMessage struct {
	MessageID string
	// Exactly one of TopicARN, TargetARN and PhoneNumber is set, as in the
	// request.
	TopicARN               string
	TargetARN              string
	PhoneNumber            string
	Subject                string // empty when the request had none
	Message                string
	MessageStructure       string
	Attributes             map[string]MessageAttribute
	MessageGroupID         string
	MessageDeduplicationID string
	// AccessKeyID signed the request.
	AccessKeyID string
	Time        time.Time
}

// MessageAttribute is an SNS message attribute. StringValue is set for the
// String and Number data types (and their custom sub-types), BinaryValue
// for Binary.
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

type snsService struct {
	s *Server

	mu        sync.Mutex
	topics    map[string]bool
	published []PublishedMessage
}

func newSNSService(s *Server) *snsService {
	return &snsService{s: s, topics: map[string]bool{}}
}

// AddTopic creates an SNS topic. A name ending in ".fifo" makes it a FIFO
// topic, whose messages need MessageGroupId and MessageDeduplicationId.
func (s *Server) AddTopic(arn string) {
	s.sns.mu.Lock()
	defer s.sns.mu.Unlock()
	s.sns.topics[arn] = true
}

// Published returns a copy of the messages published to destination: a
// topic ARN (given as TopicArn or TargetArn) or a phone number, oldest
// first.
func (s *Server) Published(destination string) []PublishedMessage {
	s.sns.mu.Lock()
	defer s.sns.mu.Unlock()
	var out []PublishedMessage
	for _, m := range s.sns.published {
		if m.TopicARN != destination && m.TargetARN != destination && m.PhoneNumber != destination {
			continue
		}
		c := m
		c.Attributes = make(map[string]MessageAttribute, len(m.Attributes))
		for k, v := range m.Attributes {
			v.BinaryValue = append([]byte(nil), v.BinaryValue...)
			c.Attributes[k] = v
		}
		out = append(out, c)
	}
	return out
}

// FailNext makes the next n SNS Publish calls fail with the given HTTP
// status and AWS error code (e.g. 500 "InternalError", 429 "Throttled").
func (s *Server) FailNext(n, status int, code string) {
	s.FailNextAction(snsSigningName, "Publish", n, status, code)
}

func (sv *snsService) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	writeQueryError(w, snsXMLNS, e, requestID)
}

func (sv *snsService) serve(w http.ResponseWriter, r *http.Request, req *request) {
	params, aerr := queryParams(r, req.body)
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	action, _, aerr := singleParam(params, "Action")
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	if action == "" {
		sv.writeError(w, errorf(http.StatusBadRequest, "MissingAction", "Request is missing Action parameter"), req.id)
		return
	}
	switch action {
	case "Publish":
		if f := sv.s.takeFailure(snsSigningName, action); f != nil {
			sv.writeError(w, f, req.id)
			return
		}
		sv.publish(w, params, req)
	default:
		sv.writeError(w, errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", action), req.id)
	}
}

type snsPublishResult struct {
	MessageID      string `xml:"MessageId"`
	SequenceNumber string `xml:"SequenceNumber,omitempty"`
}

func invalidParameter(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: "+format, args...)
}

func (sv *snsService) publish(w http.ResponseWriter, params url.Values, req *request) {
	m, aerr := sv.parsePublish(params)
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	m.MessageID = uuid.NewString()
	m.AccessKeyID = req.accessKeyID
	m.Time = req.time

	sv.mu.Lock()
	defer sv.mu.Unlock()
	var result snsPublishResult
	result.MessageID = m.MessageID
	switch dest := m.TopicARN + m.TargetARN; {
	case m.TopicARN != "" && !sv.topics[dest]:
		sv.writeError(w, errorf(http.StatusNotFound, "NotFound", "Topic does not exist"), req.id)
		return
	case m.TargetARN != "" && !sv.topics[dest]:
		sv.writeError(w, errorf(http.StatusNotFound, "NotFound", "Endpoint does not exist"), req.id)
		return
	case dest != "" && strings.HasSuffix(dest, ".fifo"):
		if m.MessageGroupID == "" {
			sv.writeError(w, invalidParameter("The MessageGroupId parameter is required for FIFO topics"), req.id)
			return
		}
		if m.MessageDeduplicationID == "" {
			sv.writeError(w, invalidParameter("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"), req.id)
			return
		}
		// SNS returns a large, increasing number for FIFO topics.
		result.SequenceNumber = fmt.Sprintf("1%019d", len(sv.published)+1)
	case m.PhoneNumber != "" && utf8.RuneCountInString(m.Message) > snsMaxSMSRunes:
		sv.writeError(w, invalidParameter("Message too long for SMS: %d characters, at most %d", utf8.RuneCountInString(m.Message), snsMaxSMSRunes), req.id)
		return
	}
	sv.published = append(sv.published, *m)
	writeQueryResult(w, snsXMLNS, "Publish", result, req.id)
}

// parsePublish reads and validates a Publish request's parameters.
func (sv *snsService) parsePublish(params url.Values) (*PublishedMessage, *apiError) {
	m := &PublishedMessage{}
	fields := []struct {
		name string
		dst  *string
	}{
		{"TopicArn", &m.TopicARN},
		{"TargetArn", &m.TargetARN},
		{"PhoneNumber", &m.PhoneNumber},
		{"Subject", &m.Subject},
		{"MessageStructure", &m.MessageStructure},
		{"MessageGroupId", &m.MessageGroupID},
		{"MessageDeduplicationId", &m.MessageDeduplicationID},
	}
	present := map[string]bool{}
	for _, f := range fields {
		v, ok, aerr := singleParam(params, f.name)
		if aerr != nil {
			return nil, aerr
		}
		*f.dst, present[f.name] = v, ok
	}
	msg, ok, aerr := singleParam(params, "Message")
	if aerr != nil {
		return nil, aerr
	}
	if !ok {
		return nil, invalidParameter("Message Reason: no value for required parameter")
	}
	m.Message = msg

	dests := 0
	for _, d := range []string{m.TopicARN, m.TargetARN, m.PhoneNumber} {
		if d != "" {
			dests++
		}
	}
	switch {
	case dests == 0:
		return nil, invalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
	case dests > 1:
		return nil, invalidParameter("Exactly one of TopicArn, TargetArn and PhoneNumber must be given")
	}
	for _, arn := range []struct{ name, v string }{{"TopicArn", m.TopicARN}, {"TargetArn", m.TargetARN}} {
		if arn.v != "" && !validSNSARN(arn.v) {
			return nil, invalidParameter("%s Reason: An ARN must have the form arn:<partition>:sns:<region>:<account>:<name>", arn.name)
		}
	}
	if m.PhoneNumber != "" && !validPhoneNumber(m.PhoneNumber) {
		return nil, invalidParameter("PhoneNumber Reason: %s is not valid to publish to", m.PhoneNumber)
	}

	if m.Message == "" {
		return nil, invalidParameter("Empty message")
	}
	if !utf8.ValidString(m.Message) {
		return nil, invalidParameter("Message Reason: Message must be UTF-8 encoded")
	}
	if present["Subject"] {
		if m.Subject == "" {
			return nil, invalidParameter("Subject Reason: Subject must not be empty")
		}
		if len(m.Subject) > snsMaxSubject {
			return nil, invalidParameter("Subject Reason: Subject must be at most %d characters long", snsMaxSubject)
		}
		if !printableASCII(m.Subject) {
			return nil, invalidParameter("Subject Reason: Subject must contain only printable ASCII characters")
		}
	}
	if m.MessageStructure != "" && m.MessageStructure != "json" {
		return nil, invalidParameter("MessageStructure Reason: must be json")
	}
	for _, id := range []struct{ name, v string }{{"MessageGroupId", m.MessageGroupID}, {"MessageDeduplicationId", m.MessageDeduplicationID}} {
		if present[id.name] && (id.v == "" || len(id.v) > snsMaxGroupID || !printableASCII(id.v)) {
			return nil, invalidParameter("%s Reason: must be 1 to %d printable ASCII characters", id.name, snsMaxGroupID)
		}
	}

	attrs, aerr := parseMessageAttributes(params)
	if aerr != nil {
		return nil, aerr
	}
	m.Attributes = attrs
	size := len(m.Message)
	for name, a := range attrs {
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	if size > snsMaxMessageBytes {
		return nil, invalidParameter("Message too long: the message and its attributes take %d bytes, at most %d are allowed", size, snsMaxMessageBytes)
	}
	return m, nil
}

// parseMessageAttributes reads MessageAttributes.entry.N.{Name,Value.*}.
func parseMessageAttributes(params url.Values) (map[string]MessageAttribute, *apiError) {
	entries, aerr := queryIndexed(params, "MessageAttributes.entry")
	if aerr != nil {
		return nil, aerr
	}
	attrs := make(map[string]MessageAttribute, len(entries))
	for _, e := range entries {
		name := e["Name"]
		if !validSNSAttributeName(name) {
			return nil, invalidParameter("MessageAttributes Reason: The message attribute name %q is invalid", name)
		}
		if _, dup := attrs[name]; dup {
			return nil, invalidParameter("MessageAttributes Reason: The message attribute name %q is given more than once", name)
		}
		for k := range e {
			switch k {
			case "Name", "Value.DataType", "Value.StringValue", "Value.BinaryValue":
			default:
				return nil, invalidParameter("MessageAttributes Reason: unknown member %q of attribute %q", k, name)
			}
		}
		a := MessageAttribute{DataType: e["Value.DataType"]}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String", "Number":
			sv, ok := e["Value.StringValue"]
			if !ok || sv == "" {
				return nil, invalidParameter("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
			}
			if !utf8.ValidString(sv) {
				return nil, invalidParameter("The message attribute '%s' has an invalid message attribute value: it is not valid UTF-8", name)
			}
			a.StringValue = sv
		case "Binary":
			bv, err := base64.StdEncoding.DecodeString(e["Value.BinaryValue"])
			if err != nil || len(bv) == 0 {
				return nil, invalidParameter("The message attribute '%s' must contain non-empty, base64-encoded message attribute value for message attribute type 'Binary'.", name)
			}
			a.BinaryValue = bv
		default:
			return nil, invalidParameter("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		attrs[name] = a
	}
	return attrs, nil
}

// validSNSAttributeName reports whether SNS accepts name as a message
// attribute name: 1 to 256 characters of A-Z a-z 0-9 _ - ., not starting
// with "AWS." or "Amazon." (in any case), not starting or ending with a
// period, and without two periods in a row.
func validSNSAttributeName(name string) bool {
	if name == "" || len(name) > snsMaxAttributeName {
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

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// validSNSARN checks the shape arn:<partition>:sns:<region>:<account>:<name>.
func validSNSARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] == "sns" &&
		parts[3] != "" && parts[4] != "" && parts[5] != ""
}

// validPhoneNumber accepts E.164 numbers: "+" and up to 15 digits.
func validPhoneNumber(p string) bool {
	digits, ok := strings.CutPrefix(p, "+")
	if !ok || len(digits) < 2 || len(digits) > 15 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}
