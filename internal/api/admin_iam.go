package api

import (
	"errors"
	"net/http"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/iam"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

// iamRoutes are the admin API for users, policies and attachments, plus the
// audit trail and workspace logs.
func (s *Server) iamRoutes() []route {
	adm := func(name, method, pattern, action string, res func(*http.Request) ([]string, error), h http.HandlerFunc) route {
		return route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action,
			Resources: res, MaxBody: 64 * httpapi.KiB, Handler: h}
	}
	user := httpapi.One(func(r *http.Request) string { return s.IAM.UserARN(r.PathValue("userName")) })
	anyUser := httpapi.One(func(r *http.Request) string { return s.IAM.UserARN("*") })
	pol := httpapi.One(func(r *http.Request) string { return r.PathValue("policyArn") })
	anyPolicy := httpapi.One(func(r *http.Request) string { return s.IAM.PolicyARN("*") })
	anything := httpapi.One(func(*http.Request) string { return "*" })
	return []route{
		adm("CreateUser", "POST", "/admin/v1/iam/users", "iam:CreateUser", s.userFromBody, s.createUser),
		adm("ListUsers", "GET", "/admin/v1/iam/users", "iam:ListUsers", anyUser, s.listUsers),
		adm("GetUser", "GET", "/admin/v1/iam/users/{userName}", "iam:GetUser", user, s.getUser),
		adm("DeleteUser", "DELETE", "/admin/v1/iam/users/{userName}", "iam:DeleteUser", user, s.deleteUser),
		adm("ListAttachedUserPolicies", "GET", "/admin/v1/iam/users/{userName}/policies", "iam:ListAttachedUserPolicies", user, s.listAttachedUserPolicies),
		adm("AttachUserPolicy", "POST", "/admin/v1/iam/users/{userName}/policies", "iam:AttachUserPolicy", user, s.attachUserPolicy),
		adm("DetachUserPolicy", "DELETE", "/admin/v1/iam/users/{userName}/policies/{policyArn}", "iam:DetachUserPolicy", user, s.detachUserPolicy),
		adm("CreatePolicy", "POST", "/admin/v1/iam/policies", "iam:CreatePolicy", anyPolicy, s.createPolicy),
		adm("ListPolicies", "GET", "/admin/v1/iam/policies", "iam:ListPolicies", anyPolicy, s.listPolicies),
		adm("GetPolicy", "GET", "/admin/v1/iam/policies/{policyArn}", "iam:GetPolicy", pol, s.getPolicy),
		adm("CreatePolicyVersion", "PUT", "/admin/v1/iam/policies/{policyArn}", "iam:CreatePolicyVersion", pol, s.updatePolicy),
		adm("DeletePolicy", "DELETE", "/admin/v1/iam/policies/{policyArn}", "iam:DeletePolicy", pol, s.deletePolicy),
		adm("SimulatePrincipalPolicy", "POST", "/admin/v1/iam/simulate", "iam:SimulatePrincipalPolicy", s.userFromBody, s.simulate),
		adm("UpdateAccessKey", "PUT", "/admin/v1/keys/{accessKeyId}", "iam:UpdateAccessKey", s.keyOwner, s.updateAccessKey),
		adm("LookupEvents", "GET", "/admin/v1/audit", "cloudtrail:LookupEvents", anything, s.lookupEvents),
	}
}

// adminError maps iam errors; everything else passes through.
func adminError(err error) error {
	switch {
	case errors.Is(err, iam.ErrInUse):
		return &apierr.Error{Type: "DeleteConflictException", Status: http.StatusConflict, Message: err.Error()}
	}
	return iamError(err)
}

type userJSON struct {
	UserName   string   `json:"userName"`
	UserID     string   `json:"userId"`
	ARN        string   `json:"arn"`
	CreateDate float64  `json:"createDate"`
	Policies   []string `json:"attachedPolicyArns,omitempty"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserName   string   `json:"userName"`
		PolicyArns []string `json:"policyArns"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	p, err := s.IAM.CreateUser(r.Context(), in.UserName)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	if err := s.attachAll(r, in.UserName, in.PolicyArns); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": userJSON{UserName: p.Name, UserID: p.ID, ARN: p.ARN, CreateDate: httpapi.AWSTime(p.CreatedAt), Policies: in.PolicyArns}})
}

