package scraper

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// Routes are AMP's scraper API. A call on a scraper is authorized on the
// scraper's ARN; CreateScraper on the scrapers of the account and on the
// destination workspace, and the caller must also be allowed
// aps:RemoteWrite on that workspace (a scraper writes there on the
// caller's behalf) and kansoku:PollAWSIntegration on each AWS integration
// its EC2 discovery goes through (Create and UpdateScraper). Listing and
// the default configuration are authorized on the account.
func (s *Service) Routes() []httpapi.Route {
	h := handlers{s}
	one := func(rt httpapi.Route) httpapi.Route {
		rt.Resources = httpapi.One(func(r *http.Request) string { return s.ARN(r.PathValue("scraperId")) })
		return rt
	}
	cp := httpapi.ControlRoute
	create := cp("CreateScraper", "POST", "/scrapers", "aps:CreateScraper", h.create)
	create.Resources = h.createResources
	create.RequestTags = httpapi.BodyTags
	return []httpapi.Route{
		create,
		cp("ListScrapers", "GET", "/scrapers", "aps:ListScrapers", h.list),
		one(cp("DescribeScraper", "GET", "/scrapers/{scraperId}", "aps:DescribeScraper", h.describe)),
		one(cp("UpdateScraper", "PUT", "/scrapers/{scraperId}", "aps:UpdateScraper", h.update)),
		one(cp("DeleteScraper", "DELETE", "/scrapers/{scraperId}", "aps:DeleteScraper", h.delete)),
		cp("GetDefaultScraperConfiguration", "GET", "/scraperconfiguration", "aps:GetDefaultScraperConfiguration", h.defaultConfiguration),
		one(cp("DescribeScraperLoggingConfiguration", "GET", "/scrapers/{scraperId}/logging-configuration", "aps:DescribeScraperLoggingConfiguration", h.describeLogging)),
		one(cp("UpdateScraperLoggingConfiguration", "PUT", "/scrapers/{scraperId}/logging-configuration", "aps:UpdateScraperLoggingConfiguration", h.updateLogging)),
		one(cp("DeleteScraperLoggingConfiguration", "DELETE", "/scrapers/{scraperId}/logging-configuration", "aps:DeleteScraperLoggingConfiguration", h.deleteLogging)),
	}
}

type handlers struct{ s *Service }

// IntegrationAction is what a caller needs on an AWS integration for a
// scraper's EC2 discovery to go through its role, or for an EKS source to
// reach its cluster through it: the action that makes
// Kansoku call AWS with the integration's credentials on demand
// (kansoku:PollAWSIntegration), authorized like the integration's own
// routes on its ARN and its workspace's.
const IntegrationAction = "kansoku:PollAWSIntegration"

// authorizeIntegrations requires IntegrationAction on every integration
// the scraper uses: those its EC2 discovery goes through (the roles
// resolved in the destination workspace; an unknown role is the
// ValidationException) and, for an EKS source, the workspace's
// integration with the cluster's account (none: Create's
// ValidationException).
func (h handlers) authorizeIntegrations(r *http.Request, p *Parsed, src *Source, ws string) error {
	ids, err := h.s.RoleIntegrations(r.Context(), p, ws)
	if err != nil {
		return err
	}
	use := make([]string, 0, len(ids)+1)
	for _, role := range slices.Sorted(maps.Keys(ids)) {
		use = append(use, ids[role])
	}
	if src != nil && src.EKS != nil && h.s.opts.Integrations != nil {
		if ref, ok := parseClusterARN(src.EKS.ClusterARN); ok {
			if id, err := h.s.opts.Integrations.AccountIntegration(r.Context(), ws, ref.Account); err == nil {
				use = append(use, id)
			}
		}
	}
	arns := h.s.ARNs()
	for _, id := range use {
		if err := httpapi.Authorize(r, IntegrationAction, arns.Kansoku("awsintegration", id), arns.Workspace(ws)); err != nil {
			return err
		}
	}
	return nil
}

type scrapeConfigJSON struct {
	ConfigurationBlob *string `json:"configurationBlob"`
}

type destinationJSON struct {
	AMP *struct {
		WorkspaceARN string `json:"workspaceArn"`
	} `json:"ampConfiguration"`
}

