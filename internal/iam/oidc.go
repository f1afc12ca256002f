package iam

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/metastore"
)

// OIDC identity providers: AssumeRoleWithWebIdentity accepts a JWT whose
// issuer is a registered provider's URL, whose audience is one of its
// client ids, and whose signature one of its keys verifies. The keys are
// given inline (air-gapped installations) or fetched from the issuer
// (/.well-known/openid-configuration, then its jwks_uri) through a client
// that dials through the receiver firewall (internal/egress: loopback,
// private and metadata addresses are refused unless the operator opened
// them), gives up after a timeout, caps each body, and follows no redirect
// to another host. Verification is go-jose's.

// OIDCOptions configure how signing keys are fetched.
type OIDCOptions struct {
	// Dial opens connections to issuers (the receiver firewall's
	// DialContext); nil dials directly.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// RootCAs verify issuers' certificates (nil: the system's).
	RootCAs *x509.CertPool
	// Timeout bounds one fetch (default 5s); MaxBody caps each response
	// (default 64 KiB); KeysTTL is how long fetched keys are used (default
	// 10 minutes).
	Timeout time.Duration
	MaxBody int64
	KeysTTL time.Duration
}

// MaxWebIdentityTokenLength is AWS's bound on WebIdentityToken (20,000
// characters, the AssumeRoleWithWebIdentity API reference).
const MaxWebIdentityTokenLength = 20000

// signingAlgorithms are the JWS algorithms accepted (no "none", no HMAC).
var signingAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512}

type oidcKeys struct {
	opts   OIDCOptions
	now    func() time.Time
	client *http.Client

	mu    sync.Mutex
	cache map[string]cachedJWKS // issuer URL ->
}

type cachedJWKS struct {
	set     jose.JSONWebKeySet
	fetched time.Time
}

func newOIDCKeys(o OIDCOptions, now func() time.Time) *oidcKeys {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 10
	}
	if o.KeysTTL <= 0 {
		o.KeysTTL = 10 * time.Minute
	}
	dialer := &net.Dialer{Timeout: o.Timeout}
	dial := dialer.DialContext
	if o.Dial != nil {
		dial = o.Dial
	}
	tr := &http.Transport{
		DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: o.Timeout, ResponseHeaderTimeout: o.Timeout, MaxResponseHeaderBytes: 16 << 10,
		DisableKeepAlives: true, Proxy: nil,
	}
	client := &http.Client{Transport: tr, Timeout: o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Host != via[0].URL.Host || req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to another host (%s) refused", req.URL.Host)
			}
			return nil
		}}
	return &oidcKeys{opts: o, now: now, client: client, cache: map[string]cachedJWKS{}}
}

// SetOIDCOptions configures how OIDC signing keys are fetched.
func (s *Service) SetOIDCOptions(o OIDCOptions) { s.oidc = newOIDCKeys(o, s.now) }

// getJSON fetches a small JSON document.
func (k *oidcKeys) getJSON(ctx context.Context, u string, v any) error {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "https" {
		return fmt.Errorf("%s: only https URLs are fetched", u)
	}
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		if egress.IsRefused(err) {
			return fmt.Errorf("fetch %s: the issuer's address is refused (an internal address; an operator can open its network with iam.oidc.allow_networks)", u)
		}
		return fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, k.opts.MaxBody+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", u, err)
	}
	if int64(len(body)) > k.opts.MaxBody {
		return fmt.Errorf("fetch %s: the answer is larger than %d bytes", u, k.opts.MaxBody)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode %s: %w", u, err)
	}
	return nil
}

// fetch reads an issuer's keys from its discovery document's jwks_uri.
func (k *oidcKeys) fetch(ctx context.Context, issuer string) (jose.JSONWebKeySet, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := k.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	if strings.TrimSuffix(disc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return jose.JSONWebKeySet{}, fmt.Errorf("the discovery document of %s names another issuer (%q)", issuer, disc.Issuer)
	}
	var set jose.JSONWebKeySet
	if err := k.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return set, nil
}

// keys returns an issuer's keys, fetched at most once per KeysTTL, or
// again (at most every 30 s) when refresh asks for a key not yet seen.
func (k *oidcKeys) keys(ctx context.Context, issuer string, refresh bool) (jose.JSONWebKeySet, error) {
	now := k.now()
	k.mu.Lock()
	c, ok := k.cache[issuer]
	k.mu.Unlock()
	if ok && (now.Sub(c.fetched) < k.opts.KeysTTL) && (!refresh || now.Sub(c.fetched) < 30*time.Second) {
		return c.set, nil
	}
	set, err := k.fetch(ctx, issuer)
	if err != nil {
		if ok { // keep using what we had
			return c.set, nil
		}
		return set, err
	}
	k.mu.Lock()
	if len(k.cache) > 1000 {
		k.cache = map[string]cachedJWKS{}
	}
	k.cache[issuer] = cachedJWKS{set: set, fetched: now}
	k.mu.Unlock()
	return set, nil
}

