package tagging

import (
	"context"
	"net/http"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// Store keeps resource tags, by canonical ARN.
type Store interface {
	Tags(ctx context.Context, arn string) (map[string]string, error)
	SetTags(ctx context.Context, arn string, tags map[string]string) error
	RemoveTags(ctx context.Context, arn string, keys []string) error
}

// Workspaces says whether a workspace exists (an error when it does not).
type Workspaces interface {
	Exists(ctx context.Context, id string) error
}

// Namespaces says whether a rule-groups namespace exists (an error when it
// does not).
type Namespaces interface {
	Exists(ctx context.Context, ws, name string) error
}

// Scrapers says whether a scraper exists (an error when it does not).
type Scrapers interface {
	Exists(ctx context.Context, id string) error
}

// Detectors says whether an anomaly detector exists (an error when it
// does not).
type Detectors interface {
	Exists(ctx context.Context, ws, id string) error
}

// Routes are AMP's tagging API: TagResource, UntagResource and
// ListTagsForResource on workspaces, rule-groups namespaces, scrapers and
// anomaly detectors, each authorized on the canonical ARN of the tagged
// resource.
func Routes(arns httpapi.ARNs, store Store, ws Workspaces, ns Namespaces, sc Scrapers, ds Detectors) []httpapi.Route {
	h := handlers{arns: arns, store: store, workspaces: ws, namespaces: ns, scrapers: sc, detectors: ds}
	tagged := func(rt httpapi.Route) httpapi.Route {
		rt.Resources = func(r *http.Request) ([]string, error) {
			a, err := h.taggedARN(r)
			if err != nil {
				return nil, err
			}
			return []string{a.String()}, nil
		}
		return rt
	}
	cp := httpapi.ControlRoute
	withTags := func(rt httpapi.Route, f func(*http.Request) (*auth.RequestTags, error)) httpapi.Route {
		rt.RequestTags = f // aws:RequestTag/*, aws:TagKeys
		return rt
	}
	return []httpapi.Route{
		withTags(tagged(cp("TagResource", "POST", "/tags/{resourceArn}", "aps:TagResource", h.tag)), httpapi.BodyTags),
		withTags(tagged(cp("UntagResource", "DELETE", "/tags/{resourceArn}", "aps:UntagResource", h.untag)), httpapi.QueryTagKeys),
		tagged(cp("ListTagsForResource", "GET", "/tags/{resourceArn}", "aps:ListTagsForResource", h.list)),
	}
}

type handlers struct {
	arns       httpapi.ARNs
	store      Store
	workspaces Workspaces
	namespaces Namespaces
	scrapers   Scrapers
	detectors  Detectors
}

// taggedARN is the canonical form of the request's {resourceArn}, which
// the tag routes are authorized on and store tags under; an ARN that is
// not an AMP resource of this account and region is refused.
func (h handlers) taggedARN(r *http.Request) (ARN, error) {
	a, err := ParseARN(r.PathValue("resourceArn"))
	if err != nil {
		return a, err
	}
	if a.Region != h.arns.Region || a.Account != h.arns.AccountID {
		return a, apierr.NotFound("Resource", a.String(), "Resource %s is not in this account (%s) and region (%s)", a, h.arns.AccountID, h.arns.Region)
	}
	return a, nil
}

// taggable checks that an ARN names an existing workspace or namespace of
// this installation.
func (h handlers) taggable(ctx context.Context, a ARN) error {
	switch a.Kind {
	case KindWorkspace:
		return h.workspaces.Exists(ctx, a.WorkspaceID)
	case KindScraper:
		return h.scrapers.Exists(ctx, a.Name)
	case KindAnomalyDetector:
		return h.detectors.Exists(ctx, a.WorkspaceID, a.Name)
	}
	return h.namespaces.Exists(ctx, a.WorkspaceID, a.Name)
}

func (h handlers) tag(w http.ResponseWriter, r *http.Request) {
	a, _ := h.taggedARN(r) // checked by the route
	arn := a.String()
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if in.Tags == nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("tags", "Member must not be null"))
		return
	}
	if err := h.taggable(r.Context(), a); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	existing, err := h.store.Tags(r.Context(), arn)
	if err == nil {
		err = Validate(in.Tags, existing)
	}
	if err == nil {
		err = h.store.SetTags(r.Context(), arn, in.Tags)
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{})
}

func (h handlers) untag(w http.ResponseWriter, r *http.Request) {
	a, _ := h.taggedARN(r) // checked by the route
	keys := r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("tagKeys", "Member must not be null"))
		return
	}
	for _, k := range keys {
		if err := ValidateKey("tagKeys", k); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
	}
	if err := h.taggable(r.Context(), a); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := h.store.RemoveTags(r.Context(), a.String(), keys); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{})
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	a, _ := h.taggedARN(r) // checked by the route
	if err := h.taggable(r.Context(), a); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	tags, err := h.store.Tags(r.Context(), a.String())
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tags": tags})
}
