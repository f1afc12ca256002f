package api

import (
	"context"
	"net/http"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/tagging"
)

// taggedARN is the canonical form of the request's {resourceArn}, which
// the tag routes are authorized on and store tags under; an ARN that is
// not an AMP resource of this account and region is refused.
func (s *Server) taggedARN(r *http.Request) (tagging.ARN, error) {
	a, err := tagging.ParseARN(r.PathValue("resourceArn"))
	if err != nil {
		return a, err
	}
	if a.Region != s.Region || a.Account != s.AccountID {
		return a, apierr.NotFound("Resource", a.String(), "Resource %s is not in this account (%s) and region (%s)", a, s.AccountID, s.Region)
	}
	return a, nil
}

// taggable checks that an ARN names an existing workspace or namespace of
// this installation.
func (s *Server) taggable(ctx context.Context, arn string) error {
	a, err := tagging.ParseARN(arn)
	if err != nil {
		return err
	}
	if a.Kind == tagging.KindWorkspace {
		_, err = s.workspaces.Get(ctx, a.WorkspaceID)
		return err
	}
	_, err = s.RuleGroups.Describe(ctx, a.WorkspaceID, a.Name)
	return err
}

func (s *Server) tagResource(w http.ResponseWriter, r *http.Request) {
	a, _ := s.taggedARN(r) // checked by the route
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
	if err := s.taggable(r.Context(), arn); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	existing, err := s.Meta.Tags(r.Context(), arn)
	if err == nil {
		err = tagging.Validate(in.Tags, existing)
	}
	if err == nil {
		err = s.Meta.SetTags(r.Context(), arn, in.Tags)
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) untagResource(w http.ResponseWriter, r *http.Request) {
	a, _ := s.taggedARN(r) // checked by the route
	arn := a.String()
	keys := r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("tagKeys", "Member must not be null"))
		return
	}
	for _, k := range keys {
		if err := tagging.ValidateKey("tagKeys", k); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
	}
	if err := s.taggable(r.Context(), arn); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := s.Meta.RemoveTags(r.Context(), arn, keys); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) listTagsForResource(w http.ResponseWriter, r *http.Request) {
	a, _ := s.taggedARN(r) // checked by the route
	arn := a.String()
	if err := s.taggable(r.Context(), arn); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	tags, err := s.Meta.Tags(r.Context(), arn)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tags": tags})
}
