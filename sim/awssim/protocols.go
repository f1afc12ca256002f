package awssim

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The wire protocols the simulated services of the remaining products
// share, each written once: awsJson1_0/1_1 (jsonRPC), REST-JSON
// (restJSON) and the Query protocol (queryAPI). A service is its protocol
// plus a table of operations; REST-XML services (CloudFront, Route 53, S3)
// are written out in their own files.

// ---- awsJson1_0 / awsJson1_1 ----

// jsonRPC is a service speaking awsJson: POST / with X-Amz-Target
// "<target>.<Operation>" and a JSON body; errors {"__type", "message"}.
type jsonRPC struct {
	s           *Server
	target      string
	contentType string
	ops         map[string]func(req *request) (any, *apiError)
}

func newJSONRPC(s *Server, target, contentType string, ops map[string]func(req *request) (any, *apiError)) *jsonRPC {
	return &jsonRPC{s: s, target: target, contentType: contentType, ops: ops}
}

const awsJSON11 = "application/x-amz-json-1.1"

func (sv *jsonRPC) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	e = renamedError(e, serviceAuthCodes)
	status := e.status
	if status == http.StatusForbidden && e.code != "AccessDeniedException" {
		status = http.StatusBadRequest // JSON services answer bad credentials with 400
	}
	if e.code == "AccessDeniedException" {
		status = http.StatusBadRequest
	}
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSONResponse(w, status, sv.contentType, awsJSONError{Type: e.code, Message: e.message}, requestID, false)
}

func (sv *jsonRPC) serve(w http.ResponseWriter, r *http.Request, req *request) {
	op, aerr := awsJSONOperation(r, sv.target)
	out, aerr := sv.s.performCall(req, op, func() (any, *apiError) {
		if aerr != nil {
			return nil, aerr
		}
		h, ok := sv.ops[op]
		if !ok {
			return nil, errorf(http.StatusBadRequest, "UnknownOperationException", "The operation %s is not simulated by awssim", op)
		}
		out, aerr := h(req)
		return out, renamedError(aerr, serviceAuthCodes)
	})
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	writeJSONResponse(w, http.StatusOK, sv.contentType, out, req.id, false)
}

// jsonInput decodes req's JSON body into a T.
func jsonInput[T any](req *request) (T, *apiError) {
	var in T
	return in, decodeJSONInput(req.body, &in)
}

// ---- REST-JSON ----

// restRoute is one operation of a REST-JSON service: a method and a path
// pattern whose {name} segments are parameters.
type restRoute struct {
	method, pattern, action string
	h                       func(req *request, p map[string]string, q url.Values) (any, *apiError)
}

// restJSON is a service speaking REST-JSON: operations by method and
// path; errors carry their code in X-Amzn-ErrorType and the body
// {"message"}.
type restJSON struct {
	s      *Server
	routes []restRoute
}

func (sv *restJSON) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	e = renamedError(e, serviceAuthCodes)
	status := e.status
	if status == http.StatusForbidden && e.code != "AccessDeniedException" {
		status = http.StatusBadRequest
	}
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSONResponse(w, status, "application/json", map[string]string{"message": e.message}, requestID, false)
}

func (sv *restJSON) serve(w http.ResponseWriter, r *http.Request, req *request) {
	segs := pathSegments(r)
	var route *restRoute
	var params map[string]string
	for i := range sv.routes {
		rt := &sv.routes[i]
		if p, ok := matchPattern(rt.pattern, segs); ok && rt.method == r.Method {
			route, params = rt, p
			break
		}
	}
	action := r.Method + " " + r.URL.Path
	if route != nil {
		action = route.action
	}
	out, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
		if route == nil {
			return nil, errorf(http.StatusNotFound, "UnknownOperationException", "No operation matches %s %s", r.Method, r.URL.Path)
		}
		out, aerr := route.h(req, params, r.URL.Query())
		return out, renamedError(aerr, serviceAuthCodes)
	})
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	writeJSONResponse(w, http.StatusOK, "application/json", out, req.id, false)
}

// pathSegments splits r's path into unescaped segments (a trailing slash
// dropped).
func pathSegments(r *http.Request) []string {
	var segs []string
	for _, s := range strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			u = s
		}
		segs = append(segs, u)
	}
	if n := len(segs); n > 1 && segs[n-1] == "" {
		segs = segs[:n-1]
	}
	return segs
}

