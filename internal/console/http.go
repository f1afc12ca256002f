package console

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Existing says whether a workspace exists (an error when it does not).
type Existing interface {
	Exists(ctx context.Context, id string) error
}

// Recorder takes the audit events of sign-ins (audit.Recorder).
type Recorder interface {
	Record(e audit.Event)
}

// HTTP is the console's part of the API: its static files (public, they
// hold no data), sign-in (public, throttled), the session and what the
// signed-in user may do, console passwords and dashboards.
type HTTP struct {
	Sessions   *Sessions
	Dashboards *Dashboards
	Workspaces Existing
	// UserARN names a user (iam.Service.UserARN): a console password is
	// authorized on its user.
	UserARN func(name string) string
	// Audit records sign-ins, which no route's middleware sees
	// authenticated (nil: not recorded).
	Audit  Recorder
	ARNs   httpapi.ARNs
	Logger *slog.Logger
}

// Routes are the console's routes. A dashboard is authorized on its
// workspace's ARN (the route's default).
func (h HTTP) Routes() []httpapi.Route {
	pub := func(name, method, pattern string, f http.HandlerFunc) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Public, Handler: f}
	}
	self := func(name, method, pattern string, audited bool, f http.HandlerFunc) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, AuthOnly: true, NoAudit: !audited,
			Action: "kansoku:" + name, MaxBody: 64 * httpapi.KiB, Handler: f}
	}
	dash := func(name, method, pattern, action string, f http.HandlerFunc) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action, MaxBody: 1 * httpapi.MiB, Handler: f}
	}
	static := Static()
	return []httpapi.Route{
		pub("ConsoleRoot", "GET", "/{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/console/", http.StatusFound) }),
		pub("Console", "GET", "/console/{path...}", static.ServeHTTP),
		pub("ConsoleSignIn", "POST", "/console/api/session", h.signIn),
		self("ConsoleSession", "GET", "/console/api/session", false, h.session),
		self("ConsoleLogout", "DELETE", "/console/api/session", true, h.signOut),
		self("ConsolePermissions", "POST", "/console/api/permissions", false, h.permissions),
		{Name: "SetConsolePassword", Method: "PUT", Pattern: "/admin/v1/users/{userName}/console-password", Plane: httpapi.Control,
			Action: "kansoku:SetConsolePassword", MaxBody: 4 * httpapi.KiB, Handler: http.HandlerFunc(h.setPassword),
			Resources: httpapi.One(func(r *http.Request) string { return h.UserARN(r.PathValue("userName")) })},
		dash("ListDashboards", "GET", "/admin/v1/workspaces/{workspaceId}/dashboards", "kansoku:ListDashboards", h.listDashboards),
		dash("CreateDashboard", "POST", "/admin/v1/workspaces/{workspaceId}/dashboards", "kansoku:PutDashboard", h.createDashboard),
		dash("GetDashboard", "GET", "/admin/v1/workspaces/{workspaceId}/dashboards/{id}", "kansoku:GetDashboard", h.getDashboard),
		dash("PutDashboard", "PUT", "/admin/v1/workspaces/{workspaceId}/dashboards/{id}", "kansoku:PutDashboard", h.putDashboard),
		dash("DeleteDashboard", "DELETE", "/admin/v1/workspaces/{workspaceId}/dashboards/{id}", "kansoku:DeleteDashboard", h.deleteDashboard),
	}
}

func (h HTTP) record(ev audit.Event) {
	if h.Audit != nil {
		h.Audit.Record(ev)
	}
}

func (h HTTP) signIn(w http.ResponseWriter, r *http.Request) {
	var in SignInInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 24*httpapi.KiB)) // a session token is up to 12 KiB
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonCannotParse, "the body must be a JSON object with accessKeyId and secretAccessKey, or user and password"))
		return
	}
	ip := httpapi.SourceIP(r)
	sess, err := h.Sessions.SignIn(r.Context(), in, ip)
	ev := audit.New("kansoku:ConsoleLogin", time.Now())
	ev.AWSRegion, ev.RecipientAccountID, ev.SourceIPAddress, ev.UserAgent = h.ARNs.Region, h.ARNs.AccountID, ip, r.UserAgent()
	ev.UserIdentity = audit.UserIdentity{Type: "Unknown", UserName: in.User, AccessKeyID: in.AccessKeyID}
	ev.RequestParameters = map[string]any{"accessKeyId": in.AccessKeyID, "user": in.User}
	if err != nil {
		ev.ErrorCode, ev.ErrorMessage = "AccessDenied", err.Error()
		h.record(ev)
		status := http.StatusUnauthorized
		if errors.Is(err, ErrThrottled) {
			status = http.StatusTooManyRequests
		}
		if !errors.Is(err, ErrSignIn) && !errors.Is(err, ErrThrottled) {
			h.Logger.Error("console sign-in", "err", err)
			err = ErrSignIn
		}
		httpapi.WriteAWSError(w, &apierr.Error{Type: "AccessDeniedException", Status: status, Message: err.Error()})
		return
	}
	ev.UserIdentity = audit.UserIdentity{Type: "IAMUser", AccountID: h.ARNs.AccountID, UserName: sess.Principal.Name, ARN: sess.Principal.ARN,
		PrincipalID: sess.Principal.ID, AccessKeyID: in.AccessKeyID, AuthMethod: sess.Method}
	h.record(ev)
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: sess.Cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, Expires: sess.ExpiresAt})
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": sess.Principal.Name, "arn": sess.Principal.ARN, "csrfToken": sess.CSRFToken,
		"method": sess.Method, "expiresAt": sess.ExpiresAt, "accountId": h.ARNs.AccountID, "region": h.ARNs.Region})
}

