package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/console"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
)

// consoleRoutes serve the web console: its static files (public, they hold
// no data), sign-in (public, rate-limited), what the signed-in user may do,
// console passwords and dashboards.
func (s *Server) consoleRoutes() []route {
	if s.Sessions == nil {
		return nil
	}
	pub := func(name, method, pattern string, h http.HandlerFunc) route {
		return route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Public, Handler: h}
	}
	self := func(name, method, pattern string, audited bool, h http.HandlerFunc) route {
		return route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, AuthOnly: true, NoAudit: !audited,
			Action: "kansoku:" + name, MaxBody: 64 * httpapi.KiB, Handler: h}
	}
	ws := func(r *http.Request) string { return s.workspaces.ARN(r.PathValue("workspaceId")) }
	dash := func(name, method, pattern, action string, h http.HandlerFunc) route {
		return route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action, Resources: httpapi.One(ws), MaxBody: 1 * httpapi.MiB, Handler: h}
	}
	static := console.Static()
	return []route{
		pub("ConsoleRoot", "GET", "/{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/console/", http.StatusFound) }),
		pub("Console", "GET", "/console/{path...}", static.ServeHTTP),
		pub("ConsoleSignIn", "POST", "/console/api/session", s.consoleSignIn),
		self("ConsoleSession", "GET", "/console/api/session", false, s.consoleSession),
		self("ConsoleLogout", "DELETE", "/console/api/session", true, s.consoleSignOut),
		self("ConsolePermissions", "POST", "/console/api/permissions", false, s.consolePermissions),
		{Name: "SetConsolePassword", Method: "PUT", Pattern: "/admin/v1/users/{userName}/console-password", Plane: httpapi.Control,
			Action: "kansoku:SetConsolePassword", MaxBody: 4 * httpapi.KiB, Handler: http.HandlerFunc(s.setConsolePassword),
			Resources: httpapi.One(func(r *http.Request) string { return s.IAM.UserARN(r.PathValue("userName")) })},
		dash("ListDashboards", "GET", "/admin/v1/workspaces/{workspaceId}/dashboards", "kansoku:ListDashboards", s.listDashboards),
		dash("CreateDashboard", "POST", "/admin/v1/workspaces/{workspaceId}/dashboards", "kansoku:PutDashboard", s.createDashboard),
		dash("GetDashboard", "GET", "/admin/v1/workspaces/{workspaceId}/dashboards/{id}", "kansoku:GetDashboard", s.getDashboard),
		dash("PutDashboard", "PUT", "/admin/v1/workspaces/{workspaceId}/dashboards/{id}", "kansoku:PutDashboard", s.putDashboard),
		dash("DeleteDashboard", "DELETE", "/admin/v1/workspaces/{workspaceId}/dashboards/{id}", "kansoku:DeleteDashboard", s.deleteDashboard),
	}
}

func (s *Server) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	var in console.SignInInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8*httpapi.KiB))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonCannotParse, "the body must be a JSON object with accessKeyId and secretAccessKey, or user and password"))
		return
	}
	ip := sourceIP(r)
	sess, err := s.Sessions.SignIn(r.Context(), in, ip)
	ev := audit.New("kansoku:ConsoleLogin", time.Now())
	ev.AWSRegion, ev.RecipientAccountID, ev.SourceIPAddress, ev.UserAgent = s.Region, s.AccountID, ip, r.UserAgent()
	ev.UserIdentity = audit.UserIdentity{Type: "Unknown", UserName: in.User, AccessKeyID: in.AccessKeyID}
	ev.RequestParameters = map[string]any{"accessKeyId": in.AccessKeyID, "user": in.User}
	if err != nil {
		ev.ErrorCode, ev.ErrorMessage = "AccessDenied", err.Error()
		if s.Audit != nil {
			s.Audit.Record(ev)
		}
		status := http.StatusUnauthorized
		if errors.Is(err, console.ErrThrottled) {
			status = http.StatusTooManyRequests
		}
		if !errors.Is(err, console.ErrSignIn) && !errors.Is(err, console.ErrThrottled) {
			s.logger.Error("console sign-in", "err", err)
			err = console.ErrSignIn
		}
		httpapi.WriteAWSError(w, &apierr.Error{Type: "AccessDeniedException", Status: status, Message: err.Error()})
		return
	}
	ev.UserIdentity = audit.UserIdentity{Type: "IAMUser", AccountID: s.AccountID, UserName: sess.Principal.Name, ARN: sess.Principal.ARN,
		PrincipalID: sess.Principal.ID, AccessKeyID: in.AccessKeyID, AuthMethod: sess.Method}
	if s.Audit != nil {
		s.Audit.Record(ev)
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: sess.Cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, Expires: sess.ExpiresAt})
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": sess.Principal.Name, "arn": sess.Principal.ARN, "csrfToken": sess.CSRFToken,
		"method": sess.Method, "expiresAt": sess.ExpiresAt, "accountId": s.AccountID, "region": s.Region})
}

