package config

import "fmt"

// MinAppTokenBytes is the shortest APP_API_TOKEN production accepts: the
// token is all that stands between the app's listener and whoever reaches
// its port, so it must not be guessable.
const MinAppTokenBytes = 32

// tokens reads the Dapr API tokens of the trust boundary between an app
// and its sidecar (ARCHITECTURE, Trust boundaries): APP_API_TOKEN, which
// the sidecar sends the app and the app requires on every route of its
// sidecar-facing listener, is required always (an app without it would
// serve anyone); in production it must be at least MinAppTokenBytes long,
// and DAPR_API_TOKEN, which the app sends its sidecar, is required too.
// The messages name the variables, never their values.
func (r *Reader) tokens(env string) (appToken, daprToken string) {
	appToken = r.Required("APP_API_TOKEN")
	daprToken = r.String("DAPR_API_TOKEN", "")
	if env != "production" {
		return appToken, daprToken
	}
	if appToken != "" && len(appToken) < MinAppTokenBytes {
		r.errs = append(r.errs, fmt.Errorf("APP_API_TOKEN is %d bytes; production needs at least %d", len(appToken), MinAppTokenBytes))
	}
	if daprToken == "" {
		r.errs = append(r.errs, fmt.Errorf("DAPR_API_TOKEN is required in production"))
	}
	return appToken, daprToken
}