func (h HTTP) session(w http.ResponseWriter, r *http.Request) {
	id := httpapi.Identity(r)
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil || id.Method != auth.MethodSession {
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": id.PrincipalName, "arn": id.PrincipalARN, "accountId": h.ARNs.AccountID, "region": h.ARNs.Region})
		return
	}
	info, err := h.Sessions.Info(r.Context(), c.Value)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": id.PrincipalName, "arn": id.PrincipalARN, "csrfToken": info.CSRFToken, "method": info.Method,
		"expiresAt": info.ExpiresAt, "accountId": h.ARNs.AccountID, "region": h.ARNs.Region})
}

func (h HTTP) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if err := h.Sessions.SignOut(r.Context(), c.Value); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

// consolePermissions answers which of the listed actions the caller may do,
// so the console shows only the buttons that would work.
func (h HTTP) permissions(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Checks []struct {
			Action   string `json:"action"`
			Resource string `json:"resource"`
			// Resources: every one must be allowed (an integration or host
			// and its workspace).
			Resources []string `json:"resources"`
		} `json:"checks"`
	}
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if len(in.Checks) > 200 {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("checks", "at most 200 checks"))
		return
	}
	out := make([]bool, len(in.Checks))
	for i, c := range in.Checks {
		res := c.Resources
		if c.Resource != "" || len(res) == 0 {
			one := c.Resource
			if one == "" {
				one = h.ARNs.Account()
			}
			res = append(res, one)
		}
		if len(res) > 10 {
			httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("checks", "at most 10 resources per check"))
			return
		}
		out[i] = httpapi.Allowed(r, c.Action, res...)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"allowed": out})
}

func (h HTTP) setPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password        string `json:"password"`
		CurrentPassword string `json:"currentPassword"`
	}
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	id := httpapi.Identity(r)
	change := PasswordChange{User: r.PathValue("userName"), Password: in.Password, Current: in.CurrentPassword}
	if id.Method == auth.MethodSession && id.PrincipalName == change.User {
		change.Self = true
		if c, err := r.Cookie(auth.SessionCookie); err == nil {
			change.KeepSession = SessionID(c.Value)
		}
	}
	err := h.Sessions.SetPassword(r.Context(), change)
	switch {
	case errors.Is(err, ErrCurrentPassword):
		httpapi.WriteAWSError(w, &apierr.Error{Type: "AccessDeniedException", Status: http.StatusForbidden,
			Message: "the current password (currentPassword) is wrong; changing your own console password needs it"})
	case errors.Is(err, metastore.ErrNotFound):
		httpapi.WriteError(w, r, httpapi.Control, apierr.NotFound("User", r.PathValue("userName"), "user %s does not exist", r.PathValue("userName")))
	case err != nil:
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("password", "%v", err))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h HTTP) listDashboards(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	if err := h.Workspaces.Exists(r.Context(), ws); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	list, err := h.Dashboards.List(r.Context(), ws)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"dashboards": list})
}

func (h HTTP) createDashboard(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	if err := h.Workspaces.Exists(r.Context(), ws); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	var in Dashboard
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	d, err := h.Dashboards.Create(r.Context(), ws, in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"dashboard": d})
}

func (h HTTP) getDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := h.Dashboards.Get(r.Context(), r.PathValue("workspaceId"), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"dashboard": d})
}

func (h HTTP) putDashboard(w http.ResponseWriter, r *http.Request) {
	var in Dashboard
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	d, err := h.Dashboards.Put(r.Context(), r.PathValue("workspaceId"), r.PathValue("id"), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"dashboard": d})
}

func (h HTTP) deleteDashboard(w http.ResponseWriter, r *http.Request) {
	if err := h.Dashboards.Delete(r.Context(), r.PathValue("workspaceId"), r.PathValue("id")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