func (s *Server) consoleSession(w http.ResponseWriter, r *http.Request) {
	id := httpapi.Identity(r)
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil || id.Method != auth.MethodSession {
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": id.PrincipalName, "arn": id.PrincipalARN, "accountId": s.AccountID, "region": s.Region})
		return
	}
	info, err := s.Sessions.Info(r.Context(), c.Value)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": id.PrincipalName, "arn": id.PrincipalARN, "csrfToken": info.CSRFToken, "method": info.Method,
		"expiresAt": info.ExpiresAt, "accountId": s.AccountID, "region": s.Region})
}

func (s *Server) consoleSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if err := s.Sessions.SignOut(r.Context(), c.Value); err != nil {
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
func (s *Server) consolePermissions(w http.ResponseWriter, r *http.Request) {
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
	id := httpapi.Identity(r)
	out := make([]bool, len(in.Checks))
	for i, c := range in.Checks {
		res := c.Resources
		if c.Resource != "" || len(res) == 0 {
			r := c.Resource
			if r == "" {
				r = s.arns.Account()
			}
			res = append(res, r)
		}
		if len(res) > 10 {
			httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("checks", "at most 10 resources per check"))
			return
		}
		_, err := s.authorizeAll(r.Context(), id, c.Action, res)
		out[i] = err == nil
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"allowed": out})
}

func (s *Server) setConsolePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password        string `json:"password"`
		CurrentPassword string `json:"currentPassword"`
	}
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	id := httpapi.Identity(r)
	change := console.PasswordChange{User: r.PathValue("userName"), Password: in.Password, Current: in.CurrentPassword}
	if id.Method == auth.MethodSession && id.PrincipalName == change.User {
		change.Self = true
		if c, err := r.Cookie(auth.SessionCookie); err == nil {
			change.KeepSession = console.SessionID(c.Value)
		}
	}
	err := s.Sessions.SetPassword(r.Context(), change)
	switch {
	case errors.Is(err, console.ErrCurrentPassword):
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

func (s *Server) listDashboards(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	if _, err := s.workspaces.Get(r.Context(), ws); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	list, err := s.Dashboards.List(r.Context(), ws)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"dashboards": list})
}

func (s *Server) createDashboard(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	if _, err := s.workspaces.Get(r.Context(), ws); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	var in console.Dashboard
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	d, err := s.Dashboards.Create(r.Context(), ws, in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"dashboard": d})
}

func (s *Server) getDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := s.Dashboards.Get(r.Context(), r.PathValue("workspaceId"), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"dashboard": d})
}

func (s *Server) putDashboard(w http.ResponseWriter, r *http.Request) {
	var in console.Dashboard
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	d, err := s.Dashboards.Put(r.Context(), r.PathValue("workspaceId"), r.PathValue("id"), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"dashboard": d})
}

func (s *Server) deleteDashboard(w http.ResponseWriter, r *http.Request) {
	if err := s.Dashboards.Delete(r.Context(), r.PathValue("workspaceId"), r.PathValue("id")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
