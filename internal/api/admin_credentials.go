package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/iam"
)

// adminRoutes are Kansoku's own API for what AWS keeps in IAM and elsewhere.
func (s *Server) adminRoutes() []route {
	adm := func(name, method, pattern, action string, res func(*http.Request) ([]string, error), h http.HandlerFunc) route {
		return route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action,
			Resources: res, MaxBody: 64 * httpapi.KiB, Handler: h}
	}
	return []route{
		adm("CreateAccessKey", "POST", "/admin/v1/keys", "iam:CreateAccessKey", s.userFromBody, s.createAccessKey),
		adm("ListAccessKeys", "GET", "/admin/v1/keys", "iam:ListAccessKeys", httpapi.One(s.userFromQuery), s.listAccessKeys),
		adm("DeleteAccessKey", "DELETE", "/admin/v1/keys/{accessKeyId}", "iam:DeleteAccessKey", s.keyOwner, s.deleteAccessKey),
		adm("CreateAPIToken", "POST", "/admin/v1/tokens", "kansoku:CreateAPIToken", s.userFromBody, s.createAPIToken),
		adm("ListAPITokens", "GET", "/admin/v1/tokens", "kansoku:ListAPITokens", httpapi.One(s.userFromQuery), s.listAPITokens),
		adm("DeleteAPIToken", "DELETE", "/admin/v1/tokens/{tokenId}", "kansoku:DeleteAPIToken", s.tokenOwner, s.deleteAPIToken),
	}
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

// s.userFromBody is the user a request body names (the caller when none),
// decoded as its handler decodes it.
func (s *Server) userFromBody(r *http.Request) ([]string, error) {
	var in struct {
		UserName string `json:"userName"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	return []string{s.IAM.UserARN(callerOr(r, in.UserName))}, nil
}

func (s *Server) userFromQuery(r *http.Request) string {
	if u := r.URL.Query().Get("userName"); u != "" {
		return s.IAM.UserARN(u)
	}
	return s.IAM.UserARN("*")
}

// s.keyOwner authorizes an access key operation on the key's owner.
func (s *Server) keyOwner(r *http.Request) ([]string, error) {
	name, err := s.IAM.KeyOwner(r.Context(), r.PathValue("accessKeyId"))
	if err != nil {
		return nil, iamError(err)
	}
	return []string{s.IAM.UserARN(name)}, nil
}

// s.tokenOwner authorizes an API token operation on the token's owner.
func (s *Server) tokenOwner(r *http.Request) ([]string, error) {
	name, err := s.IAM.TokenOwner(r.Context(), r.PathValue("tokenId"))
	if err != nil {
		return nil, iamError(err)
	}
	return []string{s.IAM.UserARN(name)}, nil
}

// iamError maps the iam package's errors to API errors.
func iamError(err error) error {
	switch {
	case errors.Is(err, iam.ErrNotFound):
		return apierr.NotFound("User", "", "%v", err)
	case errors.Is(err, iam.ErrExists):
		return apierr.Conflict("User", "", "%v", err)
	case errors.Is(err, iam.ErrInvalidName):
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

func (s *Server) createAccessKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserName   string   `json:"userName"`
		PolicyArns []string `json:"policyArns"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	name := callerOr(r, in.UserName)
	if _, err := s.IAM.User(r.Context(), name); errors.Is(err, iam.ErrNotFound) {
		// `kansoku keys create --name X` makes user X on first use, which
		// needs iam:CreateUser too.
		if err := s.authz.Authorize(r.Context(), httpapi.Identity(r), "iam:CreateUser", s.IAM.UserARN(name)); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		if _, err := s.IAM.CreateUser(r.Context(), name); err != nil && !errors.Is(err, iam.ErrExists) {
			httpapi.WriteError(w, r, httpapi.Control, iamError(err))
			return
		}
	}
	if err := s.attachAll(r, name, in.PolicyArns); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, adminError(err))
		return
	}
	k, err := s.IAM.CreateAccessKey(r.Context(), name)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, iamError(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"accessKey": accessKeyJSON{
		AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, UserName: k.UserName,
		Status: iam.StatusActive, CreateDate: httpapi.AWSTime(k.CreatedAt)}})
}

func (s *Server) listAccessKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.IAM.AccessKeys(r.Context(), r.URL.Query().Get("userName"))
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

func (s *Server) deleteAccessKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("accessKeyId")
	if caller := auth.IdentityFrom(r.Context()); caller != nil && caller.AccessKeyID == id {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Conflict("AccessKey", id, "refusing to delete the access key that signed this request; use another key"))
		return
	}
	if err := s.IAM.DeleteAccessKey(r.Context(), id); err != nil {
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

func (s *Server) createAPIToken(w http.ResponseWriter, r *http.Request) {
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
	t, err := s.IAM.CreateAPIToken(r.Context(), callerOr(r, in.UserName), in.Name, time.Duration(in.TTLSeconds)*time.Second)
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

func (s *Server) listAPITokens(w http.ResponseWriter, r *http.Request) {
	toks, err := s.IAM.APITokens(r.Context(), r.URL.Query().Get("userName"))
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

func (s *Server) deleteAPIToken(w http.ResponseWriter, r *http.Request) {
	if err := s.IAM.DeleteAPIToken(r.Context(), r.PathValue("tokenId")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, iamError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