// WebIdentity is what a verified web identity token says.
type WebIdentity struct {
	Provider metastore.OIDCProvider
	// Host is the provider's URL without https:// (the prefix of its
	// condition keys, "<host>:sub").
	Host     string
	Subject  string
	Audience string
	Claims   map[string]any
}

func invalidIdentityToken(format string, args ...any) error {
	return &invalidIdentityTokenError{fmt.Sprintf(format, args...)}
}

type invalidIdentityTokenError struct{ msg string }

func (e *invalidIdentityTokenError) Error() string { return e.msg }

func expiredWebToken(format string, args ...any) error {
	return &expiredWebTokenError{fmt.Sprintf(format, args...)}
}

type expiredWebTokenError struct{ msg string }

func (e *expiredWebTokenError) Error() string { return e.msg }

// providerHost is a provider URL without its scheme.
func providerHost(u string) string {
	return strings.TrimSuffix(strings.TrimPrefix(u, "https://"), "/")
}

// OIDCProviderARN is the ARN of the provider of an issuer URL.
func (s *Service) OIDCProviderARN(issuer string) string {
	return fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", s.accountID, providerHost(issuer))
}

// VerifyWebIdentity checks a JWT against the registered providers.
func (s *Service) VerifyWebIdentity(ctx context.Context, raw string) (WebIdentity, error) {
	if len(raw) < 4 || len(raw) > MaxWebIdentityTokenLength {
		return WebIdentity{}, invalidIdentityToken("The web identity token must be 4 to %d characters", MaxWebIdentityTokenLength)
	}
	tok, err := jwt.ParseSigned(raw, signingAlgorithms)
	if err != nil {
		return WebIdentity{}, invalidIdentityToken("The web identity token is not a signed JWT with a supported algorithm: %v", err)
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Issuer == "" {
		return WebIdentity{}, invalidIdentityToken("The web identity token has no issuer (iss)")
	}
	prov, err := s.store.GetOIDCProvider(ctx, s.OIDCProviderARN(unverified.Issuer))
	if errors.Is(err, metastore.ErrNotFound) || (err == nil && strings.TrimSuffix(prov.URL, "/") != strings.TrimSuffix(unverified.Issuer, "/")) {
		return WebIdentity{}, invalidIdentityToken("No OpenIDConnect provider found in your account for %s", unverified.Issuer)
	}
	if err != nil {
		return WebIdentity{}, err
	}
	set, err := s.providerKeys(ctx, prov, false)
	if err != nil {
		return WebIdentity{}, &idpError{fmt.Sprintf("Couldn't retrieve verification key from your identity provider: %v", err)}
	}
	kid := tok.Headers[0].KeyID
	candidates := set.Keys
	if kid != "" {
		candidates = set.Key(kid)
		if len(candidates) == 0 && prov.JWKS == "" {
			if set, err = s.providerKeys(ctx, prov, true); err == nil {
				candidates = set.Key(kid)
			}
		}
	}
	var claims jwt.Claims
	var all map[string]any
	verified := false
	for _, key := range candidates {
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		if tok.Claims(key.Key, &claims, &all) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return WebIdentity{}, invalidIdentityToken("The web identity token's signature is not valid for any key of %s", prov.URL)
	}
	if claims.Expiry == nil {
		return WebIdentity{}, invalidIdentityToken("The web identity token has no expiry (exp)")
	}
	now := s.now()
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: unverified.Issuer, Time: now}, time.Minute); err != nil {
		if errors.Is(err, jwt.ErrExpired) {
			return WebIdentity{}, expiredWebToken("Token expired: current date/time %s must be before the expiration date/time %s",
				now.UTC().Format(time.RFC3339), claims.Expiry.Time().UTC().Format(time.RFC3339))
		}
		return WebIdentity{}, invalidIdentityToken("The web identity token is not valid: %v", err)
	}
	aud := ""
	for _, a := range claims.Audience {
		if contains(prov.ClientIDs, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return WebIdentity{}, invalidIdentityToken("Incorrect token audience: none of %q is a client id of %s", []string(claims.Audience), prov.ARN)
	}
	if claims.Subject == "" {
		return WebIdentity{}, invalidIdentityToken("The web identity token has no subject (sub)")
	}
	return WebIdentity{Provider: prov, Host: providerHost(prov.URL), Subject: claims.Subject, Audience: aud, Claims: all}, nil
}

// idpError is a failure to reach an identity provider (IDPCommunicationError).
type idpError struct{ msg string }

func (e *idpError) Error() string { return e.msg }

