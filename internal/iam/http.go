package iam

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Routes are Kansoku's admin API for what AWS keeps in IAM: users,
// policies and their attachments, policy simulation, access keys and API
// tokens. A call on a user, or on a key or token, is authorized on the
// (owning) user's ARN, so a policy can let users manage their own
// credentials.
func (s *Service) Routes() []httpapi.Route {
	h := handlers{s}
	adm := func(name, method, pattern, action string, res func(*http.Request) ([]string, error), f http.HandlerFunc) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action,
			Resources: res, MaxBody: 64 * httpapi.KiB, Handler: f}
	}
	user := httpapi.One(func(r *http.Request) string { return s.UserARN(r.PathValue("userName")) })
	anyUser := httpapi.One(func(*http.Request) string { return s.UserARN("*") })
	pol := httpapi.One(func(r *http.Request) string { return r.PathValue("policyArn") })
	anyPolicy := httpapi.One(func(*http.Request) string { return s.PolicyARN("*") })
	return append([]httpapi.Route{
		adm("CreateUser", "POST", "/admin/v1/iam/users", "iam:CreateUser", h.userFromBody, h.createUser),
		adm("ListUsers", "GET", "/admin/v1/iam/users", "iam:ListUsers", anyUser, h.listUsers),
		adm("GetUser", "GET", "/admin/v1/iam/users/{userName}", "iam:GetUser", user, h.getUser),
		adm("DeleteUser", "DELETE", "/admin/v1/iam/users/{userName}", "iam:DeleteUser", user, h.deleteUser),
		adm("ListAttachedUserPolicies", "GET", "/admin/v1/iam/users/{userName}/policies", "iam:ListAttachedUserPolicies", user, h.listAttachedUserPolicies),
		adm("AttachUserPolicy", "POST", "/admin/v1/iam/users/{userName}/policies", "iam:AttachUserPolicy", user, h.attachUserPolicy),
		adm("DetachUserPolicy", "DELETE", "/admin/v1/iam/users/{userName}/policies/{policyArn}", "iam:DetachUserPolicy", user, h.detachUserPolicy),
		adm("CreatePolicy", "POST", "/admin/v1/iam/policies", "iam:CreatePolicy", anyPolicy, h.createPolicy),
		adm("ListPolicies", "GET", "/admin/v1/iam/policies", "iam:ListPolicies", anyPolicy, h.listPolicies),
		adm("GetPolicy", "GET", "/admin/v1/iam/policies/{policyArn}", "iam:GetPolicy", pol, h.getPolicy),
		adm("CreatePolicyVersion", "PUT", "/admin/v1/iam/policies/{policyArn}", "iam:CreatePolicyVersion", pol, h.updatePolicy),
		adm("DeletePolicy", "DELETE", "/admin/v1/iam/policies/{policyArn}", "iam:DeletePolicy", pol, h.deletePolicy),
		adm("SimulatePrincipalPolicy", "POST", "/admin/v1/iam/simulate", "iam:SimulatePrincipalPolicy", h.userFromBody, h.simulate),

		adm("CreateAccessKey", "POST", "/admin/v1/keys", "iam:CreateAccessKey", h.userFromBody, h.createAccessKey),
		adm("ListAccessKeys", "GET", "/admin/v1/keys", "iam:ListAccessKeys", httpapi.One(h.userFromQuery), h.listAccessKeys),
		adm("UpdateAccessKey", "PUT", "/admin/v1/keys/{accessKeyId}", "iam:UpdateAccessKey", h.keyOwner, h.updateAccessKey),
		adm("DeleteAccessKey", "DELETE", "/admin/v1/keys/{accessKeyId}", "iam:DeleteAccessKey", h.keyOwner, h.deleteAccessKey),
		adm("CreateAPIToken", "POST", "/admin/v1/tokens", "kansoku:CreateAPIToken", h.userFromBody, h.createAPIToken),
		adm("ListAPITokens", "GET", "/admin/v1/tokens", "kansoku:ListAPITokens", httpapi.One(h.userFromQuery), h.listAPITokens),
		adm("DeleteAPIToken", "DELETE", "/admin/v1/tokens/{tokenId}", "kansoku:DeleteAPIToken", h.tokenOwner, h.deleteAPIToken),
		adm("RevokeRoleSessions", "POST", "/admin/v1/iam/roles/{roleName}/revoke-sessions", "iam:PutRolePolicy",
			func(r *http.Request) ([]string, error) {
				return roleARNByName(s, r, url.Values{"RoleName": {r.PathValue("roleName")}})
			}, h.revokeRoleSessions),
		adm("SetOIDCProviderKeys", "PUT", "/admin/v1/iam/oidc-providers/{providerArn}/keys", "iam:UpdateOpenIDConnectProviderThumbprint",
			httpapi.One(func(r *http.Request) string { return r.PathValue("providerArn") }), h.setOIDCProviderKeys),
		s.queryRoute(),
	}, s.resourcePolicyRoutes()...)
}

