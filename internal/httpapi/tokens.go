package httpapi

import (
	"net/http"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// TokenInfo is the Databricks token-info shape. Times are epoch ms;
// expiry_time is -1 for a token that does not expire.
type TokenInfo struct {
	TokenID       string `json:"token_id"`
	CreationTime  int64  `json:"creation_time"`
	ExpiryTime    int64  `json:"expiry_time"`
	Comment       string `json:"comment"`
	OwnerID       string `json:"owner_id,omitempty"`
	CreatedByID   string `json:"created_by_id,omitempty"`
	CreatedByName string `json:"created_by_username,omitempty"`
}

// CreateTokenRequest is the body of POST /api/2.0/token/create and of the
// on-behalf-of endpoint (which also sets ApplicationID).
type CreateTokenRequest struct {
	LifetimeSeconds *int64 `json:"lifetime_seconds,omitempty"`
	Comment         string `json:"comment,omitempty"`
	ApplicationID   string `json:"application_id,omitempty"`
}

// CreateTokenResponse carries the secret, shown only here.
type CreateTokenResponse struct {
	TokenValue string    `json:"token_value"`
	TokenInfo  TokenInfo `json:"token_info"`
}

func tokenInfo(t auth.Token) TokenInfo {
	ti := TokenInfo{TokenID: t.ID, CreationTime: t.CreatedAt.UnixMilli(), ExpiryTime: -1, Comment: t.Comment, OwnerID: t.PrincipalID}
	if !t.ExpiresAt.IsZero() {
		ti.ExpiryTime = t.ExpiresAt.UnixMilli()
	}
	return ti
}

func lifetime(sec *int64) (time.Duration, error) {
	if sec == nil || *sec == 0 {
		return 0, nil
	}
	if *sec < 0 {
		return 0, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "lifetime_seconds must be positive, or omitted for a token that does not expire")
	}
	return time.Duration(*sec) * time.Second, nil
}

func (p *platformAPI) mountTokens(s *Server) {
	create := func(w http.ResponseWriter, r *http.Request, onBehalf bool) error {
		var req CreateTokenRequest
		if err := DecodeJSON(r, &req); err != nil {
			return err
		}
		life, err := lifetime(req.LifetimeSeconds)
		if err != nil {
			return err
		}
		principalID := ""
		if onBehalf {
			if req.ApplicationID == "" {
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "application_id is required: the applicationId of the service principal")
			}
			sp, err := p.auth.GetPrincipalByName(r.Context(), auth.KindServicePrincipal, req.ApplicationID)
			if err != nil {
				return err
			}
			principalID = sp.ID
		}
		secret, t, err := p.auth.CreateToken(r.Context(), principalID, life, req.Comment)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, CreateTokenResponse{TokenValue: secret, TokenInfo: tokenInfo(t)})
	}
	s.Handle("POST /api/2.0/token/create", Platform, func(w http.ResponseWriter, r *http.Request) error {
		return create(w, r, false)
	})
	s.Handle("POST /api/2.0/token-management/on-behalf-of/tokens", Platform, func(w http.ResponseWriter, r *http.Request) error {
		return create(w, r, true)
	})
	list := func(all bool) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			ts, err := p.auth.ListTokens(r.Context(), all)
			if err != nil {
				return err
			}
			infos := make([]TokenInfo, 0, len(ts))
			for _, t := range ts {
				infos = append(infos, tokenInfo(t))
			}
			return WriteJSON(w, http.StatusOK, map[string]any{"token_infos": infos})
		}
	}
	s.Handle("GET /api/2.0/token/list", Platform, list(false))
	s.Handle("GET /api/2.0/token-management/tokens", Platform, list(true))
	s.Handle("POST /api/2.0/token/delete", Platform, func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			TokenID string `json:"token_id"`
		}
		if err := DecodeJSON(r, &req); err != nil {
			return err
		}
		if req.TokenID == "" {
			return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "token_id is required")
		}
		if err := p.auth.RevokeToken(r.Context(), req.TokenID); err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, struct{}{})
	})
	s.Handle("DELETE /api/2.0/token-management/tokens/{token_id}", Platform, func(w http.ResponseWriter, r *http.Request) error {
		if err := p.auth.RevokeToken(r.Context(), r.PathValue("token_id")); err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, struct{}{})
	})
}
