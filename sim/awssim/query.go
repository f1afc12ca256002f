package awssim

import (
	"bytes"
	"encoding/xml"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// This file holds the AWS Query protocol (as spoken by SNS, STS, SQS's old
// API, CloudWatch's query mode, EC2 and RDS): requests are flat key/value
// parameters, in a form-encoded POST body or the URL's query string, with
// "Action" and "Version"; lists and maps are flattened into indexed keys
// (Prefix.member.N, Prefix.entry.N.Name); responses are XML documents
// <ActionResponse xmlns=…><ActionResult>…</ActionResult>
// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>
// and errors <ErrorResponse><Error><Type/><Code/><Message/></Error>
// <RequestId/></ErrorResponse>.

// queryParams returns the parameters of a Query-protocol request: those of
// the URL's query string plus those of a form-encoded POST body.
func queryParams(r *http.Request, body []byte) (url.Values, *apiError) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "MalformedQueryString", "The query string is not valid URL encoding")
	}
	switch r.Method {
	case http.MethodGet:
		return params, nil
	case http.MethodPost:
	default:
		return nil, errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Method %s is not allowed; use POST (or GET)", r.Method)
	}
	if len(body) == 0 {
		return params, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, errorf(http.StatusBadRequest, "MalformedInput", "Content-Type must be application/x-www-form-urlencoded, not %q", ct)
		}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "MalformedInput", "The request body is not valid form encoding")
	}
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	return params, nil
}

// queryIndexed collects the members of a list or map flattened under prefix
// (lists: "Foo.member", maps: "Foo.entry"). Members come back in index order,
// each as a map from the key's remainder after "prefix.N." ("Name",
// "Value.DataType", …) to its value; a scalar member (prefix.N=value) is
// under the empty key.
func queryIndexed(params url.Values, prefix string) ([]map[string]string, *apiError) {
	byIndex := map[int]map[string]string{}
	for k, vs := range params {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		idx, sub, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 || idx[0] == '0' || idx[0] == '+' {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Parameter %s has an invalid index", k)
		}
		if len(vs) != 1 {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Parameter %s is given more than once", k)
		}
		m := byIndex[n]
		if m == nil {
			m = map[string]string{}
			byIndex[n] = m
		}
		m[sub] = vs[0]
	}
	idx := make([]int, 0, len(byIndex))
	for n := range byIndex {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]map[string]string, len(idx))
	for i, n := range idx {
		out[i] = byIndex[n]
	}
	return out, nil
}

// queryList returns the scalar members of a list flattened under prefix
// (e.g. "AttributeNames.member"), in index order.
func queryList(params url.Values, prefix string) ([]string, *apiError) {
	members, err := queryIndexed(params, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		v, ok := m[""]
		if !ok || len(m) != 1 {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "%s members must be scalar values", prefix)
		}
		out = append(out, v)
	}
	return out, nil
}

// singleParam returns the value of a parameter given at most once.
func singleParam(params url.Values, name string) (string, bool, *apiError) {
	vs, ok := params[name]
	if !ok {
		return "", false, nil
	}
	if len(vs) != 1 {
		return "", false, errorf(http.StatusBadRequest, "InvalidParameterValue", "Parameter %s is given more than once", name)
	}
	return vs[0], true, nil
}

type queryResponseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// writeQueryResult writes a successful response to action: result (an
// XML-marshalable value, or nil for actions without output) under
// <actionResult>, in the service's namespace xmlns.
func writeQueryResult(w http.ResponseWriter, xmlns, action string, result any, requestID string) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{
		Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}},
	}
	err := enc.EncodeToken(root)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(queryResponseMetadata{RequestID: requestID},
			xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(root.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		writeQueryError(w, xmlns, errorf(http.StatusInternalServerError, "InternalFailure", "awssim: encoding the response: %v", err), requestID)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

type queryErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// writeQueryError writes e as a Query-protocol ErrorResponse. Type is
// "Sender" for 4xx statuses and "Receiver" for the others.
func writeQueryError(w http.ResponseWriter, xmlns string, e *apiError, requestID string) {
	var resp queryErrorResponse
	resp.Xmlns = xmlns
	resp.Error.Type = "Sender"
	if e.status >= 500 {
		resp.Error.Type = "Receiver"
	}
	resp.Error.Code = e.code
	resp.Error.Message = e.message
	resp.RequestID = requestID
	b, err := xml.Marshal(resp)
	if err != nil {
		http.Error(w, "awssim: encoding the error response failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// queryErrors writes errors in the Query envelope of one namespace.
type queryErrors struct{ xmlns string }

func (q queryErrors) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	writeQueryError(w, q.xmlns, e, requestID)
}