// handlers decode the admin API's JSON and call the Service.
type handlers struct{ s *Service }

// revokeRoleSessions denies everything to the role's sessions issued so
// far (AWSRevokeOlderSessions, an inline policy on aws:TokenIssueTime).
func (h handlers) revokeRoleSessions(w http.ResponseWriter, r *http.Request) {
	at, err := h.s.RevokeRoleSessions(r.Context(), r.PathValue("roleName"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"roleName": r.PathValue("roleName"), "policyName": RevokeSessionsPolicy,
		"revokedBefore": at.Format(time.RFC3339)})
}

// setOIDCProviderKeys gives a provider its signing keys inline (a JSON Web
// Key Set) for installations that cannot reach the issuer; an empty set
// ("jwks": "") goes back to fetching them.
func (h handlers) setOIDCProviderKeys(w http.ResponseWriter, r *http.Request) {
	var in struct {
		JWKS string `json:"jwks"`
	}
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := h.s.UpdateOIDCProvider(r.Context(), r.PathValue("providerArn"), func(p *metastore.OIDCProvider) { p.JWKS = in.JWKS }); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// callerOr returns name, or the caller's own user name when name is empty.
func callerOr(r *http.Request, name string) string {
	if name != "" {
		return name
	}
	if id := auth.IdentityFrom(r.Context()); id != nil {
		return id.PrincipalName
	}
	return ""
}

// userFromBody is the user a request body names (the caller when none),
// decoded as its handler decodes it.
func (h handlers) userFromBody(r *http.Request) ([]string, error) {
	var in struct {
		UserName string `json:"userName"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	return []string{h.s.UserARN(callerOr(r, in.UserName))}, nil
}

func (h handlers) userFromQuery(r *http.Request) string {
	if u := r.URL.Query().Get("userName"); u != "" {
		return h.s.UserARN(u)
	}
	return h.s.UserARN("*")
}

// keyOwner authorizes an access key operation on the key's owner.
func (h handlers) keyOwner(r *http.Request) ([]string, error) {
	name, err := h.s.KeyOwner(r.Context(), r.PathValue("accessKeyId"))
	if err != nil {
		return nil, iamError(err)
	}
	return []string{h.s.UserARN(name)}, nil
}

// tokenOwner authorizes an API token operation on the token's owner.
func (h handlers) tokenOwner(r *http.Request) ([]string, error) {
	name, err := h.s.TokenOwner(r.Context(), r.PathValue("tokenId"))
	if err != nil {
		return nil, iamError(err)
	}
	return []string{h.s.UserARN(name)}, nil
}

// iamError maps the iam package's errors to API errors.
func iamError(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return apierr.NotFound("User", "", "%v", err)
	case errors.Is(err, ErrExists):
		return apierr.Conflict("User", "", "%v", err)
	case errors.Is(err, ErrInvalidName):
		return apierr.Validation(apierr.ReasonFieldValidation, "%v", err)
	}
	return err
}

type accessKeyJSON struct {
	AccessKeyID     string  `json:"accessKeyId"`
	SecretAccessKey string  `json:"secretAccessKey,omitempty"`
	UserName        string  `json:"userName"`
	Status          string  `json:"status"`
	CreateDate      float64 `json:"createDate"`
	LastUsedDate    float64 `json:"lastUsedDate,omitempty"`
}

func (h handlers) createAccessKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserName   string   `json:"userName"`
		PolicyArns []string `json:"policyArns"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	name := callerOr(r, in.UserName)
	if _, err := h.s.User(r.Context(), name); errors.Is(err, ErrNotFound) {
		// `kansoku keys create --name X` makes user X on first use, which
		// needs iam:CreateUser too.
		if err := httpapi.Authorize(r, "iam:CreateUser", h.s.UserARN(name)); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		if _, err := h.s.CreateUser(r.Context(), name); err != nil && !errors.Is(err, ErrExists) {
			httpapi.WriteError(w, r, httpapi.Control, iamError(err))
			return
		}
	}
	if err := h.attachAll(r, name, in.PolicyArns); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	k, err := h.s.CreateAccessKey(r.Context(), name)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, iamError(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"accessKey": accessKeyJSON{
		AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, UserName: k.UserName,
		Status: StatusActive, CreateDate: httpapi.AWSTime(k.CreatedAt)}})
}

func (h handlers) listAccessKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.s.AccessKeys(r.Context(), r.URL.Query().Get("userName"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, iamError(err))
		return
	}
	out := make([]accessKeyJSON, 0, len(keys))
	for _, k := range keys {
		j := accessKeyJSON{AccessKeyID: k.AccessKeyID, UserName: k.UserName, Status: k.Status, CreateDate: httpapi.AWSTime(k.CreatedAt)}
		if !k.LastUsedAt.IsZero() {
			j.LastUsedDate = httpapi.AWSTime(k.LastUsedAt)
		}
		out = append(out, j)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"accessKeys": out})
}