func (d *destinationJSON) arn() string {
	if d == nil || d.AMP == nil {
		return ""
	}
	return d.AMP.WorkspaceARN
}

type createJSON struct {
	Alias               *string            `json:"alias"`
	ScrapeConfiguration *scrapeConfigJSON  `json:"scrapeConfiguration"`
	Source              *Source            `json:"source"`
	Destination         *destinationJSON   `json:"destination"`
	RoleConfiguration   *RoleConfiguration `json:"roleConfiguration"`
	ClientToken         string             `json:"clientToken"`
	Tags                map[string]string  `json:"tags"`
}

// createResources: every scraper of the account (the new one has no id
// yet) and the destination workspace.
func (h handlers) createResources(r *http.Request) ([]string, error) {
	var in createJSON
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	res := []string{h.s.ARN("*")}
	if a := in.Destination.arn(); a != "" {
		if _, err := h.s.destination(a); err != nil {
			return nil, err
		}
		res = append(res, a)
	}
	return res, nil
}

func blob(c *scrapeConfigJSON, required bool) ([]byte, error) {
	if c == nil || c.ConfigurationBlob == nil {
		if !required {
			return nil, nil
		}
		return nil, apierr.InvalidField("scrapeConfiguration", "Member must not be null: give configurationBlob (a base64 Prometheus configuration)")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(*c.ConfigurationBlob)
	if err != nil {
		return nil, apierr.Validation(apierr.ReasonCannotParse, "scrapeConfiguration.configurationBlob must be base64: %v (with the AWS CLI v2, pass the file as fileb://)", err)
	}
	return b, nil
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) {
	var in createJSON
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	cfg, err := blob(in.ScrapeConfiguration, true)
	if err == nil && in.Destination.arn() != "" {
		// The scraper writes into the workspace: the caller must be
		// allowed to.
		err = httpapi.Authorize(r, "aps:RemoteWrite", in.Destination.arn())
	}
	if err == nil {
		if wsID, derr := h.s.destination(in.Destination.arn()); derr == nil {
			if p, verr := Validate(cfg); verr == nil {
				err = h.authorizeIntegrations(r, p, in.Source, wsID)
			}
		}
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	sc, err := h.s.Create(r.Context(), CreateInput{Alias: in.Alias, Configuration: cfg, Source: in.Source, Destination: in.Destination.arn(),
		Role: in.RoleConfiguration, ClientToken: in.ClientToken, Tags: in.Tags})
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"scraperId": sc.ID, "arn": sc.ARN,
		"status": httpapi.Status{StatusCode: sc.Status}, "tags": httpapi.NonNilTags(sc.Tags)})
}

// summary is a ScraperSummary (description false) or ScraperDescription.
func summary(sc Scraper, description bool) map[string]any {
	m := map[string]any{
		"scraperId": sc.ID, "arn": sc.ARN, "roleArn": sc.RoleARN,
		"status":    httpapi.Status{StatusCode: sc.Status},
		"createdAt": httpapi.AWSTime(sc.CreatedAt), "lastModifiedAt": httpapi.AWSTime(sc.UpdatedAt),
		"tags": httpapi.NonNilTags(sc.Tags), "source": sc.Source,
		"destination": map[string]any{"ampConfiguration": map[string]string{"workspaceArn": sc.DestinationARN}},
	}
	if sc.Alias != "" {
		m["alias"] = sc.Alias
	}
	if sc.StatusReason != "" {
		m["statusReason"] = sc.StatusReason
	}
	if sc.Role != nil {
		m["roleConfiguration"] = sc.Role
	}
	if description {
		m["scrapeConfiguration"] = map[string]any{"configurationBlob": sc.Configuration} // []byte: base64 in JSON
	}
	return m
}