func (s *Service) providerKeys(ctx context.Context, p metastore.OIDCProvider, refresh bool) (jose.JSONWebKeySet, error) {
	if p.JWKS != "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(p.JWKS), &set); err != nil {
			return set, fmt.Errorf("the inline keys of %s do not parse: %w", p.ARN, err)
		}
		return set, nil
	}
	return s.oidc.keys(ctx, p.URL, refresh)
}

var thumbprintRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// CreateOIDCProviderInput is what CreateOpenIDConnectProvider takes.
type CreateOIDCProviderInput struct {
	URL         string
	ClientIDs   []string
	Thumbprints []string
	// JWKS are signing keys given inline; empty: fetched from the issuer.
	JWKS string
	Tags map[string]string
}

func validateProviderURL(u string) error {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "https" || pu.Host == "" || pu.RawQuery != "" || pu.Fragment != "" || pu.User != nil || len(u) > 255 {
		return invalidInput("Invalid Open ID Connect Provider URL: %q (want https://host[/path], at most 255 characters, no query)", u)
	}
	return nil
}

func validateClientIDs(ids, thumbprints []string) error {
	if len(ids) > MaxOIDCClientIDs {
		return limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", MaxOIDCClientIDs)
	}
	for _, id := range ids {
		if id == "" || len(id) > 255 {
			return invalidInput("client ids are 1-255 characters")
		}
	}
	if len(thumbprints) > MaxOIDCThumbprints {
		return limitExceeded("Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: %d", MaxOIDCThumbprints)
	}
	for _, t := range thumbprints {
		if !thumbprintRE.MatchString(t) {
			return invalidInput("Invalid thumbprint %q: a thumbprint is 40 hexadecimal characters (SHA-1 of the certificate)", t)
		}
	}
	return nil
}

func validateJWKS(doc string) error {
	if doc == "" {
		return nil
	}
	if len(doc) > 64<<10 {
		return invalidInput("inline keys are at most 64 KiB")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(doc), &set); err != nil || len(set.Keys) == 0 {
		return invalidInput("inline keys must be a JSON Web Key Set with at least one key")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return invalidInput("inline key %q is not a public key", k.KeyID)
		}
	}
	return nil
}

// CreateOIDCProvider registers an OpenID Connect provider.
func (s *Service) CreateOIDCProvider(ctx context.Context, in CreateOIDCProviderInput) (metastore.OIDCProvider, error) {
	in.URL = strings.TrimSuffix(in.URL, "/")
	if err := validateProviderURL(in.URL); err != nil {
		return metastore.OIDCProvider{}, err
	}
	if err := validateClientIDs(in.ClientIDs, in.Thumbprints); err != nil {
		return metastore.OIDCProvider{}, err
	}
	if err := validateJWKS(in.JWKS); err != nil {
		return metastore.OIDCProvider{}, err
	}
	if err := validateTags(in.Tags, nil, MaxTags); err != nil {
		return metastore.OIDCProvider{}, err
	}
	p := metastore.OIDCProvider{ARN: s.OIDCProviderARN(in.URL), URL: in.URL, ClientIDs: in.ClientIDs, Thumbprints: in.Thumbprints,
		JWKS: in.JWKS, CreatedAt: s.now().UTC()}
	if err := s.store.CreateOIDCProvider(ctx, p); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			return p, entityExists("Provider with url %s already exists.", in.URL)
		}
		return p, err
	}
	if len(in.Tags) > 0 {
		if err := s.store.SetTags(ctx, p.ARN, in.Tags); err != nil {
			return p, err
		}
	}
	return p, nil
}

// OIDCProvider returns a provider by ARN.
func (s *Service) OIDCProvider(ctx context.Context, arn string) (metastore.OIDCProvider, error) {
	p, err := s.store.GetOIDCProvider(ctx, arn)
	if errors.Is(err, metastore.ErrNotFound) {
		return p, noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
	}
	return p, err
}

// OIDCProviders lists the providers.
func (s *Service) OIDCProviders(ctx context.Context) ([]metastore.OIDCProvider, error) {
	return s.store.ListOIDCProviders(ctx)
}

// UpdateOIDCProvider changes a provider's client ids, thumbprints or
// inline keys through f.
func (s *Service) UpdateOIDCProvider(ctx context.Context, arn string, f func(p *metastore.OIDCProvider)) error {
	p, err := s.OIDCProvider(ctx, arn)
	if err != nil {
		return err
	}
	f(&p)
	if err := validateClientIDs(p.ClientIDs, p.Thumbprints); err != nil {
		return err
	}
	if err := validateJWKS(p.JWKS); err != nil {
		return err
	}
	return s.store.UpdateOIDCProvider(ctx, p)
}

// DeleteOIDCProvider removes a provider; tokens it issued are refused from then on.
func (s *Service) DeleteOIDCProvider(ctx context.Context, arn string) error {
	err := s.store.DeleteOIDCProvider(ctx, arn)
	if errors.Is(err, metastore.ErrNotFound) {
		return noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
	}
	return err
}