func (h handlers) deleteAccessKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("accessKeyId")
	if caller := auth.IdentityFrom(r.Context()); caller != nil && caller.AccessKeyID == id {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Conflict("AccessKey", id, "refusing to delete the access key that signed this request; use another key"))
		return
	}
	if err := h.s.DeleteAccessKey(r.Context(), id); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, iamError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type apiTokenJSON struct {
	ID        string  `json:"id"`
	Token     string  `json:"token,omitempty"`
	Name      string  `json:"name"`
	UserName  string  `json:"userName"`
	CreatedAt float64 `json:"createdAt"`
	ExpiresAt float64 `json:"expiresAt,omitempty"`
}

func (h handlers) createAPIToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name       string `json:"name"`
		UserName   string `json:"userName"`
		TTLSeconds int64  `json:"ttlSeconds"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if in.TTLSeconds < 0 {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("ttlSeconds", "must not be negative"))
		return
	}
	t, err := h.s.CreateAPIToken(r.Context(), callerOr(r, in.UserName), in.Name, time.Duration(in.TTLSeconds)*time.Second)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, iamError(err))
		return
	}
	j := apiTokenJSON{ID: t.ID, Token: t.Token, Name: t.Name, UserName: t.UserName, CreatedAt: httpapi.AWSTime(t.CreatedAt)}
	if !t.ExpiresAt.IsZero() {
		j.ExpiresAt = httpapi.AWSTime(t.ExpiresAt)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"apiToken": j})
}

func (h handlers) listAPITokens(w http.ResponseWriter, r *http.Request) {
	toks, err := h.s.APITokens(r.Context(), r.URL.Query().Get("userName"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, iamError(err))
		return
	}
	out := make([]apiTokenJSON, 0, len(toks))
	for _, t := range toks {
		j := apiTokenJSON{ID: t.ID, Name: t.Name, UserName: t.UserName, CreatedAt: httpapi.AWSTime(t.CreatedAt)}
		if !t.ExpiresAt.IsZero() {
			j.ExpiresAt = httpapi.AWSTime(t.ExpiresAt)
		}
		out = append(out, j)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"apiTokens": out})
}

func (h handlers) deleteAPIToken(w http.ResponseWriter, r *http.Request) {
	if err := h.s.DeleteAPIToken(r.Context(), r.PathValue("tokenId")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, iamError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminError maps iam errors; everything else passes through.
func adminError(err error) error {
	switch {
	case errors.Is(err, ErrInUse):
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

func (h handlers) createUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserName   string   `json:"userName"`
		PolicyArns []string `json:"policyArns"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	p, err := h.s.CreateUser(r.Context(), in.UserName)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	if err := h.attachAll(r, in.UserName, in.PolicyArns); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": userJSON{UserName: p.Name, UserID: p.ID, ARN: p.ARN, CreateDate: httpapi.AWSTime(p.CreatedAt), Policies: in.PolicyArns}})
}