func matchPattern(pattern string, segs []string) (map[string]string, bool) {
	ps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	if len(ps) != len(segs) {
		return nil, false
	}
	out := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			out[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return out, true
}

// ---- Query ----

// queryAPI is a service speaking the Query protocol with its XML
// namespace and a table of actions.
type queryAPI struct {
	s     *Server
	xmlns string
	ops   map[string]func(params url.Values, req *request) (any, *apiError)
}

func (sv *queryAPI) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	writeQueryError(w, sv.xmlns, e, requestID)
}

func (sv *queryAPI) serve(w http.ResponseWriter, r *http.Request, req *request) {
	params, aerr := queryParams(r, req.body)
	var action string
	if aerr == nil {
		action, _, aerr = singleParam(params, "Action")
	}
	out, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
		if aerr != nil {
			return nil, aerr
		}
		if action == "" {
			return nil, errorf(http.StatusBadRequest, "MissingAction", "Request is missing Action parameter")
		}
		h, ok := sv.ops[action]
		if !ok {
			return nil, errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", action)
		}
		return h(params, req)
	})
	if aerr != nil {
		writeQueryError(w, sv.xmlns, aerr, req.id)
		return
	}
	writeQueryResult(w, sv.xmlns, action, out, req.id)
}

// ---- REST-XML ----

// writeXML writes v as an XML document in namespace xmlns.
func writeXML(w http.ResponseWriter, status int, v any, requestID string) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "awssim: encoding the response failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("x-amz-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// restXMLError is the error body of CloudFront and Route 53.
type restXMLError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeRestXMLError(w http.ResponseWriter, xmlns string, e *apiError, requestID string) {
	var b restXMLError
	b.Xmlns = xmlns
	b.Error.Type = "Sender"
	if e.status >= 500 {
		b.Error.Type = "Receiver"
	}
	b.Error.Code, b.Error.Message, b.RequestID = e.code, e.message, requestID
	writeXML(w, e.status, b, requestID)
}

// ---- the generic resources of a request ----

// kindResources returns copies of the generic resources of kind in req's
// account and region (with their region), or in every region of the
// account when allRegions (S3's ListBuckets).
func (s *Server) kindResources(req *request, kind string, allRegions bool) []regionalResource {
	var out []regionalResource
	s.read(func(sc *Scenario) {
		a := req.account(sc)
		if a == nil {
			return
		}
		regions := make([]string, 0, len(a.Regions))
		for name := range a.Regions {
			if allRegions || name == req.region || resourceKinds()[kind].Global && name == "us-east-1" {
				regions = append(regions, name)
			}
		}
		sort.Strings(regions)
		for _, name := range regions {
			rg := a.Regions[name]
			if rg == nil {
				continue
			}
			for _, r := range rg.Resources {
				if r.Kind == kind {
					out = append(out, regionalResource{Resource: cloneResource(r), Region: name, Account: a.ID})
				}
			}
		}
	})
	return out
}

// regionalResource is a copy of a generic resource with where it is.
type regionalResource struct {
	Resource
	Region, Account string
}

func cloneResource(r Resource) Resource {
	c := r
	c.Tags = r.Tags.clone()
	c.Attrs = map[string]string{}
	for k, v := range r.Attrs {
		c.Attrs[k] = v
	}
	c.Subs = map[string][]string{}
	for k, v := range r.Subs {
		c.Subs[k] = append([]string(nil), v...)
	}
	c.Features = append([]string(nil), r.Features...)
	return c
}

// pageOf pages a listing of generic resources by a key, with a token bound
// to the listing's kind.
func pageOf(items []regionalResource, key func(regionalResource) string, kind, token string, max int) ([]regionalResource, string, *apiError) {
	after := ""
	if token != "" {
		a, ok := parseResumeToken(kind, token)
		if !ok {
			return nil, "", errorf(http.StatusBadRequest, "InvalidNextTokenException", "The pagination token is invalid")
		}
		after = a
	}
	page, more := pageAfter(items, key, after, max)
	next := ""
	if more {
		next = resumeToken(kind, key(page[len(page)-1]))
	}
	return page, next, nil
}

func jsonTags(t Tags, keyName, valueName string) []map[string]string {
	out := []map[string]string{}
	for _, k := range tagKeysSorted(t) {
		out = append(out, map[string]string{keyName: k, valueName: t[k]})
	}
	return out
}

func tagMapOf(t Tags) map[string]string {
	out := map[string]string{}
	for k, v := range t {
		out[k] = v
	}
	return out
}
