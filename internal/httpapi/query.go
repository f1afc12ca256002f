package httpapi

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/kansoku/kansoku/internal/apierr"
)

// XML namespaces of the query-protocol services.
const (
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// queryCodes maps Kansoku's REST-JSON error types to the codes the query
// protocol's services (IAM, STS) answer with.
var queryCodes = map[string]string{
	"AccessDeniedException":               "AccessDenied",
	"ValidationException":                 "ValidationError",
	"ResourceNotFoundException":           "NoSuchEntity",
	"ConflictException":                   "EntityAlreadyExists",
	"InternalServerException":             "ServiceFailure",
	"ThrottlingException":                 "Throttling",
	"ServiceUnavailableException":         "ServiceUnavailable",
	"UnrecognizedClientException":         "InvalidClientTokenId",
	"InvalidSignatureException":           "SignatureDoesNotMatch",
	"IncompleteSignatureException":        "IncompleteSignature",
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"ExpiredTokenException":               "ExpiredToken",
	"RequestEntityTooLargeException":      "RequestEntityTooLarge",
	"UnknownOperationException":           "InvalidAction",
}

// QueryErrorCode is the query-protocol code of an error type.
func QueryErrorCode(typ string) string {
	if c, ok := queryCodes[typ]; ok {
		return c
	}
	return strings.TrimSuffix(typ, "Exception")
}

// WriteQueryError writes an error as IAM and STS do:
// <ErrorResponse><Error><Type>Sender</Type><Code>...</Code><Message>...
func WriteQueryError(w http.ResponseWriter, r *http.Request, e *apierr.Error) {
	ns := STSNamespace
	if id := Identity(r); id != nil && id.Service == "iam" {
		ns = IAMNamespace
	}
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	code := QueryErrorCode(e.Type)
	status := e.Status
	if code == "ExpiredToken" {
		status = http.StatusBadRequest // as STS and IAM answer it
	}
	body := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string
			Code    string
			Message string
		}
		RequestID string `xml:"RequestId"`
	}{Xmlns: ns, RequestID: RequestID(r)}
	body.Error.Type, body.Error.Code, body.Error.Message = typ, code, e.Message
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(body) // the client may be gone
}

// WriteQueryResult writes a query-protocol answer:
// <ActionResponse xmlns=ns><ActionResult>result</ActionResult>
// <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata></ActionResponse>.
// result may be nil (operations without output).
func WriteQueryResult(w http.ResponseWriter, r *http.Request, ns, action string, result any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	enc := xml.NewEncoder(w)
	resp := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}}
	_ = enc.EncodeToken(resp)
	if result != nil {
		_ = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	_ = enc.EncodeElement(struct {
		RequestID string `xml:"RequestId"`
	}{RequestID(r)}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	_ = enc.EncodeToken(resp.End())
	_ = enc.Flush()
}

// Members is a list the query protocol writes as <Name><member>...</member></Name>,
// present (and empty) even when it has no items.
type Members[T any] []T

// MarshalXML implements xml.Marshaler.
func (m Members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range m {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}