// attachAll attaches policies given by ARN or name; each attachment is
// authorized separately (iam:AttachUserPolicy on the user).
func (h handlers) attachAll(r *http.Request, userName string, policies []string) error {
	for _, p := range policies {
		if err := httpapi.Authorize(r, "iam:AttachUserPolicy", h.s.UserARN(userName)); err != nil {
			return err
		}
		arn, err := h.s.ResolvePolicyARN(r.Context(), p)
		if err != nil {
			return err
		}
		if err := h.s.AttachUserPolicy(r.Context(), userName, arn); err != nil {
			return err
		}
	}
	return nil
}

func (h handlers) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.s.Users(r.Context())
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

func (h handlers) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.s.User(r.Context(), r.PathValue("userName"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	pols, err := h.s.AttachedUserPolicies(r.Context(), u.Name)
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

func (h handlers) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("userName")
	if id := httpapi.Identity(r); id != nil && id.PrincipalName == name {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Conflict("User", name, "refusing to delete the user making this request"))
		return
	}
	if err := h.s.DeleteUser(r.Context(), name); err != nil {
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

func toPolicyJSON(p PolicyInfo, withDoc bool) policyJSON {
	j := policyJSON{ARN: p.ARN, PolicyName: p.Name, Description: p.Description, AWSManaged: p.AWSManaged, AttachmentCount: p.AttachmentCount}
	if withDoc {
		j.Document = p.Document
	}
	if !p.CreatedAt.IsZero() {
		j.CreateDate, j.UpdateDate = httpapi.AWSTime(p.CreatedAt), httpapi.AWSTime(p.UpdatedAt)
	}
	return j
}

func (h handlers) listAttachedUserPolicies(w http.ResponseWriter, r *http.Request) {
	pols, err := h.s.AttachedUserPolicies(r.Context(), r.PathValue("userName"))
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

func (h handlers) attachUserPolicy(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PolicyArn string `json:"policyArn"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	arn, err := h.s.ResolvePolicyARN(r.Context(), in.PolicyArn)
	if err == nil {
		err = h.s.AttachUserPolicy(r.Context(), r.PathValue("userName"), arn)
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) detachUserPolicy(w http.ResponseWriter, r *http.Request) {
	if err := h.s.DetachUserPolicy(r.Context(), r.PathValue("userName"), r.PathValue("policyArn")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) createPolicy(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PolicyName     string `json:"policyName"`
		Description    string `json:"description"`
		PolicyDocument string `json:"policyDocument"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	p, err := h.s.CreatePolicy(r.Context(), in.PolicyName, in.Description, in.PolicyDocument)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"policy": toPolicyJSON(p, true)})
}

func (h handlers) listPolicies(w http.ResponseWriter, r *http.Request) {
	pols, err := h.s.Policies(r.Context())
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

func (h handlers) getPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := h.s.Policy(r.Context(), r.PathValue("policyArn"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"policy": toPolicyJSON(p, true)})
}

func (h handlers) updatePolicy(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PolicyDocument string `json:"policyDocument"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := h.s.UpdatePolicy(r.Context(), r.PathValue("policyArn"), in.PolicyDocument); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) deletePolicy(w http.ResponseWriter, r *http.Request) {
	if err := h.s.DeletePolicy(r.Context(), r.PathValue("policyArn")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) simulate(w http.ResponseWriter, r *http.Request) {
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
	d, err := h.s.Simulate(r.Context(), callerOr(r, in.UserName), in.ActionName, in.ResourceArn)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	decision := map[policy.Effect]string{policy.Allow: "allowed", policy.ExplicitDeny: "explicitDeny", policy.ImplicitDeny: "implicitDeny"}[d.Effect]
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"evalActionName": in.ActionName, "evalResourceName": in.ResourceArn,
		"evalDecision": decision, "matchedPolicy": d.PolicyName, "matchedStatement": d.StatementID})
}

func (h handlers) updateAccessKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status string `json:"status"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := h.s.SetAccessKeyStatus(r.Context(), r.PathValue("accessKeyId"), in.Status); err != nil {
		if errors.Is(err, ErrNotFound) {
			httpapi.WriteError(w, r, httpapi.Control, iamError(err))
			return
		}
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonFieldValidation, "%v", err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