func (h handlers) describe(w http.ResponseWriter, r *http.Request) {
	sc, err := h.s.Describe(r.Context(), r.PathValue("scraperId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"scraper": summary(sc, true)})
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	mr, err := httpapi.MaxResultsParam(r)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	q := r.URL.Query()
	in := ListInput{MaxResults: mr, NextToken: q.Get("nextToken"), Filters: map[string][]string{}}
	// The filters map is serialized as query parameters of its own
	// (?status=ACTIVE&alias=a), beside maxResults and nextToken.
	for k, vs := range q {
		if k != "maxResults" && k != "nextToken" {
			in.Filters[k] = vs
		}
	}
	scs, next, err := h.s.List(r.Context(), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]map[string]any, 0, len(scs))
	for _, sc := range scs {
		out = append(out, summary(sc, false))
	}
	resp := map[string]any{"scrapers": out}
	if next != "" {
		resp["nextToken"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

func (h handlers) update(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Alias               *string            `json:"alias"`
		ScrapeConfiguration *scrapeConfigJSON  `json:"scrapeConfiguration"`
		Destination         *destinationJSON   `json:"destination"`
		RoleConfiguration   *RoleConfiguration `json:"roleConfiguration"`
		ClientToken         string             `json:"clientToken"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	cfg, err := blob(in.ScrapeConfiguration, false)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	up := UpdateInput{Alias: in.Alias, Configuration: cfg, Role: in.RoleConfiguration, ClientToken: in.ClientToken}
	if in.Destination != nil {
		d := in.Destination.arn()
		if _, err := h.s.destination(d); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		if err := httpapi.Authorize(r, "aps:RemoteWrite", d); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		up.Destination = &d
	}
	if cfg != nil || up.Destination != nil {
		// The updated scraper's EC2 discovery or EKS source goes
		// through integrations the caller must be allowed to use.
		if rec, err := h.s.Get(r.Context(), r.PathValue("scraperId")); err == nil {
			if cfg != nil {
				rec.Configuration = cfg
			}
			if up.Destination != nil {
				rec.DestinationARN = *up.Destination
			}
			wsID, derr := h.s.destination(rec.DestinationARN)
			p, verr := Validate(rec.Configuration)
			var src *Source
			if rec.Source != "" {
				src = new(Source)
				if json.Unmarshal([]byte(rec.Source), src) != nil {
					src = nil
				}
			}
			if derr == nil && verr == nil {
				if err := h.authorizeIntegrations(r, p, src, wsID); err != nil {
					httpapi.WriteError(w, r, httpapi.Control, err)
					return
				}
			}
		}
	}
	sc, err := h.s.Update(r.Context(), r.PathValue("scraperId"), up)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"scraperId": sc.ID, "arn": sc.ARN,
		"status": httpapi.Status{StatusCode: sc.Status}, "tags": httpapi.NonNilTags(sc.Tags)})
}

func (h handlers) delete(w http.ResponseWriter, r *http.Request) {
	rec, err := h.s.Delete(r.Context(), r.PathValue("scraperId"), r.URL.Query().Get("clientToken"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"scraperId": rec.ID, "status": httpapi.Status{StatusCode: rec.Status}})
}

func (h handlers) defaultConfiguration(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"configuration": []byte(DefaultConfiguration)})
}

func (h handlers) describeLogging(w http.ResponseWriter, r *http.Request) {
	l, rec, err := h.s.DescribeLogging(r.Context(), r.PathValue("scraperId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"status":             map[string]string{"statusCode": l.Status},
		"scraperId":          rec.ID,
		"loggingDestination": map[string]any{"cloudWatchLogs": map[string]string{"logGroupArn": l.LogGroupARN}},
		"scraperComponents":  l.Components,
		"modifiedAt":         httpapi.AWSTime(rec.LoggingModifiedAt),
	})
}

func (h handlers) updateLogging(w http.ResponseWriter, r *http.Request) {
	var in struct {
		LoggingDestination *struct {
			CloudWatchLogs *struct {
				LogGroupARN string `json:"logGroupArn"`
			} `json:"cloudWatchLogs"`
		} `json:"loggingDestination"`
		ScraperComponents []Component `json:"scraperComponents"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if in.LoggingDestination == nil || in.LoggingDestination.CloudWatchLogs == nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("loggingDestination", "Member must not be null: give cloudWatchLogs.logGroupArn"))
		return
	}
	l, err := h.s.UpdateLogging(r.Context(), r.PathValue("scraperId"), in.LoggingDestination.CloudWatchLogs.LogGroupARN, in.ScraperComponents)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": map[string]string{"statusCode": l.Status}})
}

func (h handlers) deleteLogging(w http.ResponseWriter, r *http.Request) {
	if err := h.s.DeleteLogging(r.Context(), r.PathValue("scraperId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
