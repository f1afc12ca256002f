package awssim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// This file is the simulator's IAM: who a request's access key belongs to
// (a Caller, an account's user, or a role session from AssumeRole), and
// whether that principal's policies allow an action. Every simulated call
// other than STS's goes through Server.authorize, so a client that calls
// more than its role allows fails as it would on AWS.

// principal is the identity behind an access key.
type principal struct {
	ARN       string
	AccountID string
	UserID    string
	// inAccount: the principal belongs to the simulated account AccountID
	// (false for a Caller, an identity outside the simulated accounts, and
	// for the legacy Options.Credentials keys).
	inAccount bool
	policies  []simPolicy
	// unrestricted principals (Options.Credentials keys) may call anything.
	unrestricted bool
}

// session is a temporary credential minted by AssumeRole. Its principal
// is resolved from the scenario on every request, so a change to the
// role's policies applies to live sessions, as on AWS.
type session struct {
	secret      string
	token       string
	expires     time.Time
	accountID   string
	roleName    string
	sessionName string
}

// identities holds what the simulator knows about access keys. Scenario
// keys are recomputed when the scenario changes; sessions outlive changes
// (like AWS, a role session keeps working after its role's policy is
// edited, with the new policy).
type identities struct {
	mu       sync.RWMutex
	static   map[string]string // Options.Credentials / AddCredentials
	keys     map[string]keyOwner
	sessions map[string]*session
}

// keyOwner is the owner of a long-term key of the scenario.
type keyOwner struct {
	secret    string
	principal *principal
}

// SetScenario replaces the simulated world. The scenario must not be
// modified afterwards except through Update.
func (s *Server) SetScenario(sc *Scenario) error {
	if err := validateScenario(sc); err != nil {
		return err
	}
	s.world.Lock()
	s.scenario = sc
	s.series.invalidate()
	s.world.Unlock()
	return s.reindexKeys()
}

// Update changes the simulated world under the simulator's lock (create or
// delete resources, retag, change policies) and re-reads its identities.
func (s *Server) Update(fn func(sc *Scenario)) error {
	s.world.Lock()
	if s.scenario == nil {
		s.scenario = &Scenario{}
	}
	fn(s.scenario)
	err := validateScenario(s.scenario)
	s.series.invalidate()
	s.world.Unlock()
	if err != nil {
		return err
	}
	return s.reindexKeys()
}

// read runs fn with the scenario read-locked; sc is never nil.
func (s *Server) read(fn func(sc *Scenario)) {
	s.world.RLock()
	defer s.world.RUnlock()
	sc := s.scenario
	if sc == nil {
		sc = &Scenario{}
	}
	fn(sc)
}

func validateScenario(sc *Scenario) error {
	seen := map[string]bool{}
	for _, c := range sc.Callers {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" || !validAccountID(c.AccountID) {
			return fmt.Errorf("awssim scenario: caller %q needs account_id (12 digits), access_key_id and secret_access_key", c.Name)
		}
		if seen[c.AccessKeyID] {
			return fmt.Errorf("awssim scenario: access key %s appears twice", c.AccessKeyID)
		}
		seen[c.AccessKeyID] = true
	}
	for ai := range sc.Accounts {
		a := &sc.Accounts[ai]
		if !validAccountID(a.ID) {
			return fmt.Errorf("awssim scenario: account id %q is not 12 digits", a.ID)
		}
		for _, u := range a.Users {
			for _, k := range u.AccessKeys {
				if k.ID == "" || k.Secret == "" || seen[k.ID] {
					return fmt.Errorf("awssim scenario: user %s of %s: empty or repeated access key", u.Name, a.ID)
				}
				seen[k.ID] = true
			}
			if _, err := compilePolicies(u.Policies); err != nil {
				return fmt.Errorf("awssim scenario: user %s of %s: %w", u.Name, a.ID, err)
			}
		}
		for _, r := range a.Roles {
			if _, err := compilePolicies(r.Policies); err != nil {
				return fmt.Errorf("awssim scenario: role %s of %s: %w", r.Name, a.ID, err)
			}
		}
		for name, rg := range a.Regions {
			if rg == nil {
				continue
			}
			if err := validateResources(name, rg.Resources); err != nil {
				return fmt.Errorf("awssim scenario: account %s: %w", a.ID, err)
			}
		}
	}
	return nil
}

func validAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// compilePolicies parses policy names (ManagedPolicies) and inline JSON
// documents.
func compilePolicies(docs []string) ([]simPolicy, error) {
	out := make([]simPolicy, 0, len(docs))
	for i, d := range docs {
		name := fmt.Sprintf("inline-%d", i)
		doc := strings.TrimSpace(d)
		if !strings.HasPrefix(doc, "{") {
			m, ok := ManagedPolicies[doc]
			if !ok {
				return nil, fmt.Errorf("unknown managed policy %q (known: see awssim.ManagedPolicies)", doc)
			}
			name, doc = "arn:aws:iam::aws:policy/"+d, m
		}
		p, err := parseSimPolicy(name, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// reindexKeys rebuilds the long-term key index from the scenario.
func (s *Server) reindexKeys() error {
	keys := map[string]keyOwner{}
	var err error
	s.read(func(sc *Scenario) {
		for ci := range sc.Callers {
			c := &sc.Callers[ci]
			keys[c.AccessKeyID] = keyOwner{secret: c.SecretAccessKey, principal: &principal{
				ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", c.AccountID, c.Name), AccountID: c.AccountID, UserID: "AIDA" + strings.ToUpper(hexID(8)),
			}}
		}
		for ai := range sc.Accounts {
			a := &sc.Accounts[ai]
			for ui := range a.Users {
				u := &a.Users[ui]
				pols, perr := compilePolicies(u.Policies)
				if perr != nil {
					err = perr
					return
				}
				for _, k := range u.AccessKeys {
					keys[k.ID] = keyOwner{secret: k.Secret, principal: &principal{
						ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", a.ID, u.Name), AccountID: a.ID, UserID: "AIDA" + strings.ToUpper(hexID(8)),
						inAccount: true, policies: pols,
					}}
				}
			}
		}
	})
	if err != nil {
		return err
	}
	s.ids.mu.Lock()
	s.ids.keys = keys
	s.ids.mu.Unlock()
	return nil
}

// credential returns what verifies a signature made with an access key
// (the SigV4 verifier's lookup): its secret and, for a role session, the
// session token and expiry.
func (s *Server) credential(accessKeyID string) (credential, bool) {
	s.ids.mu.RLock()
	defer s.ids.mu.RUnlock()
	if sec, ok := s.ids.static[accessKeyID]; ok {
		return credential{secret: sec}, true
	}
	if k, ok := s.ids.keys[accessKeyID]; ok {
		return credential{secret: k.secret}, true
	}
	if ss, ok := s.ids.sessions[accessKeyID]; ok {
		return credential{secret: ss.secret, sessionToken: ss.token, expires: ss.expires}, true
	}
	return credential{}, false
}

// principalOf returns who signed r with accessKeyID. For a role session the
// X-Amz-Security-Token must match and the session must not have expired.
func (s *Server) principalOf(r *http.Request, accessKeyID string) (*principal, *apiError) {
	s.ids.mu.RLock()
	defer s.ids.mu.RUnlock()
	if _, ok := s.ids.static[accessKeyID]; ok {
		return &principal{ARN: "arn:aws:iam::000000000000:user/awssim", AccountID: "000000000000", unrestricted: true}, nil
	}
	if k, ok := s.ids.keys[accessKeyID]; ok {
		return k.principal, nil
	}
	if ss, ok := s.ids.sessions[accessKeyID]; ok {
		if !s.authNow().Before(ss.expires) {
			return nil, errorf(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
		}
		if r.Header.Get("X-Amz-Security-Token") != ss.token && r.URL.Query().Get("X-Amz-Security-Token") != ss.token {
			return nil, errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		}
		var p *principal
		s.read(func(sc *Scenario) {
			a := sc.account(ss.accountID)
			var role *Role
			if a != nil {
				role = a.role(ss.roleName)
			}
			if role == nil { // the role was deleted: the session may do nothing
				p = &principal{ARN: fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", ss.accountID, ss.roleName, ss.sessionName), AccountID: ss.accountID, inAccount: true}
				return
			}
			p, _ = rolePrincipal(a, role, ss.sessionName)
		})
		return p, nil
	}
	return nil, errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

// newSession mints temporary credentials for a session of a role
// (AssumeRole).
func (s *Server) newSession(accountID, roleName, sessionName string, d time.Duration) (keyID string, ss *session) {
	keyID = "ASIA" + strings.ToUpper(hexID(8))
	ss = &session{secret: hexID(20), token: "awssim-session-" + hexID(32), expires: s.authNow().Add(d),
		accountID: accountID, roleName: roleName, sessionName: sessionName}
	s.ids.mu.Lock()
	s.ids.sessions[keyID] = ss
	s.ids.mu.Unlock()
	return keyID, ss
}

// rolePrincipal builds the principal of a session of role in account,
// with the role's current policies. The scenario must be read-locked.
func rolePrincipal(a *Account, r *Role, sessionName string) (*principal, error) {
	pols, err := compilePolicies(r.Policies)
	if err != nil {
		return nil, err
	}
	return &principal{
		ARN:       fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", a.ID, r.Name, sessionName),
		AccountID: a.ID, UserID: "AROA" + strings.ToUpper(hexID(8)) + ":" + sessionName,
		inAccount: true, policies: pols,
	}, nil
}

// authorize checks that req's principal may perform action on resource
// ("*" for actions without a resource). The error is AWS's AccessDenied
// (403); services whose wire code differs (EC2's UnauthorizedOperation,
// the JSON services' AccessDeniedException) rename its code.
func (s *Server) authorize(req *request, action, resource string) *apiError {
	p := req.principal
	if p == nil {
		return errorf(http.StatusForbidden, "AccessDenied", "no principal")
	}
	if p.unrestricted {
		return nil
	}
	d := evaluatePolicies(p.policies, action, resource)
	if d == allowed {
		return nil
	}
	why := "no identity-based policy allows the " + action + " action"
	if d == explicitDeny {
		why = "an explicit deny in an identity-based policy"
	}
	return errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s because %s", p.ARN, action, resource, why)
}

// account returns the simulated account req's principal acts in (nil for
// callers outside the simulated accounts). sc must be read-locked.
func (req *request) account(sc *Scenario) *Account {
	if req.principal == nil || !req.principal.inAccount {
		return nil
	}
	return sc.account(req.principal.AccountID)
}

// regionData returns the resources of req's account in req's region (an
// empty Region when the account has none there). sc must be read-locked
// (Server.read); to change resources use Server.Update.
func (req *request) regionData(sc *Scenario) *Region {
	a := req.account(sc)
	if a == nil || a.Regions == nil || a.Regions[req.region] == nil {
		return &Region{}
	}
	return a.Regions[req.region]
}

// account returns the account with id, or nil.
func (sc *Scenario) account(id string) *Account {
	for i := range sc.Accounts {
		if sc.Accounts[i].ID == id {
			return &sc.Accounts[i]
		}
	}
	return nil
}

// role returns the role named name, or nil.
func (a *Account) role(name string) *Role {
	for i := range a.Roles {
		if a.Roles[i].Name == name {
			return &a.Roles[i]
		}
	}
	return nil
}

func hexID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
