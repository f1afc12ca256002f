package api

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// captureWriter keeps the start of a response body for the audit record.
type captureWriter struct {
	*statusRecorder
	buf bytes.Buffer
}

const maxCapture = 64 << 10

func (c *captureWriter) Write(b []byte) (int, error) {
	if room := maxCapture - c.buf.Len(); room > 0 {
		if len(b) < room {
			room = len(b)
		}
		c.buf.Write(b[:room])
	}
	return c.statusRecorder.Write(b)
}

// patternParams lists the {wildcards} of a route pattern.
func patternParams(pattern string) []string {
	var out []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return out
}

// auditEvent builds the record of one request. status and respBody are the
// response; errCode the AWS error type, if any.
func (s *Server) auditEvent(r *http.Request, rt route, id *auth.Identity, resource string, status int, errCode, errMsg string, respBody []byte) audit.Event {
	e := audit.New(rt.Action, time.Now())
	e.AWSRegion, e.RecipientAccountID = s.opts.ARNs.Region, s.opts.ARNs.AccountID
	e.SourceIPAddress, e.UserAgent, e.RequestID = httpapi.SourceIP(r), r.UserAgent(), httpapi.RequestID(r)
	if id != nil {
		e.UserIdentity = audit.UserIdentity{Type: auth.TypeUser, PrincipalID: id.PrincipalID, ARN: id.PrincipalARN, AccountID: id.AccountID,
			AccessKeyID: id.AccessKeyID, UserName: id.PrincipalName, AuthMethod: string(id.Method)}
		if sess := id.Session; sess != nil {
			sc := &audit.SessionContext{Attributes: map[string]string{
				"creationDate": sess.IssuedAt.UTC().Format(time.RFC3339), "mfaAuthenticated": "false"}}
			if id.IsRoleSession() {
				e.UserIdentity.Type, e.UserIdentity.UserName = auth.TypeAssumedRole, ""
				sc.SessionIssuer = audit.SessionIssuer{Type: "Role", PrincipalID: sess.RoleID, ARN: sess.RoleARN, AccountID: id.AccountID, UserName: sess.RoleName}
			} else {
				sc.SessionIssuer = audit.SessionIssuer{Type: auth.TypeUser, PrincipalID: id.PrincipalID, ARN: id.PrincipalARN, AccountID: id.AccountID, UserName: id.PrincipalName}
			}
			if sess.Provider != "" {
				sc.WebIDFederationData = map[string]string{"federatedProvider": sess.Provider}
			}
			e.UserIdentity.SessionContext = sc
		}
	} else {
		e.UserIdentity = audit.UserIdentity{Type: "Unknown", AccessKeyID: claimedAccessKey(r)}
		if rt.Action == "sts:AssumeRoleWithWebIdentity" {
			e.UserIdentity.Type = "WebIdentityUser" // as CloudTrail records the unsigned call
		}
	}
	params := map[string]any{}
	for _, p := range patternParams(rt.Pattern) {
		params[p] = r.PathValue(p)
	}
	for k, vs := range r.URL.Query() {
		if strings.HasPrefix(k, "X-Amz-") {
			continue // presigned-URL signature material
		}
		if len(vs) == 1 {
			params[k] = vs[0]
		} else {
			params[k] = vs
		}
	}
	if (rt.Plane == httpapi.Control || rt.Audited) && strings.Contains(r.Header.Get("Content-Type"), "json") {
		var v any
		if json.Unmarshal(httpapi.Body(r), &v) == nil {
			if m, ok := v.(map[string]any); ok {
				for k, v := range m {
					params[k] = v
				}
			} else if v != nil {
				params["body"] = v // a list (the Alertmanager API's alerts)
			}
		}
	}
	if rt.Plane == httpapi.Query {
		if form, err := url.ParseQuery(string(httpapi.Body(r))); err == nil {
			for k, vs := range form {
				if k != "Action" && k != "Version" && len(vs) > 0 {
					params[k] = vs[0]
				}
			}
		}
	}
	e.RequestParameters = audit.Redact(params).(map[string]any)
	if status/100 == 2 && len(respBody) > 0 {
		var m map[string]any
		if rt.Plane == httpapi.Query {
			m = xmlResult(respBody)
		} else if json.Unmarshal(respBody, &m) != nil {
			m = nil
		}
		if m != nil {
			e.ResponseElements = audit.Redact(m).(map[string]any)
		}
	}
	e.ErrorCode, e.ErrorMessage = errCode, errMsg
	if resource != "" {
		e.Resources = []audit.Resource{{ARN: resource, AccountID: s.opts.ARNs.AccountID}}
	}
	return e
}

// claimedAccessKey is the access key or token id a failed request claimed
// to use (never the secret).
func claimedAccessKey(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if i := strings.Index(h, "Credential="); i >= 0 {
		cred := h[i+len("Credential="):]
		if j := strings.IndexByte(cred, '/'); j > 0 && j <= 128 {
			return cred[:j]
		}
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		if j := strings.IndexByte(c, '/'); j > 0 && j <= 128 {
			return c[:j]
		}
	}
	if tok, ok := bearer(r); ok {
		if id, _, ok := auth.ParseAPIToken(tok); ok {
			return "token:" + id
		}
	}
	return ""
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t), true
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass, true
	}
	return "", false
}

// xmlResult turns a query-protocol answer's <...Result> into a map: an
// element with children becomes a map (a list for <member>s), text a
// string. It is for the audit record only: nil when the XML is not whole
// (the capture stops at 64 KiB).
func xmlResult(body []byte) map[string]any {
	dec := xml.NewDecoder(bytes.NewReader(body))
	type frame struct {
		name     string
		children map[string]any
		members  []any
		text     strings.Builder
	}
	var stack []*frame
	var result map[string]any
	for {
		tok, err := dec.Token()
		if err != nil {
			return result
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, &frame{name: t.Name.Local})
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return result
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var v any = strings.TrimSpace(f.text.String())
			switch {
			case f.members != nil:
				v = f.members
			case f.children != nil:
				v = f.children
			}
			if strings.HasSuffix(f.name, "Result") && len(stack) == 1 {
				if m, ok := v.(map[string]any); ok {
					result = m
				} else {
					result = map[string]any{}
				}
				continue
			}
			if len(stack) == 0 {
				continue
			}
			parent := stack[len(stack)-1]
			if f.name == "member" {
				parent.members = append(parent.members, v)
				continue
			}
			if parent.children == nil {
				parent.children = map[string]any{}
			}
			parent.children[f.name] = v
		}
	}
}