// attachAll attaches policies given by ARN or name; each attachment is
// authorized separately (iam:AttachUserPolicy on the user).
func (s *Server) attachAll(r *http.Request, userName string, policies []string) error {
	for _, p := range policies {
		if err := s.authz.Authorize(r.Context(), httpapi.Identity(r), "iam:AttachUserPolicy", s.IAM.UserARN(userName)); err != nil {
			return err
		}
		arn, err := s.IAM.ResolvePolicyARN(r.Context(), p)
		if err != nil {
			return err
		}
		if err := s.IAM.AttachUserPolicy(r.Context(), userName, arn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.IAM.Users(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, userJSON{UserName: u.Name, UserID: u.ID, ARN: u.ARN, CreateDate: httpapi.AWSTime(u.CreatedAt)})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.IAM.User(r.Context(), r.PathValue("userName"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	pols, err := s.IAM.AttachedUserPolicies(r.Context(), u.Name)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	j := userJSON{UserName: u.Name, UserID: u.ID, ARN: u.ARN, CreateDate: httpapi.AWSTime(u.CreatedAt), Policies: []string{}}
	for _, p := range pols {
		j.Policies = append(j.Policies, p.ARN)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": j})
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("userName")
	if id := httpapi.Identity(r); id != nil && id.PrincipalName == name {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Conflict("User", name, "refusing to delete the user making this request"))
		return
	}
	if err := s.IAM.DeleteUser(r.Context(), name); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type policyJSON struct {
	ARN             string  `json:"arn"`
	PolicyName      string  `json:"policyName"`
	Description     string  `json:"description,omitempty"`
	Document        string  `json:"policyDocument,omitempty"`
	AWSManaged      bool    `json:"awsManaged"`
	AttachmentCount int     `json:"attachmentCount"`
	CreateDate      float64 `json:"createDate,omitempty"`
	UpdateDate      float64 `json:"updateDate,omitempty"`
}

func toPolicyJSON(p iam.PolicyInfo, withDoc bool) policyJSON {
	j := policyJSON{ARN: p.ARN, PolicyName: p.Name, Description: p.Description, AWSManaged: p.AWSManaged, AttachmentCount: p.AttachmentCount}
	if withDoc {
		j.Document = p.Document
	}
	if !p.CreatedAt.IsZero() {
		j.CreateDate, j.UpdateDate = httpapi.AWSTime(p.CreatedAt), httpapi.AWSTime(p.UpdatedAt)
	}
	return j
}

func (s *Server) listAttachedUserPolicies(w http.ResponseWriter, r *http.Request) {
	pols, err := s.IAM.AttachedUserPolicies(r.Context(), r.PathValue("userName"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	out := make([]policyJSON, 0, len(pols))
	for _, p := range pols {
		out = append(out, toPolicyJSON(p, false))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"attachedPolicies": out})
}

func (s *Server) attachUserPolicy(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PolicyArn string `json:"policyArn"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	arn, err := s.IAM.ResolvePolicyARN(r.Context(), in.PolicyArn)
	if err == nil {
		err = s.IAM.AttachUserPolicy(r.Context(), r.PathValue("userName"), arn)
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) detachUserPolicy(w http.ResponseWriter, r *http.Request) {
	if err := s.IAM.DetachUserPolicy(r.Context(), r.PathValue("userName"), r.PathValue("policyArn")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PolicyName     string `json:"policyName"`
		Description    string `json:"description"`
		PolicyDocument string `json:"policyDocument"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	p, err := s.IAM.CreatePolicy(r.Context(), in.PolicyName, in.Description, in.PolicyDocument)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"policy": toPolicyJSON(p, true)})
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	pols, err := s.IAM.Policies(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]policyJSON, 0, len(pols))
	for _, p := range pols {
		out = append(out, toPolicyJSON(p, false))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"policies": out})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.IAM.Policy(r.Context(), r.PathValue("policyArn"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"policy": toPolicyJSON(p, true)})
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PolicyDocument string `json:"policyDocument"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := s.IAM.UpdatePolicy(r.Context(), r.PathValue("policyArn"), in.PolicyDocument); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) {
	if err := s.IAM.DeletePolicy(r.Context(), r.PathValue("policyArn")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) simulate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserName    string `json:"userName"`
		ActionName  string `json:"actionName"`
		ResourceArn string `json:"resourceArn"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if in.ResourceArn == "" {
		in.ResourceArn = "*"
	}
	d, err := s.IAM.Simulate(r.Context(), callerOr(r, in.UserName), in.ActionName, in.ResourceArn)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	decision := map[policy.Effect]string{policy.Allow: "allowed", policy.ExplicitDeny: "explicitDeny", policy.ImplicitDeny: "implicitDeny"}[d.Effect]
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"evalActionName": in.ActionName, "evalResourceName": in.ResourceArn,
		"evalDecision": decision, "matchedPolicy": d.PolicyName, "matchedStatement": d.StatementID})
}

func (s *Server) updateAccessKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status string `json:"status"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := s.IAM.SetAccessKeyStatus(r.Context(), r.PathValue("accessKeyId"), in.Status); err != nil {
		if errors.Is(err, iam.ErrNotFound) {
			httpapi.WriteError(w, r, httpapi.Control, iamError(err))
			return
		}
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonFieldValidation, "%v", err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) lookupEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := metastore.AuditFilter{EventName: q.Get("eventName"), EventSource: q.Get("eventSource"), UserName: q.Get("userName"),
		AccessKeyID: q.Get("accessKeyId"), Resource: q.Get("resource"), ErrorsOnly: q.Get("errorsOnly") == "true", Before: q.Get("nextToken")}
	var err error
	if f.Since, err = httpapi.TimeParam(q, "startTime"); err == nil {
		f.Until, err = httpapi.TimeParam(q, "endTime")
	}
	if err == nil {
		f.Limit, err = httpapi.MaxResultsParam(r)
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if ro := q.Get("readOnly"); ro != "" {
		b := ro == "true"
		f.ReadOnly = &b
	}
	events, next, err := s.Audit.Lookup(r.Context(), f)
	if errors.Is(err, metastore.ErrBadPageToken) {
		err = apierr.Validation(apierr.ReasonFieldValidation, "Invalid nextToken")
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	resp := map[string]any{"events": events}
	if next != "" {
		resp["nextToken"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}
